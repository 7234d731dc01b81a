package io.pgmigrate.operator;

import static io.pgmigrate.operator.OperatorValidationIT.events;
import static io.pgmigrate.operator.OperatorValidationIT.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.pgmigrate.operator.MajorVersionsIT.Pair;
import io.pgmigrate.operator.api.Method;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.api.SchemaDrift;
import io.pgmigrate.operator.testing.Contents;
import io.pgmigrate.operator.testing.Crashes;
import io.pgmigrate.operator.testing.OperatorExtension;
import io.pgmigrate.operator.testing.PostgresServer;
import io.pgmigrate.operator.testing.Writer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Schema changes on the source while the continuous method syncs (logical replication carries no
 * DDL): reported by name in status and an Event, additive ones applied on the target with
 * replication.applySchemaChanges (rows written after them arrive, new tables are copied), drops
 * and type changes never applied; and a schema without changes reports nothing, across majors.
 */
@ExtendWith(OperatorExtension.class)
class SchemaDriftIT {

  static final String DB = MajorVersionsIT.DB;

  static Stream<Arguments> pairs() {
    return Stream.of(new Pair(15, 15), new Pair(13, 17))
        .map(p -> Arguments.of(Named.of(p.name(), p)));
  }

  @AfterEach
  void noCrashes() {
    Crashes.none();
  }

  /** The database's differences by "object change". */
  static Map<String, SchemaDrift> drift(PgMigration m) {
    var drift = m.getStatus().getDatabases().get(0).getSchemaDrift();
    return drift == null ? Map.of()
        : drift.stream().collect(Collectors.toMap(SchemaDrift::key, d -> d));
  }

  static Map<String, String> columns(PostgresServer server, String db, String table) {
    return Contents.query(server, db, "select attname, format_type(atttypid, atttypmod)"
        + " from pg_attribute where attrelid = '" + table + "'::regclass and attnum > 0"
        + " and not attisdropped");
  }

  static List<String> messages(OperatorExtension.Env env, String name, String reason) {
    return events(env, name).stream().filter(e -> reason.equals(e.getReason()))
        .map(Event::getMessage).toList();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("pairs")
  void addedColumnsAndTablesReachTheTargetWithTheirRowsAndAnUnchangedSchemaReportsNothing(
      Pair pair, OperatorExtension.Env env) throws Exception {
    var name = "drift-" + pair.source() + "-" + pair.target();
    try (var src = MajorVersionsIT.server("dr-src-" + pair.source(), pair.source());
        var dst = MajorVersionsIT.server("dr-dst-" + pair.target(), pair.target())) {
      // types, an enum, numeric(20,5), arrays, a generated column, partitions, defaults
      MajorVersionsIT.seed(src);
      var m = MajorVersionsIT.migration(env, name, src, dst, pair, Method.CONTINUOUS);
      m.getSpec().getReplication().setApplySchemaChanges(true);
      env.client().resource(m).create();
      MajorVersionsIT.awaitPhase(env, name, Phase.Syncing, Duration.ofMinutes(3));
      // no false positive: compared at least twice (every 20 s), nothing differs
      await().during(Duration.ofSeconds(45)).atMost(Duration.ofSeconds(50))
          .until(() -> drift(get(env, name)).isEmpty());
      assertThat(messages(env, name, "SchemaDrift")).isEmpty();

      AtomicBoolean crashed;
      try (var writer = new Writer(src, DB, Duration.ofMinutes(5))) {
        var before = writer.statements();
        await().atMost(Duration.ofSeconds(10)).until(() -> writer.statements() > before + 20);
        long altered = System.nanoTime();
        // while the application writes: its next row carries the new columns, and the apply
        // worker fails on it until the target has them, then gets it again from the slot
        src.execute(DB, "alter table items add column note text",
            "alter table items add column flag int not null default 7",
            "insert into items (v, note, flag) select md5(g::text), 'note ' || g, g"
                + " from generate_series(1, 50) g");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
            .until(() -> columns(dst, DB, "items").keySet().containsAll(List.of("note", "flag")));
        System.out.printf("%s: columns on the target %.1f s after the ALTER%n", pair.name(),
            (System.nanoTime() - altered) / 1e9);
        assertThat(columns(dst, DB, "items")).containsEntry("flag", "integer")
            .containsEntry("note", "text");
        await().atMost(Duration.ofSeconds(10)).until(() -> messages(env, name,
            "SchemaChangesApplied").stream().anyMatch(x -> x.contains("public.items.flag")));
        assertThat(messages(env, name, "SchemaDrift")).singleElement().satisfies(x ->
            assertThat(x).contains("public.items.note ColumnAdded",
                "public.items.flag ColumnAdded"));

        // the pass that applies the next changes crashes after its commit, before the refresh:
        // the next comparison finds the new tables outside the subscription, and refreshes
        crashed = Crashes.onceAt("drift.committed");
        src.execute(DB,
            "create table fresh (id int primary key, label text not null default 'x')",
            "insert into fresh select g, 'f' || g from generate_series(1, 300) g",
            "create table events_more partition of events for values from (100000) to (200000)",
            "insert into events select g, 'late ' || g from generate_series(100000, 100099) g");
        // the new table and partition, with the rows written before they were created there
        await().atMost(Duration.ofSeconds(90)).ignoreExceptions().until(() -> Contents.query(dst,
            DB, "select 'fresh', count(*)::text from fresh union all"
                + " select 'events_more', count(*)::text from events_more").equals(Map.of("fresh", "300", "events_more", "100")));
        var later = writer.statements();
        await().atMost(Duration.ofSeconds(30)).until(() -> writer.statements() > later + 100);
        writer.stop();
      }
      src.execute(DB, "insert into items (v, note, flag) values ('after', 'written after', 42)",
          "insert into fresh values (1000, 'after')");
      assertThat(crashed).as("a pass crashed between applying and refreshing").isTrue();
      ContinuousMigrationIT.setKeepReplicating(env, name, false);
      var ready = MajorVersionsIT.awaitPhase(env, name, Phase.Ready, Duration.ofMinutes(3));
      var tables = Contents.tables(src, DB);
      assertThat(tables).containsKeys("public.fresh", "public.events_more");
      assertThat(tables.get("public.fresh")).startsWith("301:");
      assertThat(tables.get("public.events_more")).startsWith("100:");
      assertThat(Contents.tables(dst, DB)).isEqualTo(tables);
      // older rows got the value they have on the source
      assertThat(Contents.query(dst, DB, "select flag::text, count(*)::text from items"
          + " where note is null group by flag")).containsOnlyKeys("7");
      assertThat(drift(ready)).isEmpty();
      // the Events of the crashed pass are lost with it; the next one names the tables again
      assertThat(String.join("\n", messages(env, name, "SchemaChangesApplied")))
          .contains("public.fresh", "public.events_more", "subscription refreshed");
      ContinuousMigrationIT.deleteAndWait(env, name);
    }
  }

  @Test
  void dropsTypeChangesAndColumnsAreReportedNeverAppliedAndTheSqlInStatusMendsTheTarget(
      OperatorExtension.Env env) throws Exception {
    try (var src = ContinuousMigrationIT.source("dr-ro-src");
        var dst = PostgresServer.builder().name("dr-ro-dst").start()) {
      ContinuousMigrationIT.seed(src, "ro_db");
      env.client().resource(ContinuousMigrationIT.migration(env, "ro", src, dst,
          List.of("ro_db"))).create();
      OperatorValidationIT.awaitPhase(env, "ro", Phase.Syncing);
      long altered = System.nanoTime();
      src.execute("ro_db", "alter table items drop column n",
          "alter table ref alter column label type varchar(40)",
          "alter table ref add column extra int",
          "insert into ref values ('c', 'gamma', 3)");
      var reported = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
          .until(() -> get(env, "ro"), x -> drift(x).keySet().containsAll(List.of(
              "public.items.n ColumnDropped", "public.ref.label TypeChanged",
              "public.ref.extra ColumnAdded")));
      System.out.printf("reported %.1f s after the ALTER%n", (System.nanoTime() - altered) / 1e9);
      assertThat(drift(reported).get("public.ref.label TypeChanged").getDdl()).isEqualTo(
          "ALTER TABLE public.ref ALTER COLUMN label TYPE character varying(40)"
              + " USING label::character varying(40);");
      assertThat(drift(reported).get("public.items.n ColumnDropped").getDdl())
          .isEqualTo("ALTER TABLE public.items DROP COLUMN n;");
      assertThat(drift(reported).get("public.ref.extra ColumnAdded").getDdl())
          .isEqualTo("ALTER TABLE public.ref ADD COLUMN IF NOT EXISTS extra integer;");
      assertThat(String.join("\n", messages(env, "ro", "SchemaDrift")))
          .contains("public.items.n ColumnDropped", "public.ref.label TypeChanged",
              "public.ref.extra ColumnAdded");

      // the row with the new column cannot be applied; the migration waits for the target to be
      // mended instead of failing after the usual 90 s of apply errors, and applies nothing
      await().during(Duration.ofSeconds(100)).atMost(Duration.ofSeconds(105))
          .until(() -> get(env, "ro").getStatus().getPhase() == Phase.Syncing);
      assertThat(columns(dst, "ro_db", "items")).containsKey("n");
      assertThat(columns(dst, "ro_db", "ref")).containsEntry("label", "text")
          .doesNotContainKey("extra");
      assertThat(get(env, "ro").getStatus().getDatabases().get(0).getReplicationErrors())
          .as("the apply worker failed meanwhile").isPositive();
      assertThat(messages(env, "ro", "SchemaDrift")).as("reported once").hasSize(1);
      assertThat(messages(env, "ro", "SchemaChangesApplied")).isEmpty();

      // the user runs the SQL that status gives on the target: nothing differs any more, and
      // the row that waited arrives
      for (var d : drift(get(env, "ro")).values()) {
        dst.execute("ro_db", d.getDdl());
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> drift(get(env, "ro")).isEmpty());
      await().atMost(Duration.ofSeconds(30)).until(() -> Contents.query(dst, "ro_db",
          "select code, coalesce(extra::text, '') from ref").containsKey("c"));
      // the apply errors of the wait are over, not counted against what follows
      await().during(Duration.ofSeconds(35)).atMost(Duration.ofSeconds(40))
          .until(() -> get(env, "ro").getStatus().getPhase() == Phase.Syncing);
      ContinuousMigrationIT.setKeepReplicating(env, "ro", false);
      OperatorValidationIT.awaitPhase(env, "ro", Phase.Ready);
      ContinuousMigrationIT.assertSameData(src, dst, "ro_db");
      // one run from start to end: never failed, never started over
      assertThat(events(env, "ro")).extracting(Event::getReason)
          .doesNotContain("ApplyFailed", "Failed")
          .filteredOn("Validating"::equals).hasSize(1);
      ContinuousMigrationIT.deleteAndWait(env, "ro");
    }
  }
}
