package io.pgmigrate.operator.testing;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.pgmigrate.operator.PgMigrateOperator;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.postgres.Timeouts;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Per test class: a namespace of its own on the shared real API server, the operator, built
 * exactly as Main builds it, watching that namespace; the namespace's Pods run on the real
 * {@link TestNode} (one per JVM), or with {@code -Dpgmigrate.node=host} on the host-side
 * {@link TestKubelet}. After each test it deletes the test's PgMigrations (printing their status
 * and the namespace's Events first when the test failed).
 */
public final class OperatorExtension
    implements BeforeAllCallback, AfterAllCallback, AfterEachCallback, ParameterResolver {

  private static final ExtensionContext.Namespace NS =
      ExtensionContext.Namespace.create(OperatorExtension.class);

  /** What a test gets: the client, its namespace, what runs its Pods, the running operator. */
  public static final class Env {
    private final KubeApi api;
    private final String namespace;
    private final TestKubelet kubelet;
    private Operator operator;
    private io.pgmigrate.operator.metrics.HttpEndpoints http;

    Env(KubeApi api, String namespace, TestKubelet kubelet) {
      this.api = api;
      this.namespace = namespace;
      this.kubelet = kubelet;
    }

    public KubeApi api() {
      return api;
    }

    public String namespace() {
      return namespace;
    }

    /** The log of a Pod's container (also after it ended). */
    public String podLog(String pod) {
      return kubelet != null ? kubelet.logs(pod)
          : client().pods().inNamespace(namespace).withName(pod).getLog();
    }

    /**
     * True once the containers of a deleted Pod stopped. A real kubelet confirms that by removing
     * the Pod from the API server; the host-side stand-in is asked.
     */
    public boolean containersStopped(io.fabric8.kubernetes.api.model.Pod pod) {
      if (kubelet != null) {
        return !kubelet.isRunning(pod.getMetadata().getUid());
      }
      return client().pods().inNamespace(namespace).withName(pod.getMetadata().getName())
          .get() == null;
    }

    public KubernetesClient client() {
      return api.client();
    }

    /** Port of the operator's /metrics, /healthz and /readyz. */
    public synchronized int httpPort() {
      return http.port();
    }

    /** Stops the operator, as a crash or a rolling update would. */
    public synchronized void stopOperator() {
      if (operator != null) {
        operator.stop();
        operator = null;
        http.close();
      }
    }

    /** Starts a new operator instance (production configuration) for this namespace. */
    public synchronized void startOperator() {
      if (operator == null) {
        var registry = new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
            io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
        operator =
            PgMigrateOperator.create(
                api.client(),
                Set.of(namespace),
                new Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofSeconds(20)),
                new io.pgmigrate.operator.metrics.MigrationMetrics(registry));
        try {
          http = new io.pgmigrate.operator.metrics.HttpEndpoints(0, registry, operator);
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
        operator.start();
      }
    }
  }

  /** The suite's shared API server, and its node when Pods run on the real one. */
  public static KubeApi api(ExtensionContext context) {
    var api = context.getRoot().getStore(NS).computeIfAbsent("api", k -> KubeApi.start(),
        KubeApi.class);
    if (TestNode.enabled()) {
      // closed when the root store is (the end of the run), and by a shutdown hook otherwise
      context.getRoot().getStore(NS).computeIfAbsent("node", k -> TestNode.start(api),
          TestNode.class);
    }
    return api;
  }

  /** The suite's shared real node (null with {@code -Dpgmigrate.node=host}). */
  public static TestNode node(ExtensionContext context) {
    api(context);
    return context.getRoot().getStore(NS).get("node", TestNode.class);
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    var api = api(context);
    var namespace =
        context.getRequiredTestClass().getSimpleName().toLowerCase(Locale.ROOT).replace('_', '-')
            + "-" + UUID.randomUUID().toString().substring(0, 6);
    Namespace ns = new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build();
    api.client().resource(ns).create();
    TestKubelet kubelet = null;
    if (TestNode.enabled()) {
      // the ServiceAccount admission plugin admits no Pod before the namespace's default
      // ServiceAccount exists, which the node's controller manager creates
      api.client().serviceAccounts().inNamespace(namespace).withName("default")
          .waitUntilCondition(java.util.Objects::nonNull, 60, java.util.concurrent.TimeUnit.SECONDS);
    } else {
      // (it makes the namespace's default ServiceAccount, as the controller manager would)
      kubelet = new TestKubelet(api.client(), namespace).start();
    }
    var env = new Env(api, namespace, kubelet);
    env.startOperator();
    var store = context.getStore(NS);
    store.put("env", env);
    if (kubelet != null) {
      store.put("kubelet", kubelet);
    }
  }

  /**
   * Deletes the test's PgMigrations and waits until the operator has removed them (and with
   * them their replication slots), so the shared servers start clean for the next test.
   */
  @Override
  public void afterEach(ExtensionContext context) {
    var env = context.getParent().orElseThrow().getStore(NS).get("env", Env.class);
    if (env == null) {
      return;
    }
    if (context.getExecutionException().isPresent()) {
      printDiagnostics(context, env);
    }
    var migrations = env.client().resources(PgMigration.class).inNamespace(env.namespace());
    migrations.delete();
    try {
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60))
          .until(() -> migrations.list().getItems().isEmpty());
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      // a failed test may have stopped the servers the finalizer needs; do not let that
      // hold up the tests after it (the failure itself is reported already)
      for (var m : migrations.list().getItems()) {
        migrations.withName(m.getMetadata().getName()).edit(x -> {
          x.getMetadata().setFinalizers(java.util.List.of());
          return x;
        });
      }
      if (context.getExecutionException().isEmpty()) {
        throw e;
      }
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    var store = context.getStore(NS);
    var env = store.get("env", Env.class);
    if (env != null) {
      env.stopOperator();
    }
    var kubelet = store.get("kubelet", TestKubelet.class);
    if (kubelet != null) {
      kubelet.close();
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
    return p.getParameter().getType() == Env.class;
  }

  @Override
  public Object resolveParameter(ParameterContext p, ExtensionContext e) {
    return e.getStore(NS).get("env", Env.class);
  }

  private static void printDiagnostics(ExtensionContext context, Env env) {
    var client = env.client();
    System.err.println("=== " + context.getDisplayName() + " failed; namespace " + env.namespace());
    for (var m : client.resources(PgMigration.class).inNamespace(env.namespace()).list().getItems()) {
      System.err.println("--- PgMigration " + m.getMetadata().getName() + " status:");
      System.err.println(client.getKubernetesSerialization().asYaml(m.getStatus()));
    }
    System.err.println("--- events:");
    for (var ev : client.v1().events().inNamespace(env.namespace()).list().getItems()) {
      System.err.println(ev.getType() + " " + ev.getReason() + " " + ev.getInvolvedObject().getName()
          + ": " + ev.getMessage());
    }
  }
}
