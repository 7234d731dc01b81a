package io.pgmigrate.operator.metrics;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Pod;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.pgmigrate.operator.api.Method;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.api.PgMigrationStatus;
import io.pgmigrate.operator.reconciler.Conditions;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The operator's own metrics, from each status it writes: per migration its phase, when it
 * started, finished and entered its phase, whether the operator still works on it; per
 * database replication lag (bytes and seconds), the WAL our slot retains on the source (and the
 * limit, for a ratio), tables, and rows and size on the target; and dump Pods seen to finish.
 * JOSDK's reconcile metrics sit in the same registry.
 *
 * <p>Labels: {@code migration_namespace} and {@code migration} name the PgMigration. Not
 * {@code namespace}: every usual scrape configuration (the Prometheus operator's ServiceMonitor,
 * the kubernetes_sd examples) gives each series the namespace of the scraped Pod under that
 * name, which would rename ours to {@code exported_namespace}, or with honor_labels hide the
 * operator's own namespace.
 *
 * <p>Each metric is one {@link MultiGauge} whose rows are all series of all migrations: a new
 * status replaces the migration's rows, {@link #forget} removes them, and a migration created
 * again under the same name gets its series back at its first status.
 */
public class MigrationMetrics {

  public static final String NAMESPACE_LABEL = "migration_namespace";
  public static final String MIGRATION_LABEL = "migration";

  /** Every gauge this class exports. */
  public enum Metric {
    PHASE("pgmigrate_migration_phase", null,
        "1 for the phase the migration is in, 0 for the others (label phase)"),
    RECONCILING("pgmigrate_migration_reconciling", null,
        "1 while the operator works towards what the spec asks for (checks, copy, catch-up,"
            + " cutover: the Reconciling condition), 0 when it got there or failed"),
    PHASE_SINCE("pgmigrate_migration_phase_since_timestamp_seconds", "seconds",
        "When the migration entered its current phase, or in Syncing began its cutover (the"
            + " Ready condition's lastTransitionTime), in seconds since the epoch"),
    STARTED("pgmigrate_migration_started_timestamp_seconds", "seconds",
        "When this run of the migration started (status.startedAt), in seconds since the epoch"),
    COMPLETED("pgmigrate_migration_completed_timestamp_seconds", "seconds",
        "When the migration finished (status.completedAt), in seconds since the epoch"),
    LAG_BYTES("pgmigrate_replication_lag_bytes", "bytes",
        "Bytes of source WAL our slot has not confirmed (continuous, while migrating or"
            + " syncing)"),
    LAG_SECONDS("pgmigrate_replication_lag_seconds", "seconds",
        "Replication lag in seconds as the source's WAL sender measures it (replay_lag; 0 when"
            + " the target confirmed everything it was sent; absent while unknown)"),
    WAL_RETAINED("pgmigrate_source_wal_retained_bytes", "bytes",
        "Bytes of WAL our replication slot keeps on the source (from its restart position)"),
    WAL_RETAINED_LIMIT("pgmigrate_source_wal_retained_limit_bytes", "bytes",
        "replication.maxRetainedWalBytes: above it our slot is dropped and the migration fails"
            + " (absent when unset)"),
    TABLES_TOTAL("pgmigrate_tables_to_copy", null, "Tables to copy"),
    TABLES_READY("pgmigrate_tables_ready", null, "Tables copied or replicating"),
    TARGET_ROWS("pgmigrate_target_rows", null,
        "Rows in the target database's tables (n_live_tup, plus rows of COPYs still running)"),
    TARGET_BYTES("pgmigrate_target_database_size_bytes", "bytes",
        "Size of the target database on disk (pg_database_size)");

    private final String prometheusName;
    private final String baseUnit;
    private final String help;

    Metric(String prometheusName, String baseUnit, String help) {
      this.prometheusName = prometheusName;
      this.baseUnit = baseUnit;
      this.help = help;
    }

    /** The name as it appears in the scrape. */
    public String prometheusName() {
      return prometheusName;
    }
  }

  private record Key(String namespace, String name) {}

  private record Series(Metric metric, Tags tags) {}

  private final MeterRegistry registry;
  private final Map<Metric, MultiGauge> gauges = new EnumMap<>(Metric.class);
  private final Set<String> countedPods = ConcurrentHashMap.newKeySet();
  /** Each migration's series and values, from its last status; guarded by this. */
  private final Map<Key, Map<Series, Double>> byMigration = new HashMap<>();
  /** One value reader per series while the series exists (the registry holds on to it). */
  private final Map<Series, Supplier<Double>> readers = new HashMap<>();
  private volatile Map<Series, Double> values = Map.of();

  public MigrationMetrics(MeterRegistry registry) {
    this.registry = registry;
    for (var metric : Metric.values()) {
      var builder = MultiGauge.builder(metric.prometheusName).description(metric.help);
      if (metric.baseUnit != null) {
        builder.baseUnit(metric.baseUnit);
      }
      gauges.put(metric, builder.register(registry));
    }
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** Records what a status says: the migration's series become exactly these. */
  public synchronized void record(PgMigration m, PgMigrationStatus status) {
    byMigration.put(key(m), series(m, status));
    publish();
  }

  /** Drops a deleted migration's series. */
  public synchronized void forget(PgMigration m) {
    byMigration.remove(key(m));
    publish();
  }

  /** Counts each dump Pod once when it is first seen finished, by result. */
  public void podsSeen(List<Pod> pods) {
    for (var pod : pods) {
      var phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
      if (("Succeeded".equals(phase) || "Failed".equals(phase))
          && countedPods.add(pod.getMetadata().getUid())) {
        Counter.builder("pgmigrate_dump_pods").description("Dump Pods that finished")
            .tag("result", phase).register(registry).increment();
      }
    }
  }

  private static Key key(PgMigration m) {
    return new Key(m.getMetadata().getNamespace(), m.getMetadata().getName());
  }

  /** Hands every gauge its rows: new series appear, series no migration has any more go. */
  private void publish() {
    var all = new HashMap<Series, Double>();
    byMigration.values().forEach(all::putAll);
    values = all;
    readers.keySet().retainAll(all.keySet());
    var rows = new EnumMap<Metric, List<MultiGauge.Row<?>>>(Metric.class);
    for (var metric : Metric.values()) {
      rows.put(metric, new ArrayList<>());
    }
    for (var series : all.keySet()) {
      var reader = readers.computeIfAbsent(series,
          s -> () -> values.getOrDefault(s, Double.NaN));
      rows.get(series.metric()).add(MultiGauge.Row.of(series.tags(), reader));
    }
    // not overwriting: a series that stays keeps its gauge (a scrape never misses it), whose
    // reader looks its value up
    rows.forEach((metric, r) -> gauges.get(metric).register(r, false));
  }

  private static Map<Series, Double> series(PgMigration m, PgMigrationStatus status) {
    var result = new LinkedHashMap<Series, Double>();
    var migration = Tags.of(NAMESPACE_LABEL, m.getMetadata().getNamespace(),
        MIGRATION_LABEL, m.getMetadata().getName());
    var phase = status.getPhase();
    if (phase == null) {
      return result;
    }
    for (var p : Phase.values()) {
      result.put(new Series(Metric.PHASE, migration.and("phase", p.name())), phase == p ? 1.0 : 0);
    }
    var reconciling = condition(status, Conditions.RECONCILING);
    if (reconciling != null) {
      result.put(new Series(Metric.RECONCILING, migration),
          "True".equals(reconciling.getStatus()) ? 1.0 : 0);
    }
    var ready = condition(status, Conditions.READY);
    put(result, Metric.PHASE_SINCE, migration,
        epochSeconds(ready == null ? null : ready.getLastTransitionTime()));
    put(result, Metric.STARTED, migration, epochSeconds(status.getStartedAt()));
    put(result, Metric.COMPLETED, migration, epochSeconds(status.getCompletedAt()));
    // replication numbers describe a slot that exists: not after the migration ended
    boolean replicating = status.getMethod() == Method.CONTINUOUS
        && (phase == Phase.Migrating || phase == Phase.Syncing);
    long limit = m.getSpec() == null ? 0 : m.getSpec().getReplication().maxRetainedWalBytesValue();
    if (replicating && limit > 0) {
      result.put(new Series(Metric.WAL_RETAINED_LIMIT, migration), (double) limit);
    }
    for (var db : status.getDatabases()) {
      var tags = migration.and("database", db.getName());
      if (replicating) {
        put(result, Metric.LAG_BYTES, tags, db.getLagBytes());
        put(result, Metric.LAG_SECONDS, tags, db.getLagSeconds());
        put(result, Metric.WAL_RETAINED, tags, db.getRetainedWalBytes());
      }
      put(result, Metric.TABLES_TOTAL, tags, db.getTablesTotal());
      put(result, Metric.TABLES_READY, tags, db.getTablesSynced());
      put(result, Metric.TARGET_ROWS, tags, db.getRowsCopied());
      put(result, Metric.TARGET_BYTES, tags, db.getBytesCopied());
    }
    return result;
  }

  private static void put(Map<Series, Double> result, Metric metric, Tags tags, Number value) {
    if (value != null) {
      result.put(new Series(metric, tags), value.doubleValue());
    }
  }

  private static Condition condition(PgMigrationStatus status, String type) {
    return status.getConditions().stream().filter(c -> type.equals(c.getType())).findFirst()
        .orElse(null);
  }

  private static Double epochSeconds(String rfc3339) {
    if (rfc3339 == null || rfc3339.isBlank()) {
      return null;
    }
    try {
      return Instant.parse(rfc3339).toEpochMilli() / 1000.0;
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
