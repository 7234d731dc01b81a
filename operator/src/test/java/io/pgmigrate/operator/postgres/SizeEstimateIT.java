package io.pgmigrate.operator.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgmigrate.operator.testing.PostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The estimates' SQL on every supported major, with the logins a user may give: a plain login
 * (CONNECT and SELECT only) reads sizes, the WAL position and a COPY probe; only a superuser or
 * a member of pg_execute_server_program may read the free disk, which then matches what the
 * test reads of the same file system, and leaves nothing behind.
 */
class SizeEstimateIT {

  @ParameterizedTest(name = "PostgreSQL {0}")
  @ValueSource(ints = {13, 14, 15, 16, 17})
  void aPlainLoginReadsSizesWalAndAProbeOnlyAProgramRunnerReadsTheFreeDisk(int major)
      throws Exception {
    try (var server = PostgresServer.builder().name("estimate-" + major).major(major).start()) {
      server.execute("postgres",
          "create role plain login password 'plain-pw-123'",
          "create role runner login password 'runner-pw-123'",
          "grant pg_execute_server_program to runner",
          "create database shop");
      server.execute("shop",
          "create table big (id int primary key, v text)",
          // about 140 MB: no machine reads it whole within the probe's 70 ms below
          "insert into big select i, repeat(md5(i::text), 4) from generate_series(1, 1000000) i",
          "create table small (id int)",
          "grant select on big, small to plain");
      try (var plain = server.connect("shop", "plain", "plain-pw-123")) {
        var size = SizeEstimate.database(plain, 5);
        assertThat(size.bytes()).isEqualTo(value(plain,
            "select pg_database_size(current_database())"));
        assertThat(size.tables()).isEqualTo(2);
        assertThat(size.largest()).extracting(SizeEstimate.Table::display)
            .containsExactly("public.big", "public.small");
        assertThat(size.dataBytes()).isEqualTo(value(plain,
            "select pg_table_size('big') + pg_table_size('small')"));

        long before = SizeEstimate.walPosition(plain);
        server.execute("shop", "insert into small select generate_series(1, 10000)");
        assertThat(SizeEstimate.walPosition(plain)).isGreaterThan(before);

        // stopped early by its time limit, and the connection serves the next statement
        var probe = SizeEstimate.copyProbe(plain, size.largest().get(0), Duration.ofMillis(20),
            Duration.ofMillis(50), 1L << 40);
        assertThat(probe.complete()).isFalse();
        assertThat(probe.bytes()).isPositive();
        assertThat(probe.seconds()).isBetween(0.05, 5.0);
        assertThat(value(plain, "select 1")).isEqualTo(1);
        // or by its byte limit
        var bounded = SizeEstimate.copyProbe(plain, size.largest().get(0), Duration.ZERO,
            Duration.ofMinutes(1), 1 << 20);
        assertThat(bounded.bytes()).isBetween(1L << 20, (1L << 20) + 1000);
        // a table read whole within the warm-up is measured whole
        var whole = SizeEstimate.copyProbe(plain, new SizeEstimate.Table("public", "small", 0),
            Duration.ofSeconds(30), Duration.ofSeconds(1), 1L << 40);
        assertThat(whole.complete()).isTrue();
        assertThat(whole.bytes()).isEqualTo(value(plain,
            "select sum(length(id::text) + 1) from small"));

        assertThat(SizeEstimate.mayRunPrograms(plain)).isFalse();
      }
      Path dataDir;
      try (var superuser = server.connect("shop")) {
        assertThat(SizeEstimate.mayRunPrograms(superuser)).isTrue();
        dataDir = Path.of(text(superuser, "show data_directory"));
        assertFreeDisk(superuser, dataDir);
      }
      try (var runner = server.connect("shop", "runner", "runner-pw-123")) {
        assertThat(SizeEstimate.mayRunPrograms(runner)).isTrue();
        assertFreeDisk(runner, dataDir);
      }
    }
  }

  private static void assertFreeDisk(Connection c, Path dataDir) throws Exception {
    var free = SizeEstimate.dataDirectoryFreeDisk(c);
    long usable = Files.getFileStore(dataDir).getUsableSpace();
    assertThat(free).isPresent();
    assertThat((double) free.get().bytes())
        .isCloseTo(usable, org.assertj.core.api.Assertions.within(
            Math.max(usable * 0.05, 512.0 * (1 << 20))));
    // rolled back: no table left, and the connection is back in autocommit
    assertThat(c.getAutoCommit()).isTrue();
    assertThat(value(c, "select count(*) from pg_class where relname = 'pgmigrate_df'")).isZero();
  }

  private static long value(Connection c, String sql) throws SQLException {
    try (var st = c.createStatement(); var rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static String text(Connection c, String sql) throws SQLException {
    try (var st = c.createStatement(); var rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
