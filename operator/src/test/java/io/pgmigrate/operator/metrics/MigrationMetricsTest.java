package io.pgmigrate.operator.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgmigrate.operator.api.DatabasePhase;
import io.pgmigrate.operator.api.DatabaseStatus;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.api.PgMigrationSpec;
import io.pgmigrate.operator.api.PgMigrationStatus;
import java.util.List;
import org.junit.jupiter.api.Test;

class MigrationMetricsTest {

  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final MigrationMetrics metrics = new MigrationMetrics(registry);

  static PgMigration migration(String namespace, String name, String uid) {
    var m = new PgMigration();
    m.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).withUid(uid)
        .build());
    m.setSpec(new PgMigrationSpec());
    return m;
  }

  static PgMigrationStatus status(Phase phase, DatabaseStatus... databases) {
    var s = new PgMigrationStatus();
    s.setPhase(phase);
    s.setDatabases(List.of(databases));
    return s;
  }

  static DatabaseStatus db(String name, long tablesTotal) {
    var d = new DatabaseStatus(name, DatabasePhase.Copying);
    d.setTablesTotal((int) tablesTotal);
    return d;
  }

  private List<Gauge> gauges(String name) {
    return List.copyOf(registry.find(name).gauges());
  }

  private double phaseValue(String phase) {
    return gauges("pgmigrate_migration_phase").stream()
        .filter(g -> phase.equals(g.getId().getTag("phase"))).findFirst().orElseThrow().value();
  }

  @Test
  void aMigrationCreatedAgainUnderTheSameNameGetsItsSeriesBack() {
    var first = migration("team-a", "shop", "uid-1");
    metrics.record(first, status(Phase.Migrating, db("shop", 3)));
    assertThat(phaseValue("Migrating")).isEqualTo(1.0);

    metrics.forget(first);
    assertThat(gauges("pgmigrate_migration_phase")).isEmpty();
    assertThat(gauges("pgmigrate_tables_to_copy")).isEmpty();

    // deleted and applied again: a new object (new uid) with the same namespace and name
    var again = migration("team-a", "shop", "uid-2");
    metrics.record(again, status(Phase.Validating, db("shop", 5)));
    assertThat(gauges("pgmigrate_migration_phase")).hasSize(Phase.values().length);
    assertThat(phaseValue("Validating")).isEqualTo(1.0);
    assertThat(phaseValue("Migrating")).isEqualTo(0.0);
    assertThat(gauges("pgmigrate_tables_to_copy")).singleElement()
        .satisfies(g -> assertThat(g.value()).isEqualTo(5.0));
  }

  @Test
  void forgettingOneMigrationLeavesTheOthersSeries() {
    var shop = migration("team-a", "shop", "uid-1");
    var sameNameElsewhere = migration("team-b", "shop", "uid-2");
    var neighbour = migration("team-a", "shop-2", "uid-3");
    for (var m : List.of(shop, sameNameElsewhere, neighbour)) {
      metrics.record(m, status(Phase.Migrating, db("app", 2)));
    }
    metrics.forget(shop);
    var scrape = registry.scrape();
    assertThat(scrape)
        .doesNotContain("migration=\"shop\",migration_namespace=\"team-a\"")
        .contains("pgmigrate_tables_to_copy{database=\"app\",migration=\"shop\","
            + "migration_namespace=\"team-b\"} 2.0")
        .contains("pgmigrate_tables_to_copy{database=\"app\",migration=\"shop-2\","
            + "migration_namespace=\"team-a\"} 2.0");
  }

  @Test
  void labelsNameTheMigrationWithoutClashingWithTheScrapedPodsNamespace() {
    metrics.record(migration("team-a", "shop", "uid-1"), status(Phase.Migrating, db("app", 2)));
    var ours = registry.scrape().lines().filter(l -> l.startsWith("pgmigrate_")).toList();
    assertThat(ours).isNotEmpty().allSatisfy(line -> assertThat(line)
        .contains("migration_namespace=\"team-a\"", "migration=\"shop\"")
        .doesNotContain(",namespace=", "{namespace=", ",name=", "{name="));
  }

  @Test
  void aNewStatusReplacesTheValuesAndTheSeriesOfItsMigration() {
    var m = migration("team-a", "shop", "uid-1");
    metrics.record(m, status(Phase.Migrating, db("a", 2), db("b", 3)));
    metrics.record(m, status(Phase.Migrating, db("a", 7)));
    assertThat(gauges("pgmigrate_tables_to_copy")).singleElement().satisfies(g -> {
      assertThat(g.getId().getTag("database")).isEqualTo("a");
      assertThat(g.value()).isEqualTo(7.0);
    });
    assertThat(phaseValue("Migrating")).isEqualTo(1.0);
  }

  @Test
  void replicationSeriesWhileASlotExistsTimestampsAndTheTargetsNumbers() {
    var m = migration("team-a", "shop", "uid-1");
    m.getSpec().getReplication().setMaxRetainedWalBytes("1Gi");
    var d = db("app", 2);
    d.setTablesSynced(1);
    d.setLagBytes(4096L);
    d.setLagSeconds(1.5);
    d.setRetainedWalBytes(8192L);
    d.setRowsCopied(2000L);
    d.setBytesCopied(9_000_000L);
    var s = status(Phase.Syncing, d);
    s.setMethod(io.pgmigrate.operator.api.Method.CONTINUOUS);
    s.setStartedAt("2026-11-29T10:00:00Z");
    s.setConditions(List.of(
        condition("Ready", "True", "2026-11-29T10:05:00Z"),
        condition("Reconciling", "False", "2026-11-29T10:05:00Z")));
    metrics.record(m, s);
    var scrape = registry.scrape();
    var labels = "{database=\"app\",migration=\"shop\",migration_namespace=\"team-a\"}";
    assertThat(scrape)
        .contains("pgmigrate_replication_lag_bytes" + labels + " 4096.0")
        .contains("pgmigrate_replication_lag_seconds" + labels + " 1.5")
        .contains("pgmigrate_source_wal_retained_bytes" + labels + " 8192.0")
        .contains("pgmigrate_source_wal_retained_limit_bytes{migration=\"shop\","
            + "migration_namespace=\"team-a\"} 1.073741824E9")
        .contains("pgmigrate_tables_ready" + labels + " 1.0")
        .contains("pgmigrate_target_rows" + labels + " 2000.0")
        .contains("pgmigrate_target_database_size_bytes" + labels + " 9000000.0")
        .contains("pgmigrate_migration_started_timestamp_seconds{migration=\"shop\","
            + "migration_namespace=\"team-a\"} 1.7959464E9")
        .contains("pgmigrate_migration_phase_since_timestamp_seconds{migration=\"shop\","
            + "migration_namespace=\"team-a\"} 1.7959467E9")
        .contains("pgmigrate_migration_reconciling{migration=\"shop\","
            + "migration_namespace=\"team-a\"} 0.0")
        .doesNotContain("pgmigrate_migration_completed_timestamp_seconds{");

    // failed: the slot was dropped, its numbers would only mislead; the copy's numbers stay
    d.setLagSeconds(null);
    s.setPhase(Phase.Failed);
    s.setCompletedAt("2026-11-29T11:00:00Z");
    metrics.record(m, s);
    scrape = registry.scrape();
    assertThat(scrape)
        .doesNotContain("pgmigrate_replication_lag_bytes{", "pgmigrate_replication_lag_seconds{",
            "pgmigrate_source_wal_retained_bytes{", "pgmigrate_source_wal_retained_limit_bytes{")
        .contains("pgmigrate_target_rows" + labels + " 2000.0")
        .contains("pgmigrate_migration_completed_timestamp_seconds{migration=\"shop\","
            + "migration_namespace=\"team-a\"} 1.79595E9");
  }

  static io.fabric8.kubernetes.api.model.Condition condition(String type, String status,
      String since) {
    return new io.fabric8.kubernetes.api.model.ConditionBuilder().withType(type)
        .withStatus(status).withReason("R").withLastTransitionTime(since).build();
  }
}
