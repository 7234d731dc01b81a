package io.pgmigrate.operator;

import static io.pgmigrate.operator.ContinuousMigrationIT.assertSameData;
import static io.pgmigrate.operator.ContinuousMigrationIT.deleteAndWait;
import static io.pgmigrate.operator.ContinuousMigrationIT.migration;
import static io.pgmigrate.operator.ContinuousMigrationIT.ourObjects;
import static io.pgmigrate.operator.ContinuousMigrationIT.setKeepReplicating;
import static io.pgmigrate.operator.ContinuousMigrationIT.source;
import static io.pgmigrate.operator.OperatorValidationIT.awaitPhase;
import static io.pgmigrate.operator.OperatorValidationIT.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.reconciler.Conditions;
import io.pgmigrate.operator.testing.Contents;
import io.pgmigrate.operator.testing.OperatorExtension;
import io.pgmigrate.operator.testing.PostgresPair;
import io.pgmigrate.operator.testing.PostgresServer;
import io.pgmigrate.operator.testing.Writer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The continuous method's initial copy on schemas whose rows do not satisfy every constraint,
 * tables that cannot be copied, and what the source looks like afterwards.
 */
@ExtendWith({PostgresPair.class, OperatorExtension.class})
class InitialCopyIT {

  /** Replica identity of each user table: d(efault), n(othing), f(ull), i(ndex). */
  static Map<String, String> replicaIdentities(PostgresServer server, String db) {
    return Contents.query(server, db,
        "select format('%I.%I', n.nspname, c.relname), c.relreplident::text from pg_class c"
            + " join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'r'"
            + " and n.nspname not in ('pg_catalog', 'information_schema')");
  }

  /** Every per-database (phase, flags) the API server held, as a watch saw them. */
  static final class StatusRecorder implements Watcher<PgMigration> {
    final Set<String> seen = ConcurrentHashMap.newKeySet();

    @Override
    public void eventReceived(Action action, PgMigration m) {
      if (m.getStatus() == null) {
        return;
      }
      for (var d : m.getStatus().getDatabases()) {
        seen.add(d.getName() + ":" + d.getPhase());
        if (d.isSchemaCopied()) {
          seen.add(d.getName() + ":schemaCopied");
        }
        if (d.isPostDataCopied()) {
          seen.add(d.getName() + ":postDataCopied");
        }
      }
    }

    @Override
    public void onClose(WatcherException cause) {}
  }

  @Test
  void notValidConstraintsWithViolatingRowsReachReadyAndEveryStepReachesTheApiServer(
      OperatorExtension.Env env, PostgresPair.Servers pg) throws Exception {
    try (var src = source("notvalid-src")) {
      src.execute("postgres", "create database nv_db");
      src.execute("nv_db", Writer.TABLE,
          "insert into items (v) select md5(g::text) from generate_series(1, 3000) g",
          "create table accounts (id int primary key, balance int not null)",
          "insert into accounts select g, g - 10 from generate_series(1, 50) g",
          // rows from before the rule: the constraint holds only for new rows
          "alter table accounts add constraint non_negative check (balance >= 0) not valid",
          "create table payments (id int primary key, account int, amount int)",
          "insert into payments select g, g % 60, g from generate_series(1, 100) g",
          // payments of accounts 51..59 point nowhere
          "alter table payments add constraint payments_account_fkey foreign key (account)"
              + " references accounts not valid",
          "create index payments_amount on payments (amount)",
          "create unique index items_v on items (v)",
          // a replica identity index other than the key, which apply needs to find rows
          "create table tags (name text not null, label text)",
          "create unique index tags_name on tags (name)",
          "alter table tags replica identity using index tags_name",
          "insert into tags select 't' || g, 'l' || g from generate_series(1, 20) g");
      var recorder = new StatusRecorder();
      try (var watch = env.client().resources(PgMigration.class).inNamespace(env.namespace())
          .withName("notvalid").watch(recorder)) {
        env.client().resource(migration(env, "notvalid", src, pg.target(), List.of("nv_db")))
            .create();
        try (var writer = new Writer(src, "nv_db", Duration.ofMinutes(2))) {
          var syncing = awaitPhase(env, "notvalid", Phase.Syncing);
          assertThat(syncing.getStatus().getPhase()).isEqualTo(Phase.Syncing);
          var db = syncing.getStatus().getDatabases().get(0);
          assertThat(db.isSchemaCopied()).isTrue();
          assertThat(db.isPostDataCopied()).isTrue();
          assertThat(db.getTablesSynced()).isEqualTo(4);
          src.execute("nv_db", "update tags set label = 'changed' where name = 't1'",
              "delete from tags where name = 't2'");
          await().atMost(Duration.ofSeconds(10)).until(() -> writer.statements() > 50);
          writer.stop();
        }
        setKeepReplicating(env, "notvalid", false);
        awaitPhase(env, "notvalid", Phase.Ready);
        // every per-database step was written, not only the end state
        await().atMost(Duration.ofSeconds(5)).until(() -> recorder.seen.contains("nv_db:Done"));
        assertThat(recorder.seen).contains("nv_db:SchemaCopy", "nv_db:Copying", "nv_db:Indexing",
            "nv_db:Replicating", "nv_db:CuttingOver", "nv_db:Done", "nv_db:schemaCopied",
            "nv_db:postDataCopied");
      }
      assertSameData(src, pg.target(), "nv_db");
      // the constraints are there, still NOT VALID, as on the source; so are the indexes
      var constraints = "select conname, pg_get_constraintdef(oid) || ' valid=' || convalidated"
          + " from pg_constraint where connamespace = 'public'::regnamespace";
      assertThat(Contents.query(pg.target(), "nv_db", constraints))
          .isEqualTo(Contents.query(src, "nv_db", constraints))
          .containsEntry("non_negative", "CHECK ((balance >= 0)) NOT VALID valid=false");
      var indexes = "select indexrelid::regclass::text, pg_get_indexdef(indexrelid)"
          + " || ' replident=' || indisreplident from pg_index"
          + " where indrelid::regclass::text in ('items', 'accounts', 'payments', 'tags')";
      assertThat(Contents.query(pg.target(), "nv_db", indexes))
          .isEqualTo(Contents.query(src, "nv_db", indexes)).hasSize(6);
      assertThat(ourObjects(src, pg.target(), List.of("nv_db"))).isEmpty();
      deleteAndWait(env, "notvalid");
    }
  }

  @Test
  void aTableWhoseCopyCannotSucceedFailsNamingItAndLeavesTheSourceAsFound(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    try (var src = source("badcopy-src")) {
      src.execute("postgres", "create database bad_db");
      src.execute("bad_db", Writer.TABLE,
          "insert into items (v) select md5(g::text) from generate_series(1, 500) g",
          "create table picky (id int primary key, v int)",
          "insert into picky select g, g - 5 from generate_series(1, 100) g",
          "create table journal (at int, what text)",
          "insert into journal select g, 'e' || g from generate_series(1, 10) g",
          "create table quiet (x int)",
          "alter table quiet replica identity nothing");
      var before = replicaIdentities(src, "bad_db");
      // the target's table gets a constraint the source's rows violate, as soon as the schema
      // copy creates it (a database that exists on the target is the user's to prepare)
      pg.target().execute("postgres", "create database bad_db");
      pg.target().execute("bad_db",
          "create function add_rule() returns event_trigger language plpgsql as $$"
              + " begin"
              + "  if exists (select 1 from pg_event_trigger_ddl_commands()"
              + "             where object_identity = 'public.picky') then"
              + "    alter table public.picky add constraint positive check (v > 0);"
              + "  end if;"
              + " end $$",
          "create event trigger add_rule on ddl_command_end when tag in ('CREATE TABLE')"
              + " execute function add_rule()");
      var m = migration(env, "badcopy", src, pg.target(), List.of("bad_db"));
      m.getSpec().getReplication().setReplicaIdentityFull(true);
      var started = Instant.now();
      env.client().resource(m).create();
      // named in status while it retries, well before the migration gives up
      var retrying = await().atMost(Duration.ofSeconds(60)).until(() -> get(env, "badcopy"),
          x -> x.getStatus() != null && !x.getStatus().getDatabases().isEmpty()
              && x.getStatus().getDatabases().get(0).getMessage() != null
              && x.getStatus().getDatabases().get(0).getMessage().contains("keeps failing"));
      assertThat(retrying.getStatus().getDatabases().get(0).getMessage())
          .contains("public.picky");
      assertThat(replicaIdentities(src, "bad_db"))
          .containsEntry("public.journal", "f").containsEntry("public.quiet", "f");
      var failed = await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofSeconds(1))
          .until(() -> get(env, "badcopy"), x -> x.getStatus().getPhase() == Phase.Failed);
      var seconds = Duration.between(started, Instant.now()).toSeconds();
      System.out.println("initial copy failure: Failed after " + seconds + " s");
      var ready = Conditions.get(failed.getStatus().getConditions(), Conditions.READY);
      assertThat(ready.getReason()).isEqualTo("InitialCopyFailed");
      assertThat(failed.getStatus().getMessage()).contains("public.picky", "target server's log",
          "pgmigrate.io/restart");
      assertThat(failed.getStatus().getMessage()).doesNotContain("public.items");
      await().atMost(Duration.ofSeconds(30))
          .until(() -> ourObjects(src, pg.target(), List.of("bad_db")).isEmpty());
      // the source's tables have the replica identity they had before the migration
      await().atMost(Duration.ofSeconds(10))
          .until(() -> replicaIdentities(src, "bad_db").equals(before));
      deleteAndWait(env, "badcopy");
    }
  }
}
