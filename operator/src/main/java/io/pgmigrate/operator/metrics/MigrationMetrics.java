package io.pgmigrate.operator.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.api.PgMigrationStatus;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The operator's own metrics, from each status it writes: the phase of every migration (1 for
 * the current phase, 0 for the others), replication lag and tables per database, and dump Pods
 * seen to finish. JOSDK's reconcile metrics sit in the same registry.
 */
public class MigrationMetrics {

  private final MeterRegistry registry;
  private final Map<String, AtomicLong> gauges = new ConcurrentHashMap<>();
  private final java.util.Set<String> countedPods = ConcurrentHashMap.newKeySet();

  public MigrationMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** Records what a status says. */
  public void record(PgMigration m, PgMigrationStatus status) {
    var ns = m.getMetadata().getNamespace();
    var name = m.getMetadata().getName();
    for (var phase : Phase.values()) {
      gauge("pgmigrate_migration_phase", "1 for the phase the migration is in",
          Tags.of("namespace", ns, "name", name, "phase", phase.name()))
          .set(status.getPhase() == phase ? 1 : 0);
    }
    for (var db : status.getDatabases()) {
      var tags = Tags.of("namespace", ns, "name", name, "database", db.getName());
      if (db.getLagBytes() != null) {
        gauge("pgmigrate_replication_lag_bytes", "Bytes of WAL our slot has not confirmed", tags)
            .set(db.getLagBytes());
      }
      if (db.getTablesTotal() != null) {
        gauge("pgmigrate_tables_to_copy", "Tables to copy", tags).set(db.getTablesTotal());
      }
      if (db.getTablesSynced() != null) {
        gauge("pgmigrate_tables_ready", "Tables copied or replicating", tags)
            .set(db.getTablesSynced());
      }
    }
  }

  /** Counts each dump Pod once when it is first seen finished, by result. */
  public void podsSeen(java.util.List<io.fabric8.kubernetes.api.model.Pod> pods) {
    for (var pod : pods) {
      var phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
      if (("Succeeded".equals(phase) || "Failed".equals(phase))
          && countedPods.add(pod.getMetadata().getUid())) {
        Counter.builder("pgmigrate_dump_pods").description("Dump Pods that finished")
            .tag("result", phase).register(registry).increment();
      }
    }
  }

  /** Drops a deleted migration's series. */
  public void forget(PgMigration m) {
    var marker = "/namespace=" + m.getMetadata().getNamespace() + "/name="
        + m.getMetadata().getName() + "/";
    gauges.keySet().removeIf(k -> k.contains(marker));
    registry.getMeters().stream()
        .filter(meter -> m.getMetadata().getName().equals(meter.getId().getTag("name"))
            && m.getMetadata().getNamespace().equals(meter.getId().getTag("namespace")))
        .forEach(registry::remove);
  }

  private AtomicLong gauge(String metric, String help, Tags tags) {
    var key = metric + tags.stream().map(t -> t.getKey() + "=" + t.getValue())
        .reduce("", (a, b) -> a + "/" + b) + "/";
    return gauges.computeIfAbsent(key, k -> {
      var value = new AtomicLong();
      Gauge.builder(metric, value, AtomicLong::get).description(help).tags(tags).register(registry);
      return value;
    });
  }
}
