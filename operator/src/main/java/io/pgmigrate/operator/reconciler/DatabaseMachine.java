package io.pgmigrate.operator.reconciler;

import static io.pgmigrate.operator.api.DatabasePhase.Copying;
import static io.pgmigrate.operator.api.DatabasePhase.CuttingOver;
import static io.pgmigrate.operator.api.DatabasePhase.Done;
import static io.pgmigrate.operator.api.DatabasePhase.Failed;
import static io.pgmigrate.operator.api.DatabasePhase.Indexing;
import static io.pgmigrate.operator.api.DatabasePhase.Pending;
import static io.pgmigrate.operator.api.DatabasePhase.Replicating;
import static io.pgmigrate.operator.api.DatabasePhase.SchemaCopy;
import static io.pgmigrate.operator.api.DatabasePhase.Stopped;

import io.pgmigrate.operator.api.DatabasePhase;
import io.pgmigrate.operator.api.DatabaseStatus;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The per-database phase machine ({@code status.databases[].phase}), pure: every transition a
 * method step may make is an edge of {@link #EDGES}, and every step moves a database only through
 * {@link #move}, which refuses any other. Staying in a phase (a new message) is always allowed.
 * The same edges are listed in the README, and a test keeps the two equal.
 *
 * <ul>
 *   <li>dump: Pending → Copying → Done; straight to Done when a Pod finished before its start was
 *       recorded (an operator restarted mid-copy)
 *   <li>continuous: Pending → SchemaCopy → Copying → Indexing → Replicating → CuttingOver → Done;
 *       Indexing back to Copying when a table needs synchronising again before the rest of the
 *       schema was built (after that, such a database stays where it is, not counted as
 *       replicating until the table is synchronised)
 *   <li>Failed: the database's own failure; Stopped: the migration failed (on another database,
 *       or for a reason of its own) before this one finished
 * </ul>
 */
public final class DatabaseMachine {

  /** From each phase, the phases a database may move to. Done, Failed and Stopped are final. */
  static final Map<DatabasePhase, Set<DatabasePhase>> EDGES = edges();

  private DatabaseMachine() {}

  private static Map<DatabasePhase, Set<DatabasePhase>> edges() {
    var e = new EnumMap<DatabasePhase, Set<DatabasePhase>>(DatabasePhase.class);
    e.put(Pending, EnumSet.of(SchemaCopy, Copying, Done, Failed, Stopped));
    e.put(SchemaCopy, EnumSet.of(Copying, Failed, Stopped));
    e.put(Copying, EnumSet.of(Indexing, Done, Failed, Stopped));
    e.put(Indexing, EnumSet.of(Copying, Replicating, Failed, Stopped));
    e.put(Replicating, EnumSet.of(CuttingOver, Failed, Stopped));
    e.put(CuttingOver, EnumSet.of(Done, Failed, Stopped));
    e.put(Done, EnumSet.noneOf(DatabasePhase.class));
    e.put(Failed, EnumSet.noneOf(DatabasePhase.class));
    e.put(Stopped, EnumSet.noneOf(DatabasePhase.class));
    return java.util.Collections.unmodifiableMap(e);
  }

  /** True when a database in {@code from} may move to {@code to} (or stays where it is). */
  public static boolean allowed(DatabasePhase from, DatabasePhase to) {
    return from == to || EDGES.get(from == null ? Pending : from).contains(to);
  }

  /** True when nothing more happens to a database in this phase. */
  public static boolean isFinal(DatabasePhase phase) {
    return phase != null && EDGES.get(phase).isEmpty();
  }

  /**
   * Moves a database to {@code to} with the message that says why; an edge the machine does not
   * have is a bug in the caller, refused before status changes.
   */
  public static void move(DatabaseStatus db, DatabasePhase to, String message) {
    if (!allowed(db.getPhase(), to)) {
      throw new IllegalStateException("database " + db.getName() + ": no transition from "
          + db.getPhase() + " to " + to + " (" + message + ")");
    }
    db.setPhase(to);
    db.setMessage(message);
  }

  /**
   * The migration failed: every database still under way is Stopped, saying why, instead of
   * showing its last progress ("pod Running") forever; finished and failed ones keep theirs.
   */
  static void stopUnfinished(Iterable<DatabaseStatus> databases, String reason) {
    if (databases == null) {
      return;
    }
    for (var db : databases) {
      if (!isFinal(db.getPhase())) {
        var was = db.getMessage();
        move(db, Stopped, "stopped: the migration failed (" + reason + ")"
            + (was == null || was.isBlank() ? "" : "; last: " + was));
      }
    }
  }
}
