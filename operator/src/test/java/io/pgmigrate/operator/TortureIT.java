package io.pgmigrate.operator;

import static io.pgmigrate.operator.ContinuousMigrationIT.deleteAndWait;
import static io.pgmigrate.operator.ContinuousMigrationIT.migration;
import static io.pgmigrate.operator.ContinuousMigrationIT.ourObjects;
import static io.pgmigrate.operator.ContinuousMigrationIT.setKeepReplicating;
import static io.pgmigrate.operator.ContinuousMigrationIT.source;
import static io.pgmigrate.operator.OperatorValidationIT.awaitPhase;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgmigrate.operator.api.Method;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.testing.Contents;
import io.pgmigrate.operator.testing.Dumps;
import io.pgmigrate.operator.testing.OperatorExtension;
import io.pgmigrate.operator.testing.PostgresPair;
import io.pgmigrate.operator.testing.PostgresServer;
import io.pgmigrate.operator.testing.Writer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A schema torture test (torture.sql: inheritance, every partitioning kind, NOT VALID rules over
 * rows that break them, exclusion constraints, generated and identity columns, domains, range
 * and composite types, a custom operator class, an ICU collation, row security, rules,
 * triggers, an event trigger, comments, column and default privileges, large objects, an
 * unlogged table, materialized views, database and role settings with list values,
 * extensions) migrated by each method; then pg_dump of both sides, every table, sequence,
 * large object and role compared, and the source compared with itself before the migration.
 *
 * <p>The schema dumps are compared after dropping only comments, blank lines and the random
 * keys of pg_dump's \restrict lines: everything pg_dump writes must be equal, database settings,
 * ACLs and owners included.
 */
@ExtendWith({PostgresPair.class, OperatorExtension.class})
class TortureIT {

  static final String SCRIPT = script();

  static String script() {
    try (var in = TortureIT.class.getResourceAsStream("/torture.sql")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** What the source looks like: schema, rows, replica identities, our objects. */
  record SourceState(List<String> schema, Map<String, String> tables,
      Map<String, String> identities, Map<String, String> functions) {

    static SourceState of(PostgresServer src, String db) {
      return new SourceState(Dumps.schema(src, db), Contents.tables(src, db),
          InitialCopyIT.replicaIdentities(src, db),
          Contents.query(src, db, "select p.oid::regprocedure::text, '' from pg_proc p"
              + " where p.pronamespace not in ('pg_catalog'::regnamespace,"
              + " 'information_schema'::regnamespace)"));
    }
  }

  static void create(PostgresServer src, String db) {
    src.execute("postgres", "create database " + db);
    src.execute(db, SCRIPT, Writer.TABLE,
        "insert into items (v) select md5(g::text) from generate_series(1, 1000) g");
  }

  static void assertIdentical(PostgresServer src, PostgresServer dst, String db) {
    assertThat(Dumps.schema(dst, db)).as("pg_dump --schema-only --create of " + db)
        .containsExactlyElementsOf(Dumps.schema(src, db));
    assertThat(Contents.tables(dst, db)).as("rows of every table").hasSizeGreaterThan(25)
        .isEqualTo(Contents.tables(src, db));
    assertThat(Contents.sequences(dst, db)).as("sequences")
        .isEqualTo(Contents.sequences(src, db));
    assertThat(Contents.objects(dst, db)).as("objects and large objects")
        .isEqualTo(Contents.objects(src, db));
    assertThat(Contents.query(dst, db, "select count(*)::text, '' from pg_largeobject_metadata"))
        .containsKey("2");
    assertThat(Contents.query(dst, db,
        "select relname, relispopulated::text from pg_class where relkind = 'm'"))
        .isEqualTo(Map.of("order_totals", "true", "never_filled", "false"));
    assertThat(Dumps.roles(dst, "torture_")).as("roles, their settings and memberships")
        .hasSizeGreaterThan(5).containsExactlyInAnyOrderElementsOf(Dumps.roles(src, "torture_"));
  }

  @Test
  void theDumpMethodCopiesTheTortureDatabaseExactly(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    try (var src = source("torture-dump-src")) {
      create(src, "torture_d");
      var before = SourceState.of(src, "torture_d");
      var m = migration(env, "torture-dump", src, pg.target(), List.of("torture_d"));
      m.getSpec().setMethod(Method.DUMP);
      m.getSpec().getDump().setJobs(2);
      env.client().resource(m).create();
      awaitPhase(env, "torture-dump", Phase.Ready);
      assertIdentical(src, pg.target(), "torture_d");
      assertThat(SourceState.of(src, "torture_d")).isEqualTo(before);
      deleteAndWait(env, "torture-dump");
    }
  }

  @Test
  void theContinuousMethodCopiesTheTortureDatabaseWhileItIsWrittenAndLeavesTheSourceAsFound(
      OperatorExtension.Env env, PostgresPair.Servers pg) throws Exception {
    try (var src = source("torture-cont-src")) {
      create(src, "torture_c");
      var before = SourceState.of(src, "torture_c");
      var m = migration(env, "torture-cont", src, pg.target(), List.of("torture_c"));
      // journal has no key: its UPDATE and DELETE need FULL while published
      m.getSpec().getReplication().setReplicaIdentityFull(true);
      env.client().resource(m).create();
      awaitPhase(env, "torture-cont", Phase.Syncing);
      assertThat(InitialCopyIT.replicaIdentities(src, "torture_c"))
          .containsEntry("app.journal", "f");
      try (var writer = new Writer(src, "torture_c", Duration.ofMinutes(2))) {
        src.execute("torture_c", "set search_path = app, public",
            "insert into orders (customer, qty, price) select g, 2, 10 from generate_series(1, 50) g",
            "update customers set feeling = 'happy', attrs = attrs || hstore('x', 'y')"
                + " where id % 7 = 0",
            "delete from bookings where id % 10 = 0",
            "update journal set what = 'changed' where at <= 5",
            "delete from journal where at > 45",
            "insert into events values (5000, '2025-06-01', 'a'), (5001, '2025-06-02', 'z')",
            "update buckets set v = 'moved' where id < 20",
            "insert into scratch values ('later', 1)",
            "select lo_from_bytea(0, 'written while syncing')",
            "select nextval('invoice_no')");
        await().atMost(Duration.ofSeconds(10)).until(() -> writer.statements() > 100);
        writer.stop();
      }
      setKeepReplicating(env, "torture-cont", false);
      awaitPhase(env, "torture-cont", Phase.Ready);
      // the cutover copied the large object and the unlogged row written while syncing
      assertThat(Contents.query(pg.target(), "torture_c",
          "select count(*)::text, '' from pg_largeobject_metadata")).containsKey("3");
      var after = SourceState.of(src, "torture_c");
      assertThat(Dumps.schema(pg.target(), "torture_c")).as("pg_dump of target and source")
          .containsExactlyElementsOf(after.schema());
      assertThat(Contents.tables(pg.target(), "torture_c")).isEqualTo(after.tables());
      assertThat(Contents.objects(pg.target(), "torture_c"))
          .isEqualTo(Contents.objects(src, "torture_c"));
      assertThat(Dumps.roles(pg.target(), "torture_"))
          .containsExactlyInAnyOrderElementsOf(Dumps.roles(src, "torture_"));
      // every sequence the source used is at least as far on the target (never used: null)
      var targetSequences = Contents.sequences(pg.target(), "torture_c");
      assertThat(targetSequences).hasSizeGreaterThan(5);
      Contents.sequences(src, "torture_c").forEach((seq, v) -> {
        if (!"null".equals(v)) {
          assertThat(targetSequences.get(seq)).as(seq).isNotEqualTo("null");
          assertThat(Long.parseLong(targetSequences.get(seq))).as(seq)
              .isGreaterThanOrEqualTo(Long.parseLong(v));
        }
      });
      // the source as found: same schema, identities, functions; nothing of ours left
      assertThat(after.schema()).isEqualTo(before.schema());
      assertThat(after.identities()).isEqualTo(before.identities());
      assertThat(after.functions()).isEqualTo(before.functions());
      assertThat(ourObjects(src, pg.target(), List.of("torture_c"))).isEmpty();
      deleteAndWait(env, "torture-cont");
    }
  }
}
