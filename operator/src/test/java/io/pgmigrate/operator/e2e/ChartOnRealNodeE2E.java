package io.pgmigrate.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgmigrate.operator.api.Method;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.testing.Contents;
import io.pgmigrate.operator.testing.Fixtures;
import io.pgmigrate.operator.testing.KubeApi;
import io.pgmigrate.operator.testing.Kubectl;
import io.pgmigrate.operator.testing.PostgresPair;
import io.pgmigrate.operator.testing.SharedCluster;
import io.pgmigrate.operator.testing.TestNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The product as a user installs it, on the suite's real node: the operator image (Jib, the
 * same recipe as the published one, on the local JRE base) imported into the node's containerd,
 * installed with the Helm chart into a namespace of its own, both namespaces Pod Security
 * {@code restricted}; the operator in its Pod uses the API server through in-cluster
 * configuration (its ServiceAccount's token, the {@code kubernetes} Service). Migrations with
 * the dump and the continuous method (cut over) to Ready, a failing dump Pod's message in
 * status, a deleted dump Pod leaving no session, then {@code helm uninstall}.
 */
@ExtendWith({PostgresPair.class, SharedCluster.class})
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ChartOnRealNodeE2E {

  static final Path ROOT = Path.of(System.getProperty("pgmigrate.repoRoot", ".."));
  static final Path IMAGE_TAR = Path.of(System.getProperty("pgmigrate.operatorImageTar",
      ROOT.resolve("operator/target/jib-image.tar").toString()));
  /** As the build's test-image execution names it (operator.testImage). */
  static final String IMAGE = System.getProperty("pgmigrate.operatorImage", "pgmigrate-operator:test");
  static final String RELEASE = "pgm";

  static KubeApi api;
  static KubernetesClient client;
  static PostgresPair.Servers pg;
  static String operatorNs;
  static String ns;

  @BeforeAll
  static void installChart(KubeApi kubeApi, TestNode node, PostgresPair.Servers servers)
      throws Exception {
    Assumptions.assumeTrue(TestNode.enabled(), "needs the real test node (-Dpgmigrate.node=real)");
    assertThat(IMAGE_TAR).as("the operator image: mvn verify builds it (jib:buildTar)").exists();
    api = kubeApi;
    client = api.client();
    pg = servers;
    var started = System.nanoTime();
    node.importImage(IMAGE_TAR);
    var suffix = UUID.randomUUID().toString().substring(0, 6);
    operatorNs = "pgmigrate-system-" + suffix;
    ns = "e2e-restricted-" + suffix;
    for (var name : List.of(operatorNs, ns)) {
      client.resource(new NamespaceBuilder().withNewMetadata().withName(name)
          .addToLabels("pod-security.kubernetes.io/enforce", "restricted")
          .addToLabels("pod-security.kubernetes.io/enforce-version", "latest")
          .endMetadata().build()).create();
      client.serviceAccounts().inNamespace(name).withName("default")
          .waitUntilCondition(java.util.Objects::nonNull, 60, TimeUnit.SECONDS);
    }
    var values = Files.createTempFile("e2e-values", ".yaml");
    var repository = IMAGE.substring(0, IMAGE.lastIndexOf(':'));
    var tag = IMAGE.substring(IMAGE.lastIndexOf(':') + 1);
    // crds.install: false, the suite's API server has the build's CRD, which other tests share
    // (ChartCrdUpgradeIT installs it with the chart, on an API server of its own)
    Files.writeString(values, """
        crds: {install: false}
        image: {repository: "%s", tag: "%s", pullPolicy: Never}
        watchNamespaces: ["%s"]
        """.formatted(repository, tag, ns));
    new Helm(ROOT.resolve("helm/pgmigrate-operator")).install()
        .withName(RELEASE).withNamespace(operatorNs).withKubeConfig(api.kubeconfig())
        .withValuesFile(values).waitReady().withTimeout(180).call();
    System.out.printf("ChartOnRealNodeE2E: image imported and chart installed, operator Ready,"
        + " in %.1f s%n", (System.nanoTime() - started) / 1e9);
  }

  @AfterAll
  static void deleteNamespaces() {
    if (client == null) {
      return;
    }
    for (var name : List.of(ns, operatorNs)) {
      var m = client.resources(PgMigration.class).inNamespace(name);
      m.delete();
      client.namespaces().withName(name).delete();
    }
  }

  static Pod operatorPod() {
    var pods = client.pods().inNamespace(operatorNs).list().getItems();
    assertThat(pods).hasSize(1);
    return pods.get(0);
  }

  static PgMigration get(String name) {
    return client.resources(PgMigration.class).inNamespace(ns).withName(name).get();
  }

  static PgMigration awaitPhase(String name, Phase phase, Duration atMost) {
    var m = await().atMost(atMost).pollInterval(Duration.ofMillis(500))
        .until(() -> get(name), x -> x != null && x.getStatus() != null
            && (x.getStatus().getPhase() == phase || x.getStatus().getPhase() == Phase.Failed));
    assertThat(m.getStatus().getPhase()).as(m.getStatus().getMessage()).isEqualTo(phase);
    return m;
  }

  static PgMigration migration(String name, String database, Method method) {
    var m = Fixtures.migration(client, ns, name, pg.source(), pg.target());
    m.getSpec().setMethod(method);
    m.getSpec().setDatabases(List.of(database));
    return m;
  }

  static String kubectl(String... args) {
    var r = Kubectl.run(api, null, args);
    assertThat(r.exitCode()).as(r.output()).isZero();
    return r.output();
  }

  @Test
  @Order(1)
  void theOperatorRunsFromTheLocalImageAs65532WithAReadOnlyRoot() {
    var pod = operatorPod();
    var status = pod.getStatus().getContainerStatuses().get(0);
    assertThat(status.getReady()).isTrue();
    assertThat(status.getImage()).isEqualTo("docker.io/library/" + IMAGE);
    assertThat(pod.getSpec().getContainers().get(0).getImagePullPolicy()).isEqualTo("Never");
    var out = kubectl("-n", operatorNs, "exec", pod.getMetadata().getName(), "--",
        "bash", "-c", "id -u; touch /probe 2>&1; ls /app");
    assertThat(out).startsWith("65532\n").contains("Read-only file system").contains("libs");
    assertThat(kubectl("-n", operatorNs, "logs", pod.getMetadata().getName())).isNotBlank();
  }

  @Test
  @Order(2)
  void dumpMigrationToReadyInARestrictedNamespace() {
    pg.source().execute("postgres", "create database e2e_dump");
    pg.source().execute("e2e_dump", "create table t (id int primary key, v text)",
        "insert into t select g, md5(g::text) from generate_series(1, 5000) g");
    client.resource(migration("dump", "e2e_dump", Method.DUMP)).create();
    var ready = awaitPhase("dump", Phase.Ready, Duration.ofMinutes(5));
    assertThat(Contents.tables(pg.target(), "e2e_dump"))
        .isEqualTo(Contents.tables(pg.source(), "e2e_dump")).isNotEmpty();

    var name = ready.getStatus().getDatabases().get(0).getPod();
    var pod = client.pods().inNamespace(ns).withName(name).get();
    assertThat(pod.getStatus().getPhase()).isEqualTo("Succeeded");
    assertThat(pod.getSpec().getNodeName()).isEqualTo(TestNode.IP);
    var container = pod.getSpec().getContainers().get(0);
    assertThat(container.getImage()).isEqualTo("postgres:15");
    assertThat(pod.getStatus().getContainerStatuses().get(0).getImage())
        .isEqualTo("docker.io/library/postgres:15");
    assertThat(pod.getSpec().getSecurityContext().getRunAsUser()).isEqualTo(999L);
    assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(kubectl("-n", ns, "logs", name)).isNotBlank();
  }

  @Test
  @Order(3)
  void aFailingDumpPodsTerminationMessageShowsInStatus() {
    // the target has a table of that name already: a warning of the pre-flight checks
    // (target.emptyDatabases), and pg_restore's error in the Pod
    pg.source().execute("postgres", "create database e2e_conflict");
    pg.source().execute("e2e_conflict", "create table items (id int primary key)");
    pg.target().execute("postgres", "create database e2e_conflict");
    pg.target().execute("e2e_conflict", "create table items (other text)");
    client.resource(migration("conflict", "e2e_conflict", Method.DUMP)).create();
    var failed = await().atMost(Duration.ofMinutes(4)).until(() -> get("conflict"),
        x -> x.getStatus() != null && x.getStatus().getPhase() == Phase.Failed);
    assertThat(failed.getStatus().getMessage()).contains("relation \"items\" already exists");
    var pod = client.pods().inNamespace(ns)
        .withName(failed.getStatus().getDatabases().get(0).getPod()).get();
    var terminated = pod.getStatus().getContainerStatuses().get(0).getState().getTerminated();
    assertThat(terminated.getExitCode()).isNotZero();
    assertThat(terminated.getMessage()).contains("relation \"items\" already exists");
  }

  @Test
  @Order(4)
  void aDeletedDumpPodLeavesNoSessionOnEitherServer() throws Exception {
    pg.source().execute("postgres", "create database e2e_blocked");
    pg.source().execute("e2e_blocked", "create table held (id int primary key)");
    // a backend waiting for a lock notices that its client went only with this set (else it
    // waits on until it gets the lock, whatever the client did)
    pg.source().execute("postgres",
        "alter database e2e_blocked set client_connection_check_interval = '200ms'");
    var m = migration("blocked", "e2e_blocked", Method.DUMP);
    // an open transaction holds an exclusive lock: the dump waits for it inside the Pod
    try (Connection lock = pg.source().connect("e2e_blocked")) {
      lock.setAutoCommit(false);
      lock.createStatement().execute("lock table held in access exclusive mode");
      client.resource(m).create();
      var pod = await().atMost(Duration.ofMinutes(2)).until(() -> {
        var pods = client.pods().inNamespace(ns).list().getItems().stream()
            .filter(p -> p.getMetadata().getName().startsWith("blocked-")
                && p.getStatus() != null && "Running".equals(p.getStatus().getPhase()))
            .toList();
        return pods.isEmpty() ? null : pods.get(0);
      }, x -> x != null);
      var name = pod.getMetadata().getName();
      // connected and waiting for the lock (pg_dump, or the session holding the snapshot)
      await().atMost(Duration.ofSeconds(30)).until(() -> !Contents.query(pg.source(), "postgres",
          "select count(*)::text, '' from pg_stat_activity where application_name in"
              + " ('pgmigrate-dump', 'pgmigrate-snapshot') and wait_event_type = 'Lock'")
          .containsKey("0"));
      // the running dump Pod: uid 999, read-only root
      var out = kubectl("-n", ns, "exec", name, "--", "bash", "-c", "id -u; touch /probe 2>&1; true");
      assertThat(out).startsWith("999\n").contains("Read-only file system");

      var ip = pod.getStatus().getPodIP();
      var before = Contents.query(pg.source(), "postgres", "select now()::text, ''")
          .keySet().iterator().next();
      // the deleted Pod's sessions (a new attempt's Pod may get its address again)
      var fromPod = "select count(*)::text, '' from pg_stat_activity where client_addr = '"
          + ip + "' and backend_start < '" + before + "'";
      assertThat(Contents.query(pg.source(), "postgres", fromPod)).doesNotContainKey("0");
      var deleted = System.nanoTime();
      client.pods().inNamespace(ns).withName(name).delete();
      await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).until(() ->
          Contents.query(pg.source(), "postgres", fromPod).containsKey("0")
              && Contents.query(pg.target(), "postgres", fromPod).containsKey("0"));
      System.out.printf("ChartOnRealNodeE2E: dump Pod deleted while it ran: no session of it"
          + " left after %.1f s%n", (System.nanoTime() - deleted) / 1e9);
      lock.rollback();
    }
    client.resources(PgMigration.class).inNamespace(ns).withName("blocked").delete();
    await().atMost(Duration.ofMinutes(1)).until(() -> get("blocked") == null);
  }

  @Test
  @Order(5)
  void continuousMigrationCutsOverToReady() {
    pg.source().execute("postgres", "create database e2e_cont");
    pg.source().execute("e2e_cont", "create table t (id bigserial primary key, v text)",
        "insert into t (v) select md5(g::text) from generate_series(1, 5000) g");
    client.resource(migration("cont", "e2e_cont", Method.CONTINUOUS)).create();
    awaitPhase("cont", Phase.Syncing, Duration.ofMinutes(5));
    pg.source().execute("e2e_cont", "insert into t (v) select 'after' || g from generate_series(1, 100) g");
    Fixtures.mergePatch(client, ns, "cont", "{\"spec\":{\"keepReplicating\":false}}");
    awaitPhase("cont", Phase.Ready, Duration.ofMinutes(3));
    assertThat(Contents.tables(pg.target(), "e2e_cont"))
        .isEqualTo(Contents.tables(pg.source(), "e2e_cont"));
    assertThat(Contents.sequences(pg.target(), "e2e_cont"))
        .isEqualTo(Contents.sequences(pg.source(), "e2e_cont"));
  }

  @Test
  @Order(6)
  void helmUninstallLeavesNoPodOfOurs() {
    // the operator removes its migrations (finalizers) before it goes
    client.resources(PgMigration.class).inNamespace(ns).delete();
    await().atMost(Duration.ofMinutes(1))
        .until(() -> client.resources(PgMigration.class).inNamespace(ns).list().getItems().isEmpty());
    Helm.uninstall(RELEASE).withNamespace(operatorNs).withKubeConfig(api.kubeconfig()).call();
    await().atMost(Duration.ofMinutes(1)).until(() ->
        client.pods().inNamespace(operatorNs).list().getItems().isEmpty()
            && client.pods().inNamespace(ns).list().getItems().isEmpty());
    assertThat(client.rbac().roles().inNamespace(ns).list().getItems()).isEmpty();
    assertThat(Contents.query(pg.source(), "postgres",
        "select count(*)::text, '' from pg_stat_activity where datname like 'e2e\\_%'"))
        .containsOnlyKeys("0");
  }
}
