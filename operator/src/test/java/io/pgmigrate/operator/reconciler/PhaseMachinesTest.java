package io.pgmigrate.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgmigrate.operator.api.DatabasePhase;
import io.pgmigrate.operator.api.DatabaseStatus;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigrationStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The two phase machines: their edges, their refusals, and the README that lists them. */
class PhaseMachinesTest {

  static final Path README = Path.of(System.getProperty("pgmigrate.repoRoot", ".."), "README.md");

  /** "- kind: A → B, C; D → (none)" from the README, as from → sorted targets. */
  static Map<String, List<String>> readmeEdges(String kind) throws IOException {
    var line = Files.readAllLines(README).stream().filter(l -> l.startsWith("- " + kind + ": "))
        .findFirst().orElseThrow(() -> new AssertionError("README lists no " + kind + " edges"));
    var edges = new TreeMap<String, List<String>>();
    for (var part : line.substring(("- " + kind + ": ").length()).split(";")) {
      var ends = part.split("→");
      var targets = ends[1].trim().equals("(none)") ? List.<String>of()
          : Arrays.stream(ends[1].split(",")).map(String::trim).sorted().toList();
      assertThat(edges.put(ends[0].trim(), targets)).as("listed once: " + ends[0]).isNull();
    }
    return edges;
  }

  static <P extends Enum<P>> Map<String, List<String>> codeEdges(Map<P, ? extends java.util.Set<P>> edges) {
    var out = new TreeMap<String, List<String>>();
    edges.forEach((from, to) -> out.put(from == null ? "(new)" : from.name(),
        to.stream().map(Enum::name).sorted().toList()));
    return out;
  }

  @Test
  void theReadmeListsExactlyTheEdgesOfTheCode() throws IOException {
    assertThat(readmeEdges("migration")).isEqualTo(codeEdges(Decider.EDGES));
    assertThat(readmeEdges("database")).isEqualTo(codeEdges(DatabaseMachine.EDGES));
  }

  @Test
  void everyPhaseHasItsEdgesAndEveryNonFinalOneCanEnd() {
    assertThat(DatabaseMachine.EDGES.keySet()).containsExactlyInAnyOrder(DatabasePhase.values());
    for (var from : DatabasePhase.values()) {
      if (!DatabaseMachine.isFinal(from)) {
        // a database under way can always fail itself or be stopped by the migration's failure
        assertThat(DatabaseMachine.EDGES.get(from)).contains(DatabasePhase.Failed,
            DatabasePhase.Stopped);
      }
    }
    assertThat(Arrays.stream(DatabasePhase.values()).filter(DatabaseMachine::isFinal))
        .containsExactlyInAnyOrder(DatabasePhase.Done, DatabasePhase.Failed,
            DatabasePhase.Stopped);
    for (var phase : Phase.values()) {
      assertThat(Decider.EDGES).containsKey(phase);
    }
  }

  @Test
  void bothMethodsPathsRunThroughTheMachineFromPendingToDone() {
    var dump = List.of(DatabasePhase.Copying, DatabasePhase.Copying, DatabasePhase.Done);
    var continuous = List.of(DatabasePhase.SchemaCopy, DatabasePhase.Copying,
        DatabasePhase.Indexing, DatabasePhase.Replicating, DatabasePhase.CuttingOver,
        DatabasePhase.Done);
    for (var path : List.of(dump, continuous)) {
      var db = new DatabaseStatus("app", DatabasePhase.Pending);
      for (var next : path) {
        DatabaseMachine.move(db, next, "to " + next);
        assertThat(db.getPhase()).isEqualTo(next);
        assertThat(db.getMessage()).isEqualTo("to " + next);
      }
    }
  }

  @Test
  void aMoveTheMachineDoesNotHaveIsRefusedAndChangesNothing() {
    var forbidden = new LinkedHashMap<DatabasePhase, DatabasePhase>();
    forbidden.put(DatabasePhase.Done, DatabasePhase.Copying); // a finished database copied again
    forbidden.put(DatabasePhase.Replicating, DatabasePhase.Copying);
    forbidden.put(DatabasePhase.CuttingOver, DatabasePhase.Replicating); // replication again
    forbidden.put(DatabasePhase.Pending, DatabasePhase.CuttingOver);
    forbidden.put(DatabasePhase.Stopped, DatabasePhase.Done);
    forbidden.forEach((from, to) -> {
      var db = new DatabaseStatus("app", from);
      db.setMessage("before");
      assertThatThrownBy(() -> DatabaseMachine.move(db, to, "after"))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("database app: no transition from " + from + " to " + to);
      assertThat(db.getPhase()).isEqualTo(from);
      assertThat(db.getMessage()).isEqualTo("before");
    });
    var status = new PgMigrationStatus();
    status.setPhase(Phase.Ready);
    assertThatThrownBy(() -> Decider.fail(status, "X", "late failure", 1L,
        DeciderTest.T0, new ArrayList<>()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no transition from Ready to Failed");
    assertThat(status.getPhase()).isEqualTo(Phase.Ready);
  }

  @Test
  void aFailedMigrationStopsEveryDatabaseStillUnderWayAndSaysWhy() {
    var status = new PgMigrationStatus();
    status.setPhase(Phase.Syncing);
    var phases = EnumSet.allOf(DatabasePhase.class);
    var databases = new ArrayList<DatabaseStatus>();
    for (var phase : phases) {
      var db = new DatabaseStatus(phase.name().toLowerCase(), phase);
      db.setMessage("was " + phase);
      databases.add(db);
    }
    status.setDatabases(databases);
    Decider.fail(status, "ApplyFailed", "apply keeps failing", 3L, DeciderTest.T1,
        new ArrayList<>());
    assertThat(status.getPhase()).isEqualTo(Phase.Failed);
    for (var db : status.getDatabases()) {
      var was = DatabasePhase.valueOf(db.getMessage().startsWith("was ")
          ? db.getMessage().substring(4) : db.getMessage().replaceAll(".*last: was ", ""));
      if (DatabaseMachine.isFinal(was)) {
        assertThat(db.getPhase()).as(db.getName()).isEqualTo(was);
      } else {
        assertThat(db.getPhase()).as(db.getName()).isEqualTo(DatabasePhase.Stopped);
        assertThat(db.getMessage()).isEqualTo(
            "stopped: the migration failed (ApplyFailed); last: was " + was);
      }
    }
  }
}
