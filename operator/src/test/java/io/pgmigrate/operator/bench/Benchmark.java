package io.pgmigrate.operator.bench;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgmigrate.operator.PgMigrateOperator;
import io.pgmigrate.operator.api.Method;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.api.SslMode;
import io.pgmigrate.operator.api.Verify;
import io.pgmigrate.operator.dump.DumpPods;
import io.pgmigrate.operator.postgres.Timeouts;
import io.pgmigrate.operator.testing.Fixtures;
import io.pgmigrate.operator.testing.KubeApi;
import io.pgmigrate.operator.testing.PostgresServer;
import io.pgmigrate.operator.testing.TestKubelet;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
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
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * bench/run.sh: migration throughput and replication lag on this machine, all methods on the
 * same servers in one run. Prints a table and writes bench/results/latest.json.
 */
public final class Benchmark {

  static final String DB = "bench";
  static int scale = Integer.parseInt(System.getenv().getOrDefault("BENCH_SCALE", "30"));
  static int jobs = Runtime.getRuntime().availableProcessors();
  static final Map<String, Object> results = new LinkedHashMap<>();
  static int rounds = Integer.parseInt(System.getenv().getOrDefault("BENCH_ROUNDS", "3"));
  static final String DIGESTS = "operator dump, jobs " + jobs + ", verify digests";
  /** The same work as the raw bound (no ANALYZE), verified. */
  static final String NO_ANALYZE = "operator dump, jobs " + jobs + ", analyze false";
  static final String RAW = "raw COPY bound (" + jobs + " parallel COPY, indexes after)";
  /** The raw bound, then ANALYZE of every table, as the operator's default (dump.analyze). */
  static final String RAW_ANALYZE = "raw COPY bound + vacuumdb --analyze-only -j " + jobs;
  static final String PIPE = "pg_dump -Fc | pg_restore (plain pipe)";
  static final String DIRECTORY = "pg_dump -Fd -j " + jobs + " + pg_restore -j " + jobs
      + " (Pods before)";
  /** Debian's pgcopydb (0.10 in bookworm): parallel COPY in one snapshot, like the Pods. */
  static final String PGCOPYDB = "pgcopydb clone --table-jobs " + jobs + " --index-jobs " + jobs;
  /** The one-huge-table database and the part size its split runs use. */
  static final String HUGE = "huge";
  static final String SPLIT = System.getenv().getOrDefault("BENCH_SPLIT", "256Mi");
  /** Per method, the seconds of each round. */
  static final Map<String, List<Double>> samples = new LinkedHashMap<>();
  /** Per operator run, seconds before its Pod started, in the Pod, after the Pod until Ready. */
  static final Map<String, List<List<Double>>> operatorSplits = new LinkedHashMap<>();
  /** Per operator run, the dump Pod's own account of its steps (its "timings:" line). */
  static final Map<String, List<String>> podTimings = new LinkedHashMap<>();
  static TestKubelet kubelet;

  private Benchmark() {}

  /**
   * Whether BENCH_PARTS (default all: huge,continuous,scale; the dump comparison always runs)
   * names this part.
   */
  static boolean part(String name) {
    var parts = System.getenv().getOrDefault("BENCH_PARTS", "huge,continuous,scale");
    return List.of(parts.split(",")).contains(name);
  }

  public static void main(String[] args) throws Exception {
    var bin = PostgresServer.binDir();
    try (var api = KubeApi.start();
        var source = PostgresServer.builder().name("bench-source")
            .set("shared_buffers", "'512MB'").set("max_wal_size", "'4GB'").start();
        var target = PostgresServer.builder().name("bench-target")
            .set("shared_buffers", "'512MB'").set("max_wal_size", "'4GB'").start()) {
      generate(bin, source);
      long bytes = Long.parseLong(scalar(source, "postgres",
          "select pg_database_size('" + DB + "')"));
      results.put("machine", Map.of("cores", jobs, "memoryBytes",
          ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
              .getTotalMemorySize(), "postgres", scalar(source, "postgres", "select version()")));
      results.put("sourceBytes", bytes);
      System.out.printf("source: pgbench scale %d + 2 wide tables, %.0f MB, %d cores%n", scale,
          bytes / 1e6, jobs);

      var client = api.client();
      client.resource(new NamespaceBuilder().withNewMetadata().withName("bench").endMetadata()
          .build()).create();
      try (var hostKubelet = new TestKubelet(client, "bench").start()) {
        kubelet = hostKubelet;
        var operator = PgMigrateOperator.create(client, Set.of("bench"),
            new Timeouts(Duration.ofSeconds(10), Duration.ofMinutes(30), Duration.ofMinutes(20)));
        operator.start();
        try {
          // rounds interleave the methods, so a slow spell of the machine hits all of them;
          // each method starts after a checkpoint on both servers, so none pays for another's
          // dirty buffers
          for (int round = 1; round <= rounds; round++) {
            System.out.printf("round %d of %d%n", round, rounds);
            // the bound on copying: the target database exists before the clock starts
            time(RAW, () -> recreate(target), () -> rawCopy(bin, source, target), () -> { },
                source, target);
            // the same, then the planner statistics every other method here gathers too
            time(RAW_ANALYZE, () -> recreate(target), () -> {
              rawCopy(bin, source, target);
              sh("vacuumdb --analyze-only --jobs " + jobs + " --dbname " + conn(target), bin);
            }, () -> { }, source, target);
            timeByHand(PIPE, DB, () -> sh("pg_dump -Fc " + conn(source)
                + " | pg_restore --exit-on-error -d " + conn(target), bin), () -> { }, source,
                target);
            // what the dump Pods did before they streamed tables: a zlib-compressed directory
            // dump with parallel jobs on scratch space, then a parallel restore
            timeByHand(DIRECTORY, DB, () -> sh("rm -rf /tmp/bench-dir && pg_dump -Fd -j "
                + jobs + " -f /tmp/bench-dir " + conn(source) + " && pg_restore --exit-on-error -j "
                + jobs + " -d " + conn(target) + " /tmp/bench-dir", bin),
                () -> sh("rm -rf /tmp/bench-dir", bin), source, target);
            timeByHand(PGCOPYDB, DB, () -> pgcopydb(bin, source, target, DB, ""),
                () -> sh("rm -rf /tmp/bench-pgcopydb", bin), source, target);
            for (int j : new int[] {1, jobs}) {
              time("operator dump, jobs " + j, () -> dropTarget(target),
                  () -> operatorDump(client, source, target, j),
                  () -> delete(client, "dump-" + j), source, target);
            }
            // what digest verification costs: the same copy, every row hashed on both sides
            time(DIGESTS, () -> dropTarget(target),
                () -> operatorDump(client, source, target, jobs, DB, "", DIGESTS, Verify.DIGESTS),
                () -> delete(client, "dump-" + jobs), source, target);
            // what ANALYZE costs, and the copy doing what the raw bound does
            time(NO_ANALYZE, () -> dropTarget(target),
                () -> operatorDump(client, source, target, jobs, DB, "", NO_ANALYZE,
                    Verify.COUNTS, false),
                () -> delete(client, "dump-" + jobs), source, target);
          }
          printDumpTable(bytes, "", RAW, PGCOPYDB);
          double extra = median(samples.get(DIGESTS))
              - median(samples.get("operator dump, jobs " + jobs));
          System.out.printf(Locale.ROOT, "verify: digests costs %.1f s more than counts here,"
              + " %.1f s per GB copied%n%n", extra, extra / (bytes / 1e9));
          results.put("digestsExtraSecondsPerGB", extra / (bytes / 1e9));
          if (part("huge")) {
            huge(bin, client, source, target);
          }
          if (part("continuous")) {
            continuous(bin, client, source, target);
          }
          if (part("scale")) {
            results.put("operatorScale", OperatorScale.run(client, source, target));
          }
        } finally {
          operator.stop();
        }
      }
    }
    var out = Path.of(System.getProperty("pgmigrate.repoRoot", "."), "bench", "results");
    Files.createDirectories(out);
    Files.writeString(out.resolve("latest.json"),
        new io.fabric8.kubernetes.client.utils.KubernetesSerialization().asJson(results) + "\n");
    System.out.println("wrote " + out.resolve("latest.json"));
    System.exit(0);
  }

  // ---- data ---------------------------------------------------------------------------------

  static void generate(String bin, PostgresServer source) throws Exception {
    source.execute("postgres", "create database " + DB);
    sh(bin + "/pgbench -i -q -s " + scale + " " + conn(source, DB), bin);
    var cols = new StringBuilder();
    for (int i = 0; i < 16; i++) {
      cols.append(", c").append(i).append(" text");
    }
    for (var t : List.of("wide_a", "wide_b")) {
      source.execute(DB, "create table " + t + " (id bigint primary key" + cols + ")");
      var values = new StringBuilder();
      for (int i = 0; i < 16; i++) {
        values.append(", md5((g * ").append(i + 1).append(")::text)");
      }
      source.execute(DB, "insert into " + t + " select g" + values
          + " from generate_series(1, " + (scale * 5000) + ") g",
          "create index on " + t + " (c1)", "create index on " + t + " (c2, c3)");
    }
    // pgbench_history has no key: logical replication needs it to have an identity
    source.execute(DB, "alter table pgbench_history add column hid bigserial primary key",
        "vacuum analyze");
  }

  // ---- dump methods -------------------------------------------------------------------------

  static void rawCopy(String bin, PostgresServer source, PostgresServer target) throws Exception {
    sh("pg_dump --section=pre-data " + conn(source) + " | psql -q -v ON_ERROR_STOP=1 "
        + conn(target), bin);
    var tables = new ArrayList<>(List.of("pgbench_accounts", "wide_a", "wide_b",
        "pgbench_history", "pgbench_tellers", "pgbench_branches"));
    var processes = new ArrayList<Process>();
    for (int w = 0; w < jobs; w++) {
      var mine = new ArrayList<String>();
      for (int i = w; i < tables.size(); i += jobs) {
        mine.add(tables.get(i));
      }
      var script = new StringBuilder("set -eo pipefail\n");
      for (var t : mine) {
        script.append("psql -q -c \"copy ").append(t).append(" to stdout (format binary)\" ")
            .append(conn(source)).append(" | psql -q -c \"copy ").append(t)
            .append(" from stdin (format binary)\" ").append(conn(target)).append("\n");
      }
      processes.add(start(script.toString(), bin));
    }
    for (var p : processes) {
      if (p.waitFor() != 0) {
        throw new IllegalStateException("raw copy failed: "
            + new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
      }
    }
    sh("pg_dump -Fc --section=post-data " + conn(source) + " > /tmp/bench-post.dump && "
        + "pg_restore --exit-on-error -j " + jobs + " -d " + conn(target) + " /tmp/bench-post.dump"
        + " && rm -f /tmp/bench-post.dump", bin);
  }

  static void operatorDump(KubernetesClient client, PostgresServer source, PostgresServer target,
      int jobs) throws Exception {
    operatorDump(client, source, target, jobs, DB, "", "operator dump, jobs " + jobs,
        Verify.COUNTS);
  }

  static void operatorDump(KubernetesClient client, PostgresServer source, PostgresServer target,
      int jobs, String database, String split, String method, Verify verify) throws Exception {
    operatorDump(client, source, target, jobs, database, split, method, verify, true);
  }

  static void operatorDump(KubernetesClient client, PostgresServer source, PostgresServer target,
      int jobs, String database, String split, String method, Verify verify, boolean analyze)
      throws Exception {
    var m = migration(client, "dump-" + jobs, source, target);
    m.getSpec().setVerify(verify);
    m.getSpec().getDump().setAnalyze(analyze);
    m.getSpec().setMethod(Method.DUMP);
    m.getSpec().getDump().setJobs(jobs);
    m.getSpec().getDump().setSplitTablesLargerThan(split);
    m.getSpec().setDatabases(List.of(database));
    var t0 = Instant.now();
    client.resource(m).create();
    var validated = new Instant[1];
    var ready = await(client, m.getMetadata().getName(), Duration.ofMinutes(30), x -> {
      if (validated[0] == null && x.getStatus().getPhase() != Phase.Validating) {
        validated[0] = Instant.now();
      }
      return x.getStatus().getPhase() == Phase.Ready;
    });
    System.out.printf(Locale.ROOT, "    (validated %.1f s after it was created)%n",
        Duration.between(t0, validated[0]).toMillis() / 1000.0);
    // where the time went: before the Pod (checks, roles, target database), the Pod (the
    // copy and its row-count verification), after it, from the resource's and the Pod's
    // timestamps
    var created = Instant.parse(ready.getMetadata().getCreationTimestamp());
    var done = Instant.parse(ready.getStatus().getCompletedAt());
    for (var pod : client.pods().inNamespace("bench")
        .withLabel(DumpPods.MIGRATION_UID, ready.getMetadata().getUid()).list().getItems()) {
      if (DumpPods.Kind.DATA.label.equals(pod.getMetadata().getLabels().get(DumpPods.KIND))) {
        var cs = pod.getStatus().getContainerStatuses().get(0).getState().getTerminated();
        var started = Instant.parse(cs.getStartedAt());
        var finished = Instant.parse(cs.getFinishedAt());
        // creationTimestamp and the container's times have whole seconds, completedAt
        // milliseconds: each part is within a second
        var where = List.of(Duration.between(created, started).toMillis() / 1000.0,
            Duration.between(started, finished).toMillis() / 1000.0,
            Duration.between(finished, done).toMillis() / 1000.0);
        System.out.printf(Locale.ROOT,
            "    (%.1f s before the dump Pod, %.1f s in it, %.1f s after it)%n",
            where.get(0), where.get(1), where.get(2));
        operatorSplits.computeIfAbsent(method, k -> new ArrayList<>()).add(where);
        kubelet.logs(pod.getMetadata().getName()).lines().filter(l -> l.startsWith("timings: "))
            .forEach(l -> {
              System.out.println("    (in the Pod, " + l + ")");
              podTimings.computeIfAbsent(method, k -> new ArrayList<>()).add(l);
            });
      }
    }
  }

  /**
   * The medians of the methods whose names start with prefix: time against the raw bound's,
   * and pgcopydb's time against each (above 1: faster than pgcopydb).
   */
  static List<Map<String, Object>> printDumpTable(long bytes, String prefix, String rawKey,
      String pgcopydbKey) {
    double raw = median(samples.get(rawKey));
    double pgcopydb = median(samples.get(pgcopydbKey));
    System.out.println();
    System.out.printf("%s%s MB, median of %d round(s)%n", prefix, bytes / 1_000_000, rounds);
    System.out.printf("%-56s %8s %13s %7s %9s %12s%n", "method", "seconds", "(min-max)", "MB/s",
        "vs bound", "vs pgcopydb");
    var dump = new ArrayList<Map<String, Object>>();
    for (var e : samples.entrySet()) {
      if (!e.getKey().startsWith(prefix)) {
        continue;
      }
      double s = median(e.getValue());
      var range = String.format(Locale.ROOT, "(%.1f-%.1f)",
          e.getValue().stream().mapToDouble(d -> d).min().orElseThrow(),
          e.getValue().stream().mapToDouble(d -> d).max().orElseThrow());
      System.out.printf(Locale.ROOT, "%-56s %8.1f %13s %7.1f %8.2fx %11.2fx%n", e.getKey(), s,
          range, bytes / 1e6 / s, s / raw, pgcopydb / s);
      var row = new LinkedHashMap<String, Object>();
      row.put("method", e.getKey());
      row.put("medianSeconds", s);
      row.put("seconds", e.getValue());
      row.put("mbPerSecond", bytes / 1e6 / s);
      row.put("timeVsRawBound", s / raw);
      row.put("speedupVsPgcopydb", pgcopydb / s);
      if (samples.containsKey(prefix + PIPE)) {
        row.put("speedupVsPipe", median(samples.get(prefix + PIPE)) / s);
      }
      if (operatorSplits.containsKey(e.getKey())) {
        row.put("secondsBeforeInAfterDumpPod", operatorSplits.get(e.getKey()));
        row.put("dumpPodTimings", podTimings.get(e.getKey()));
        var copy = podTimings.getOrDefault(e.getKey(), List.of()).stream()
            .map(t -> copySeconds(t, false)).toList();
        if (!copy.isEmpty()) {
          row.put("podCopySeconds", copy);
          row.put("podCopyVsRawBound", median(copy) / raw);
        }
        if (!copy.isEmpty() && samples.containsKey(prefix + RAW_ANALYZE)
            && !e.getKey().endsWith(NO_ANALYZE)) {
          // with its ANALYZE: against the raw bound followed by vacuumdb --analyze-only
          var analyzed = podTimings.get(e.getKey()).stream().map(t -> copySeconds(t, true))
              .toList();
          row.put("podCopyAndAnalyzeSeconds", analyzed);
          row.put("podCopyAndAnalyzeVsRawBoundAndAnalyze",
              median(analyzed) / median(samples.get(prefix + RAW_ANALYZE)));
        }
      }
      dump.add(row);
    }
    // the raw bound does what the Pods' copy steps do (schema, data, indexes and constraints),
    // not their ANALYZE and verification, nor the operator's steps around the Pod
    System.out.println("the operator's copy steps alone (its Pod's timings without ANALYZE and"
        + " verification), median:");
    for (var row : dump) {
      if (row.containsKey("podCopyVsRawBound")) {
        System.out.printf(Locale.ROOT, "%-56s %8.1f %13s %7s %8.2fx%n",
            "  copy steps in the Pod, " + ((String) row.get("method")).replace("operator dump, ", ""),
            median(castList(row.get("podCopySeconds"))), "", "",
            (double) row.get("podCopyVsRawBound"));
      }
    }
    if (samples.containsKey(prefix + RAW_ANALYZE)) {
      System.out.println("the same with their ANALYZE, against the raw bound + vacuumdb"
          + " --analyze-only, median:");
      for (var row : dump) {
        if (row.containsKey("podCopyAndAnalyzeVsRawBoundAndAnalyze")) {
          System.out.printf(Locale.ROOT, "%-56s %8.1f %13s %7s %8.2fx%n",
              "  copy and ANALYZE steps in the Pod, "
                  + ((String) row.get("method")).replace("operator dump, ", ""),
              median(castList(row.get("podCopyAndAnalyzeSeconds"))), "", "",
              (double) row.get("podCopyAndAnalyzeVsRawBoundAndAnalyze"));
        }
      }
    }
    results.put("rounds", rounds);
    results.put(prefix.isEmpty() ? "dump" : prefix.strip().replace(":", ""), dump);
    System.out.println();
    return dump;
  }

  /**
   * The copy steps of a Pod's "timings:" line (snapshot, listing, pg_dump, pre-data, data,
   * data and post-data, post-data): all but the row counts, and but ANALYZE unless
   * {@code analyze}.
   */
  static double copySeconds(String timings, boolean analyze) {
    double sum = 0;
    for (var step : timings.substring("timings: ".length()).split(", ")) {
      var name = step.substring(0, step.lastIndexOf(' ', step.length() - 3));
      if ((!analyze && name.equals("analyze")) || name.endsWith("counts")) {
        continue;
      }
      sum += Double.parseDouble(step.substring(name.length() + 1, step.length() - 2));
    }
    return sum;
  }

  @SuppressWarnings("unchecked")
  private static List<Double> castList(Object o) {
    return (List<Double>) o;
  }

  static void pgcopydb(String bin, PostgresServer source, PostgresServer target, String database,
      String split) throws Exception {
    sh("rm -rf /tmp/bench-pgcopydb && pgcopydb clone --source " + uri(source, database)
        + " --target " + uri(target, database) + " --table-jobs " + jobs + " --index-jobs " + jobs
        + (split.isEmpty() ? "" : " --split-tables-larger-than " + split)
        + " --dir /tmp/bench-pgcopydb", bin);
  }

  // ---- one huge table -----------------------------------------------------------------------

  /**
   * A database that is one table (BENCH_HUGE_MB, default 1500 MB, a bigint key and text): its
   * raw bound is a single COPY stream; the operator at jobs N copies it in one stream, or in
   * parts of BENCH_SPLIT pages each over N streams; pgcopydb likewise, splitting on the key.
   */
  static void huge(String bin, KubernetesClient client, PostgresServer source,
      PostgresServer target) throws Exception {
    int mb = Integer.parseInt(System.getenv().getOrDefault("BENCH_HUGE_MB", "1500"));
    source.execute("postgres", "create database " + HUGE);
    // about 240 bytes a row on disk
    source.execute(HUGE, "create table big (id bigint primary key, a text, b text, n int)",
        "insert into big select g, md5(g::text) || md5((g + 1)::text), repeat(md5(g::text), 3),"
            + " g % 1000 from generate_series(1, " + ((long) mb * 1_000_000 / 240) + ") g",
        "vacuum analyze big");
    long bytes = Long.parseLong(scalar(source, "postgres",
        "select pg_database_size('" + HUGE + "')"));
    System.out.printf("one huge table: %.0f MB%n", bytes / 1e6);
    var pre = "huge: ";
    for (int round = 1; round <= rounds; round++) {
      System.out.printf("huge, round %d of %d%n", round, rounds);
      time(pre + "raw COPY bound (1 binary COPY, index after)", () -> recreate(target, HUGE),
          () -> sh("pg_dump --section=pre-data " + conn(source, HUGE) + " | psql -q"
              + " -v ON_ERROR_STOP=1 " + conn(target, HUGE) + " && psql -q -c \"copy big to stdout"
              + " (format binary)\" " + conn(source, HUGE) + " | psql -q -c \"copy big from stdin"
              + " (format binary)\" " + conn(target, HUGE) + " && pg_dump -Fc --section=post-data "
              + conn(source, HUGE) + " | pg_restore --exit-on-error -d " + conn(target, HUGE), bin),
          () -> { }, source, target);
      timeByHand(pre + PGCOPYDB, HUGE, () -> pgcopydb(bin, source, target, HUGE, ""),
          () -> sh("rm -rf /tmp/bench-pgcopydb", bin), source, target);
      var pgcopydbSplit = pre + PGCOPYDB + " --split-tables-larger-than " + pgcopydbSize();
      timeByHand(pgcopydbSplit, HUGE, () -> pgcopydb(bin, source, target, HUGE, pgcopydbSize()),
          () -> sh("rm -rf /tmp/bench-pgcopydb", bin), source, target);
      var whole = pre + "operator dump, jobs " + jobs + ", one stream";
      time(whole, () -> dropTarget(target, HUGE),
          () -> operatorDump(client, source, target, jobs, HUGE, "", whole, Verify.COUNTS),
          () -> delete(client, "dump-" + jobs), source, target);
      var parts = pre + "operator dump, jobs " + jobs + ", parts of " + SPLIT;
      time(parts, () -> dropTarget(target, HUGE),
          () -> operatorDump(client, source, target, jobs, HUGE, SPLIT, parts, Verify.COUNTS),
          () -> delete(client, "dump-" + jobs), source, target);
    }
    printDumpTable(bytes, pre, pre + "raw COPY bound (1 binary COPY, index after)",
        pre + PGCOPYDB);
    source.execute("postgres", "drop database " + HUGE);
    dropTarget(target, HUGE);
  }

  /** BENCH_SPLIT as pgcopydb reads sizes: 256Mi is 256MB. */
  static String pgcopydbSize() {
    return SPLIT.replace("Ki", "kB").replace("Mi", "MB").replace("Gi", "GB");
  }

  static double median(List<Double> values) {
    return percentile(values, 50);
  }

  // ---- continuous ---------------------------------------------------------------------------

  static void continuous(String bin, KubernetesClient client, PostgresServer source,
      PostgresServer target) throws Exception {
    dropTarget(target);
    source.execute("postgres", "checkpoint");
    target.execute("postgres", "checkpoint");
    var m = migration(client, "live", source, target);
    var t0 = Instant.now();
    client.resource(m).create();
    await(client, "live", Duration.ofMinutes(30), x -> x.getStatus().getPhase() == Phase.Syncing);
    double initial = secondsSince(t0);
    // a steady write load on the source while the lag is sampled
    int clients = 2;
    int seconds = Integer.parseInt(System.getenv().getOrDefault("BENCH_LOAD_SECONDS", "30"));
    var load = start(bin + "/pgbench -n -c " + clients + " -T " + seconds + " -R 300 "
        + conn(source, DB), bin);
    var lagBytes = new ArrayList<Long>();
    var lagSeconds = new ArrayList<Double>();
    // sample the lag every 200 ms while the load runs
    var sampler = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
    sampler.scheduleAtFixedRate(() -> {
      String row;
      try {
        row = scalar(source, "postgres",
          "select coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn), 0)::bigint"
              + " || ' ' || coalesce(extract(epoch from r.replay_lag), 0)"
              + " from pg_replication_slots s left join pg_stat_replication r"
              + " on r.pid = s.active_pid where s.slot_name like 'pgmigrate\\_%' limit 1");
      } catch (Exception e) {
        return; // a missed sample
      }
      var parts = row.split(" ");
      synchronized (lagBytes) {
        lagBytes.add(Long.parseLong(parts[0]));
        lagSeconds.add(Double.parseDouble(parts[1]));
      }
    }, 0, 200, TimeUnit.MILLISECONDS);
    load.waitFor();
    sampler.shutdown();
    sampler.awaitTermination(10, TimeUnit.SECONDS);
    var loadOut = new String(load.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    var tps = loadOut.lines().filter(l -> l.startsWith("tps")).findFirst().orElse("tps = ?");
    var t1 = Instant.now();
    Fixtures.mergePatch(client, "bench", "live", "{\"spec\":{\"keepReplicating\":false}}");
    await(client, "live", Duration.ofMinutes(10), x -> x.getStatus().getPhase() == Phase.Ready);
    double cutover = secondsSince(t1);
    delete(client, "live");
    var c = new LinkedHashMap<String, Object>();
    c.put("initialCopySeconds", initial);
    c.put("load", "pgbench TPC-B, " + clients + " clients, rate-limited to 300 tps, " + seconds
        + " s: " + tps.strip());
    c.put("lagBytesP50", percentile(lagBytes, 50));
    c.put("lagBytesP99", percentile(lagBytes, 99));
    c.put("lagSecondsP50", percentile(lagSeconds, 50));
    c.put("lagSecondsP99", percentile(lagSeconds, 99));
    c.put("samples", lagBytes.size());
    c.put("cutoverSeconds", cutover);
    results.put("continuous", c);
    System.out.println("continuous: " + c);
  }

  // ---- helpers ------------------------------------------------------------------------------

  interface Step {
    void run() throws Exception;
  }

  /** Times step only: prepare and cleanup (dropping databases, deleting migrations) are not. */
  static void time(String name, Step prepare, Step step, Step cleanup, PostgresServer... servers)
      throws Exception {
    prepare.run();
    for (var server : servers) {
      server.execute("postgres", "checkpoint");
    }
    var t0 = Instant.now();
    step.run();
    double s = secondsSince(t0);
    samples.computeIfAbsent(name, k -> new ArrayList<>()).add(s);
    System.out.printf("  %-48s %.1f s%n", name, s);
    cleanup.run();
  }

  /**
   * A tool a user runs by hand: it starts, as the operator does, where the target has no such
   * database, so creating it (createdb) is part of what the user waits for. (The raw bounds,
   * bounds on copying, start with it made.)
   */
  static void timeByHand(String name, String database, Step step, Step cleanup,
      PostgresServer source, PostgresServer target) throws Exception {
    time(name, () -> dropTarget(target, database), () -> {
      createTarget(target, database);
      step.run();
    }, cleanup, source, target);
  }

  static PgMigration migration(KubernetesClient client, String name, PostgresServer source,
      PostgresServer target) {
    var m = Fixtures.migration(client, "bench", name, source, target);
    for (var e : List.of(m.getSpec().getSource(), m.getSpec().getTarget())) {
      e.setSslMode(SslMode.DISABLE);
      e.setCaSecret(null);
    }
    m.getSpec().setDatabases(List.of(DB));
    m.getSpec().getReplication().setMaxRetainedWalBytes("8Gi");
    return m;
  }

  /**
   * The migration once {@code done} holds, seen through a watch of it (each change is looked at
   * as it arrives: a poll every 200 ms added 0.1 s to every operator time on average); a
   * Failed migration throws.
   */
  static PgMigration await(KubernetesClient client, String name, Duration limit,
      Predicate<PgMigration> done) {
    var m = client.resources(PgMigration.class).inNamespace("bench").withName(name)
        .waitUntilCondition(x -> x != null && x.getStatus() != null
            && (x.getStatus().getPhase() == Phase.Failed || done.test(x)),
            limit.toMillis(), TimeUnit.MILLISECONDS);
    if (m.getStatus().getPhase() == Phase.Failed) {
      throw new IllegalStateException(name + " failed: " + m.getStatus().getMessage());
    }
    return m;
  }

  static void delete(KubernetesClient client, String name) {
    client.resources(PgMigration.class).inNamespace("bench").withName(name).delete();
    org.awaitility.Awaitility.await().atMost(Duration.ofMinutes(5))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> client.resources(PgMigration.class).inNamespace("bench").withName(name)
            .get() == null);
  }

  /** The operator creates the target database itself. */
  static void dropTarget(PostgresServer target) throws Exception {
    dropTarget(target, DB);
  }

  static void dropTarget(PostgresServer target, String database) throws Exception {
    target.execute("postgres", "drop database if exists " + database + " with (force)");
  }

  static void recreate(PostgresServer target) throws Exception {
    recreate(target, DB);
  }

  static void recreate(PostgresServer target, String database) throws Exception {
    dropTarget(target, database);
    createTarget(target, database);
  }

  static void createTarget(PostgresServer target, String database) throws Exception {
    target.execute("postgres", "create database " + database);
  }

  /** pgcopydb takes URIs; the password comes from PGPASSWORD, as for the other tools. */
  static String uri(PostgresServer s, String db) {
    return "'postgres://" + PostgresServer.SUPERUSER + "@127.0.0.1:" + s.port() + "/" + db
        + "?sslmode=disable'";
  }

  static String conn(PostgresServer s) {
    return conn(s, DB);
  }

  static String conn(PostgresServer s, String db) {
    return "'host=127.0.0.1 port=" + s.port() + " dbname=" + db + " user="
        + PostgresServer.SUPERUSER + "'";
  }

  static String scalar(PostgresServer s, String db, String sql) throws Exception {
    try (var c = s.connect(db); var st = c.createStatement(); var rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  static Process start(String script, String bin) throws IOException {
    var pb = new ProcessBuilder("bash", "-c", script).redirectErrorStream(true);
    pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
    pb.environment().put("PGPASSWORD", PostgresServer.SUPERUSER_PASSWORD);
    pb.environment().put("PGSSLMODE", "disable");
    return pb.start();
  }

  static void sh(String script, String bin) throws Exception {
    var p = start("set -eo pipefail\n" + script, bin);
    var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IllegalStateException("failed: " + script + "\n" + out);
    }
  }

  static double secondsSince(Instant t0) {
    return Duration.between(t0, Instant.now()).toMillis() / 1000.0;
  }

  static <T extends Comparable<T>> T percentile(List<T> values, int p) {
    var sorted = values.stream().sorted().toList();
    return sorted.isEmpty() ? null : sorted.get(Math.min(sorted.size() - 1,
        (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
  }
}
