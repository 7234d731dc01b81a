package io.pgmigrate.operator.chart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.pgmigrate.operator.build.CrdPublisher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The Helm chart, linted and rendered with helm itself (helm-java, offline). */
public class HelmChartTest {

  static final Path CHART =
      Path.of(System.getProperty("pgmigrate.repoRoot", ".."), "helm", "pgmigrate-operator");

  /** Every rule the operator needs, and nothing else. */
  static final Map<String, String> EXPECTED_RULES = new TreeMap<>(Map.of(
      "pgmigrate.io/pgmigrations", "get,list,patch,update,watch",
      "pgmigrate.io/pgmigrations/status", "patch",
      "/pods", "create,delete,deletecollection,get,list,watch",
      "/secrets", "create,get,patch",
      "/events", "create"));

  static List<HasMetadata> render(Map<String, Object> values) {
    return render(values, null);
  }

  static List<HasMetadata> render(Map<String, Object> values, String valuesYaml) {
    return render("operators", values, valuesYaml);
  }

  /** The chart as helm template renders it into a release namespace. */
  @SuppressWarnings("unchecked")
  public static List<HasMetadata> render(String releaseNamespace, Map<String, Object> values,
      String valuesYaml) {
    var template = new Helm(CHART).template().withName("pgm").withNamespace(releaseNamespace);
    values.forEach(template::set);
    if (valuesYaml != null) {
      try {
        var file = java.nio.file.Files.createTempFile("values", ".yaml");
        java.nio.file.Files.writeString(file, valuesYaml);
        file.toFile().deleteOnExit();
        template.withValuesFile(file);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
    Object parsed = new KubernetesSerialization().unmarshal(template.call());
    return parsed instanceof List<?> list ? (List<HasMetadata>) list : List.of((HasMetadata) parsed);
  }

  static Map<String, String> rules(List<PolicyRule> rules) {
    var result = new TreeMap<String, String>();
    for (var r : rules) {
      for (var group : r.getApiGroups()) {
        for (var resource : r.getResources()) {
          result.put(group + "/" + resource,
              r.getVerbs().stream().sorted().collect(Collectors.joining(",")));
        }
      }
    }
    return result;
  }

  @Test
  void lintsCleanly() {
    var result = new Helm(CHART).lint().strict().call();
    assertThat(result.isFailed()).as(String.join("\n", result.getMessages())).isFalse();
  }

  @Test
  void clusterWideRbacGrantsExactlyWhatTheOperatorCalls() {
    var objects = render(Map.of());
    var clusterRole = objects.stream().filter(ClusterRole.class::isInstance)
        .map(ClusterRole.class::cast)
        .filter(r -> r.getMetadata().getName().equals("pgm-pgmigrate-operator")).findFirst()
        .orElseThrow();
    assertThat(rules(clusterRole.getRules())).isEqualTo(EXPECTED_RULES);
    assertThat(clusterRole.getRules()).allSatisfy(r -> {
      assertThat(r.getVerbs()).doesNotContain("*");
      assertThat(r.getResources()).doesNotContain("*");
    });
    assertThat(objects).filteredOn(Role.class::isInstance).extracting(o -> o.getMetadata().getName())
        .containsExactly("pgm-pgmigrate-operator-leader-election");
    assertThat(objects).extracting(HasMetadata::getKind)
        .contains("ServiceAccount", "ClusterRoleBinding", "Deployment", "Service",
            "CustomResourceDefinition")
        .doesNotContain("ServiceMonitor", "PrometheusRule", "ConfigMap");
  }

  /**
   * The CRD is a template (helm upgrade upgrades it; crds/ is installed once, never upgraded),
   * exactly the generated one, kept by helm uninstall and not pruned by Argo CD.
   */
  @Test
  void theCrdIsATemplateEqualToTheGeneratedOneAndKept() throws Exception {
    assertThat(CHART.resolve("crds")).as("Helm never upgrades a chart's crds/ directory")
        .doesNotExist();
    var serialization = new KubernetesSerialization();
    var generated = serialization.unmarshal(Files.readString(CHART.resolve("../../crds")
        .resolve(CrdPublisher.FILE).normalize()), CustomResourceDefinition.class);
    var crd = render(Map.of()).stream().filter(CustomResourceDefinition.class::isInstance)
        .map(CustomResourceDefinition.class::cast).toList();
    assertThat(crd).singleElement().satisfies(c -> {
      assertThat(c.getMetadata().getName()).isEqualTo("pgmigrations.pgmigrate.io");
      // fromYaml/toYaml in the template changes no field of the schema (only the order of
      // keys in the defaults' maps, which JSON objects do not have)
      assertThat(tree(serialization, c.getSpec()))
          .isEqualTo(tree(serialization, generated.getSpec()));
      assertThat(c.getMetadata().getAnnotations())
          .containsEntry("helm.sh/resource-policy", "keep")
          .containsEntry("argocd.argoproj.io/sync-options", "Prune=false");
      assertThat(c.getMetadata().getLabels())
          .containsEntry("app.kubernetes.io/managed-by", "Helm")
          .containsEntry("app.kubernetes.io/instance", "pgm");
    });
    assertThat(render(Map.of("crds.install", "false")))
        .noneMatch(CustomResourceDefinition.class::isInstance)
        .anyMatch(Deployment.class::isInstance);
  }

  @Test
  void watchedNamespacesGetARoleEachAndNoClusterRole() {
    var objects = render(Map.of(), "watchNamespaces: [team-a, team-b]\n");
    var roles = objects.stream().filter(Role.class::isInstance).map(Role.class::cast)
        .filter(r -> !r.getMetadata().getName().endsWith("-leader-election")).toList();
    assertThat(roles).extracting(r -> r.getMetadata().getNamespace())
        .containsExactlyInAnyOrder("team-a", "team-b");
    assertThat(roles).allSatisfy(r -> assertThat(rules(r.getRules())).isEqualTo(EXPECTED_RULES));
    // only the aggregated roles for the namespaces' users are cluster-wide, none for the operator
    assertThat(objects).filteredOn(ClusterRole.class::isInstance)
        .extracting(o -> o.getMetadata().getName())
        .containsExactlyInAnyOrder("pgm-pgmigrate-operator-view", "pgm-pgmigrate-operator-edit");
    var env = deployment(objects).getSpec().getTemplate().getSpec().getContainers().get(0).getEnv();
    assertThat(env).anySatisfy(e -> assertThat(e.getName() + "=" + e.getValue())
        .isEqualTo("WATCH_NAMESPACES=team-a,team-b"));
  }

  /** Always: a rolling update runs two operators for a while, even at one replica. */
  @Test
  void leaderElectionIsOnAtAnyNumberOfReplicasWithItsLeaseRule() {
    var objects = render(Map.of());
    var lease = objects.stream().filter(Role.class::isInstance).map(Role.class::cast)
        .filter(r -> r.getMetadata().getName().endsWith("-leader-election")).findFirst()
        .orElseThrow();
    assertThat(rules(lease.getRules())).containsExactly(
        Map.entry("coordination.k8s.io/leases", "create,get,update"));
    var env = deployment(objects).getSpec().getTemplate().getSpec().getContainers().get(0).getEnv();
    assertThat(env).anySatisfy(e -> assertThat(e.getName()).isEqualTo("LEADER_ELECTION_NAMESPACE"));
  }

  @Test
  void theSchemaRefusesWrongTypesValuesAndUnknownKeys() {
    var wrong = Map.<String, Object>ofEntries(
        Map.entry("replicas", "two"),
        Map.entry("logFormat", "JSON"),
        Map.entry("image.pullPolicy", "Sometimes"),
        Map.entry("replica", "2"),
        Map.entry("httpPort", "99999"),
        Map.entry("crds.install", "yes"),
        Map.entry("metrics.prometheusRule.sourceWalRetainedRatio", "lots"),
        Map.entry("metrics.prometheusRule.replicationLagFor", "10 minutes"),
        Map.entry("metrics.prometheusRule.stuckAfterSeconds", "6h"),
        Map.entry("metrics.prometheusRule.runbookBaseUrl", "docs/runbooks.md"),
        Map.entry("metrics.grafanaDashboard.label", "x"));
    wrong.forEach((key, value) -> assertThatThrownBy(() -> render(Map.of(key, value)))
        .as(key + "=" + value)
        .hasMessageContaining("values don't meet the specifications of the schema"));
  }

  @Test
  void whatAPlatformTeamSetsReachesTheDeployment() {
    var objects = render(Map.of(), """
        fullnameOverride: migrations
        imagePullSecrets: [{name: corp-registry}]
        priorityClassName: platform-high
        extraEnv: [{name: JAVA_TOOL_OPTIONS, value: "-XX:+UseSerialGC"}]
        podLabels: {team: data}
        topologySpreadConstraints:
          - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway}
        # OpenShift: the namespace's SCC assigns the UID
        podSecurityContext: {runAsNonRoot: true, runAsUser: null, runAsGroup: null}
        """);
    var d = deployment(objects);
    assertThat(d.getMetadata().getName()).isEqualTo("migrations");
    var pod = d.getSpec().getTemplate().getSpec();
    assertThat(pod.getServiceAccountName()).isEqualTo("migrations");
    assertThat(pod.getImagePullSecrets()).extracting(r -> r.getName()).containsExactly("corp-registry");
    assertThat(pod.getPriorityClassName()).isEqualTo("platform-high");
    assertThat(pod.getTopologySpreadConstraints()).singleElement()
        .satisfies(t -> assertThat(t.getTopologyKey()).isEqualTo("kubernetes.io/hostname"));
    assertThat(pod.getSecurityContext().getRunAsUser()).isNull();
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(d.getSpec().getTemplate().getMetadata().getLabels()).containsEntry("team", "data")
        .containsEntry("app.kubernetes.io/instance", "pgm");
    assertThat(pod.getContainers().get(0).getEnv()).anySatisfy(e ->
        assertThat(e.getName() + "=" + e.getValue()).isEqualTo("JAVA_TOOL_OPTIONS=-XX:+UseSerialGC"));
    assertThat(objects).extracting(o -> o.getMetadata().getName()).contains("migrations",
        "migrations-leader-election", "migrations-view", "migrations-edit");
  }

  @Test
  void namespaceUsersGetPgMigrationsThroughTheBuiltInRoles() {
    var roles = render(Map.of()).stream().filter(ClusterRole.class::isInstance)
        .map(ClusterRole.class::cast).collect(Collectors.toMap(r -> r.getMetadata().getName(),
            r -> r));
    var view = roles.get("pgm-pgmigrate-operator-view");
    assertThat(view.getMetadata().getLabels())
        .containsEntry("rbac.authorization.k8s.io/aggregate-to-view", "true");
    assertThat(rules(view.getRules())).containsOnly(
        Map.entry("pgmigrate.io/pgmigrations", "get,list,watch"),
        Map.entry("pgmigrate.io/pgmigrations/status", "get,list,watch"));
    var edit = roles.get("pgm-pgmigrate-operator-edit");
    assertThat(edit.getMetadata().getLabels())
        .containsEntry("rbac.authorization.k8s.io/aggregate-to-edit", "true")
        .containsEntry("rbac.authorization.k8s.io/aggregate-to-admin", "true");
    assertThat(rules(edit.getRules())).containsOnly(Map.entry("pgmigrate.io/pgmigrations",
        "create,delete,deletecollection,get,list,patch,update,watch"));
    assertThat(render(Map.of("rbac.aggregateToDefaultRoles", "false")))
        .noneMatch(o -> o.getMetadata().getName().endsWith("-view"));
  }

  @Test
  void deploymentIsRestrictedAndProbed() {
    var d = deployment(render(Map.of("logFormat", "json")));
    var pod = d.getSpec().getTemplate().getSpec();
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    assertThat(pod.getServiceAccountName()).isEqualTo("pgm-pgmigrate-operator");
    var c = pod.getContainers().get(0);
    assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    assertThat(c.getResources().getLimits()).containsKey("memory");
    assertThat(c.getEnv()).anySatisfy(e -> assertThat(e.getName() + "=" + e.getValue())
        .isEqualTo("LOG_FORMAT=json"));
  }

  @Test
  void serviceMonitorIsOptional() {
    var objects = render(Map.of("metrics.serviceMonitor.enabled", "true"));
    assertThat(objects).extracting(HasMetadata::getKind).contains("ServiceMonitor");
  }

  static JsonNode tree(KubernetesSerialization serialization, Object value) {
    try {
      return new ObjectMapper().readTree(serialization.asJson(value));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static Deployment deployment(List<HasMetadata> objects) {
    return objects.stream().filter(Deployment.class::isInstance).map(Deployment.class::cast)
        .findFirst().orElseThrow();
  }
}
