package io.pgmigrate.operator;

import static io.pgmigrate.operator.ContinuousMigrationIT.assertSameData;
import static io.pgmigrate.operator.ContinuousMigrationIT.deleteAndWait;
import static io.pgmigrate.operator.ContinuousMigrationIT.migration;
import static io.pgmigrate.operator.ContinuousMigrationIT.ourObjects;
import static io.pgmigrate.operator.ContinuousMigrationIT.seed;
import static io.pgmigrate.operator.ContinuousMigrationIT.source;
import static io.pgmigrate.operator.OperatorValidationIT.awaitPhase;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgmigrate.operator.api.CheckOutcome;
import io.pgmigrate.operator.api.CutoverSpec;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.api.SourceFence;
import io.pgmigrate.operator.reconciler.Conditions;
import io.pgmigrate.operator.testing.Contents;
import io.pgmigrate.operator.testing.Crashes;
import io.pgmigrate.operator.testing.Fixtures;
import io.pgmigrate.operator.testing.OperatorExtension;
import io.pgmigrate.operator.testing.PostgresPair;
import io.pgmigrate.operator.testing.PostgresServer;
import io.pgmigrate.operator.testing.ReconnectingWriter;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** cutover.fenceSource: the source read-only before the cutover position, lifted on deletion. */
@ExtendWith({PostgresPair.class, OperatorExtension.class})
class CutoverFenceIT {

  @AfterEach
  void noMoreCrashes() {
    Crashes.none();
  }

  /** The application's role on the source: no superuser, owns nothing. */
  static void application(PostgresServer src, String db) {
    src.execute(db, "do $$ begin if not exists (select from pg_roles where rolname = 'app')"
            + " then create role app login password 'app-pw'; end if; end $$",
        "grant select, insert, update, delete on all tables in schema public to app",
        "grant usage on all sequences in schema public to app");
  }

  static PgMigration fenced(OperatorExtension.Env env, String name, PostgresServer src,
      PostgresServer dst, String db) {
    var m = migration(env, name, src, dst, List.of(db));
    m.getSpec().setCutover(new CutoverSpec());
    m.getSpec().getCutover().setFenceSource(true);
    return m;
  }

  /** What a new session of the database gets, as the setting it reads. */
  static String readOnlyDefault(PostgresServer src, String db) {
    return Contents.query(src, db, "select current_setting('default_transaction_read_only'), ''")
        .keySet().iterator().next();
  }

  @Test
  void aWriterThroughAFencedCutoverIsStoppedAndEveryRowTheSourceHoldsIsOnTheTarget(
      OperatorExtension.Env env, PostgresPair.Servers pg) throws Exception {
    var db = "fence_db";
    try (var src = source("fence-src")) {
      seed(src, db);
      application(src, db);
      env.client().resource(fenced(env, "fence", src, pg.target(), db)).create();
      awaitPhase(env, "fence", Phase.Syncing);
      try (var app = new ReconnectingWriter(src, db, "app", "app-pw", "shop-app",
          Duration.ofMinutes(3))) {
        await().atMost(Duration.ofSeconds(10)).until(() -> app.inserted() > 100);
        var started = System.nanoTime();
        ContinuousMigrationIT.setKeepReplicating(env, "fence", false);
        var ready = awaitPhase(env, "fence", Phase.Ready);
        var seconds = (System.nanoTime() - started) / 1e9;
        // from now on, every write of the application fails on the source, read-only
        app.mark();
        await().atMost(Duration.ofSeconds(10)).until(() -> app.sinceMark()[0] > 50);
        assertThat(app.sinceMark()[1]).as("inserts that succeeded after Ready").isZero();
        assertThat(app.failures()).as(app.lastFailure()).containsKey("25006");
        assertThat(app.lastFailure()).contains("read-only transaction");

        assertThat(ready.getStatus().getFence()).singleElement().satisfies(f -> {
          assertThat(f.getDatabase()).isEqualTo(db);
          assertThat(f.getState()).isEqualTo(SourceFence.FENCED);
          assertThat(f.getPrevious()).isNull();
          assertThat(f.getFencedAt()).isNotBlank();
          assertThat(f.getLiftWith())
              .isEqualTo("ALTER DATABASE \"fence_db\" RESET default_transaction_read_only");
        });
        var condition = Conditions.get(ready.getStatus().getConditions(), "SourceFenced");
        assertThat(condition.getStatus()).isEqualTo("True");
        assertThat(condition.getMessage()).contains("deleting this PgMigration lifts the fence")
            .contains("ALTER DATABASE \"fence_db\" RESET default_transaction_read_only");
        var events = OperatorValidationIT.events(env, "fence");
        var ended = events.stream().filter(e -> "SourceSessionsEnded".equals(e.getReason()))
            .map(e -> e.getMessage()).toList();
        assertThat(ended).isNotEmpty().allSatisfy(text -> assertThat(text)
            .contains("user app, application_name shop-app").doesNotContain("app-pw"));
        assertThat(events).anySatisfy(e -> assertThat(e.getReason()).isEqualTo("SourceFenced"));
        assertThat(readOnlyDefault(src, db)).isEqualTo("on");
        // 0 differences: every row the source holds, also those of the last instants before
        // the fence, is on the target
        assertSameData(src, pg.target(), db);
        var rows = Contents.query(src, db, "select count(*)::text, '' from items").keySet();
        System.out.printf("fenced cutover with a writer: Ready after %.1f s; the writer inserted"
            + " %d rows, then failed %s; items has %s rows on both sides; events: %s%n",
            seconds, app.inserted(), app.failures(), rows, ended);
      }
      // the Secrets stay held while the fence is on: its lifting needs the source's login
      assertThat(ReplicationFaultsIT.secretsReleased(env, "fence")).isFalse();
      deleteAndWait(env, "fence");
      assertThat(readOnlyDefault(src, db)).isEqualTo("off");
      src.execute(db, "insert into items (v) values ('after the fence was lifted')");
      assertThat(ReplicationFaultsIT.secretsReleased(env, "fence")).isTrue();
      assertThat(OperatorValidationIT.events(env, "fence"))
          .anySatisfy(e -> assertThat(e.getReason()).isEqualTo("SourceFenceLifted"));
    }
  }

  /**
   * The operator "killed" once at each point between fencing, taking the position, confirming
   * it and removing replication: the fence is recorded once with the database's own setting
   * from before it (never the fence's), nothing written after it is missing on the target, and
   * the deletion puts that setting back.
   */
  @ParameterizedTest
  @ValueSource(strings = {"fence.readOnly", "fence.sessionsEnded", "fence.fenced",
      "cutover.lsnRecorded", "cutover.confirmed", "cutover.replicationRemoved"})
  void aCrashAtAnyStepOfAFencedCutoverFencesOnceAndLosesNothing(String point,
      OperatorExtension.Env env, PostgresPair.Servers pg) throws Exception {
    var db = "fcrash_" + point.replace('.', '_').toLowerCase();
    var name = "fcrash-" + point.replace('.', '-').toLowerCase();
    try (var src = source(name + "-src")) {
      seed(src, db);
      application(src, db);
      // the database's own setting: what lifting the fence must put back
      src.execute("postgres", "alter database " + db + " set default_transaction_read_only = off");
      var crashed = Crashes.onceAt(point);
      env.client().resource(fenced(env, name, src, pg.target(), db)).create();
      awaitPhase(env, name, Phase.Syncing);
      try (var app = new ReconnectingWriter(src, db, "app", "app-pw", "shop-app",
          Duration.ofMinutes(3))) {
        await().atMost(Duration.ofSeconds(10)).until(() -> app.inserted() > 50);
        var started = System.nanoTime();
        ContinuousMigrationIT.setKeepReplicating(env, name, false);
        var ready = awaitPhase(env, name, Phase.Ready);
        assertThat(crashed).as("the crash at " + point + " happened").isTrue();
        app.mark();
        await().atMost(Duration.ofSeconds(10)).until(() -> app.sinceMark()[0] > 20);
        assertThat(app.sinceMark()[1]).as("inserts that succeeded after Ready").isZero();
        assertThat(ready.getStatus().getFence()).singleElement().satisfies(f -> {
          assertThat(f.getState()).isEqualTo(SourceFence.FENCED);
          assertThat(f.getPrevious()).isEqualTo("off");
        });
        assertSameData(src, pg.target(), db);
        assertThat(ourObjects(src, pg.target(), List.of(db))).isEmpty();
        System.out.printf("fenced cutover, crash at %s: Ready after %.1f s, writer inserted %d"
            + " then failed %s%n", point, (System.nanoTime() - started) / 1e9, app.inserted(),
            app.failures());
      }
      deleteAndWait(env, name);
      assertThat(Contents.query(src, "postgres", "select s, '' from pg_db_role_setting r"
          + " join pg_database d on d.oid = r.setdatabase, unnest(r.setconfig) s"
          + " where d.datname = '" + db + "'").keySet())
          .containsExactly("default_transaction_read_only=off");
    }
  }

  @Test
  void aLoginThatCannotFenceFailsValidationBeforeAnythingStarts(OperatorExtension.Env env,
      PostgresPair.Servers pg) {
    try (var src = source("weakfence-src")) {
      seed(src, "weakfence_db");
      src.execute("postgres", "create role migrator login replication password 'migrator-pw'");
      var m = fenced(env, "weakfence", src, pg.target(), "weakfence_db");
      m.getSpec().setFallbackToDump(false);
      Fixtures.applySecret(env.client(), Fixtures.credentials(env.namespace(),
          "weakfence-source", "migrator", "migrator-pw"));
      env.client().resource(m).create();
      var failed = awaitPhase(env, "weakfence", Phase.Failed);
      var check = OperatorValidationIT.check(failed, "source.fence");
      assertThat(check.getResult()).isEqualTo(CheckOutcome.Failed);
      assertThat(check.getMessage()).contains("ownership of weakfence_db")
          .contains("pg_signal_backend");
      assertThat(check.getRemedy()).contains("GRANT pg_signal_backend TO migrator")
          .contains("OWNER TO migrator");
      assertThat(failed.getStatus().getFence()).isNull();
      assertThat(readOnlyDefault(src, "weakfence_db")).isEqualTo("off");
      System.out.printf("fence refused by the checks: %s / remedy: %s%n", check.getMessage(),
          check.getRemedy());
      deleteAndWait(env, "weakfence");
    }
  }
}
