package io.pgmigrate.operator;

import static io.pgmigrate.operator.OperatorValidationIT.awaitPhase;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgmigrate.operator.api.Method;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.testing.Contents;
import io.pgmigrate.operator.testing.OperatorExtension;
import io.pgmigrate.operator.testing.PostgresPair;
import io.pgmigrate.operator.testing.PostgresServer;
import io.pgmigrate.operator.testing.PromCheck;
import io.pgmigrate.operator.testing.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * /metrics, /healthz and /readyz of a running operator (the registry and endpoints Main uses),
 * scraped over HTTP through the life of real migrations: a continuous one while an application
 * writes, through its cutover, then deleted, then a dump migration created under the same name.
 * Every metric the chart's alerts and dashboard read (as tools/prom-check's PromQL parser finds
 * them) must show up, with sane values.
 */
@ExtendWith({PostgresPair.class, OperatorExtension.class})
class MetricsIT {

  static HttpResponse<String> get(OperatorExtension.Env env, String path) throws Exception {
    return HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + env.httpPort() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** One line of the text format: name, labels, value. */
  record Sample(String name, Map<String, String> labels, double value) {}

  private static final Pattern LINE =
      Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)\\})? (\\S+)$");
  private static final Pattern LABEL =
      Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\",?");

  static List<Sample> scrape(OperatorExtension.Env env) throws Exception {
    var response = get(env, "/metrics");
    assertThat(response.statusCode()).isEqualTo(200);
    var samples = new ArrayList<Sample>();
    for (var line : response.body().lines().toList()) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      var m = LINE.matcher(line);
      assertThat(m.matches()).as("a line of the text format: %s", line).isTrue();
      var labels = new TreeMap<String, String>();
      if (m.group(2) != null) {
        var l = LABEL.matcher(m.group(2));
        while (l.find()) {
          labels.put(l.group(1), l.group(2));
        }
      }
      samples.add(new Sample(m.group(1), labels, Double.parseDouble(m.group(3))));
    }
    return samples;
  }

  /** The migration's samples of one metric (and database, when given). */
  static List<Sample> of(List<Sample> samples, String metric, String migration, String db) {
    return samples.stream().filter(s -> s.name().equals(metric)
        && migration.equals(s.labels().get("migration"))
        && (db == null || db.equals(s.labels().get("database")))).toList();
  }

  static double value(List<Sample> samples, String metric, String migration, String db) {
    var found = of(samples, metric, migration, db);
    assertThat(found).as("%s of %s %s", metric, migration, db).hasSize(1);
    return found.get(0).value();
  }

  static long rows(PostgresServer server, String db) {
    return Long.parseLong(Contents.query(server, db,
        "select 'rows', ((select count(*) from items) + (select count(*) from ref))::text")
        .get("rows"));
  }

  @Test
  void everySeriesTheAlertsAndTheDashboardReadShowsUpWithSaneValuesAndGoesWithItsMigration(
      OperatorExtension.Env env, PostgresPair.Servers pg) throws Exception {
    assertThat(get(env, "/healthz").statusCode()).isEqualTo(200);
    assertThat(get(env, "/readyz").statusCode()).isEqualTo(200);
    var used = PromCheck.metricsUsed();
    assertThat(used).hasSizeGreaterThan(10);
    var seen = new TreeSet<String>();
    var ns = env.namespace();
    try (var src = PostgresServer.builder().name("metrics-src").start()) {
      ContinuousMigrationIT.seed(src, "metrics_db");
      ContinuousMigrationIT.seed(src, "metrics_dump");
      var started = System.currentTimeMillis() / 1000.0;
      try (var writer = new Writer(src, "metrics_db", Duration.ofMinutes(2))) {
        var m = ContinuousMigrationIT.migration(env, "observed", src, pg.target(),
            List.of("metrics_db"));
        m.getSpec().getReplication().setMaxRetainedWalBytes("1Gi");
        env.client().resource(m).create();
        awaitPhase(env, "observed", Phase.Syncing);
        // the WAL sender measured a lag (or reported everything confirmed): seconds, >= 0
        var syncing = await().atMost(Duration.ofSeconds(30)).until(() -> scrape(env),
            s -> !of(s, "pgmigrate_replication_lag_seconds", "observed", "metrics_db").isEmpty());
        syncing.forEach(s -> seen.add(s.name()));
        assertThat(of(syncing, "pgmigrate_migration_phase", "observed", null)).allSatisfy(s -> {
          assertThat(s.labels()).containsEntry("migration_namespace", ns)
              .doesNotContainKeys("namespace", "name");
          assertThat(s.value()).isEqualTo("Syncing".equals(s.labels().get("phase")) ? 1.0 : 0.0);
        }).hasSize(Phase.values().length);
        var lagSeconds = value(syncing, "pgmigrate_replication_lag_seconds", "observed",
            "metrics_db");
        var lagBytes = value(syncing, "pgmigrate_replication_lag_bytes", "observed", "metrics_db");
        var retained = value(syncing, "pgmigrate_source_wal_retained_bytes", "observed",
            "metrics_db");
        assertThat(lagSeconds).isFinite().isBetween(0.0, 60.0);
        assertThat(lagBytes).isGreaterThanOrEqualTo(0);
        // the slot's restart position is never past its confirmed one
        assertThat(retained).isGreaterThanOrEqualTo(lagBytes).isPositive();
        assertThat(value(syncing, "pgmigrate_source_wal_retained_limit_bytes", "observed", null))
            .isEqualTo(1024.0 * 1024 * 1024);
        assertThat(value(syncing, "pgmigrate_tables_to_copy", "observed", "metrics_db"))
            .isEqualTo(2.0);
        assertThat(value(syncing, "pgmigrate_tables_ready", "observed", "metrics_db"))
            .isEqualTo(2.0);
        assertThat(value(syncing, "pgmigrate_target_database_size_bytes", "observed",
            "metrics_db")).isGreaterThan(1_000_000);
        // replicating as asked is the goal: nothing in progress
        assertThat(value(syncing, "pgmigrate_migration_reconciling", "observed", null))
            .isEqualTo(0.0);
        var start = value(syncing, "pgmigrate_migration_started_timestamp_seconds", "observed",
            null);
        var since = value(syncing, "pgmigrate_migration_phase_since_timestamp_seconds",
            "observed", null);
        assertThat(start).isBetween(started - 2, started + 120);
        assertThat(since).isBetween(start, System.currentTimeMillis() / 1000.0);
        var status = OperatorValidationIT.get(env, "observed").getStatus().getDatabases().get(0);
        assertThat(status.getLagSeconds()).isNotNull().isGreaterThanOrEqualTo(0.0);
        assertThat(status.getRetainedWalBytes()).isPositive();
        writer.stop();
        assertThat(writer.statements()).isGreaterThan(100);
      }

      // caught up after the writer stopped: the target's tables hold as many rows as the
      // source's (the writer inserted and deleted), and so say the metric and the status
      var expected = rows(src, "metrics_db");
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(
          value(scrape(env), "pgmigrate_target_rows", "observed", "metrics_db"))
          .isEqualTo((double) expected));
      assertThat(OperatorValidationIT.get(env, "observed").getStatus().getDatabases().get(0)
          .getRowsCopied()).isEqualTo(expected);

      ContinuousMigrationIT.setKeepReplicating(env, "observed", false);
      awaitPhase(env, "observed", Phase.Ready);
      var ready = await().atMost(Duration.ofSeconds(10)).until(() -> scrape(env),
          s -> !of(s, "pgmigrate_migration_completed_timestamp_seconds", "observed", null)
              .isEmpty());
      ready.forEach(s -> seen.add(s.name()));
      assertThat(value(ready, "pgmigrate_migration_completed_timestamp_seconds", "observed", null))
          .isGreaterThanOrEqualTo(value(ready, "pgmigrate_migration_started_timestamp_seconds",
              "observed", null));
      assertThat(of(ready, "pgmigrate_migration_phase", "observed", null))
          .filteredOn(x -> x.value() == 1.0).extracting(x -> x.labels().get("phase"))
          .containsExactly("Ready");
      // no slot any more: no lag, no retained WAL; the copy's numbers stay
      assertThat(of(ready, "pgmigrate_replication_lag_bytes", "observed", null)).isEmpty();
      assertThat(of(ready, "pgmigrate_source_wal_retained_bytes", "observed", null)).isEmpty();
      assertThat(value(ready, "pgmigrate_target_rows", "observed", "metrics_db"))
          .isEqualTo((double) expected);

      assertThat(seen).as("metrics the alerts and the dashboard read, not scraped")
          .containsAll(used);

      // deleted: its series go
      ContinuousMigrationIT.deleteAndWait(env, "observed");
      assertThat(scrape(env)).noneMatch(s -> "observed".equals(s.labels().get("migration")));

      // created again under the same name (a dump this time): its series come back
      var again = ContinuousMigrationIT.migration(env, "observed", src, pg.target(),
          List.of("metrics_dump"));
      again.getSpec().setMethod(Method.DUMP);
      env.client().resource(again).create();
      awaitPhase(env, "observed", Phase.Ready);
      var dumped = await().atMost(Duration.ofSeconds(10)).until(() -> scrape(env),
          s -> of(s, "pgmigrate_migration_phase", "observed", null).stream()
              .anyMatch(x -> "Ready".equals(x.labels().get("phase")) && x.value() == 1.0));
      assertThat(value(dumped, "pgmigrate_target_rows", "observed", "metrics_dump"))
          .isEqualTo((double) rows(src, "metrics_dump"));
      assertThat(value(dumped, "pgmigrate_target_database_size_bytes", "observed",
          "metrics_dump")).isGreaterThan(1_000_000);
      assertThat(of(dumped, "pgmigrate_target_rows", "observed", "metrics_db")).isEmpty();
      ContinuousMigrationIT.deleteAndWait(env, "observed");
    }
  }
}
