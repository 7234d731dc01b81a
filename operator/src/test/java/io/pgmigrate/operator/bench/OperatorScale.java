package io.pgmigrate.operator.bench;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.pgmigrate.operator.PgMigrateOperator;
import io.pgmigrate.operator.api.Method;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.postgres.Timeouts;
import io.pgmigrate.operator.testing.KubeApi;
import io.pgmigrate.operator.testing.PostgresServer;
import io.pgmigrate.operator.testing.TestKubelet;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;

/**
 * The operator's cost at scale, for bench/run.sh: 100 PgMigrations created at once from 10 client
 * threads, 80 validate-only (database {@value Benchmark#DB}, as {@link Benchmark#migration} makes
 * them) and 20 running (the dump method, each of a tiny database of its own on the source), in
 * namespace bench, against the operator running in this JVM. It measures the time until all have
 * checks in status, each migration's latency from its creation to that (p50/p99) and the running
 * ones' to Ready; the latency of a spec change to status.observedGeneration (what {@code kubectl
 * wait} and GitOps tools wait for: the queue, one pass and its status write; all 100 changed at
 * once, while the dumps run); the process's resident memory and heap; and the time until all are
 * deleted. The operator shares the process with the bench (API client, Pod stand-in, the
 * servers' clients), so its memory figures are an upper bound of the operator's own.
 */
public final class OperatorScale {

  static final String NS = "bench";
  /** On every migration this makes: one list and one delete find them all. */
  static final String LABEL = "pgmigrate.io/bench";
  static final String LABEL_VALUE = "scale";
  static final int ROWS = 1000;

  private OperatorScale() {}

  static Map<String, Object> run(KubernetesClient client, PostgresServer source,
      PostgresServer target) throws Exception {
    return run(client, source, target, 80, 20);
  }

  static Map<String, Object> run(KubernetesClient client, PostgresServer source,
      PostgresServer target, int validateOnly, int running) throws Exception {
    int n = validateOnly + running;
    for (int i = 0; i < running; i++) {
      var db = database(i);
      source.execute("postgres", "drop database if exists " + db + " with (force)",
          "create database " + db);
      source.execute(db, "create table items (id bigint primary key, v text)",
          "insert into items select g, md5(g::text) from generate_series(1, " + ROWS + ") g");
      // the operator creates it: a database it did not create would fail target.emptyDatabases
      // on the next run
      target.execute("postgres", "drop database if exists " + db + " with (force)");
    }
    // built (with their Secrets) before the clock starts: only the creation is measured
    var migrations = new ArrayList<PgMigration>();
    for (int i = 0; i < n; i++) {
      var m = Benchmark.migration(client, name(i), source, target);
      m.getMetadata().setLabels(Map.of(LABEL, LABEL_VALUE));
      if (i < validateOnly) {
        m.getSpec().setValidateOnly(true);
      } else {
        m.getSpec().setMethod(Method.DUMP);
        m.getSpec().setDatabases(List.of(database(i - validateOnly)));
      }
      migrations.add(m);
    }

    var created = new ConcurrentHashMap<String, Instant>();
    var checked = new ConcurrentHashMap<String, Instant>();
    var ready = new ConcurrentHashMap<String, Instant>();
    var failed = new ConcurrentHashMap<String, String>();
    // as a GitOps sync applies many resources
    ExecutorService clients = Executors.newFixedThreadPool(10);
    var t0 = Instant.now();
    try {
      var creations = new ArrayList<Future<?>>();
      for (var m : migrations) {
        creations.add(clients.submit(() -> {
          client.resource(m).create();
          created.put(m.getMetadata().getName(), Instant.now());
          return null;
        }));
      }
      for (var f : creations) {
        f.get();
      }
      // one list every 100 ms: a migration counts as checked when it is first seen with checks
      awaitAll(client, n, Duration.ofMinutes(10), m -> {
        var name = m.getMetadata().getName();
        var now = Instant.now();
        if (m.getStatus() != null && !m.getStatus().getChecks().isEmpty()) {
          checked.putIfAbsent(name, now);
        }
        if (m.getStatus() != null && m.getStatus().getPhase() == Phase.Ready
            && !m.getSpec().isValidateOnly()) {
          ready.putIfAbsent(name, now);
        }
        if (m.getStatus() != null && m.getStatus().getPhase() == Phase.Failed) {
          failed.putIfAbsent(name, m.getStatus().getMessage());
        }
        return checked.containsKey(name);
      });
      double allChecked = Benchmark.secondsSince(t0);

      // all changed at once while the dumps run: how long until the operator has seen it
      var changed = new ConcurrentHashMap<String, Instant>();
      var generations = new ConcurrentHashMap<String, Long>();
      var observed = new ConcurrentHashMap<String, Instant>();
      var patches = new ArrayList<Future<?>>();
      for (var m : migrations) {
        patches.add(clients.submit(() -> {
          var name = m.getMetadata().getName();
          changed.put(name, Instant.now());
          // a threshold, which may change in every phase
          var after = client.resources(PgMigration.class).inNamespace(NS).withName(name)
              .patch(PatchContext.of(PatchType.JSON_MERGE),
                  "{\"spec\":{\"replication\":{\"caughtUpLagBytes\":\"2Mi\"}}}");
          generations.put(name, after.getMetadata().getGeneration());
          return null;
        }));
      }
      for (var f : patches) {
        f.get();
      }
      awaitAll(client, n, Duration.ofMinutes(10), m -> {
        var name = m.getMetadata().getName();
        var status = m.getStatus();
        if (status != null && status.getObservedGeneration() != null
            && status.getObservedGeneration() >= generations.get(name)) {
          observed.putIfAbsent(name, Instant.now());
        }
        return observed.containsKey(name);
      });

      // the running ones to the end
      awaitAll(client, n, Duration.ofMinutes(30), m -> {
        var name = m.getMetadata().getName();
        var phase = m.getStatus() == null ? null : m.getStatus().getPhase();
        if (phase == Phase.Ready && !m.getSpec().isValidateOnly()) {
          ready.putIfAbsent(name, Instant.now());
        }
        if (phase == Phase.Failed) {
          failed.putIfAbsent(name, m.getStatus().getMessage());
        }
        return m.getSpec().isValidateOnly() || phase == Phase.Ready || phase == Phase.Failed;
      });

      // what the operator holds with n migrations in its cache, their checks and status
      var memory = memory();
      var r = new LinkedHashMap<String, Object>();
      r.put("migrations", n);
      r.put("validateOnly", validateOnly);
      r.put("running", running + " dump migrations of a database of " + ROWS + " rows each");
      r.put("secondsUntilAllChecked", allChecked);
      r.put("checksLatencySecondsP50", percentile(between(created, checked), 50));
      r.put("checksLatencySecondsP99", percentile(between(created, checked), 99));
      r.put("ready", ready.size());
      r.put("failed", failed.size());
      r.put("readyLatencySecondsP50", percentile(between(created, ready), 50));
      r.put("readyLatencySecondsP99", percentile(between(created, ready), 99));
      r.put("specChangeToObservedGenerationSecondsP50", percentile(between(changed, observed), 50));
      r.put("specChangeToObservedGenerationSecondsP99", percentile(between(changed, observed), 99));
      r.putAll(memory);

      var t1 = Instant.now();
      client.resources(PgMigration.class).inNamespace(NS).withLabel(LABEL, LABEL_VALUE).delete();
      Awaitility.await().atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(100))
          .until(() -> client.resources(PgMigration.class).inNamespace(NS)
              .withLabel(LABEL, LABEL_VALUE).list().getItems().isEmpty());
      r.put("secondsUntilAllDeleted", Benchmark.secondsSince(t1));
      r.put("note", "the operator runs in the benchmark's JVM: RSS and heap are the whole"
          + " process's (operator, API client, Pod stand-in, the bench's own objects)");
      for (var e : failed.entrySet()) {
        System.out.println("  failed: " + e.getKey() + ": " + e.getValue());
      }
      System.out.println(line(r));
      return r;
    } finally {
      clients.shutdownNow();
      for (int i = 0; i < n; i++) {
        for (var side : List.of("-source", "-target")) {
          client.secrets().inNamespace(NS).withName(name(i) + side).delete();
        }
      }
      for (int i = 0; i < running; i++) {
        source.execute("postgres", "drop database if exists " + database(i) + " with (force)");
        target.execute("postgres", "drop database if exists " + database(i) + " with (force)");
      }
    }
  }

  /** Lists the migrations every 100 ms until {@code done} holds for all n (it records). */
  private static void awaitAll(KubernetesClient client, int n, Duration limit,
      java.util.function.Predicate<PgMigration> done) {
    Awaitility.await().atMost(limit).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(100))
        .until(() -> {
          var items = client.resources(PgMigration.class).inNamespace(NS)
              .withLabel(LABEL, LABEL_VALUE).list().getItems();
          // every one is looked at: done records as it goes
          return items.stream().filter(done).count() == n;
        });
  }

  /** VmRSS and VmHWM of this process (/proc/self/status), and the heap used after a GC. */
  static Map<String, Object> memory() throws IOException {
    var m = new LinkedHashMap<String, Object>();
    for (var line : Files.readAllLines(Path.of("/proc/self/status"))) {
      // "VmRSS:	  123456 kB"
      var parts = line.split("\\s+");
      if (parts[0].equals("VmRSS:")) {
        m.put("vmRssBytes", Long.parseLong(parts[1]) * 1024);
      } else if (parts[0].equals("VmHWM:")) {
        // the process's peak since it started: the whole bench, not only this part
        m.put("vmHwmBytes", Long.parseLong(parts[1]) * 1024);
      }
    }
    System.gc();
    m.put("heapUsedBytesAfterGc", ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    return m;
  }

  private static List<Double> between(Map<String, Instant> from, Map<String, Instant> to) {
    var seconds = new ArrayList<Double>();
    for (var e : to.entrySet()) {
      var start = from.get(e.getKey());
      if (start != null) {
        seconds.add(Math.max(0, Duration.between(start, e.getValue()).toMillis()) / 1000.0);
      }
    }
    return seconds;
  }

  private static Double percentile(List<Double> values, int p) {
    return Benchmark.percentile(values, p);
  }

  static String line(Map<String, Object> r) {
    return String.format(Locale.ROOT, "operator scale (operator in this JVM): %d migrations"
            + " (%d validate-only, %s): all checked in %.1f s, create->checks p50 %.2f s p99 %.2f"
            + " s; create->Ready p50 %s s p99 %s s (%d Ready, %d Failed); spec change->"
            + "observedGeneration p50 %.2f s p99 %.2f s; VmRSS %d MB, VmHWM %d MB, heap after GC"
            + " %d MB; all deleted in %.1f s",
        r.get("migrations"), r.get("validateOnly"), r.get("running"),
        r.get("secondsUntilAllChecked"), r.get("checksLatencySecondsP50"),
        r.get("checksLatencySecondsP99"), fmt(r.get("readyLatencySecondsP50")),
        fmt(r.get("readyLatencySecondsP99")), r.get("ready"), r.get("failed"),
        r.get("specChangeToObservedGenerationSecondsP50"),
        r.get("specChangeToObservedGenerationSecondsP99"),
        (Long) r.get("vmRssBytes") / 1_000_000, (Long) r.get("vmHwmBytes") / 1_000_000,
        (Long) r.get("heapUsedBytesAfterGc") / 1_000_000, r.get("secondsUntilAllDeleted"));
  }

  private static String fmt(Object seconds) {
    return seconds == null ? "-" : String.format(Locale.ROOT, "%.2f", (Double) seconds);
  }

  private static String name(int i) {
    return "scale-" + i;
  }

  private static String database(int i) {
    return "scale_" + i;
  }

  /**
   * A small run on its own, without the rest of the benchmark: {@code OperatorScale
   * [validateOnly running]} (default 8 2) with its own API server, servers and operator.
   */
  public static void main(String[] args) throws Exception {
    int validateOnly = args.length > 0 ? Integer.parseInt(args[0]) : 8;
    int running = args.length > 1 ? Integer.parseInt(args[1]) : 2;
    try (var api = KubeApi.start();
        var source = PostgresServer.builder().name("scale-source").start();
        var target = PostgresServer.builder().name("scale-target").start()) {
      // what the validate-only migrations check, as in the benchmark (there, pgbench's tables)
      source.execute("postgres", "create database " + Benchmark.DB);
      source.execute(Benchmark.DB, "create table t (id bigint primary key)");
      var client = api.client();
      client.resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata()
          .build()).create();
      try (var kubelet = new TestKubelet(client, NS).start()) {
        var operator = PgMigrateOperator.create(client, Set.of(NS), Timeouts.DEFAULT);
        operator.start();
        try {
          run(client, source, target, validateOnly, running);
        } finally {
          operator.stop();
        }
      }
    }
    System.exit(0);
  }
}
