package io.pgmigrate.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfigurationBuilder;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pgmigrate.operator.metrics.MigrationMetrics;
import io.pgmigrate.operator.postgres.PgConnector;
import io.pgmigrate.operator.postgres.Timeouts;
import io.pgmigrate.operator.reconciler.PgMigrationReconciler;
import java.time.Clock;
import java.util.Set;

/** Builds the operator with its production configuration; used by {@link Main} and the tests. */
public final class PgMigrateOperator {

  private PgMigrateOperator() {}

  /**
   * The operator, not yet started.
   *
   * @param namespaces namespaces to watch; empty means all
   */
  public static Operator create(KubernetesClient client, Set<String> namespaces, Timeouts timeouts) {
    return create(client, namespaces, timeouts, new MigrationMetrics(new SimpleMeterRegistry()));
  }

  /** The operator, not yet started, recording its metrics (and JOSDK's) in the given registry. */
  public static Operator create(
      KubernetesClient client, Set<String> namespaces, Timeouts timeouts,
      MigrationMetrics metrics) {
    return create(client, namespaces, timeouts, metrics, null);
  }

  /**
   * The same, with leader election through a Lease in {@code leaderElectionNamespace} when it
   * is set (for more than one replica).
   */
  public static Operator create(
      KubernetesClient client, Set<String> namespaces, Timeouts timeouts,
      MigrationMetrics metrics, String leaderElectionNamespace) {
    return create(client, namespaces, timeouts, metrics, leaderElectionNamespace, true);
  }

  /**
   * The same; {@code exitOnStopLeading} false keeps the JVM alive when leadership ends (for
   * tests; a deployed operator exits so Kubernetes restarts it as a follower).
   */
  public static Operator create(
      KubernetesClient client, Set<String> namespaces, Timeouts timeouts,
      MigrationMetrics metrics, String leaderElectionNamespace, boolean exitOnStopLeading) {
    var operator =
        new Operator(
            o -> {
              if (leaderElectionNamespace != null && !leaderElectionNamespace.isBlank()) {
                o.withLeaderElectionConfiguration(
                    LeaderElectionConfigurationBuilder.aLeaderElectionConfiguration(
                            "pgmigrate-operator")
                        .withLeaseNamespace(leaderElectionNamespace)
                        .withExitOnStopLeading(exitOnStopLeading)
                        .build());
              }
              o.withKubernetesClient(client)
                    .withUseSSAToPatchPrimaryResource(true)
                    .withCloseClientOnStop(false)
                    .withStopOnInformerErrorDuringStartup(true)
                    .withMetrics(MicrometerMetrics.newPerResourceCollectingMicrometerMetricsBuilder(
                        metrics.registry()).build());
            });
    var reconciler =
        PgMigrationReconciler.create(client, new PgConnector(timeouts), metrics, Clock.systemUTC());
    operator.register(
        reconciler,
        c -> {
          if (namespaces.isEmpty()) {
            c.watchingAllNamespaces();
          } else {
            c.settingNamespaces(namespaces);
          }
        });
    return operator;
  }
}
