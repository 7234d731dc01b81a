package io.pgmigrate.operator;

import static io.pgmigrate.operator.ContinuousMigrationIT.deleteAndWait;
import static io.pgmigrate.operator.ContinuousMigrationIT.migration;
import static io.pgmigrate.operator.ContinuousMigrationIT.ourObjects;
import static io.pgmigrate.operator.ContinuousMigrationIT.seed;
import static io.pgmigrate.operator.ContinuousMigrationIT.source;
import static io.pgmigrate.operator.OperatorValidationIT.awaitPhase;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.postgres.ReplicationNames;
import io.pgmigrate.operator.reconciler.Conditions;
import io.pgmigrate.operator.testing.Contents;
import io.pgmigrate.operator.testing.OperatorExtension;
import io.pgmigrate.operator.testing.PostgresPair;
import java.time.Duration;
import java.util.List;
import io.pgmigrate.operator.reconciler.FaultPoints;
import io.pgmigrate.operator.testing.Writer;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Replication objects that change behind the operator's back. */
@ExtendWith({PostgresPair.class, OperatorExtension.class})
class ReplicationFaultsIT {

  @AfterEach
  void noMoreFaults() {
    FaultPoints.hook = name -> {};
  }

  /**
   * The operator "killed" once at each point between the irreversible steps of setting up
   * replication and of the cutover: an exception there ends the pass before its status is
   * written, which is what a SIGKILL at that instant leaves. The next pass must carry on from
   * what status and the catalogs say: every row once, nothing of ours left.
   */
  @ParameterizedTest
  @ValueSource(strings = {"validation.reported", "target.prepared", "pods.created.SCHEMA",
      "replication.sourceReady", "replication.subscriptionReady", "pods.created.POST_DATA",
      "cutover.lsnRecorded", "cutover.confirmed", "cutover.sequencesCopied",
      "cutover.subscriptionDropped", "cutover.slotDropped", "cutover.publicationDropped",
      "cutover.replicationRemoved", "pods.created.CUTOVER"})
  void aCrashBetweenAnyTwoStepsLosesAndDuplicatesNothing(String point, OperatorExtension.Env env,
      PostgresPair.Servers pg) throws Exception {
    var db = "crash_" + point.replace('.', '_').toLowerCase();
    var name = "crash-" + point.replace('.', '-').replace('_', '-').toLowerCase();
    try (var src = source(name + "-src")) {
      seed(src, db);
      // a large object: the cutover copies it with a Pod of its own
      src.execute(db, "create table journal (at int, what text)",
          "insert into journal select g, 'e' || g from generate_series(1, 500) g",
          "select lo_from_bytea(0, 'written before the crash')");
      var crashed = io.pgmigrate.operator.testing.Crashes.onceAt(point);
      var started = System.nanoTime();
      var m = migration(env, name, src, pg.target(), List.of(db));
      m.getSpec().getReplication().setReplicaIdentityFull(true);
      env.client().resource(m).create();
      try (var writer = new Writer(src, db, Duration.ofMinutes(2))) {
        awaitPhase(env, name, Phase.Syncing);
        await().atMost(Duration.ofSeconds(10)).until(() -> writer.statements() > 100);
        writer.stop();
      }
      // a table without key: a replayed change would show as a duplicate row
      src.execute(db, "insert into journal select g, 'late' from generate_series(501, 600) g",
          "update journal set what = 'changed' where at <= 10");
      ContinuousMigrationIT.setKeepReplicating(env, name, false);
      awaitPhase(env, name, Phase.Ready);
      assertThat(crashed).as("the crash at " + point + " happened").isTrue();
      ContinuousMigrationIT.assertSameData(src, pg.target(), db);
      assertThat(ourObjects(src, pg.target(), List.of(db))).isEmpty();
      assertThat(InitialCopyIT.replicaIdentities(src, db)).containsEntry("public.journal", "d");
      var rows = Contents.query(pg.target(), db, "select count(*)::text, '' from journal");
      System.out.printf("crash at %s: Ready after %.1f s, journal %s rows on the target (600 on"
          + " the source), nothing of ours left%n", point, (System.nanoTime() - started) / 1e9,
          rows.keySet());
      deleteAndWait(env, name);
    }
  }

  @Test
  void aSlotLostWhileSyncingFailsTheMigrationAndIsNeverMadeAgain(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    try (var src = source("lost-src")) {
      seed(src, "lost_db");
      var m = env.client().resource(migration(env, "lost", src, pg.target(), List.of("lost_db")))
          .create();
      var syncing = awaitPhase(env, "lost", Phase.Syncing);
      assertThat(syncing.getStatus().getDatabases().get(0).isSlotCreated()).isTrue();
      var names = ReplicationNames.of(m.getMetadata().getUid(), "lost_db");
      // as a failover does: the slot is gone while the subscription still wants it
      pg.target().execute("lost_db", "alter subscription " + names.subscription() + " disable");
      await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> {
        src.execute("postgres", "select pg_drop_replication_slot('" + names.slot() + "')");
        return true;
      });
      // rows written now were never decoded by any slot of ours
      src.execute("lost_db", "insert into items (v) select 'after the loss' from"
          + " generate_series(1, 18)");
      var failed = awaitPhase(env, "lost", Phase.Failed);
      var ready = Conditions.get(failed.getStatus().getConditions(), Conditions.READY);
      assertThat(ready.getReason()).isEqualTo("ReplicationSlotLost");
      assertThat(failed.getStatus().getMessage()).contains(names.slot()).contains("start over");
      await().atMost(Duration.ofSeconds(30))
          .until(() -> ourObjects(src, pg.target(), List.of("lost_db")).isEmpty());
      // and it stays that way: no new slot
      await().during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(7)).until(() ->
          Contents.query(src, "postgres", "select slot_name, '' from pg_replication_slots")
              .isEmpty());
      deleteAndWait(env, "lost");
    }
  }

  @Test
  void secretsOutliveTheirNamespacesDeletionUntilNothingOfOursIsLeft(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    try (var src = source("nsdel-src")) {
      seed(src, "nsdel_db");
      env.client().resource(migration(env, "nsdel", src, pg.target(), List.of("nsdel_db")))
          .create();
      awaitPhase(env, "nsdel", Phase.Syncing);
      assertThat(ourObjects(src, pg.target(), List.of("nsdel_db"))).hasSize(3);
      // deleting a namespace deletes its Secrets and PgMigrations in no particular order; the
      // Secrets first is the order that used to leave the source replicating
      var secrets = env.client().secrets().inNamespace(env.namespace());
      for (var name : List.of("nsdel-source", "nsdel-target")) {
        secrets.withName(name).delete();
      }
      for (var name : List.of("nsdel-source", "nsdel-target")) {
        var held = secrets.withName(name).get();
        assertThat(held).as(name).isNotNull();
        assertThat(held.getMetadata().getDeletionTimestamp()).isNotNull();
      }
      var started = System.nanoTime();
      env.client().resources(io.pgmigrate.operator.api.PgMigration.class)
          .inNamespace(env.namespace()).withName("nsdel").delete();
      await().atMost(Duration.ofSeconds(30))
          .until(() -> ourObjects(src, pg.target(), List.of("nsdel_db")).isEmpty());
      await().atMost(Duration.ofSeconds(30)).until(() ->
          secrets.withName("nsdel-source").get() == null
              && secrets.withName("nsdel-target").get() == null);
      System.out.printf("namespace deletion: nothing of ours left after %.1f s%n",
          (System.nanoTime() - started) / 1e9);
    }
  }

  /** No finalizer of this migration's is left on its Secrets. */
  static boolean secretsReleased(OperatorExtension.Env env, String name) {
    return List.of(name + "-source", name + "-target").stream().allMatch(secret -> {
      var found = env.client().secrets().inNamespace(env.namespace()).withName(secret).get();
      return found == null || found.getMetadata().getFinalizers().stream()
          .noneMatch(f -> f.startsWith("pgmigrate.io/cleanup-"));
    });
  }

  @Test
  void deletedWhileItsChecksRunItGoesAtOnceAndLeavesNothing(OperatorExtension.Env env,
      PostgresPair.Servers pg) throws Exception {
    try (var src = source("delval-src")) {
      seed(src, "delval_db");
      var inChecks = new java.util.concurrent.CountDownLatch(1);
      var deleted = new java.util.concurrent.CountDownLatch(1);
      FaultPoints.hook = reached -> {
        if (reached.equals("validation.reported") && inChecks.getCount() > 0) {
          // the checks ran; their pass has not written status yet when the deletion comes
          inChecks.countDown();
          try {
            deleted.await(30, java.util.concurrent.TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
      };
      env.client().resource(migration(env, "delval", src, pg.target(), List.of("delval_db")))
          .create();
      assertThat(inChecks.await(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      var started = System.nanoTime();
      env.client().resources(io.pgmigrate.operator.api.PgMigration.class)
          .inNamespace(env.namespace()).withName("delval").delete();
      deleted.countDown();
      await().atMost(Duration.ofSeconds(30)).until(() ->
          OperatorValidationIT.get(env, "delval") == null);
      var seconds = (System.nanoTime() - started) / 1e9;
      assertThat(ourObjects(src, pg.target(), List.of("delval_db"))).isEmpty();
      assertThat(secretsReleased(env, "delval")).isTrue();
      System.out.printf("deleted while Validating: gone after %.1f s, nothing of ours left%n",
          seconds);
    }
  }

  /**
   * A migration that failed while the target was down could not remove its subscription; it
   * keeps trying while Failed, and deleting it waits until it could: the finalizers (its own and
   * the Secrets') go only once nothing of ours is left.
   */
  @Test
  void deletedAfterAFailureThatLeftObjectsItWaitsUntilTheyAreRemoved(
      OperatorExtension.Env env, PostgresPair.Servers pg) throws Exception {
    try (var src = source("delfail-src");
        var dst = source("delfail-dst")) {
      seed(src, "delfail_db");
      var m = env.client().resource(migration(env, "delfail", src, dst, List.of("delfail_db")))
          .create();
      awaitPhase(env, "delfail", Phase.Syncing);
      var names = ReplicationNames.of(m.getMetadata().getUid(), "delfail_db");
      dst.stop();
      // the slot lost while the target is down: the migration fails, and cannot reach the
      // target to drop its subscription
      await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> {
        src.execute("postgres", "select pg_drop_replication_slot('" + names.slot() + "')");
        return true;
      });
      var failed = awaitPhase(env, "delfail", Phase.Failed);
      assertThat(Conditions.get(failed.getStatus().getConditions(), Conditions.READY)
          .getReason()).isEqualTo("ReplicationSlotLost");
      assertThat(failed.getStatus().isSecretsHeld()).isTrue();
      env.client().resources(io.pgmigrate.operator.api.PgMigration.class)
          .inNamespace(env.namespace()).withName("delfail").delete();
      // the target is still down: the migration stays, and so do the holds on its Secrets
      await().during(Duration.ofSeconds(10)).atMost(Duration.ofSeconds(12)).until(() ->
          OperatorValidationIT.get(env, "delfail") != null && !secretsReleased(env, "delfail"));
      var started = System.nanoTime();
      dst.start();
      await().atMost(Duration.ofSeconds(60)).until(() ->
          OperatorValidationIT.get(env, "delfail") == null);
      var seconds = (System.nanoTime() - started) / 1e9;
      assertThat(ourObjects(src, dst, List.of("delfail_db"))).isEmpty();
      assertThat(secretsReleased(env, "delfail")).isTrue();
      System.out.printf("deleted while Failed with a subscription left on a stopped target: gone"
          + " %.1f s after the target came back, nothing of ours left%n", seconds);
    }
  }

  /**
   * Deleted while Syncing with the source down: the cleanup cannot drop slot and publication nor
   * put back the replica identities, says so naming each of them, keeps trying, and finishes
   * once the source is back.
   */
  @Test
  void deletedWhileTheSourceIsDownItSaysWhatIsLeftAndRemovesItWhenTheSourceIsBack(
      OperatorExtension.Env env, PostgresPair.Servers pg) throws Exception {
    try (var src = source("delsrc-src")) {
      seed(src, "delsrc_db");
      src.execute("delsrc_db", "create table keyless (at int, what text)",
          "insert into keyless values (1, 'one')");
      var m = migration(env, "delsrc", src, pg.target(), List.of("delsrc_db"));
      m.getSpec().getReplication().setReplicaIdentityFull(true);
      var created = env.client().resource(m).create();
      awaitPhase(env, "delsrc", Phase.Syncing);
      var names = ReplicationNames.of(created.getMetadata().getUid(), "delsrc_db");
      src.stop();
      env.client().resources(io.pgmigrate.operator.api.PgMigration.class)
          .inNamespace(env.namespace()).withName("delsrc").delete();
      var warning = await().atMost(Duration.ofSeconds(30)).until(() ->
          OperatorValidationIT.events(env, "delsrc").stream()
              .filter(e -> "CleanupIncomplete".equals(e.getReason())).findFirst(),
          java.util.Optional::isPresent).orElseThrow();
      assertThat(warning.getType()).isEqualTo("Warning");
      assertThat(warning.getMessage()).contains(names.slot()).contains(names.publication())
          .contains("REPLICA IDENTITY FULL on public.keyless (was DEFAULT)");
      // the target's side went at once; the source's waits for the source
      assertThat(Contents.query(pg.target(), "postgres",
          "select subname, '' from pg_subscription where subname = '" + names.subscription()
              + "'")).isEmpty();
      assertThat(OperatorValidationIT.get(env, "delsrc")).isNotNull();
      assertThat(secretsReleased(env, "delsrc")).isFalse();
      var started = System.nanoTime();
      src.start();
      await().atMost(Duration.ofSeconds(60)).until(() ->
          OperatorValidationIT.get(env, "delsrc") == null);
      assertThat(ourObjects(src, pg.target(), List.of("delsrc_db"))).isEmpty();
      assertThat(InitialCopyIT.replicaIdentities(src, "delsrc_db"))
          .containsEntry("public.keyless", "d");
      assertThat(secretsReleased(env, "delsrc")).isTrue();
      System.out.printf("deleted while Syncing with the source down: Warning named slot,"
          + " publication and identities; gone %.1f s after the source came back%n",
          (System.nanoTime() - started) / 1e9);
    }
  }

  @Test
  void anUnexpectedErrorShowsInAConditionAtOnceAndGoesWhenItStops(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    try (var src = source("boom-src")) {
      seed(src, "boom_db");
      var stop = new AtomicBoolean();
      FaultPoints.hook = reached -> {
        if (reached.equals("replication.subscriptionReady") && !stop.get()) {
          throw new IllegalStateException("injected: the API server answered 500");
        }
      };
      env.client().resource(migration(env, "boom", src, pg.target(), List.of("boom_db")))
          .create();
      var erring = await().atMost(Duration.ofSeconds(60)).until(
          () -> OperatorValidationIT.get(env, "boom"),
          x -> x.getStatus() != null
              && Conditions.get(x.getStatus().getConditions(), Conditions.RECONCILE_ERROR) != null);
      var condition = Conditions.get(erring.getStatus().getConditions(), Conditions.RECONCILE_ERROR);
      assertThat(condition.getStatus()).isEqualTo("True");
      assertThat(condition.getMessage()).contains("injected: the API server answered 500");
      stop.set(true);
      var syncing = awaitPhase(env, "boom", Phase.Syncing);
      await().atMost(Duration.ofSeconds(10)).until(() -> Conditions.get(
          OperatorValidationIT.get(env, "boom").getStatus().getConditions(),
          Conditions.RECONCILE_ERROR) == null);
      assertThat(syncing.getStatus().getPhase()).isEqualTo(Phase.Syncing);
      deleteAndWait(env, "boom");
    }
  }

  @Test
  void aPermanentErrorInTheCutoverFailsWithItAndRemovesOurObjects(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    try (var src = source("cutfail-src")) {
      seed(src, "cutfail_db");
      env.client().resource(migration(env, "cutfail", src, pg.target(), List.of("cutfail_db")))
          .create();
      awaitPhase(env, "cutfail", Phase.Syncing);
      // the target refuses the source's sequence value (507 > 100): no retry can fix that
      pg.target().execute("cutfail_db", "alter sequence invoice_no start 1 restart 1 maxvalue 100");
      ContinuousMigrationIT.setKeepReplicating(env, "cutfail", false);
      var failed = awaitPhase(env, "cutfail", Phase.Failed);
      var ready = Conditions.get(failed.getStatus().getConditions(), Conditions.READY);
      assertThat(ready.getReason()).isEqualTo("CutoverFailed");
      assertThat(failed.getStatus().getMessage()).contains("invoice_no").contains("SQLSTATE 22003");
      await().atMost(Duration.ofSeconds(30))
          .until(() -> ourObjects(src, pg.target(), List.of("cutfail_db")).isEmpty());
      deleteAndWait(env, "cutfail");
    }
  }

  @Test
  void editsThatWouldHalfApplyAreRefusedByTheApiServerWhileSyncing(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    try (var src = source("edit-src")) {
      seed(src, "edit_db");
      var created = env.client().resource(migration(env, "edit", src, pg.target(),
          List.of("edit_db"))).create();
      awaitPhase(env, "edit", Phase.Syncing);
      for (var patch : List.of("{\"spec\":{\"source\":{\"host\":\"elsewhere.example.com\"}}}",
          "{\"spec\":{\"target\":{\"port\":6543}}}",
          "{\"spec\":{\"databases\":[\"edit_db\",\"other\"]}}",
          "{\"spec\":{\"method\":\"dump\"}}")) {
        var result = io.pgmigrate.operator.testing.Kubectl.run(env.api(), "", "patch",
            "pgmigration", "edit", "-n", env.namespace(), "--type", "merge", "-p", patch);
        assertThat(result.exitCode()).as(patch + ": " + result.output()).isNotZero();
        assertThat(result.output()).contains("cannot change while the migration is Migrating"
            + " or Syncing").contains("delete this PgMigration");
      }
      // what may change mid-run still does: the cutover
      var allowed = io.pgmigrate.operator.testing.Kubectl.run(env.api(), "", "patch",
          "pgmigration", "edit", "-n", env.namespace(), "--type", "merge", "-p",
          "{\"spec\":{\"keepReplicating\":false,"
              + "\"replication\":{\"caughtUpLagBytes\":\"2Mi\"}}}");
      assertThat(allowed.exitCode()).as(allowed.output()).isZero();
      awaitPhase(env, "edit", Phase.Ready);
      assertThat(OperatorValidationIT.get(env, "edit").getSpec().getSource().getHost())
          .isEqualTo(created.getSpec().getSource().getHost());
      deleteAndWait(env, "edit");
    }
  }

  @ParameterizedTest(name = "{0} down for 30 s while syncing")
  @ValueSource(strings = {"source", "target"})
  void aServerDownForHalfAMinuteWhileSyncingLosesNothing(String which,
      OperatorExtension.Env env, PostgresPair.Servers pg) throws Exception {
    var name = "down-" + which;
    try (var src = source(name + "-src");
        var dst = source(name + "-dst")) {
      seed(src, "down_db");
      env.client().resource(migration(env, name, src, dst, List.of("down_db"))).create();
      awaitPhase(env, name, Phase.Syncing);
      var down = which.equals("source") ? src : dst;
      try (var writer = new Writer(src, "down_db", Duration.ofMinutes(3))) {
        await().atMost(Duration.ofSeconds(10)).until(() -> writer.statements() > 50);
        if (which.equals("source")) {
          writer.stop();
        }
        down.stop();
        // 30 s without the server, and the operator saying it retries
        await().pollDelay(Duration.ofSeconds(30)).atMost(Duration.ofSeconds(90)).until(() ->
            String.valueOf(OperatorValidationIT.get(env, name).getStatus().getMessage())
                .contains("(retrying)"));
        down.start();
        if (which.equals("target")) {
          // the application kept writing to the source all along
          await().atMost(Duration.ofSeconds(10)).until(() -> writer.statements() > 500);
          writer.stop();
        }
      }
      var back = awaitPhase(env, name, Phase.Syncing);
      assertThat(back.getStatus().getPhase()).isEqualTo(Phase.Syncing);
      ContinuousMigrationIT.setKeepReplicating(env, name, false);
      awaitPhase(env, name, Phase.Ready);
      ContinuousMigrationIT.assertSameData(src, dst, "down_db");
      assertThat(ourObjects(src, dst, List.of("down_db"))).isEmpty();
      System.out.printf("%s down for 30 s while syncing: Ready, data equal%n", which);
      deleteAndWait(env, name);
    }
  }

  @Test
  void aCutoverTheTargetNeverConfirmsEndsAtTheTimeoutTheUserSet(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    try (var src = source("slowcut-src")) {
      seed(src, "slowcut_db");
      var m = migration(env, "slowcut", src, pg.target(), List.of("slowcut_db"));
      m.getSpec().getReplication().setCutoverTimeout("15s");
      var created = env.client().resource(m).create();
      awaitPhase(env, "slowcut", Phase.Syncing);
      var names = ReplicationNames.of(created.getMetadata().getUid(), "slowcut_db");
      // the target stops applying: the cutover position is never confirmed
      pg.target().execute("slowcut_db",
          "alter subscription " + names.subscription() + " disable");
      src.execute("slowcut_db", "insert into items (v) values ('after the pause')");
      var started = System.nanoTime();
      ContinuousMigrationIT.setKeepReplicating(env, "slowcut", false);
      var failed = awaitPhase(env, "slowcut", Phase.Failed);
      var seconds = (System.nanoTime() - started) / 1e9;
      assertThat(Conditions.get(failed.getStatus().getConditions(), Conditions.READY).getReason())
          .isEqualTo("CutoverTimedOut");
      assertThat(failed.getStatus().getMessage()).contains("cutoverTimeout (15s)")
          .contains("slowcut_db");
      assertThat(seconds).isBetween(14.0, 45.0);
      await().atMost(Duration.ofSeconds(30))
          .until(() -> ourObjects(src, pg.target(), List.of("slowcut_db")).isEmpty());
      System.out.printf("cutover timeout 15s: Failed after %.1f s%n", seconds);
      deleteAndWait(env, "slowcut");
    }
  }

  @ParameterizedTest(name = "deleted while {0}")
  @ValueSource(strings = {"Copying", "CuttingOver"})
  void aMigrationDeletedMidWayLeavesNothingOfOursOnEitherServer(String when,
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    var name = "del-" + when.toLowerCase();
    var db = "mid_" + when.toLowerCase();
    try (var src = source(name + "-src")) {
      seed(src, db);
      src.execute(db, "create table journal (at int, what text)",
          "insert into journal select g, repeat('x', 200) from generate_series(1, 300000) g");
      var m = migration(env, name, src, pg.target(), List.of(db));
      m.getSpec().getReplication().setReplicaIdentityFull(true);
      var created = env.client().resource(m).create();
      var names = ReplicationNames.of(created.getMetadata().getUid(), db);
      if (when.equals("Copying")) {
        // the subscription's initial copy is under way
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() ->
            OperatorValidationIT.get(env, name),
            x -> x.getStatus() != null && !x.getStatus().getDatabases().isEmpty()
                && x.getStatus().getDatabases().get(0).isSlotCreated()
                && x.getStatus().getPhase() == Phase.Migrating);
      } else {
        awaitPhase(env, name, Phase.Syncing);
        pg.target().execute(db, "alter subscription " + names.subscription() + " disable");
        ContinuousMigrationIT.setKeepReplicating(env, name, false);
        await().atMost(Duration.ofSeconds(30)).until(() -> OperatorValidationIT.get(env, name),
            x -> x.getStatus().getDatabases().get(0).getCutoverLsn() != null);
      }
      var started = System.nanoTime();
      env.client().resources(io.pgmigrate.operator.api.PgMigration.class)
          .inNamespace(env.namespace()).withName(name).delete();
      await().atMost(Duration.ofSeconds(30)).until(() ->
          ourObjects(src, pg.target(), List.of(db)).isEmpty()
              && OperatorValidationIT.get(env, name) == null);
      System.out.printf("deleted while %s: nothing of ours left after %.1f s%n", when,
          (System.nanoTime() - started) / 1e9);
      assertThat(InitialCopyIT.replicaIdentities(src, db)).containsEntry("public.journal", "d");
    }
  }
}
