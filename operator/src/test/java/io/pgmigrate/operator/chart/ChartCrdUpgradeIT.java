package io.pgmigrate.operator.chart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.UpgradeCommand;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaPropsBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.pgmigrate.operator.PgMigrateOperator;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.api.UnknownFields;
import io.pgmigrate.operator.postgres.Timeouts;
import io.pgmigrate.operator.build.CrdPublisher;
import io.pgmigrate.operator.testing.KubeApi;
import io.pgmigrate.operator.testing.Kubectl;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CRD's life with Helm, on a real API server of its own (the suite's shared one keeps the
 * build's CRD for the other tests): a release of chart 0.1.0 (CRD in crds/, which Helm never
 * upgrades) taken over by this chart after the README's one-time commands; a field that a newer
 * chart adds to the CRD pruned before {@code helm upgrade} and kept after it; {@code helm
 * uninstall} leaving the CRD and every PgMigration; a new install taking the kept CRD back; a
 * second release with {@code crds.install=false}; turning it off keeping the CRD.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ChartCrdUpgradeIT {

  static final Path ROOT = Path.of(System.getProperty("pgmigrate.repoRoot", ".."));
  static final Path CHART = ROOT.resolve("helm/pgmigrate-operator");
  static final String CRD = "pgmigrations.pgmigrate.io";
  /** As in the README's commands. */
  static final String RELEASE = "pgmigrate";
  static final String NS = "pgmigrate-system";
  static final String APP_NS = "shop";
  static final KubernetesSerialization YAML = new KubernetesSerialization();

  @TempDir static Path charts;
  static KubeApi api;
  static KubernetesClient client;
  static long started;

  @BeforeAll
  static void startApiServer() {
    started = System.nanoTime();
    api = KubeApi.startWithoutCrd();
    client = api.client();
  }

  @AfterAll
  static void stopApiServer() {
    if (api != null) {
      System.out.printf("ChartCrdUpgradeIT: own API server and nine helm installs, upgrades"
          + " and uninstalls in %.1f s%n", (System.nanoTime() - started) / 1e9);
      api.close();
    }
  }

  @Test
  @Order(1)
  void aReleaseOfChart010TakesItsCrdOverAfterTheReadmesLabelAndAnnotations() throws Exception {
    new Helm(oldChart()).install().withName(RELEASE).withNamespace(NS).createNamespace()
        .withKubeConfig(api.kubeconfig()).set("replicas", 0).call();
    assertThat(crd().getMetadata().getAnnotations()).doesNotContainKey("meta.helm.sh/release-name");
    kubectl("create", "namespace", APP_NS);
    kubectlWith(migration("from-010", ""), "apply", "-n", APP_NS, "-f", "-");
    // what the README told users of 0.1.0 to do before each upgrade (Helm created the CRD:
    // its field manager owns spec.versions, hence the forced conflicts)
    kubectl("apply", "--server-side", "--force-conflicts", "-f", ROOT.resolve("crds").toString());

    assertThatThrownBy(() -> upgrade(CHART).call())
        .hasMessageContaining("invalid ownership metadata")
        .hasMessageContaining("meta.helm.sh/release-name");
    for (var command : readmeCommands("kubectl label crd ", "kubectl annotate crd ")) {
      kubectl(command);
    }
    assertThat(upgrade(CHART).call().getChart()).isEqualTo("pgmigrate-operator-0.2.0");
    assertThat(crd().getMetadata().getAnnotations())
        .containsEntry("helm.sh/resource-policy", "keep")
        .containsEntry("meta.helm.sh/release-name", RELEASE);
    assertThat(migrations()).containsExactly("from-010");
  }

  @Test
  @Order(2)
  void aFieldTheNewChartAddsIsPrunedBeforeHelmUpgradeAndKeptAfter() throws Exception {
    var withField = migration("before", "  newField: hello\n");
    // kubectl's default (strict field validation) refuses it; without validation it is pruned
    var refused = Kubectl.run(api, withField, "apply", "-n", APP_NS, "-f", "-");
    assertThat(refused.exitCode()).isNotZero();
    assertThat(refused.output()).contains("unknown field \"spec.newField\"");
    kubectlWith(withField, "apply", "--validate=false", "-n", APP_NS, "-f", "-");
    assertThat(newField("before")).isEmpty();

    assertThat(upgrade(chartWithNewField()).call().getChart())
        .isEqualTo("pgmigrate-operator-0.3.0");
    // the API server takes a moment to serve the new schema
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() ->
        Kubectl.run(api, migration("after", "  newField: hello\n"), "apply", "-n", APP_NS,
            "-f", "-").exitCode() == 0);
    assertThat(newField("after")).isEqualTo("hello");
    kubectlWith(withField, "apply", "-n", APP_NS, "-f", "-");
    assertThat(newField("before")).isEqualTo("hello");
  }

  /**
   * This operator under the newer CRD (a rollback, or an operator older than the chart): the
   * migrations with the field it does not know are read and left alone with a condition naming
   * it; the informer keeps working, so the migration without it is reconciled as usual.
   */
  @Test
  @Order(3)
  void anOperatorOlderThanTheCrdNamesTheFieldItDoesNotKnowAndLeavesThatMigrationAlone() {
    try (var operatorClient = new KubernetesClientBuilder().withConfig(client.getConfiguration())
            .withKubernetesSerialization(UnknownFields.serialization()).build()) {
      var operator = PgMigrateOperator.create(operatorClient, Set.of(APP_NS), Timeouts.DEFAULT);
      operator.start();
      try {
        var migrations = operatorClient.resources(PgMigration.class).inNamespace(APP_NS);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).untilAsserted(
            () -> {
              for (var name : List.of("before", "after")) {
                var m = migrations.withName(name).get();
                assertThat(m.unknownSpecFields()).containsExactly("spec.newField");
                assertThat(m.getStatus()).as(name).isNotNull();
                assertThat(m.getStatus().getPhase()).as(name).isNull();
                assertThat(m.getStatus().getConditions()).as(name)
                    .anySatisfy(c -> {
                      assertThat(c.getType()).isEqualTo("ReconcileError");
                      assertThat(c.getReason()).isEqualTo("UnknownSpecFields");
                      assertThat(c.getMessage()).contains("spec.newField")
                          .contains("upgraded or the fields are removed");
                    });
              }
              // no Secrets in this namespace: the usual path ends in Failed validation
              assertThat(migrations.withName("from-010").get().getStatus().getPhase())
                  .isEqualTo(Phase.Failed);
            });
      } finally {
        operator.stop();
      }
    }
  }

  @Test
  @Order(4)
  void helmUninstallKeepsTheCrdAndEveryPgMigration() {
    var out = Helm.uninstall(RELEASE).withNamespace(NS).withKubeConfig(api.kubeconfig()).call();
    assertThat(out).contains("kept due to the resource policy").contains(CRD);
    assertThat(client.apps().deployments().inNamespace(NS).list().getItems()).isEmpty();
    assertThat(crd().getMetadata().getDeletionTimestamp()).isNull();
    assertThat(migrations()).containsExactlyInAnyOrder("from-010", "before", "after");
    assertThat(newField("after")).isEqualTo("hello");
  }

  @Test
  @Order(5)
  void aNewInstallTakesTheKeptCrdBackASecondReleaseAndTurningItOffLeaveItAlone() {
    new Helm(CHART).install().withName(RELEASE).withNamespace(NS)
        .withKubeConfig(api.kubeconfig()).set("replicas", 0).call();
    assertThat(crd().getMetadata().getLabels()).containsEntry("helm.sh/chart",
        "pgmigrate-operator-0.2.0");
    assertThat(migrations()).hasSize(3);
    // another release in the cluster (watchNamespaces per team): the CRD is the first one's
    var second = new Helm(CHART).install().withName("team-b").withNamespace("team-b")
        .createNamespace().withKubeConfig(api.kubeconfig()).set("replicas", 0)
        .set("watchNamespaces[0]", "team-b");
    assertThatThrownBy(second::call).hasMessageContaining("invalid ownership metadata");
    second.set("crds.install", false).call();
    assertThat(crd().getMetadata().getAnnotations())
        .containsEntry("meta.helm.sh/release-name", RELEASE);
    // turned off on the release that has it: keep holds on an upgrade too
    upgrade(CHART).set("crds.install", false).call();
    assertThat(crd().getMetadata().getDeletionTimestamp()).isNull();
    assertThat(migrations()).hasSize(3);
  }

  static UpgradeCommand upgrade(Path chart) {
    // --reuse-values, as the README's upgrade: a 0.1.0 release's values have no crds key
    return new Helm(chart).upgrade().withName(RELEASE).withNamespace(NS)
        .withKubeConfig(api.kubeconfig()).reuseValues();
  }

  static CustomResourceDefinition crd() {
    return client.apiextensions().v1().customResourceDefinitions().withName(CRD).get();
  }

  /** Their names, read as generic objects: this version's classes know no newField. */
  static List<String> migrations() {
    return client.genericKubernetesResources(PgMigration.GROUP + "/" + PgMigration.VERSION,
            "PgMigration").inNamespace(APP_NS).list().getItems().stream()
        .map(m -> m.getMetadata().getName()).toList();
  }

  static String migration(String name, String extraSpec) {
    return """
        apiVersion: pgmigrate.io/v1alpha1
        kind: PgMigration
        metadata: {name: %s}
        spec:
          source: {host: legacy.example.com, credentialsSecret: {name: src}}
          target: {host: new.example.com, credentialsSecret: {name: dst}}
        %s""".formatted(name, extraSpec);
  }

  static String newField(String name) {
    return kubectl("get", "pgmigration", name, "-n", APP_NS, "-o", "jsonpath={.spec.newField}");
  }

  static String kubectl(String... args) {
    return kubectlWith(null, args);
  }

  static String kubectlWith(String stdin, String... args) {
    var r = Kubectl.run(api, stdin, args);
    assertThat(r.exitCode()).as("kubectl %s: %s", String.join(" ", args), r.output()).isZero();
    return r.output();
  }

  /** The README's commands that start so, as kubectl arguments (one of each). */
  static List<String[]> readmeCommands(String... prefixes) throws IOException {
    var lines = Files.readAllLines(ROOT.resolve("README.md"));
    return Arrays.stream(prefixes).map(prefix -> {
      var matching = lines.stream().filter(l -> l.startsWith(prefix)).toList();
      assertThat(matching).as("README lines starting with %s", prefix).hasSize(1);
      var words = matching.get(0).split("\\s+");
      return Arrays.copyOfRange(words, 1, words.length);
    }).toList();
  }

  /** The chart as 0.1.0 shipped it: the CRD in crds/, no template of it, no crds value. */
  static Path oldChart() throws IOException {
    var chart = copy(charts.resolve("0.1.0"), "0.1.0");
    Files.createDirectories(chart.resolve("crds"));
    Files.move(chart.resolve("files/crds").resolve(CrdPublisher.FILE),
        chart.resolve("crds").resolve(CrdPublisher.FILE));
    Files.delete(chart.resolve("templates/crd.yaml"));
    replace(chart.resolve("values.yaml"), "crds:\n  install: true\n", "");
    return chart;
  }

  /** This chart as a newer version whose CRD has one more field in spec. */
  static Path chartWithNewField() throws IOException {
    var chart = copy(charts.resolve("0.3.0"), "0.3.0");
    var file = chart.resolve("files/crds").resolve(CrdPublisher.FILE);
    var crd = YAML.unmarshal(Files.readString(file), CustomResourceDefinition.class);
    crd.getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema().getProperties()
        .get("spec").getProperties().put("newField", new JSONSchemaPropsBuilder()
            .withType("string").withDescription("A field of chart 0.3.0.").build());
    Files.writeString(file, YAML.asYaml(crd));
    return chart;
  }

  static Path copy(Path to, String version) throws IOException {
    try (var files = Files.walk(CHART)) {
      for (var f : files.toList()) {
        Files.copy(f, to.resolve(CHART.relativize(f).toString()));
      }
    }
    replace(to.resolve("Chart.yaml"), "\nversion: 0.2.0\n", "\nversion: " + version + "\n");
    return to;
  }

  static void replace(Path file, String from, String to) throws IOException {
    var text = Files.readString(file);
    assertThat(text).as(file.toString()).contains(from);
    Files.writeString(file, text.replace(from, to));
  }
}
