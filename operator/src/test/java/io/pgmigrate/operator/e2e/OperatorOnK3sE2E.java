package io.pgmigrate.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

/**
 * The whole product on a real cluster: K3s in a container, the operator image the build makes
 * (Jib, {@code target/jib-image.tar}, as for {@link ChartOnRealNodeE2E}) installed with the Helm
 * chart, two PostgreSQL Pods, and a dump migration
 * between them to Ready. Needs a Docker engine; where there is none it is skipped and says so.
 */
class OperatorOnK3sE2E {

  static final Path ROOT = Path.of(System.getProperty("pgmigrate.repoRoot", ".."));

  static final String POSTGRES = """
      apiVersion: v1
      kind: Secret
      metadata: {name: %1$s-credentials}
      stringData: {username: postgres, password: e2e-%1$s-pw}
      ---
      apiVersion: v1
      kind: Pod
      metadata: {name: %1$s, labels: {app: %1$s}}
      spec:
        containers:
          - name: postgres
            image: postgres:16
            args: ["-c", "wal_level=logical"]
            env:
              - {name: POSTGRES_PASSWORD, value: e2e-%1$s-pw}
            readinessProbe:
              exec: {command: ["pg_isready", "-U", "postgres"]}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: %1$s}
      spec:
        selector: {app: %1$s}
        ports: [{port: 5432}]
      """;

  @Test
  void installsWithHelmAndMigratesBetweenTwoPostgresPods() throws Exception {
    var docker = DockerClientFactory.instance().isDockerAvailable();
    var reason = "skipped: no Docker engine on this machine; this end-to-end test on K3s"
        + " (Testcontainers) runs wherever one is available";
    if (!docker) {
      System.out.println("OperatorOnK3sE2E " + reason);
    }
    Assumptions.assumeTrue(docker, reason);
    var image = ChartOnRealNodeE2E.IMAGE;
    try (var k3s = new K3sContainer(DockerImageName.parse("rancher/k3s:v1.31.4-k3s1"))) {
      k3s.start();
      // hand the locally built image to K3s's containerd
      k3s.copyFileToContainer(MountableFile.forHostPath(ChartOnRealNodeE2E.IMAGE_TAR),
          "/tmp/operator.tar");
      k3s.execInContainer("ctr", "-n", "k8s.io", "images", "import", "/tmp/operator.tar");

      var kubeconfig = Files.createTempFile("k3s", ".yaml");
      Files.writeString(kubeconfig, k3s.getKubeConfigYaml());
      try (var client = new KubernetesClientBuilder()
          .withConfig(Config.fromKubeconfig(k3s.getKubeConfigYaml())).build()) {
        client.resource(new NamespaceBuilder().withNewMetadata().withName("pgmigrate-system")
            .endMetadata().build()).create();
        new Helm(ROOT.resolve("helm/pgmigrate-operator")).install()
            .withName("pgmigrate").withNamespace("pgmigrate-system")
            .withKubeConfig(kubeconfig)
            .set("image.repository", image.substring(0, image.lastIndexOf(':')))
            .set("image.tag", image.substring(image.lastIndexOf(':') + 1))
            .set("image.pullPolicy", "Never")
            .waitReady()
            .call();
        for (var name : new String[] {"source", "target"}) {
          client.load(new java.io.ByteArrayInputStream(POSTGRES.formatted(name).getBytes()))
              .inNamespace("default").serverSideApply();
        }
        await().atMost(Duration.ofMinutes(5)).until(() -> client.pods().inNamespace("default")
            .list().getItems().stream().filter(p -> p.getStatus().getContainerStatuses() != null)
            .filter(p -> p.getStatus().getContainerStatuses().stream().allMatch(c -> c.getReady()))
            .count() == 2);
        client.pods().inNamespace("default").withName("source").inContainer("postgres")
            .exec("psql", "-U", "postgres", "-c", "create database shop");
        client.pods().inNamespace("default").withName("source").inContainer("postgres")
            .exec("psql", "-U", "postgres", "-d", "shop", "-c",
                "create table t (id int primary key); insert into t select generate_series(1,1000)");
        client.load(new java.io.ByteArrayInputStream("""
            apiVersion: pgmigrate.io/v1alpha1
            kind: PgMigration
            metadata: {name: e2e}
            spec:
              method: dump
              source: {host: source.default.svc, sslMode: disable, credentialsSecret: {name: source-credentials}}
              target: {host: target.default.svc, sslMode: disable, credentialsSecret: {name: target-credentials}}
              databases: [shop]
            """.getBytes())).inNamespace("default").serverSideApply();
        var done = await().atMost(Duration.ofMinutes(10)).until(
            () -> client.resources(PgMigration.class).inNamespace("default").withName("e2e").get(),
            m -> m.getStatus() != null && (m.getStatus().getPhase() == Phase.Ready
                || m.getStatus().getPhase() == Phase.Failed));
        assertThat(done.getStatus().getPhase()).as(done.getStatus().getMessage())
            .isEqualTo(Phase.Ready);
      }
    }
  }
}
