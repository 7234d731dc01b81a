package io.pgmigrate.operator;

import io.pgmigrate.operator.api.DatabasePhase;
import static io.pgmigrate.operator.OperatorValidationIT.awaitPhase;
import static io.pgmigrate.operator.OperatorValidationIT.check;
import static io.pgmigrate.operator.OperatorValidationIT.events;
import static io.pgmigrate.operator.OperatorValidationIT.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.pgmigrate.operator.api.CheckOutcome;
import io.pgmigrate.operator.api.Method;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.postgres.ReplicationNames;
import io.pgmigrate.operator.testing.Contents;
import io.pgmigrate.operator.testing.Fixtures;
import io.pgmigrate.operator.testing.OperatorExtension;
import io.pgmigrate.operator.testing.PostgresPair;
import io.pgmigrate.operator.testing.PostgresServer;
import io.pgmigrate.operator.testing.Writer;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The continuous method end to end: schema Pods run by the test kubelet, then a publication,
 * slot and subscription the operator manages on real PostgreSQL servers, while an application
 * keeps writing.
 */
@ExtendWith({PostgresPair.class, OperatorExtension.class})
class ContinuousMigrationIT {

  static PostgresServer source(String name) {
    return PostgresServer.builder().name(name).set("max_slot_wal_keep_size", "'1GB'").start();
  }

  static void seed(PostgresServer src, String db) {
    src.execute("postgres", "create database " + db);
    src.execute(db, Writer.TABLE,
        "insert into items (v) select md5(g::text) from generate_series(1, 2000) g",
        "create table ref (code text primary key, label text)",
        "insert into ref values ('a', 'alpha'), ('b', 'beta')",
        "create sequence invoice_no start 500",
        "select nextval('invoice_no') from generate_series(1, 7)");
  }

  static PgMigration migration(OperatorExtension.Env env, String name, PostgresServer src,
      PostgresServer dst, List<String> dbs) {
    var m = Fixtures.migration(env.client(), env.namespace(), name, src, dst);
    OperatorValidationIT.plaintext(m);
    m.getSpec().setDatabases(dbs);
    return m;
  }

  static void setKeepReplicating(OperatorExtension.Env env, String name, boolean keep) {
    Fixtures.mergePatch(env.client(), env.namespace(), name,
        "{\"spec\":{\"keepReplicating\":" + keep + "}}");
  }

  /** Our publications, slots and subscriptions on both servers. */
  static List<String> ourObjects(PostgresServer src, PostgresServer dst, List<String> dbs) {
    var found = new java.util.ArrayList<String>();
    found.addAll(Contents.query(src, "postgres",
        "select 'slot ' || slot_name, '' from pg_replication_slots where slot_name like 'pgmigrate\\_%'")
        .keySet());
    for (var db : dbs) {
      found.addAll(Contents.query(src, db,
          "select 'publication ' || pubname, '' from pg_publication where pubname like 'pgmigrate\\_%'")
          .keySet());
    }
    found.addAll(Contents.query(dst, "postgres",
        "select 'subscription ' || subname, '' from pg_subscription where subname like 'pgmigrate\\_%'")
        .keySet());
    return found;
  }

  /** Deletes the migration while its servers still run, so the finalizer can clean up. */
  static void deleteAndWait(OperatorExtension.Env env, String name) {
    env.client().resources(PgMigration.class).inNamespace(env.namespace()).withName(name).delete();
    await().atMost(Duration.ofSeconds(60)).until(() -> get(env, name) == null);
  }

  static void assertSameData(PostgresServer src, PostgresServer dst, String db) {
    assertThat(Contents.tables(dst, db)).as(db).isNotEmpty().isEqualTo(Contents.tables(src, db));
  }

  @Test
  void migratesWhileTheApplicationWritesThenCutsOverWithNothingLostOrLeftBehind(
      OperatorExtension.Env env, PostgresPair.Servers pg) throws Exception {
    var dbs = List.of("cont_a", "cont_b");
    try (var src = source("cont-src")) {
      dbs.forEach(db -> seed(src, db));
      try (var writerA = new Writer(src, "cont_a", Duration.ofMinutes(3));
          var writerB = new Writer(src, "cont_b", Duration.ofMinutes(3))) {
        env.client().resource(migration(env, "live", src, pg.target(), dbs)).create();
        var syncing = awaitPhase(env, "live", Phase.Syncing);
        assertThat(syncing.getStatus().getMethod()).isEqualTo(Method.CONTINUOUS);
        assertThat(syncing.getStatus().getLag()).isNotBlank();
        assertThat(syncing.getStatus().getProgress()).isEqualTo("2/2");
        assertThat(syncing.getStatus().getDatabases()).allSatisfy(d -> {
          assertThat(d.getPhase()).isEqualTo(DatabasePhase.Replicating);
          assertThat(d.getLagBytes()).isNotNull();
          assertThat(d.getTablesTotal()).isEqualTo(2);
          assertThat(d.getTablesSynced()).isEqualTo(2);
        });
        // keepReplicating: it stays in Syncing while the application writes
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5))
            .until(() -> get(env, "live").getStatus().getPhase() == Phase.Syncing);
        writerA.stop();
        writerB.stop();
        assertThat(writerA.statements() + writerB.statements()).isGreaterThan(100);
      }
      setKeepReplicating(env, "live", false);
      var ready = awaitPhase(env, "live", Phase.Ready);
      assertThat(ready.getStatus().getCompletedAt()).isNotBlank();
      assertThat(ready.getStatus().getDatabases()).allSatisfy(d -> {
        assertThat(d.getPhase()).isEqualTo(DatabasePhase.Done);
        assertThat(d.getCutoverLsn()).isNotBlank();
      });
      for (var db : dbs) {
        assertSameData(src, pg.target(), db);
        var before = Contents.sequences(src, db);
        var after = Contents.sequences(pg.target(), db);
        assertThat(after.keySet()).isEqualTo(before.keySet());
        before.forEach((seq, v) -> assertThat(Long.parseLong(after.get(seq)))
            .as(seq).isGreaterThanOrEqualTo(Long.parseLong(v)));
      }
      assertThat(ourObjects(src, pg.target(), dbs)).isEmpty();
      assertThat(events(env, "live")).extracting(Event::getReason)
          .contains("Syncing", "CutoverStarted", "Ready");
      deleteAndWait(env, "live");
    }
  }

  @Test
  void aCutoverWhileWritesArriveWaitsUntilTheSlotConfirmedTheCutoverLsn(
      OperatorExtension.Env env, PostgresPair.Servers pg) throws Exception {
    try (var src = source("cutover-src")) {
      seed(src, "cut_db");
      var m = env.client().resource(migration(env, "cut", src, pg.target(), List.of("cut_db")))
          .create();
      awaitPhase(env, "cut", Phase.Syncing);
      var names = ReplicationNames.of(m.getMetadata().getUid(), "cut_db");
      // the target stops applying: nothing after this point can be confirmed
      pg.target().execute("cut_db", "alter subscription " + names.subscription() + " disable");
      java.util.Set<String> committedBeforeCutover;
      try (var writer = new Writer(src, "cut_db", Duration.ofMinutes(2))) {
        await().atMost(Duration.ofSeconds(10)).until(() -> writer.statements() > 50);
        committedBeforeCutover = Contents.query(src, "cut_db", "select id::text, '' from items")
            .keySet();
        setKeepReplicating(env, "cut", false);
        var waiting = await().atMost(Duration.ofSeconds(30)).until(() -> get(env, "cut"),
            x -> x.getStatus().getDatabases().get(0).getCutoverLsn() != null);
        var lsn = waiting.getStatus().getDatabases().get(0).getCutoverLsn();
        // writes keep arriving, the cutover position is not confirmed: never Ready
        await().during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(7))
            .until(() -> get(env, "cut").getStatus().getPhase() == Phase.Syncing);
        assertThat(get(env, "cut").getStatus().getDatabases().get(0).getMessage())
            .contains("waiting until the target confirmed source LSN " + lsn);
        assertThat(ourObjects(src, pg.target(), List.of("cut_db"))).hasSize(3);
        writer.stop();
      }
      pg.target().execute("cut_db", "alter subscription " + names.subscription() + " enable");
      awaitPhase(env, "cut", Phase.Ready);
      // every row committed before the cutover was requested (and not deleted since) is there;
      // writes after the cutover position are the application's to stop before cutting over
      var stillOnSource = new java.util.HashSet<>(committedBeforeCutover);
      stillOnSource.retainAll(Contents.query(src, "cut_db", "select id::text, '' from items")
          .keySet());
      assertThat(stillOnSource).hasSizeGreaterThan(1000);
      assertThat(Contents.query(pg.target(), "cut_db", "select id::text, '' from items").keySet())
          .containsAll(stillOnSource);
      assertThat(Contents.tables(pg.target(), "cut_db").get("public.ref"))
          .isEqualTo(Contents.tables(src, "cut_db").get("public.ref"));
      assertThat(ourObjects(src, pg.target(), List.of("cut_db"))).isEmpty();
      deleteAndWait(env, "cut");
    }
  }

  @Test
  void deletingWhileSyncingRemovesTheSlotAndKeepsTheData(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    try (var src = source("delete-src")) {
      seed(src, "del_db");
      src.execute("del_db", "create table journal (at int, what text)",
          "insert into journal values (1, 'one')");
      var m = migration(env, "del", src, pg.target(), List.of("del_db"));
      m.getSpec().getReplication().setReplicaIdentityFull(true);
      env.client().resource(m).create();
      awaitPhase(env, "del", Phase.Syncing);
      assertThat(InitialCopyIT.replicaIdentities(src, "del_db"))
          .containsEntry("public.journal", "f");
      assertThat(ourObjects(src, pg.target(), List.of("del_db"))).hasSize(3);
      env.client().resources(PgMigration.class).inNamespace(env.namespace()).withName("del").delete();
      await().atMost(Duration.ofSeconds(10))
          .until(() -> ourObjects(src, pg.target(), List.of("del_db")).isEmpty());
      await().atMost(Duration.ofSeconds(10)).until(() -> get(env, "del") == null);
      assertSameData(src, pg.target(), "del_db");
      assertThat(InitialCopyIT.replicaIdentities(src, "del_db"))
          .containsEntry("public.journal", "d");
    }
  }

  @Test
  void anOperatorRestartedMidMigratingAndMidSyncingCarriesOnWithoutDuplicates(
      OperatorExtension.Env env, PostgresPair.Servers pg) throws Exception {
    try (var src = source("restart-src")) {
      seed(src, "rst_db");
      try (var writer = new Writer(src, "rst_db", Duration.ofMinutes(3))) {
        env.client().resource(migration(env, "rst", src, pg.target(), List.of("rst_db"))).create();
        await().atMost(Duration.ofSeconds(60)).until(() -> get(env, "rst"),
            x -> x.getStatus() != null && x.getStatus().getPhase() == Phase.Migrating);
        // the application keeps writing while no operator runs
        env.stopOperator();
        var before = writer.statements();
        await().atMost(Duration.ofSeconds(30)).until(() -> writer.statements() > before + 100);
        env.startOperator();
        awaitPhase(env, "rst", Phase.Syncing);
        env.stopOperator();
        var later = writer.statements();
        await().atMost(Duration.ofSeconds(30)).until(() -> writer.statements() > later + 100);
        env.startOperator();
        assertThat(Contents.query(src, "postgres",
            "select count(*)::text, '' from pg_replication_slots where slot_name like 'pgmigrate\\_%'"))
            .containsKey("1");
        writer.stop();
      }
      setKeepReplicating(env, "rst", false);
      awaitPhase(env, "rst", Phase.Ready);
      assertSameData(src, pg.target(), "rst_db");
      assertThat(ourObjects(src, pg.target(), List.of("rst_db"))).isEmpty();
      deleteAndWait(env, "rst");
    }
  }

  @Test
  void tablesWithoutKeyAreRefusedUnlessReplicaIdentityFullThenUpdatesKeepWorking(
      OperatorExtension.Env env, PostgresPair.Servers pg) throws Exception {
    try (var src = source("nokey-src")) {
      src.execute("postgres", "create database nokey_db");
      src.execute("nokey_db", "create table events (at int, what text)",
          "insert into events select g, 'e' || g from generate_series(1, 100) g");
      var m = migration(env, "nokey", src, pg.target(), List.of("nokey_db"));
      env.client().resource(m).create();
      var failed = awaitPhase(env, "nokey", Phase.Failed);
      assertThat(check(failed, "source.replicaIdentity").getMessage()).contains("public.events");

      Fixtures.mergePatch(env.client(), env.namespace(), "nokey",
          "{\"spec\":{\"replication\":{\"replicaIdentityFull\":true}}}");
      awaitPhase(env, "nokey", Phase.Syncing);
      assertThat(events(env, "nokey")).extracting(Event::getMessage)
          .anyMatch(x -> x.contains("REPLICA IDENTITY FULL set on 1 table(s)")
              && x.contains("public.events"));
      assertThat(InitialCopyIT.replicaIdentities(src, "nokey_db"))
          .containsEntry("public.events", "f");
      // the application's UPDATE and DELETE still work on the published table
      src.execute("nokey_db", "update events set what = 'changed' where at <= 10",
          "delete from events where at > 90");
      setKeepReplicating(env, "nokey", false);
      awaitPhase(env, "nokey", Phase.Ready);
      assertSameData(src, pg.target(), "nokey_db");
      assertThat(Contents.query(pg.target(), "nokey_db",
          "select count(*)::text, '' from events where what = 'changed'")).containsKey("10");
      // the source is left as it was found
      assertThat(InitialCopyIT.replicaIdentities(src, "nokey_db"))
          .containsEntry("public.events", "d");
      deleteAndWait(env, "nokey");
    }
  }

  @Test
  void aNonSuperuserSourceWithAivenExtrasMigrates(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    try (var src = source("aiven-src")) {
      src.execute("postgres",
          "create role avnadmin login replication password 'avn-pw-1'",
          "create database aiven_db owner avnadmin");
      // a stand-in for the aiven_extras extension: its function name and signature, SECURITY
      // DEFINER, owned by a superuser, creating the publication for the calling user
      src.execute("aiven_db",
          "create schema aiven_extras",
          "create function aiven_extras.pg_create_publication_for_all_tables("
              + "arg_publication_name text, arg_publish text) returns void"
              + " language plpgsql security definer set search_path = pg_catalog as $$"
              + " begin"
              + "  execute format('create publication %I for all tables with (publish = %L)',"
              + "    arg_publication_name, arg_publish);"
              + "  execute format('alter publication %I owner to %I', arg_publication_name,"
              + "    session_user);"
              + " end $$",
          "revoke all on function aiven_extras.pg_create_publication_for_all_tables(text, text)"
              + " from public",
          "grant usage on schema aiven_extras to avnadmin",
          "grant execute on function aiven_extras.pg_create_publication_for_all_tables(text, text)"
              + " to avnadmin",
          "set role avnadmin",
          Writer.TABLE,
          "insert into items (v) select md5(g::text) from generate_series(1, 500) g");
      var m = migration(env, "aiven", src, pg.target(), List.of("aiven_db"));
      Fixtures.applySecret(env.client(),
          Fixtures.credentials(env.namespace(), "aiven-source", "avnadmin", "avn-pw-1"));
      env.client().resource(m).create();
      var syncing = awaitPhase(env, "aiven", Phase.Syncing);
      assertThat(check(syncing, "source.privileges").getMessage()).contains("aiven_extras");
      assertThat(events(env, "aiven")).extracting(Event::getMessage)
          .anyMatch(x -> x.contains("through aiven_extras"));
      assertThat(Contents.query(src, "aiven_db",
          "select pubname, pubowner::regrole::text from pg_publication"))
          .containsValue("avnadmin");
      setKeepReplicating(env, "aiven", false);
      awaitPhase(env, "aiven", Phase.Ready);
      assertSameData(src, pg.target(), "aiven_db");
      assertThat(ourObjects(src, pg.target(), List.of("aiven_db"))).isEmpty();
      deleteAndWait(env, "aiven");
    }
  }

  @Test
  void walRetentionAboveTheLimitDropsTheSlotAndFails(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    try (var src = source("wal-src")) {
      seed(src, "wal_db");
      var m = migration(env, "walguard", src, pg.target(), List.of("wal_db"));
      m.getSpec().getReplication().setMaxRetainedWalBytes("4Mi");
      var created = env.client().resource(m).create();
      awaitPhase(env, "walguard", Phase.Syncing);
      var names = ReplicationNames.of(created.getMetadata().getUid(), "wal_db");
      // the target stops confirming, and the source writes more WAL than the limit
      pg.target().execute("wal_db", "alter subscription " + names.subscription() + " disable");
      src.execute("wal_db", "insert into items (v) select repeat(md5(g::text), 20)"
          + " from generate_series(1, 20000) g");
      var failed = awaitPhase(env, "walguard", Phase.Failed);
      assertThat(failed.getStatus().getMessage()).contains("maxRetainedWalBytes");
      var ready = io.pgmigrate.operator.reconciler.Conditions.get(failed.getStatus().getConditions(),
          io.pgmigrate.operator.reconciler.Conditions.READY);
      assertThat(ready.getReason()).isEqualTo("SourceWalRetentionExceeded");
      // removed at once, or by the retries the operator schedules while anything is left
      await().atMost(Duration.ofSeconds(30)).until(() -> {
        var removed = io.pgmigrate.operator.reconciler.Conditions.get(
            get(env, "walguard").getStatus().getConditions(),
            io.pgmigrate.operator.reconciler.Conditions.REPLICATION_REMOVED);
        return removed != null && "True".equals(removed.getStatus());
      });
      assertThat(ourObjects(src, pg.target(), List.of("wal_db"))).isEmpty();
      deleteAndWait(env, "walguard");
    }
  }
}
