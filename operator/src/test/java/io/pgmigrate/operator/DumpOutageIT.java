package io.pgmigrate.operator;

import static io.pgmigrate.operator.ContinuousMigrationIT.assertSameData;
import static io.pgmigrate.operator.ContinuousMigrationIT.deleteAndWait;
import static io.pgmigrate.operator.ContinuousMigrationIT.migration;
import static io.pgmigrate.operator.ContinuousMigrationIT.seed;
import static io.pgmigrate.operator.ContinuousMigrationIT.source;
import static io.pgmigrate.operator.OperatorValidationIT.awaitPhase;
import static io.pgmigrate.operator.OperatorValidationIT.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgmigrate.operator.api.Method;
import io.pgmigrate.operator.dump.DumpPods;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.testing.Contents;
import io.pgmigrate.operator.testing.OperatorExtension;
import io.pgmigrate.operator.testing.PostgresPair;
import io.pgmigrate.operator.testing.PostgresServer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import io.pgmigrate.operator.reconciler.FaultPoints;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The dump method on the day something goes wrong: a server that goes away for 30 s while a
 * dump Pod copies, the operator stopped while it copies, and the operator killed between each
 * pair of the dump's irreversible steps.
 */
@ExtendWith({PostgresPair.class, OperatorExtension.class})
class DumpOutageIT {

  @AfterEach
  void noMoreFaults() {
    FaultPoints.hook = name -> {};
  }

  /**
   * The operator "killed" once at each point between the dump's irreversible steps (an exception
   * there ends the pass before its status is written: what a SIGKILL leaves): after validation,
   * after roles and databases were made on the target, right after the copy Pod was created.
   * The next pass carries on: one Pod, the data equal, the migration Ready.
   */
  @ParameterizedTest(name = "crash at {0}")
  @ValueSource(strings = {"validation.reported", "target.prepared", "pods.created.DATA"})
  void aCrashBetweenAnyTwoStepsOfADumpStillEndsReadyWithTheSameData(String point,
      OperatorExtension.Env env, PostgresPair.Servers pg) throws Exception {
    var name = "dcrash-" + point.replace('.', '-').replace('_', '-').toLowerCase();
    var db = "dcrash_" + point.replace('.', '_').toLowerCase();
    try (var src = source(name + "-src")) {
      seed(src, db);
      src.execute(db, "create table journal (at int, what text)",
          "insert into journal select g, 'e' || g from generate_series(1, 500) g",
          "create role " + db + "_reader", "grant select on journal to " + db + "_reader");
      var crashed = io.pgmigrate.operator.testing.Crashes.onceAt(point);
      var started = System.nanoTime();
      var m = migration(env, name, src, pg.target(), List.of(db));
      m.getSpec().setMethod(Method.DUMP);
      env.client().resource(m).create();
      var ready = awaitPhase(env, name, Phase.Ready);
      assertThat(crashed).as("the crash at " + point + " happened").isTrue();
      assertThat(ready.getStatus().getDatabases()).singleElement().satisfies(d ->
          assertThat(d.getPod()).as("one copy, by attempt 1").endsWith("-1"));
      assertSameData(src, pg.target(), db);
      System.out.printf("dump, crash at %s: Ready after %.1f s, data equal%n", point,
          (System.nanoTime() - started) / 1e9);
      deleteAndWait(env, name);
    }
  }

  @ParameterizedTest(name = "{0} down for 30 s")
  @ValueSource(strings = {"target", "source"})
  void aDumpSurvivesAServerGoingAwayDuringTheCopy(String which, OperatorExtension.Env env,
      PostgresPair.Servers pg) throws Exception {
    var name = "outage-" + which;
    try (var src = source(name + "-src");
        var dst = source(name + "-dst")) {
      seed(src, "out_db");
      // enough rows for the copy to take a few seconds
      src.execute("out_db", "insert into items (v) select repeat(md5(g::text), 4)"
          + " from generate_series(1, 600000) g");
      var m = migration(env, name, src, dst, List.of("out_db"));
      m.getSpec().setMethod(Method.DUMP);
      m.getSpec().getDump().setJobs(1);
      env.client().resource(m).create();
      PostgresServer down = which.equals("target") ? dst : src;
      // as soon as the Pod copies, the server goes away for 30 s
      // (rows arriving on the target: the Pod's restore session, not the operator's checks)
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() ->
          !Contents.query(dst, "postgres", "select pid::text, '' from pg_stat_activity"
              + " where application_name = 'pgmigrate-restore' and datname = 'out_db'"
              + " and state = 'active'").isEmpty());
      down.stop();
      var messages = ConcurrentHashMap.<String>newKeySet();
      var watcher = Executors.newSingleThreadScheduledExecutor();
      watcher.scheduleAtFixedRate(() -> {
        try {
          var current = get(env, name);
          if (current != null && current.getStatus() != null) {
            messages.add(String.valueOf(current.getStatus().getPhase()));
            current.getStatus().getDatabases().forEach(
                d -> messages.add(String.valueOf(d.getMessage())));
          }
        } catch (RuntimeException e) {
          messages.add("unreadable: " + e.getMessage());
        }
      }, 0, 500, TimeUnit.MILLISECONDS);
      try {
        // 30 s without the server, and the operator saying it waits for it
        await().pollDelay(Duration.ofSeconds(30)).atMost(Duration.ofSeconds(90))
            .until(() -> messages.stream().anyMatch(x -> x.contains("waits for the servers")));
        down.start();
        var ready = awaitPhase(env, name, Phase.Ready);
        assertThat(ready.getStatus().getPhase()).isEqualTo(Phase.Ready);
      } finally {
        watcher.shutdownNow();
      }
      // while it waited, status said so; it never failed
      assertThat(messages).doesNotContain("Failed")
          .anyMatch(x -> x.contains("waits for the servers"));
      assertSameData(src, dst, "out_db");
      System.out.printf("%s down for 30 s during the dump: Ready, data equal%n", which);
      deleteAndWait(env, name);
    }
  }

  /**
   * The source's side of one part of a split table ends mid-stream (its session terminated):
   * the target may already have committed the rows that arrived, since a COPY stream may end
   * after any row, so copying the part again would write them twice. The Pod fails instead, and
   * the next attempt starts over on an empty database: Ready, the data equal, no row twice.
   */
  @Test
  void aPartWhoseSourceSideEndsMidStreamIsNotCopiedTwice(OperatorExtension.Env env)
      throws Exception {
    var name = "part-cut";
    try (var src = source(name + "-src");
        var dst = source(name + "-dst")) {
      seed(src, "part_db");
      // no key: rows written twice show only in the comparison of the rows, not in an index
      // build that fails on them
      src.execute("part_db", "create table bulk (v text)",
          "insert into bulk select repeat(md5(g::text), 4) from generate_series(1, 600000) g");
      var m = migration(env, name, src, dst, List.of("part_db"));
      m.getSpec().setMethod(Method.DUMP);
      m.getSpec().getDump().setJobs(2);
      m.getSpec().getDump().setSplitTablesLargerThan("8Mi");
      env.client().resource(m).create();
      // as soon as a part streams, its session on the source is ended
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() ->
          !Contents.query(src, "postgres", "select pid::text,"
              + " pg_catalog.pg_terminate_backend(pid)::text from pg_stat_activity"
              + " where datname = 'part_db' and state = 'active'"
              + " and query like 'COPY (SELECT%ctid%'").isEmpty());
      var ready = awaitPhase(env, name, Phase.Ready);
      assertThat(ready.getStatus().getDatabases()).singleElement()
          .satisfies(d -> assertThat(d.getPod()).as("the first attempt failed").endsWith("-2"));
      assertSameData(src, dst, "part_db");
      deleteAndWait(env, name);
    }
  }

  @Test
  void anOperatorStoppedWhileADumpPodCopiesFinishesTheMigrationWhenItIsBack(
      OperatorExtension.Env env, PostgresPair.Servers pg) throws Exception {
    try (var src = source("opstop-src");
        var dst = source("opstop-dst")) {
      seed(src, "stop_db");
      src.execute("stop_db", "insert into items (v) select repeat(md5(g::text), 4)"
          + " from generate_series(1, 400000) g");
      var m = migration(env, "opstop", src, dst, List.of("stop_db"));
      m.getSpec().setMethod(Method.DUMP);
      env.client().resource(m).create();
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() ->
          !Contents.query(dst, "postgres", "select pid::text, '' from pg_stat_activity"
              + " where application_name = 'pgmigrate-restore' and datname = 'stop_db'")
              .isEmpty());
      // no operator while the Pod copies, until after it finished
      env.stopOperator();
      await().atMost(Duration.ofSeconds(120)).until(() -> env.client().pods()
          .inNamespace(env.namespace()).withLabel(DumpPods.MIGRATION_UID,
              get(env, "opstop").getMetadata().getUid())
          .list().getItems().stream()
          .anyMatch(p -> p.getStatus() != null && "Succeeded".equals(p.getStatus().getPhase())));
      env.startOperator();
      var ready = awaitPhase(env, "opstop", Phase.Ready);
      assertThat(ready.getStatus().getPhase()).isEqualTo(Phase.Ready);
      assertThat(ready.getStatus().getDatabases().get(0).getPod()).endsWith("-1");
      assertSameData(src, dst, "stop_db");
      deleteAndWait(env, "opstop");
    }
  }
}
