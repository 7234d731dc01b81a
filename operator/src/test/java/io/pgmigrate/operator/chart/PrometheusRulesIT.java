package io.pgmigrate.operator.chart;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.pgmigrate.operator.testing.PromCheck;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The chart's PrometheusRule and Grafana dashboard, as {@code helm template} renders them,
 * checked by Prometheus's own code (tools/prom-check): the rule groups load as Prometheus loads
 * them, every expression of the rules and of the dashboard's panels and variables parses, and
 * each alert fires when it should and stays quiet otherwise (the unit tests in
 * src/test/resources/monitoring/alerts-test.yaml). An IT: it builds the Go tool (Prometheus's
 * module; a few minutes the first time, cached after).
 */
class PrometheusRulesIT {

  static final Path REPO = Path.of(System.getProperty("pgmigrate.repoRoot", ".."));
  static final List<String> ALERTS = List.of("PgMigrationFailed",
      "PgMigrationReplicationLagHigh", "PgMigrationReplicationLagGrowing",
      "PgMigrationSourceWalNearLimit", "PgMigrationStuck");

  @Test
  void theRulesLoadAsPrometheusLoadsThemAndEachAlertLinksItsRunbook() throws Exception {
    var rendered = PromCheck.render(Map.of());
    var rules = PromCheck.run("rules", rendered.manifests().toString()).json();
    var alerts = new TreeMap<String, JsonNode>();
    rules.get("rules").forEach(r -> alerts.put(r.get("alert").asText(), r));
    assertThat(alerts.keySet()).containsExactlyInAnyOrderElementsOf(ALERTS);
    var runbooks = Files.readString(REPO.resolve("docs/runbooks.md"));
    for (var alert : alerts.values()) {
      var name = alert.get("alert").asText();
      assertThat(alert.get("labels").get("severity").asText()).as(name)
          .isIn("warning", "critical");
      assertThat(alert.get("annotations").get("summary").asText()).as(name).isNotBlank();
      assertThat(alert.get("annotations").get("description").asText()).as(name).isNotBlank();
      assertThat(alert.get("annotations").get("runbook_url").asText()).as(name)
          .endsWith("/docs/runbooks.md#" + name.toLowerCase(Locale.ROOT));
      // the anchor exists: a heading of that name, and it says what, how to look, what to do
      assertThat(runbooks).as(name).contains("\n## " + name + "\n");
      var section = runbooks.substring(runbooks.indexOf("\n## " + name + "\n"));
      section = section.substring(0, section.indexOf("\n## ", 4) > 0
          ? section.indexOf("\n## ", 4) : section.length());
      assertThat(section).as(name)
          .contains("**What it means.**", "**How to look.**", "**What to do.**");
    }
    // what the PromQL parser found the alerts to read
    assertThat(rules.get("metrics")).extracting(JsonNode::asText).contains(
        "pgmigrate_migration_phase", "pgmigrate_replication_lag_seconds",
        "pgmigrate_replication_lag_bytes", "pgmigrate_source_wal_retained_bytes",
        "pgmigrate_source_wal_retained_limit_bytes",
        "pgmigrate_migration_phase_since_timestamp_seconds",
        "pgmigrate_migration_reconciling");
  }

  @Test
  void eachAlertFiresWhenItShouldAndOnlyThen() throws Exception {
    var rendered = PromCheck.render(Map.of());
    var tests = REPO.resolve("operator/src/test/resources/monitoring/alerts-test.yaml");
    var result = PromCheck.run("test", "-rules", rendered.manifests().toString(),
        tests.toString()).json();
    // every alert has a case where it fires and one where it must not
    for (var alert : ALERTS) {
      assertThat(result.get("firing").path(alert).asInt()).as(alert + " firing").isPositive();
      assertThat(result.get("quiet").path(alert).asInt()).as(alert + " quiet").isPositive();
    }
  }

  @Test
  void thresholdsComeFromTheValues() throws Exception {
    var rendered = PromCheck.render(Map.of(
        "metrics.prometheusRule.replicationLagSeconds", 60,
        "metrics.prometheusRule.replicationLagFor", "2m",
        // helm --set gives a fraction as a string
        "metrics.prometheusRule.sourceWalRetainedRatio", "0.5",
        "metrics.prometheusRule.stuckAfterSeconds", 3600,
        "metrics.prometheusRule.additionalRuleLabels.team", "databases",
        "metrics.prometheusRule.labels.release", "kube-prometheus-stack"));
    var rule = rendered.objects().stream()
        .filter(o -> "PrometheusRule".equals(o.getKind())).findFirst().orElseThrow();
    assertThat(rule.getMetadata().getLabels()).containsEntry("release", "kube-prometheus-stack");
    var rules = PromCheck.run("rules", rendered.manifests().toString()).json().get("rules");
    var byAlert = new TreeMap<String, JsonNode>();
    rules.forEach(r -> byAlert.put(r.get("alert").asText(), r));
    assertThat(byAlert.get("PgMigrationReplicationLagHigh").get("expr").asText())
        .endsWith("> 60");
    assertThat(byAlert.get("PgMigrationReplicationLagHigh").get("for").asText()).isEqualTo("2m");
    assertThat(byAlert.get("PgMigrationSourceWalNearLimit").get("expr").asText())
        .endsWith("> 0.5");
    assertThat(byAlert.get("PgMigrationStuck").get("expr").asText()).contains("> 3600");
    byAlert.values().forEach(r ->
        assertThat(r.get("labels").get("team").asText()).isEqualTo("databases"));
    assertThat(rule).isInstanceOf(GenericKubernetesResource.class);
  }

  @Test
  void theDashboardsQueriesParseAndItLoadsFromAConfigMapForGrafanasSidecar() throws Exception {
    var rendered = PromCheck.render(Map.of("metrics.grafanaDashboard.namespace", "grafana"));
    var configMap = rendered.objects().stream().filter(ConfigMap.class::isInstance)
        .map(ConfigMap.class::cast).findFirst().orElseThrow();
    assertThat(configMap.getMetadata().getNamespace()).isEqualTo("grafana");
    assertThat(configMap.getMetadata().getLabels()).containsEntry("grafana_dashboard", "1");
    // the ConfigMap carries the file as it is in the chart
    var file = REPO.resolve("helm/pgmigrate-operator/dashboards/pgmigrate.json");
    assertThat(configMap.getData().get("pgmigrate.json"))
        .isEqualTo(Files.readString(file).strip());
    var dashboard = PromCheck.run("dashboard", rendered.dashboard().toString()).json().get(0);
    assertThat(dashboard.get("uid").asText()).isEqualTo("pgmigrate-operator");
    assertThat(dashboard.get("variables")).extracting(JsonNode::asText)
        .containsExactly("datasource", "migration_namespace", "migration");
    assertThat(dashboard.get("panels").asInt()).isGreaterThan(10);
    var metrics = new ArrayList<String>();
    dashboard.get("metrics").forEach(m -> metrics.add(m.asText()));
    assertThat(metrics).contains("pgmigrate_replication_lag_seconds",
        "pgmigrate_replication_lag_bytes", "pgmigrate_target_rows",
        "pgmigrate_target_database_size_bytes", "pgmigrate_source_wal_retained_bytes",
        "pgmigrate_migration_started_timestamp_seconds",
        "pgmigrate_migration_completed_timestamp_seconds");
  }

  /** The checks can fail: what they would let through otherwise is refused, and named. */
  @Test
  void brokenRulesDashboardsAndFailingExpectationsAreRefused() throws Exception {
    var dir = Files.createTempDirectory("prom-check-broken");
    var rules = dir.resolve("rules.yaml");
    Files.writeString(rules, """
        groups:
          - name: broken
            rules:
              - alert: Broken
                expr: max by (migration (pgmigrate_migration_phase)
        """);
    var run = PromCheck.run("rules", rules.toString());
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).contains("\"Broken\"", "could not parse expression", "parse error");

    Files.writeString(rules, """
        groups:
          - name: unknown field
            rules:
              - alert: Typo
                expr: up == 0
                annotation: {summary: x}
        """);
    run = PromCheck.run("rules", rules.toString());
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).contains("annotation");

    var dashboard = dir.resolve("dashboard.json");
    var text = Files.readString(REPO.resolve("helm/pgmigrate-operator/dashboards/pgmigrate.json"))
        .replaceFirst("migration=~\\\\\"\\$migration\\\\\"", "migration=~\\\\\"\\$migraton\\\\\"");
    assertThat(text).contains("$migraton");
    Files.writeString(dashboard, text);
    run = PromCheck.run("dashboard", dashboard.toString());
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).contains("unknown variable(s) [migraton]");

    var rendered = PromCheck.render(Map.of());
    var tests = dir.resolve("tests.yaml");
    Files.writeString(tests, """
        evaluation_interval: 1m
        tests:
          - name: expects an alert that cannot fire
            interval: 1m
            input_series:
              - series: 'pgmigrate_migration_phase{migration_namespace="a",migration="b",phase="Failed"}'
                values: '0x5'
            alert_rule_test:
              - eval_time: 3m
                alertname: PgMigrationFailed
                exp_alerts:
                  - exp_labels: {severity: critical, migration_namespace: a, migration: b}
        """);
    run = PromCheck.run("test", "-rules", rendered.manifests().toString(), tests.toString());
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err())
        .contains("PgMigrationFailed at 3m", "want [map[alertname:PgMigrationFailed");
  }
}
