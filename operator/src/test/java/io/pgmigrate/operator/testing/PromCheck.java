package io.pgmigrate.operator.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * tools/prom-check (Prometheus's rule loader, PromQL parser, rule evaluation and TSDB) run on what
 * the chart ships: its PrometheusRule and its Grafana dashboard, as {@code helm template}
 * renders them.
 */
public final class PromCheck {

  static final Path CHART = GoTools.REPO.resolve("helm/pgmigrate-operator");
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What a run printed, and how it ended. */
  public record Run(int exitCode, String out, String err) {

    /** The JSON it printed; the run must have succeeded. */
    public JsonNode json() throws IOException {
      assertThat(exitCode).as("prom-check failed: %s", err).isZero();
      return JSON.readTree(out);
    }
  }

  /** The chart's monitoring as rendered: the whole output, and the dashboard's JSON, as files. */
  public record Rendered(Path manifests, Path dashboard, List<HasMetadata> objects) {}

  private PromCheck() {}

  public static Run run(String... args) throws IOException, InterruptedException {
    var command = new ArrayList<String>();
    command.add(GoTools.build("prom-check").toString());
    command.addAll(List.of(args));
    var err = Files.createTempFile("prom-check", ".err");
    try {
      var p = new ProcessBuilder(command).redirectError(err.toFile()).start();
      var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("prom-check %s timed out", args[0]).isTrue();
      return new Run(p.exitValue(), out, Files.readString(err));
    } finally {
      Files.deleteIfExists(err);
    }
  }

  /**
   * {@code helm template} of the chart with the PrometheusRule and the dashboard's ConfigMap
   * enabled, and the given values on top.
   */
  public static Rendered render(Map<String, Object> values) throws IOException {
    var template = new Helm(CHART).template().withName("pgm").withNamespace("monitoring")
        .set("metrics.prometheusRule.enabled", true)
        .set("metrics.grafanaDashboard.enabled", true);
    values.forEach(template::set);
    var text = template.call();
    var dir = Files.createTempDirectory("chart-monitoring");
    dir.toFile().deleteOnExit();
    var manifests = dir.resolve("manifests.yaml");
    Files.writeString(manifests, text);
    Object parsed = new KubernetesSerialization().unmarshal(text);
    @SuppressWarnings("unchecked")
    var objects = parsed instanceof List<?> list ? (List<HasMetadata>) list
        : List.of((HasMetadata) parsed);
    var dashboard = dir.resolve("pgmigrate.json");
    var configMap = objects.stream().filter(ConfigMap.class::isInstance).map(ConfigMap.class::cast)
        .filter(c -> c.getData() != null && c.getData().containsKey("pgmigrate.json"))
        .findFirst().orElseThrow(() -> new AssertionError("no dashboard ConfigMap rendered"));
    Files.writeString(dashboard, configMap.getData().get("pgmigrate.json"));
    manifests.toFile().deleteOnExit();
    dashboard.toFile().deleteOnExit();
    return new Rendered(manifests, dashboard, objects);
  }

  /**
   * Every metric name the chart's alert rules and dashboard read, as the PromQL parser finds
   * them in their expressions.
   */
  public static Set<String> metricsUsed() throws IOException, InterruptedException {
    var rendered = render(Map.of());
    var names = new TreeSet<String>();
    run("rules", rendered.manifests().toString()).json().get("metrics")
        .forEach(n -> names.add(n.asText()));
    for (var dashboard : run("dashboard", rendered.dashboard().toString()).json()) {
      dashboard.get("metrics").forEach(n -> names.add(n.asText()));
    }
    return names;
  }
}
