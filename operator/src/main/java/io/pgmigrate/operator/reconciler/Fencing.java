package io.pgmigrate.operator.reconciler;

import io.pgmigrate.operator.api.DatabaseStatus;
import io.pgmigrate.operator.api.PgMigrationStatus;
import io.pgmigrate.operator.api.SourceFence;
import io.pgmigrate.operator.postgres.ConnectionSpec;
import io.pgmigrate.operator.postgres.Fence;
import io.pgmigrate.operator.postgres.Interrupts;
import io.pgmigrate.operator.postgres.PgConnector;
import io.pgmigrate.operator.postgres.Replication;
import io.pgmigrate.operator.reconciler.Decision.Event;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * cutover.fenceSource: before a database's cutover position is taken, its source database is
 * made read-only and every session that could still write is ended, so nothing lands on the
 * source after the position. Each database's fence is in status (status.fence) before the
 * database is changed, and stays there until the fence is lifted by the deletion of the
 * migration: an operator stopped at any instant neither loses a fence nor takes a wrong
 * "previous" value by fencing twice.
 */
final class Fencing {

  /** True while a source database of this migration may be read-only because of us. */
  static final String CONDITION = "SourceFenced";

  /** How long one pass waits for ended sessions to exit before looking again in the next. */
  private static final int EXIT_CHECKS = 40;

  /** What a pass did for one database. */
  enum Step {
    /** Fenced (now or before): the position may be taken. */
    FENCED,
    /** Something was recorded that must reach the API server before the next step. */
    RECORDED,
    /** Sessions or prepared transactions from before the fence are still there. */
    WAITING
  }

  /** The fence cannot be put up with the login's privileges: only the user can fix it. */
  static final class Refused extends Exception {
    Refused(String message) {
      super(message);
    }
  }

  private Fencing() {}

  /** Whether any source database may be fenced by this migration (its Secrets stay held). */
  static boolean isOn(PgMigrationStatus status) {
    return status != null && status.getFence() != null && !status.getFence().isEmpty();
  }

  /** One step of fencing {@code db} on the source connection {@code src} (to that database). */
  static Step advance(PgMigrationStatus status, DatabaseStatus db, Connection src, Long generation,
      Instant now, List<Event> events) throws SQLException, Refused {
    var name = db.getName();
    var fence = find(status, name);
    if (fence == null) {
      // in status before the database is changed: the previous setting is read once, from the
      // database as the user left it
      fence = new SourceFence(name, SourceFence.FENCING);
      fence.setPrevious(Fence.databaseSetting(src, name));
      fence.setLiftWith(Fence.liftStatement(name, fence.getPrevious()));
      if (status.getFence() == null) {
        status.setFence(new ArrayList<>());
      }
      status.getFence().add(fence);
      db.setMessage("cutover: making the source database read-only (cutover.fenceSource)");
      condition(status, generation, now);
      return Step.RECORDED;
    }
    if (SourceFence.FENCED.equals(fence.getState())) {
      return Step.FENCED;
    }
    Fence.makeReadOnly(src, name);
    FaultPoints.reached("fence.readOnly");
    if (fence.getFencedAt() == null) {
      // sessions that began before this instant did not get the read-only default
      fence.setFencedAt(Fence.serverNow(src));
    }
    var sessions = Fence.sessionsBefore(src, name, fence.getFencedAt());
    var ended = new ArrayList<Fence.Session>();
    for (var session : sessions) {
      try {
        if (Fence.terminate(src, session.pid())) {
          ended.add(session);
        }
      } catch (SQLException e) {
        Interrupts.rethrowIfInterrupted(e);
        if ("42501".equals(e.getSQLState())) {
          throw new Refused(name + ": could not end session " + session.describe() + " on the"
              + " source: " + e.getMessage() + ". The source database is read-only for new"
              + " sessions (" + fence.getLiftWith() + " lifts it); the session could still"
              + " write after the cutover position, so the cutover did not take one. Remedy:"
              + " end that session yourself or grant the login pg_signal_backend (a superuser's"
              + " session needs a superuser login), then start over");
        }
        throw e;
      }
    }
    if (!ended.isEmpty()) {
      events.add(new Event(false, "SourceSessionsEnded", name + ": ended " + ended.size()
          + " session(s) that connected before the fence and could still write: "
          + Replication.limited(ended.stream().map(Fence.Session::describe).toList())));
      FaultPoints.reached("fence.sessionsEnded");
    }
    int left = Fence.stillThere(src, sessions);
    for (int i = 0; left > 0 && i < EXIT_CHECKS; i++) {
      // a terminated backend rolls back and exits within milliseconds: no point in a new pass
      Fence.pause(src);
      left = Fence.stillThere(src, sessions);
    }
    int prepared = Fence.preparedTransactions(src, name);
    if (left > 0 || prepared > 0) {
      db.setMessage("cutover: the source database is read-only for new sessions; waiting for "
          + (left > 0 ? left + " ended session(s) to exit" : "")
          + (left > 0 && prepared > 0 ? " and " : "")
          + (prepared > 0 ? prepared + " prepared transaction(s) to be committed or rolled"
              + " back (COMMIT PREPARED would write after the position)" : ""));
      return Step.WAITING;
    }
    fence.setState(SourceFence.FENCED);
    FaultPoints.reached("fence.fenced");
    db.setMessage("cutover: the source database is read-only; taking the cutover position");
    events.add(new Event(false, "SourceFenced", name + ": read-only for new sessions"
        + " (default_transaction_read_only), no session from before the fence left; for a"
        + " rollback lift it with: " + fence.getLiftWith()));
    condition(status, generation, now);
    return Step.RECORDED;
  }

  /** The condition that says which databases are fenced and how to lift the fence. */
  static void condition(PgMigrationStatus status, Long generation, Instant now) {
    if (!isOn(status)) {
      status.getConditions().removeIf(c -> CONDITION.equals(c.getType()));
      return;
    }
    var names = status.getFence().stream().map(SourceFence::getDatabase).toList();
    var lifts = status.getFence().stream().map(SourceFence::getLiftWith).toList();
    Conditions.set(status.getConditions(), CONDITION, "True", "Fenced",
        "source database(s) " + String.join(", ", names) + " read-only for new sessions"
            + " (cutover.fenceSource); deleting this PgMigration lifts the fence; to lift it"
            + " by hand (a rollback to the source), run on the source: "
            + String.join("; ", lifts), generation, now);
  }

  /**
   * Lifts every recorded fence (the migration is being deleted); returns what could not be
   * lifted. Idempotent: lifting twice sets the same value.
   */
  static List<String> lift(PgConnector connector, ConnectionSpec source,
      PgMigrationStatus status, List<Event> events) {
    var problems = new ArrayList<String>();
    if (!isOn(status)) {
      return problems;
    }
    var lifted = new ArrayList<String>();
    for (var fence : status.getFence()) {
      // connected to the fenced database itself: the login may connect to no other
      try (var c = connector.open(source.withDatabase(fence.getDatabase()))) {
        Fence.lift(c, fence.getDatabase(), fence.getPrevious());
        lifted.add(fence.getDatabase());
      } catch (SQLException e) {
        Interrupts.rethrowIfInterrupted(e);
        if ("3D000".equals(e.getSQLState())) {
          // the database is gone, and its fence with it
          continue;
        }
        problems.add("the fence on source database " + fence.getDatabase() + " ("
            + fence.getLiftWith() + "): " + e.getMessage());
      }
    }
    if (!lifted.isEmpty()) {
      events.add(new Event(false, "SourceFenceLifted", "source database(s) "
          + String.join(", ", lifted) + " writable again (default_transaction_read_only as"
          + " before the fence)"));
    }
    return problems;
  }

  private static SourceFence find(PgMigrationStatus status, String database) {
    if (status.getFence() == null) {
      return null;
    }
    return status.getFence().stream().filter(f -> f.getDatabase().equals(database)).findFirst()
        .orElse(null);
  }
}
