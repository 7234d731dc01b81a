package io.pgmigrate.operator.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgmigrate.operator.testing.PostgresServer;
import java.io.StringReader;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.PGConnection;

/**
 * The numbers status and the metrics show, read on a real server of each supported major:
 * {@link CopyTotals} (committed rows from the statistics, rows of a COPY still running from 14
 * on, the database's size) and {@link Replication#slot} (retained WAL; lag in seconds unknown,
 * null, while no WAL sender serves the slot). These reads never fail a migration, so a query a
 * major refuses would only leave the numbers missing: this is where it shows.
 */
class ProgressQueriesIT {

  @ParameterizedTest(name = "PostgreSQL {0}")
  @ValueSource(ints = {13, 14, 15, 16, 17})
  void rowsSizeAndSlotAreReadOnEachMajor(int major) throws Exception {
    try (var server = PostgresServer.builder().name("progress-" + major).major(major).start()) {
      server.execute("postgres", "create database progress");
      server.execute("progress",
          "create table t (id int primary key, v text)",
          "insert into t select g, md5(g::text) from generate_series(1, 1000) g",
          "delete from t where id <= 10",
          "create unlogged table u (id int)",
          "insert into u select generate_series(1, 5)");
      try (var c = server.connect("progress")) {
        // committed rows as the statistics count them: inserted minus deleted
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
            assertThat(CopyTotals.read(c).rows()).isEqualTo(995));
        assertThat(CopyTotals.read(c).bytes()).isGreaterThan(1_000_000);

        // a COPY into the database, still running: its rows count from 14 on (from 16 as the
        // server inserts them, in batches of up to 1000)
        try (var copying = server.connect("progress")) {
          var copy = copying.unwrap(PGConnection.class).getCopyAPI()
              .copyIn("copy t (id, v) from stdin");
          var rows = new StringBuilder();
          for (int i = 10_000; i < 15_000; i++) {
            rows.append(i).append("\tx\n");
          }
          var bytes = rows.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
          copy.writeToCopy(bytes, 0, bytes.length);
          copy.flushCopy();
          if (PgFeature.PROGRESS_COPY.on(major)) {
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(CopyTotals.read(c).rows()).isBetween(995L + 4000, 995L + 5000));
          } else {
            // nothing to say how far it got: the committed rows only, all the while it runs
            await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(CopyTotals.read(c).rows()).isEqualTo(995));
          }
          copy.endCopy();
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
            assertThat(CopyTotals.read(c).rows()).isEqualTo(5995));

        // a slot no WAL sender serves: retained WAL known, lag in seconds unknown
        server.execute("progress",
            "select pg_create_logical_replication_slot('progress_probe', 'pgoutput')",
            "insert into t select g, 'more' from generate_series(3000, 3999) g");
        var slot = Replication.slot(c, "progress_probe");
        assertThat(slot.exists()).isTrue();
        assertThat(slot.active()).isFalse();
        assertThat(slot.lagSeconds()).isNull();
        assertThat(slot.retainedBytes()).isPositive().isGreaterThanOrEqualTo(slot.lagBytes());
        assertThat(Replication.slot(c, "no_such_slot").exists()).isFalse();
        server.execute("progress", "select pg_drop_replication_slot('progress_probe')");
      }
    }
  }
}
