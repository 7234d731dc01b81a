package io.pgmigrate.operator;

import static io.pgmigrate.operator.OperatorValidationIT.awaitPhase;
import static io.pgmigrate.operator.OperatorValidationIT.check;
import static io.pgmigrate.operator.OperatorValidationIT.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import io.pgmigrate.operator.api.CheckOutcome;
import io.pgmigrate.operator.api.Estimate;
import io.pgmigrate.operator.api.Method;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.testing.Fixtures;
import io.pgmigrate.operator.testing.OperatorExtension;
import io.pgmigrate.operator.testing.PostgresPair;
import io.pgmigrate.operator.testing.PostgresServer;
import io.pgmigrate.operator.testing.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What Validating reports of a migration's cost (status.estimate), against real servers through
 * the operator: sizes and table counts of databases whose size the test measures itself, the
 * target's free disk as the test reads it from the file system (and the text a login that may
 * not see it gets), the source's WAL rate while an application writes, and the copy's duration
 * with its basis, first from a COPY probe, then from an earlier dump between the same servers.
 */
@ExtendWith({PostgresPair.class, OperatorExtension.class})
class EstimatesIT {

  @Test
  void aDryRunReportsSizesTablesFreeDiskWalAndACopyEstimateFromAProbe(
      OperatorExtension.Env env, PostgresPair.Servers pg) throws Exception {
    var src = pg.source();
    src.execute("postgres", "create database est_shop", "create database est_noise");
    src.execute("est_shop",
        "create table big (id int primary key, payload text not null)",
        "insert into big select i, repeat(md5(i::text), 3) from generate_series(1, 300000) i",
        "create table medium (id int primary key, payload text not null)",
        "insert into medium select i, md5(i::text) from generate_series(1, 60000) i",
        "create table small (id int primary key)",
        "insert into small select generate_series(1, 100)",
        "create schema \"Sales\"",
        "create table \"Sales\".\"Odd Name\" (id int primary key, v text)",
        "insert into \"Sales\".\"Odd Name\" select i, md5(i::text)"
            + " from generate_series(1, 20000) i",
        "create table empty_1 (id int)", "create table empty_2 (id int)",
        "create table parted (id int not null, at date not null) partition by range (at)",
        "create table parted_2025 partition of parted for values from ('2025-01-01') to"
            + " ('2026-01-01')",
        "create table parted_2026 partition of parted for values from ('2026-01-01') to"
            + " ('2027-01-01')",
        "insert into parted select i, date '2025-06-01' + (i % 300) from generate_series(1,"
            + " 8000) i",
        // settle the visibility maps and statistics now, not between the two measurements
        "vacuum analyze", "checkpoint");
    src.execute("est_noise", Writer.TABLE);

    try (var writer = new Writer(src, "est_noise", Duration.ofMinutes(2))) {
      var m = Fixtures.migration(env.client(), env.namespace(), "costs", src, pg.target());
      m.getSpec().setMethod(Method.DUMP);
      m.getSpec().setValidateOnly(true);
      m.getSpec().setDatabases(List.of("est_shop"));
      env.client().resource(m).create();
      var validated = awaitValidated(env, "costs");
      writer.stop();
      assertThat(writer.statements()).isPositive();

      var e = validated.getStatus().getEstimate();
      assertThat(e).as("status.estimate").isNotNull();
      // sizes: what the test measures itself, within a few percent
      long dbSize = longValue(src, "est_shop",
          "select pg_database_size('est_shop')");
      assertThat(e.getDatabases()).hasSize(1);
      var shop = e.getDatabases().get(0);
      assertThat(shop.getName()).isEqualTo("est_shop");
      assertThat(shop.getMessage()).isNull();
      assertThat((double) shop.getSizeBytes()).isCloseTo(dbSize, within(dbSize * 0.03));
      assertThat(e.getTotalBytes()).isEqualTo(shop.getSizeBytes());
      assertThat(shop.getSize()).isEqualTo(io.pgmigrate.operator.checks.Bytes.human(
          shop.getSizeBytes()));
      // tables: exact (partitioned parent and partitions count, as information_schema says)
      long tables = longValue(src, "est_shop", "select count(*) from information_schema.tables"
          + " where table_type = 'BASE TABLE'"
          + " and table_schema not in ('pg_catalog', 'information_schema')");
      assertThat(tables).isEqualTo(9);
      assertThat(shop.getTables()).isEqualTo(9);
      // the largest tables, named, largest first, at most five, with their sizes
      assertThat(shop.getLargestTables()).extracting(Estimate.Table::getName)
          .containsExactly("public.big", "public.medium", "\"Sales\".\"Odd Name\"",
              "public.parted_2025", "public.parted_2026");
      long big = longValue(src, "est_shop", "select pg_total_relation_size('public.big')");
      assertThat((double) shop.getLargestTables().get(0).getSizeBytes())
          .isCloseTo(big, within(big * 0.03));

      // the target's free disk: the superuser login may run df there; the test reads the same
      // file system (other tests write to it meanwhile: 5% or 512 MB apart at most)
      Path dataDir;
      try (var c = pg.target().connect("postgres"); var st = c.createStatement();
          var rs = st.executeQuery("show data_directory")) {
        rs.next();
        dataDir = Path.of(rs.getString(1));
      }
      long usable = Files.getFileStore(dataDir).getUsableSpace();
      assertThat(e.getTargetFreeDiskBytes()).as(e.getTargetFreeDisk()).isNotNull();
      assertThat((double) e.getTargetFreeDiskBytes())
          .isCloseTo(usable, within(Math.max(usable * 0.05, 512.0 * (1 << 20))));
      assertThat(e.getTargetFreeDisk()).contains("free on the file system of the data"
          + " directory").contains("df");
      var disk = check(validated, "target.freeDisk");
      assertThat(disk.getResult()).isEqualTo(
          usable > shop.getSizeBytes() * 1.3 ? CheckOutcome.Passed : CheckOutcome.Warning);

      // the WAL the writer made the source write
      assertThat(e.getSourceWalBytesPerMinute()).as(e.getSourceWal()).isPositive();
      assertThat(e.getSourceWal()).contains("per minute").contains("pg_current_wal_insert_lsn")
          .contains("a stalled replication slot would retain ~");

      // the copy: no earlier migration between these servers, so a probe of the largest table
      assertThat(e.getCopyBasis()).startsWith("estimate: from a ")
          .contains("COPY probe of est_shop: public.big on the source at ");
      assertThat(e.getCopySeconds()).isNotNull().isNotNegative();
      assertThat(e.getCopyDuration()).startsWith("~");

      // kubectl pgmigrate status prints it
      var plugin = new KubectlPluginIT();
      var out = plugin.plugin(env, "status", "costs");
      assertThat(out.exitCode()).as(out.toString()).isZero();
      assertThat(out.stdout()).as(out.stdout()).contains("Estimate (measured while validating):")
          .containsPattern("(?m)^  Data:\\s+" + e.getTotal() + " in 1 database$")
          .containsPattern("(?m)^  Copy:\\s+\\Q" + e.getCopyDuration() + " (" + e.getCopyBasis()
              + ")\\E$")
          .containsPattern("(?m)^  Target free disk:\\s+\\Q" + e.getTargetFreeDisk() + "\\E$")
          .containsPattern("(?m)^  Source WAL:\\s+\\Q" + e.getSourceWal() + "\\E$")
          .containsPattern("(?m)^  est_shop\\s+" + shop.getSize() + "\\s+9\\s+public\\.big \\("
              + shop.getLargestTables().get(0).getSize() + "\\), public\\.medium \\(");
      plugin.assertNoPassword();
    }
  }

  @Test
  void aTargetLoginThatMayNotRunProgramsSeesNoFreeDiskAndAnEarlierDumpGivesTheCopyRate(
      OperatorExtension.Env env, PostgresPair.Servers pg) throws Exception {
    var src = pg.source();
    src.execute("postgres", "create database est_hist");
    src.execute("est_hist",
        "create table rows (id int primary key, payload text not null)",
        "insert into rows select i, repeat(md5(i::text), 2) from generate_series(1, 50000) i");
    pg.target().execute("postgres",
        "create role est_owner login createdb password 'est-owner-pw'");

    // a login that may create databases but not run programs on the server
    var dry = Fixtures.migration(env.client(), env.namespace(), "nodisk", src, pg.target());
    Fixtures.applySecret(env.client(),
        Fixtures.credentials(env.namespace(), "nodisk-target", "est_owner", "est-owner-pw"));
    dry.getSpec().setMethod(Method.DUMP);
    dry.getSpec().setValidateOnly(true);
    dry.getSpec().setDatabases(List.of("est_hist"));
    env.client().resource(dry).create();
    var blind = awaitValidated(env, "nodisk").getStatus().getEstimate();
    assertThat(blind.getTargetFreeDiskBytes()).isNull();
    assertThat(blind.getTargetFreeDisk()).startsWith("not visible to this login:")
        .contains("pg_execute_server_program");
    var unchecked = check(get(env, "nodisk"), "target.freeDisk");
    assertThat(unchecked.getResult()).isEqualTo(CheckOutcome.Passed);
    assertThat(unchecked.getMessage()).startsWith("not checked: the target's free disk is not"
        + " visible to this login");
    assertThat(blind.getCopyBasis()).contains("COPY probe of est_hist: public.rows");

    // a dump between the same servers finishes: its throughput is the next estimate's basis
    var dump = Fixtures.migration(env.client(), env.namespace(), "first", src, pg.target());
    dump.getSpec().setMethod(Method.DUMP);
    dump.getSpec().getDump().setJobs(1);
    dump.getSpec().setDatabases(List.of("est_hist"));
    env.client().resource(dump).create();
    var done = awaitPhase(env, "first", Phase.Ready);
    assertThat(done.getStatus().getDatabases().get(0).getBytesCopied()).isPositive();
    // a migration that copies did not wait for a probe (an earlier dry run is no dump)
    assertThat(done.getStatus().getEstimate().getCopyBasis())
        .startsWith("no estimate: the copy starts at once").contains("validateOnly");
    assertThat(done.getStatus().getEstimate().getCopySeconds()).isNull();

    var again = Fixtures.migration(env.client(), env.namespace(), "again", src, pg.target());
    again.getSpec().setMethod(Method.DUMP);
    again.getSpec().setValidateOnly(true);
    again.getSpec().setDatabases(List.of("est_hist"));
    env.client().resource(again).create();
    var e = awaitValidated(env, "again").getStatus().getEstimate();
    assertThat(e.getCopyBasis()).startsWith("estimate: from the throughput of migration first"
        + " (a dump between the same servers, finished " + done.getStatus().getCompletedAt());
    var seconds = java.time.Duration.between(
        java.time.Instant.parse(done.getStatus().getStartedAt()),
        java.time.Instant.parse(done.getStatus().getCompletedAt())).toSeconds();
    double rate = (double) done.getStatus().getDatabases().get(0).getBytesCopied() / seconds;
    assertThat((double) e.getCopySeconds())
        .isCloseTo(e.getTotalBytes() / rate, within(1.0));
    // the superuser login of this one sees the disk
    assertThat(e.getTargetFreeDiskBytes()).isNotNull();
  }

  /** The migration once the checks of its current generation reported. */
  static PgMigration awaitValidated(OperatorExtension.Env env, String name) {
    return await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(300))
        .until(() -> get(env, name), m -> m != null && m.getStatus() != null
            && m.getStatus().getValidatedGeneration() != null
            && Objects.equals(m.getStatus().getValidatedGeneration(),
                m.getMetadata().getGeneration()));
  }

  static long longValue(PostgresServer server, String db, String sql) throws SQLException {
    try (var c = server.connect(db); var st = c.createStatement(); var rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
