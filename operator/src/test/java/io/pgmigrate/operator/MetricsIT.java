package io.pgmigrate.operator;

import static io.pgmigrate.operator.OperatorValidationIT.awaitPhase;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.testing.OperatorExtension;
import io.pgmigrate.operator.testing.PostgresPair;
import io.pgmigrate.operator.testing.PostgresServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** /metrics, /healthz and /readyz of a running operator, scraped during a live migration. */
@ExtendWith({PostgresPair.class, OperatorExtension.class})
class MetricsIT {

  static HttpResponse<String> get(OperatorExtension.Env env, String path) throws Exception {
    return HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + env.httpPort() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void phaseLagAndTablesSeriesDuringASyncingMigration(
      OperatorExtension.Env env, PostgresPair.Servers pg) throws Exception {
    assertThat(get(env, "/healthz").statusCode()).isEqualTo(200);
    assertThat(get(env, "/readyz").statusCode()).isEqualTo(200);
    try (var src = PostgresServer.builder().name("metrics-src").start()) {
      ContinuousMigrationIT.seed(src, "metrics_db");
      env.client().resource(ContinuousMigrationIT.migration(env, "observed", src, pg.target(),
          List.of("metrics_db"))).create();
      awaitPhase(env, "observed", Phase.Syncing);
      var labels = "name=\"observed\",namespace=\"" + env.namespace() + "\"";
      var body = await().atMost(Duration.ofSeconds(30)).until(() -> get(env, "/metrics").body(),
          b -> b.contains("pgmigrate_migration_phase{" + labels + ",phase=\"Syncing\"} 1.0"));
      assertThat(body)
          .contains("pgmigrate_migration_phase{" + labels + ",phase=\"Migrating\"} 0.0")
          .containsPattern("pgmigrate_replication_lag_bytes\\{database=\"metrics_db\"," + labels
              + "} [0-9.E]+")
          .contains("pgmigrate_tables_to_copy{database=\"metrics_db\"," + labels + "} 2.0")
          .contains("pgmigrate_tables_ready{database=\"metrics_db\"," + labels + "} 2.0")
          .contains("pgmigrate_dump_pods_total{result=\"Succeeded\"}")
          .contains("operator_sdk_reconciliations_started_total");
      ContinuousMigrationIT.deleteAndWait(env, "observed");
      assertThat(get(env, "/metrics").body()).doesNotContain(labels);
    }
  }
}
