package io.pgmigrate.operator;

import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgmigrate.operator.api.UnknownFields;
import io.pgmigrate.operator.metrics.HttpEndpoints;
import io.pgmigrate.operator.metrics.MigrationMetrics;
import io.pgmigrate.operator.postgres.Timeouts;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the operator in a cluster (service account) or outside one (current kubeconfig). The
 * environment variable WATCH_NAMESPACES (comma-separated) limits the watched namespaces; unset or
 * empty watches all. HTTP_PORT (default 8080) serves /metrics, /healthz and /readyz.
 * LEADER_ELECTION_NAMESPACE turns leader election on (a Lease there); LOG_FORMAT=json logs JSON.
 */
public final class Main {

  private static final Logger log = LoggerFactory.getLogger(Main.class);

  private Main() {}

  public static void main(String[] args) {
    // every error goes through the log, so that a JSON log stays JSON to its last line
    Thread.setDefaultUncaughtExceptionHandler(
        (thread, e) -> log.error("uncaught exception in thread {}", thread.getName(), e));
    try {
      start();
    } catch (RuntimeException | Error e) {
      // half started (an API server that cannot be reached, a Lease it may not take) is worse
      // than not at all: exit, so that the kubelet restarts it and the Pod shows the failure
      log.error("pgmigrate-operator could not start: {}", e.toString(), e);
      System.exit(1);
    }
  }

  private static void start() {
    var namespaces = parseNamespaces(System.getenv("WATCH_NAMESPACES"));
    // a PgMigration with fields of a newer CRD is read (and left alone), not a failed watch
    var client = new KubernetesClientBuilder()
        .withKubernetesSerialization(UnknownFields.serialization()).build();
    var registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    var operator =
        PgMigrateOperator.create(client, namespaces, Timeouts.DEFAULT, new MigrationMetrics(registry),
            System.getenv("LEADER_ELECTION_NAMESPACE"));
    var port = Integer.parseInt(System.getenv().getOrDefault("HTTP_PORT", "8080"));
    HttpEndpoints http;
    try {
      http = new HttpEndpoints(port, registry, operator);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("serving /metrics, /healthz, /readyz on " + port, e);
    }
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  operator.stop();
                  http.close();
                  client.close();
                }));
    operator.start();
    log.info(
        "pgmigrate-operator started against {}, watching {}", client.getMasterUrl(),
        namespaces.isEmpty() ? "all namespaces" : namespaces);
  }

  static Set<String> parseNamespaces(String value) {
    if (value == null || value.isBlank()) {
      return Set.of();
    }
    return Arrays.stream(value.split(","))
        .map(String::strip)
        .filter(s -> !s.isEmpty())
        .collect(Collectors.toUnmodifiableSet());
  }
}
