package io.pgmigrate.operator.bench;

import static io.pgmigrate.operator.bench.Benchmark.DB;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgmigrate.operator.PgMigrateOperator;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.postgres.PgFeature;
import io.pgmigrate.operator.postgres.Timeouts;
import io.pgmigrate.operator.testing.Fixtures;
import io.pgmigrate.operator.testing.KubeApi;
import io.pgmigrate.operator.testing.PostgresServer;
import io.pgmigrate.operator.testing.TestKubelet;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;

/**
 * Continuous replication under pgbench TPC-B at the highest rate the source sustains here: the
 * operator's migration (rate ceiling, lag p50/p99/max in bytes and seconds, cutover under load and
 * right after it), then subscription options compared with subscriptions made by SQL on the same
 * servers and on a pair of a newer major (binary, streaming off/on/parallel; lag at the same rate
 * and one large transaction).
 *
 * <p>Lag in seconds comes from a heartbeat, not from pg_stat_replication.replay_lag (reported too,
 * for comparison): replay_lag is NULL while the walsender is idle, smoothed by the walsender, and
 * measured to the subscriber's flush reports, which an asynchronous apply (subscriptions commit
 * with synchronous_commit off) sends late. The heartbeat is a row on the source updated every
 * 50 ms by this JVM, which keeps the time each update's commit returned; every 200 ms the target
 * is asked which update it shows. The lag we want is the age of the oldest transaction committed
 * on the source and not yet applied on the target (what a cutover waits for, what a reader of the
 * target misses); the target applies in commit order, so it lies between two numbers, at most
 * 50 ms apart: {@code behind}, the age of the oldest heartbeat the target does not show (0 when it
 * shows the newest), and {@code stale}, the time since the newest heartbeat it shows was
 * committed (about 25 ms on average even with no lag). Claims are made on stale, the upper bound.
 *
 * <p>Every write (pgbench and heartbeat) commits with synchronous_commit on, as on a production
 * source: the test servers default to off, and a walsender sends only WAL the source has flushed,
 * so asynchronous commits would add the WAL writer's delay (up to 200 ms and more) to every lag.
 */
public final class ContinuousLoad {

  static final int RATE = 1000;
  static final int CLIENTS = 4;
  static final int THREADS = 2;
  /** pgbench counts a transaction later than this behind its schedule as late or skipped. */
  static final int LATENCY_LIMIT_MS = 1000;
  static final String HEARTBEAT = "lag_heartbeat";
  static final int HEARTBEAT_MS = 50;
  static final int SAMPLE_MS = 200;
  static final String BIG = "lag_bigtx";
  static final String COMPARE = "lagcmp";
  /** The publisher-side login of the SQL-made subscriptions: trusted on loopback, no password. */
  static final String REPLICATOR = "lagbench";
  static final List<String> TABLES = List.of("pgbench_accounts", "pgbench_branches",
      "pgbench_tellers", "pgbench_history", HEARTBEAT, BIG);

  static int loadSeconds = env("BENCH_LOAD_SECONDS", 60);
  static int ceilingSeconds = env("BENCH_CEILING_SECONDS", 20);
  /** A run at the chosen rate that must be sustained before the lag window. */
  static int rateCheckSeconds = env("BENCH_RATE_CHECK_SECONDS", 10);
  /** How long pgbench goes on after the lag window, so that the first cutover runs under load. */
  static int cutoverTailSeconds = env("BENCH_CUTOVER_TAIL_SECONDS", 20);
  /** The load before the second cutover, which starts the moment that load ends. */
  static int cutoverLoadSeconds = env("BENCH_CUTOVER_LOAD_SECONDS", 20);
  static int compareSeconds = env("BENCH_COMPARE_SECONDS", 30);
  static int compareRounds = env("BENCH_COMPARE_ROUNDS", 3);
  /** The pgbench load around the large transaction (it starts 2 s into it). */
  static int bigLoadSeconds = env("BENCH_BIGTX_LOAD_SECONDS", 20);
  static int bigRows = env("BENCH_BIGTX_ROWS", 200_000);
  /** The newer major whose pair compares parallel apply; 0 skips it. */
  static int compareMajor = env("BENCH_COMPARE_MAJOR", 17);

  private ContinuousLoad() {}

  private static int env(String name, int fallback) {
    return Integer.parseInt(System.getenv().getOrDefault(name, String.valueOf(fallback)));
  }

  /** Standalone: the two servers, the API server, the host kubelet and the operator, then run. */
  public static void main(String[] args) throws Exception {
    var bin = PostgresServer.binDir();
    Map<String, Object> results;
    try (var api = KubeApi.start();
        var source = PostgresServer.builder().name("bench-source")
            .set("shared_buffers", "'512MB'").set("max_wal_size", "'4GB'").start();
        var target = PostgresServer.builder().name("bench-target")
            .set("shared_buffers", "'512MB'").set("max_wal_size", "'4GB'").start()) {
      Benchmark.generate(bin, source);
      var client = api.client();
      client.resource(new NamespaceBuilder().withNewMetadata().withName("bench").endMetadata()
          .build()).create();
      try (var kubelet = new TestKubelet(client, "bench").start()) {
        var operator = PgMigrateOperator.create(client, Set.of("bench"),
            new Timeouts(Duration.ofSeconds(10), Duration.ofMinutes(30), Duration.ofMinutes(20)));
        operator.start();
        try {
          results = run(bin, client, source, target);
        } finally {
          operator.stop();
        }
      }
    }
    var out = Path.of(System.getProperty("pgmigrate.repoRoot", "."), "bench", "results");
    Files.createDirectories(out);
    var file = out.resolve("continuous-latest.json");
    Files.writeString(file, new io.fabric8.kubernetes.client.utils.KubernetesSerialization()
        .asJson(Map.of("scale", Benchmark.scale, "continuousLoad", results)) + "\n");
    System.out.println("wrote " + file);
    System.exit(0);
  }

  /**
   * Everything on database {@link Benchmark#DB} of the source (pgbench tables at
   * Benchmark.scale); the target's database of that name is dropped first (the operator creates
   * it). The source is left as found, less the rows pgbench adds.
   */
  static Map<String, Object> run(String bin, KubernetesClient client, PostgresServer source,
      PostgresServer target) throws Exception {
    var result = new LinkedHashMap<String, Object>();
    result.put("load", "pgbench TPC-B (default script), " + CLIENTS + " clients, " + THREADS
        + " threads, synchronous_commit on, latency limit " + LATENCY_LIMIT_MS + " ms");
    result.put("lagSeconds", "heartbeat (one every " + HEARTBEAT_MS + " ms), sampled every "
        + SAMPLE_MS + " ms: stale = since the newest heartbeat the target shows was committed on"
        + " the source (an upper bound of the lag), behind = age of the oldest heartbeat committed"
        + " and not yet visible on the target (a lower bound)");
    result.put("lagBytes", "slot: source WAL position - the slot's confirmed_flush_lsn (what the"
        + " target reported flushed); applied: source WAL position - the subscription's"
        + " replication origin (the end of the last transaction the target applied)");
    addLagTables(source, DB, true);
    try {
      var operator = operatorRuns(bin, client, source, target);
      result.putAll(operator);
      int rate = (int) operator.get("rate");
      var compared = new ArrayList<Map<String, Object>>();
      compared.add(compare(bin, source, target, rate));
      if (compareMajor > 0) {
        try (var newSource = PostgresServer.builder().name("lag-source-" + compareMajor)
                .major(compareMajor).set("shared_buffers", "'512MB'")
                .set("max_wal_size", "'4GB'").start();
            var newTarget = PostgresServer.builder().name("lag-target-" + compareMajor)
                .major(compareMajor).set("shared_buffers", "'512MB'")
                .set("max_wal_size", "'4GB'").start()) {
          newSource.execute("postgres", "create database " + DB);
          Benchmark.sh(bin + "/pgbench -i -q -s " + Benchmark.scale + " "
              + Benchmark.conn(newSource, DB), bin);
          newSource.execute(DB, "alter table pgbench_history add column hid bigserial primary key");
          addLagTables(newSource, DB, true);
          newSource.execute(DB, "vacuum analyze");
          compared.add(compare(bin, newSource, newTarget, rate));
        }
      }
      result.put("subscriptionOptions", compared);
    } finally {
      source.execute(DB, "drop table if exists " + HEARTBEAT + ", " + BIG);
    }
    System.out.println("continuous load: " + result);
    return result;
  }

  // ---- the operator's migration ---------------------------------------------------------------

  private static Map<String, Object> operatorRuns(String bin, KubernetesClient client,
      PostgresServer source, PostgresServer target) throws Exception {
    var r = new LinkedHashMap<String, Object>();
    // (a) ceiling and (b) lag at the measured rate, then (c) a cutover while pgbench goes on
    Benchmark.dropTarget(target);
    checkpoint(source, target);
    var m = Benchmark.migration(client, "lag", source, target);
    var t0 = Instant.now();
    client.resource(m).create();
    Benchmark.await(client, "lag", Duration.ofMinutes(30),
        x -> x.getStatus().getPhase() == Phase.Syncing);
    r.put("initialCopySeconds", Benchmark.secondsSince(t0));
    var names = operatorReplication(source, target);
    r.put("operatorSubscription", names.get("options"));
    int rate;
    try (var probe = new Probe(source, DB, target, DB, names.get("slot"), names.get("slot"))) {
      probe.awaitApplied(Duration.ofMinutes(5));
      int mark = probe.mark();
      var ceiling = pgbench(bin, source, 0, ceilingSeconds);
      var ceilingSamples = probe.since(mark);
      // how long the target needed to catch up after the unthrottled run: whether the
      // replication kept up with the source's ceiling
      double drain = probe.awaitApplied(Duration.ofMinutes(30));
      var c = new LinkedHashMap<String, Object>();
      c.put("seconds", ceilingSeconds);
      c.put("pgbench", ceiling.summary());
      c.put("lag", Lag.of(ceilingSamples));
      c.put("secondsToCatchUpAfter", drain);
      r.put("ceiling", c);
      double top = ceiling.tps();
      rate = top > RATE * 1.1 ? RATE : (int) Math.floor(top * 0.9);
      var why = top > RATE * 1.1
          ? "the issue's " + RATE + " tps (the source's ceiling here is " + Math.round(top)
              + " tps)"
          : "90% of the source's ceiling of " + Math.round(top) + " tps (" + RATE
              + " tps is more than it sustains here)";
      // the ceiling is one run on a machine that may be noisy: a rate is kept once a short run
      // at it was sustained, else it steps down by 10%
      var checks = new ArrayList<String>();
      for (int attempt = 1; ; attempt++) {
        var check = pgbench(bin, source, rate, rateCheckSeconds);
        checks.add(check.summary() + (check.sustained() ? "" : ": not sustained"));
        if (check.sustained() || attempt == 5) {
          break;
        }
        rate = (int) Math.floor(rate * 0.9);
        why = "stepped down from " + why;
      }
      probe.awaitApplied(Duration.ofMinutes(30));
      r.put("rate", rate);
      r.put("rateChosen", rate + " tps: " + why);
      r.put("rateChecks", checks);
      System.out.printf(Locale.ROOT, "ceiling %.0f tps (target caught up %.1f s after); measuring"
          + " at %d tps (%s)%n", top, drain, rate, String.join("; ", checks));

      checkpoint(source, target);
      mark = probe.mark();
      var load = startPgbench(bin, source, rate, loadSeconds + cutoverTailSeconds);
      load.waitFor(loadSeconds, TimeUnit.SECONDS);
      var window = probe.since(mark);
      var t1 = Instant.now();
      Fixtures.mergePatch(client, "bench", "lag", "{\"spec\":{\"keepReplicating\":false}}");
      Benchmark.await(client, "lag", Duration.ofMinutes(10),
          x -> x.getStatus().getPhase() == Phase.Ready);
      double loadedCutover = Benchmark.secondsSince(t1);
      boolean stillLoaded = load.isAlive();
      var loaded = Pgbench.finish(load, rate);
      var lag = Lag.of(window);
      var s = new LinkedHashMap<String, Object>();
      s.put("seconds", loadSeconds);
      s.put("pgbench", loaded.summary());
      s.put("pgbenchSpans", "the lag window and the cutover after it (" + cutoverTailSeconds
          + " s more)");
      s.put("sustained", loaded.sustained());
      s.put("lag", lag);
      r.put("steady", s);
      r.put("lagP99Seconds", lag.secondsP99());
      r.put("lagP99UnderOneSecond", lag.secondsP99() < 1.0 && loaded.sustained());
      r.put("cutoverUnderLoadSeconds", loadedCutover);
      r.put("cutoverUnderLoadStillLoadedAtReady", stillLoaded);
      System.out.printf(Locale.ROOT, "at %d tps (%s): lag p50 %.3f s, p99 %.3f s, max %.3f s"
          + " (behind: %.3f/%.3f/%.3f s; applied bytes p50 %d, p99 %d); cutover under load %.1f"
          + " s%s%n", rate, loaded.summary(), lag.secondsP50(), lag.secondsP99(),
          lag.secondsMax(), lag.behindSecondsP50(), lag.behindSecondsP99(),
          lag.behindSecondsMax(), lag.appliedBytesP50(), lag.appliedBytesP99(), loadedCutover,
          stillLoaded ? "" : " (pgbench ended before Ready)");
    }
    Benchmark.delete(client, "lag");

    // (c) the cutover the moment the load stops: a second migration, as an application that
    // stops writing and then cuts over does
    Benchmark.dropTarget(target);
    checkpoint(source, target);
    client.resource(Benchmark.migration(client, "lag-after", source, target)).create();
    Benchmark.await(client, "lag-after", Duration.ofMinutes(30),
        x -> x.getStatus().getPhase() == Phase.Syncing);
    names = operatorReplication(source, target);
    try (var probe = new Probe(source, DB, target, DB, names.get("slot"), names.get("slot"))) {
      probe.awaitApplied(Duration.ofMinutes(5));
      var load = pgbench(bin, source, rate, cutoverLoadSeconds);
      var behind = probe.latestSample();
      var t1 = Instant.now();
      Fixtures.mergePatch(client, "bench", "lag-after",
          "{\"spec\":{\"keepReplicating\":false}}");
      Benchmark.await(client, "lag-after", Duration.ofMinutes(10),
          x -> x.getStatus().getPhase() == Phase.Ready);
      double afterCutover = Benchmark.secondsSince(t1);
      r.put("cutoverAfterLoadSeconds", afterCutover);
      r.put("cutoverAfterLoad", "pgbench at " + rate + " tps for " + cutoverLoadSeconds
          + " s (" + load.summary() + "), keepReplicating: false as it ended; the target was "
          + (behind == null ? "?" : String.format(Locale.ROOT, "%.3f s", behind.staleSeconds()))
          + " behind then");
      System.out.printf(Locale.ROOT, "cutover right after the load: %.1f s%n", afterCutover);
    }
    Benchmark.delete(client, "lag-after");
    return r;
  }

  /** Our slot (its name is also the subscription's) and the options the operator gave it. */
  private static Map<String, String> operatorReplication(PostgresServer source,
      PostgresServer target) throws Exception {
    var slot = Benchmark.scalar(source, "postgres", "select slot_name from pg_replication_slots"
        + " where slot_name like 'pgmigrate\\_%'");
    String options;
    try (var c = target.connect(DB); var ps = c.prepareStatement("select 'binary ' ||"
        + " subbinary::text || ', streaming ' || substream::text from pg_subscription"
        + " where subname = ?")) {
      ps.setString(1, slot);
      try (var rs = ps.executeQuery()) {
        rs.next();
        options = rs.getString(1);
      }
    }
    return Map.of("slot", slot, "options", options);
  }

  // ---- subscription options compared ----------------------------------------------------------

  /** One subscription's options: binary transfer, streaming off, on or parallel. */
  record Options(boolean binary, String streaming) {
    String label() {
      return "binary " + (binary ? "on" : "off") + ", streaming " + streaming;
    }

    /** The operator's choice on this major (Replication.subscriptionOptions). */
    static Options operators(int major) {
      return new Options(PgFeature.BINARY_SUBSCRIPTION.on(major),
          PgFeature.PARALLEL_APPLY.on(major) ? "parallel"
              : PgFeature.STREAMING_SUBSCRIPTION.on(major) ? "on" : "off");
    }

    /** What to compare on a pair of this major: binary each way, every streaming mode it has. */
    static List<Options> toCompare(int major) {
      return PgFeature.PARALLEL_APPLY.on(major)
          ? List.of(new Options(true, "off"), new Options(true, "on"),
              new Options(false, "parallel"), new Options(true, "parallel"))
          : List.of(new Options(false, "off"), new Options(true, "off"),
              new Options(false, "on"), new Options(true, "on"));
    }
  }

  /**
   * One subscription made by SQL (the pgbench tables and ours, initial copy included), then per
   * option set: ALTER SUBSCRIPTION (its apply worker restarts), a lag window at the rate, and one
   * large UPDATE under the same load.
   */
  private static Map<String, Object> compare(String bin, PostgresServer source,
      PostgresServer target, int rate) throws Exception {
    int major = Math.min(source.major(), target.major());
    var pair = source.major() + "→" + target.major();
    System.out.println("subscription options on " + pair + ":");
    target.execute("postgres", "drop database if exists " + COMPARE + " with (force)",
        "create database " + COMPARE);
    // the pgbench schema without rows, our two tables, the identity pgbench_history gets
    Benchmark.sh(bin + "/pgbench -i -q -I dtp " + Benchmark.conn(target, COMPARE), bin);
    target.execute(COMPARE, "alter table pgbench_history add column hid bigserial primary key");
    addLagTables(target, COMPARE, false);
    source.execute(DB, "drop publication if exists " + COMPARE,
        "create publication " + COMPARE + " for table " + String.join(", ", TABLES),
        "drop role if exists " + REPLICATOR,
        "create role " + REPLICATOR + " login replication",
        "grant select on " + String.join(", ", TABLES) + " to " + REPLICATOR);
    source.trust(REPLICATOR, DB);
    var first = Options.toCompare(major).get(0);
    target.execute(COMPARE, "create subscription " + COMPARE + " connection 'host=127.0.0.1 port="
        + source.port() + " dbname=" + DB + " user=" + REPLICATOR + " sslmode=disable'"
        + " publication " + COMPARE + " with (copy_data = true, binary = " + first.binary()
        + ", streaming = " + first.streaming() + ")");
    var t0 = Instant.now();
    Awaitility.await().atMost(Duration.ofMinutes(60)).pollInterval(Duration.ofSeconds(1))
        .until(() -> "0".equals(Benchmark.scalar(target, COMPARE, "select count(*) from"
            + " pg_subscription_rel where srsubstate <> 'r'")));
    var result = new LinkedHashMap<String, Object>();
    result.put("pair", pair);
    result.put("initialCopySeconds", Benchmark.secondsSince(t0));
    result.put("operatorChoice", Options.operators(target.major()).label()
        + (PgFeature.PARALLEL_APPLY.on(target.major()) && !PgFeature.PARALLEL_APPLY.on(major)
            ? " (a " + source.major() + " source applies it as streaming on)" : ""));
    var trials = new LinkedHashMap<String, List<Map<String, Object>>>();
    try (var probe = new Probe(source, DB, target, COMPARE, COMPARE, COMPARE)) {
      var current = first;
      for (int round = 1; round <= compareRounds; round++) {
        for (var options : Options.toCompare(major)) {
          var t = trial(bin, source, target, probe, current, options, rate);
          current = options;
          trials.computeIfAbsent(options.label(), k -> new ArrayList<>()).add(t);
        }
      }
    } finally {
      target.execute(COMPARE, "drop subscription if exists " + COMPARE);
      source.execute(DB, "drop publication if exists " + COMPARE);
      target.execute("postgres", "drop database if exists " + COMPARE + " with (force)");
    }
    var rows = new ArrayList<Map<String, Object>>();
    for (var e : trials.entrySet()) {
      var row = new LinkedHashMap<String, Object>();
      row.put("options", e.getKey());
      row.put("lagSecondsP99", median(e.getValue(), t -> (Double) t.get("lagSecondsP99")));
      row.put("lagBehindSecondsP99", median(e.getValue(),
          t -> (Double) t.get("lagBehindSecondsP99")));
      row.put("lagSecondsMax", median(e.getValue(), t -> (Double) t.get("lagSecondsMax")));
      row.put("bigTxAppliedSecondsAfterCommit", median(e.getValue(),
          t -> (Double) t.get("bigTxAppliedSecondsAfterCommit")));
      row.put("bigTxLagSecondsMax", median(e.getValue(),
          t -> (Double) t.get("bigTxLagSecondsMax")));
      row.put("rounds", e.getValue());
      rows.add(row);
    }
    result.put("trials", rows);
    result.put("verdict", verdict(rows, Options.operators(major).label()));
    printComparison(result, rows, rate);
    return result;
  }

  /**
   * Whether another option set beat the operator's by more than the measurement resolves: the
   * heartbeat's interval for the lag p99, 10% for the large transaction.
   */
  static String verdict(List<Map<String, Object>> rows, String operators) {
    var ours = rows.stream().filter(r -> operators.equals(r.get("options"))).findFirst()
        .orElseThrow();
    var lag = rows.stream().min((a, b) -> Double.compare((Double) a.get("lagSecondsP99"),
        (Double) b.get("lagSecondsP99"))).orElseThrow();
    var big = rows.stream().min((a, b) -> Double.compare(
        (Double) a.get("bigTxAppliedSecondsAfterCommit"),
        (Double) b.get("bigTxAppliedSecondsAfterCommit"))).orElseThrow();
    double ourLag = (Double) ours.get("lagSecondsP99");
    double bestLag = (Double) lag.get("lagSecondsP99");
    double ourBig = (Double) ours.get("bigTxAppliedSecondsAfterCommit");
    double bestBig = (Double) big.get("bigTxAppliedSecondsAfterCommit");
    return String.format(Locale.ROOT, "lag p99: %s; large transaction: %s",
        ourLag - bestLag > HEARTBEAT_MS / 1000.0
            ? String.format(Locale.ROOT, "lower with %s (%.3f s, the operator's %s %.3f s)",
                lag.get("options"), bestLag, operators, ourLag)
            : String.format(Locale.ROOT, "the operator's %s (%.3f s) within %d ms of the lowest",
                operators, ourLag, HEARTBEAT_MS),
        bestBig < ourBig * 0.9
            ? String.format(Locale.ROOT, "applied sooner with %s (%.2f s after its commit, the"
                + " operator's %s %.2f s)", big.get("options"), bestBig, operators, ourBig)
            : String.format(Locale.ROOT, "the operator's %s (%.2f s after its commit) within 10%%"
                + " of the fastest", operators, ourBig));
  }

  private static Map<String, Object> trial(String bin, PostgresServer source,
      PostgresServer target, Probe probe, Options current, Options options, int rate)
      throws Exception {
    if (!options.equals(current)) {
      var before = applyWorker(target);
      target.execute(COMPARE, "alter subscription " + COMPARE + " set (binary = "
          + options.binary() + ", streaming = " + options.streaming() + ")");
      // the apply worker exits on an option change and the launcher starts a new one (after
      // wal_retrieve_retry_interval): measure only the new worker
      Awaitility.await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200))
          .until(() -> {
            var now = applyWorker(target);
            return now != null && !now.equals(before);
          });
    }
    probe.awaitApplied(Duration.ofMinutes(10));
    // each option set starts from vacuumed tables and a checkpoint, so none pays for the
    // dead rows and dirty buffers of the one before
    source.execute(DB, "vacuum");
    target.execute(COMPARE, "vacuum");
    checkpoint(source, target);
    source.execute(DB, "select pg_stat_reset_replication_slot('" + COMPARE + "')");
    var t = new LinkedHashMap<String, Object>();
    int mark = probe.mark();
    var load = pgbench(bin, source, rate, compareSeconds);
    var lag = Lag.of(probe.since(mark));
    t.put("pgbench", load.summary());
    t.put("sustained", load.sustained());
    t.put("lag", lag);
    t.put("lagSecondsP99", lag.secondsP99());
    t.put("lagBehindSecondsP99", lag.behindSecondsP99());
    t.put("lagSecondsMax", lag.secondsMax());

    // the large transaction, under the same load: one UPDATE of every row of lag_bigtx
    probe.awaitApplied(Duration.ofMinutes(10));
    int expected = Integer.parseInt(Benchmark.scalar(source, DB,
        "select v from " + BIG + " where id = 1")) + 1;
    mark = probe.mark();
    var bigLoad = startPgbench(bin, source, rate, bigLoadSeconds);
    bigLoad.waitFor(2, TimeUnit.SECONDS);
    long started;
    long committed;
    try (var c = source.connect(DB); var st = c.createStatement()) {
      st.execute("set synchronous_commit = on");
      started = System.nanoTime();
      st.executeUpdate("update " + BIG + " set v = v + 1");
      committed = System.nanoTime();
    }
    long applied;
    try (var c = target.connect(COMPARE);
        var ps = c.prepareStatement("select v from " + BIG + " where id = 1")) {
      Awaitility.await().atMost(Duration.ofMinutes(30)).pollDelay(Duration.ZERO)
          .pollInterval(Duration.ofMillis(20)).until(() -> {
            try (var rs = ps.executeQuery()) {
              return rs.next() && rs.getInt(1) == expected;
            }
          });
      applied = System.nanoTime();
    }
    var bigRun = Pgbench.finish(bigLoad, rate);
    var bigLag = Lag.of(probe.since(mark));
    t.put("bigTxRows", bigRows);
    t.put("bigTxSecondsOnSource", (committed - started) / 1e9);
    t.put("bigTxAppliedSecondsAfterCommit", (applied - committed) / 1e9);
    t.put("bigTxLagSecondsMax", bigLag.secondsMax());
    t.put("bigTxLag", bigLag);
    t.put("bigTxPgbench", bigRun.summary());
    t.put("slotStats", slotStats(source));
    System.out.printf(Locale.ROOT, "  %-34s lag p99 %.3f s max %.3f s; UPDATE of %d rows %.1f s,"
        + " applied %.2f s after its commit, lag max %.2f s%n", options.label(), lag.secondsP99(),
        lag.secondsMax(), bigRows, (committed - started) / 1e9, (applied - committed) / 1e9,
        bigLag.secondsMax());
    return t;
  }

  /** The leader apply worker of our subscription (parallel apply workers have a leader_pid). */
  private static String applyWorker(PostgresServer target) throws Exception {
    var leader = PgFeature.PARALLEL_APPLY.on(target.major()) ? " and leader_pid is null" : "";
    try (var c = target.connect(COMPARE); var st = c.createStatement();
        var rs = st.executeQuery("select pid from pg_stat_subscription where subname = '"
            + COMPARE + "' and relid is null and pid is not null" + leader)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  /** What the source's decoding did with the trial's transactions: streamed, spilled. */
  private static Map<String, Object> slotStats(PostgresServer source) throws Exception {
    try (var c = source.connect(DB); var st = c.createStatement();
        var rs = st.executeQuery("select stream_txns, stream_bytes, spill_txns, spill_bytes"
            + " from pg_stat_replication_slots where slot_name = '" + COMPARE + "'")) {
      var m = new LinkedHashMap<String, Object>();
      if (rs.next()) {
        m.put("streamTxns", rs.getLong(1));
        m.put("streamBytes", rs.getLong(2));
        m.put("spillTxns", rs.getLong(3));
        m.put("spillBytes", rs.getLong(4));
      }
      return m;
    }
  }

  private static void printComparison(Map<String, Object> result, List<Map<String, Object>> rows,
      int rate) {
    System.out.println();
    System.out.printf("%s at %d tps, %d s (median of %d round(s)); large transaction: UPDATE of"
        + " %d rows under the same load%n", result.get("pair"), rate, compareSeconds,
        compareRounds, bigRows);
    System.out.printf("%-34s %10s %14s %10s %22s %18s%n", "options", "lag p99 s",
        "(behind p99 s)", "lag max s", "big tx applied after", "lag max during s");
    for (var row : rows) {
      System.out.printf(Locale.ROOT, "%-34s %10.3f %14.3f %10.3f %22.2f %18.2f%n",
          row.get("options"), row.get("lagSecondsP99"), row.get("lagBehindSecondsP99"),
          row.get("lagSecondsMax"),
          row.get("bigTxAppliedSecondsAfterCommit"), row.get("bigTxLagSecondsMax"));
    }
    System.out.printf("operator's choice: %s. %s%n%n", result.get("operatorChoice"),
        result.get("verdict"));
  }

  private static double median(List<Map<String, Object>> rounds,
      Function<Map<String, Object>, Double> value) {
    return Benchmark.median(rounds.stream().map(value).toList());
  }

  // ---- pgbench --------------------------------------------------------------------------------

  /** pgbench at this rate (0: as fast as it goes) for so many seconds, to its end. */
  private static Pgbench pgbench(String bin, PostgresServer source, int rate, int seconds)
      throws Exception {
    return Pgbench.finish(startPgbench(bin, source, rate, seconds), rate);
  }

  private static Process startPgbench(String bin, PostgresServer source, int rate, int seconds)
      throws Exception {
    var throttle = rate > 0 ? " -R " + rate + " -L " + LATENCY_LIMIT_MS : "";
    return Benchmark.start("PGOPTIONS='-c synchronous_commit=on' " + bin + "/pgbench -n -c "
        + CLIENTS + " -j " + THREADS + " -T " + seconds + throttle + " "
        + Benchmark.conn(source, DB), bin);
  }

  /** What pgbench reported, and whether it kept the rate it was given. */
  record Pgbench(int rate, double tps, long processed, long skipped, long late,
      Double scheduleLagMs, String output) {
    private static final Pattern TPS = Pattern.compile("(?m)^tps = ([0-9.]+)");
    private static final Pattern PROCESSED =
        Pattern.compile("number of transactions actually processed: (\\d+)");
    private static final Pattern SKIPPED =
        Pattern.compile("number of transactions skipped: (\\d+)");
    private static final Pattern LATE =
        Pattern.compile("number of transactions above the [0-9.]+ ms latency limit: (\\d+)");
    private static final Pattern SCHEDULE =
        Pattern.compile("rate limit schedule lag: avg ([0-9.]+)");

    static Pgbench finish(Process p, int rate) throws Exception {
      var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.waitFor() != 0 || !TPS.matcher(out).find()) {
        throw new IllegalStateException("pgbench failed:\n" + out);
      }
      var schedule = find(SCHEDULE, out);
      return new Pgbench(rate, Double.parseDouble(find(TPS, out)),
          Long.parseLong(find(PROCESSED, out)), parse(find(SKIPPED, out)),
          parse(find(LATE, out)), schedule == null ? null : Double.parseDouble(schedule), out);
    }

    private static String find(Pattern p, String text) {
      var m = p.matcher(text);
      return m.find() ? m.group(1) : null;
    }

    private static long parse(String n) {
      return n == null ? 0 : Long.parseLong(n);
    }

    /**
     * Within 3% of the rate, and at most 1% of the transactions skipped (more than the latency
     * limit behind schedule before they started) or late (slower than it, schedule lag included).
     */
    boolean sustained() {
      return rate == 0 || (tps >= rate * 0.97 && skipped + late <= 0.01 * (processed + skipped));
    }

    String summary() {
      return String.format(Locale.ROOT, "%.0f tps%s", tps, rate == 0 ? " unthrottled"
          : String.format(Locale.ROOT, " of %d, %d skipped, %d late, schedule lag avg %.1f ms",
              rate, skipped, late, scheduleLagMs == null ? Double.NaN : scheduleLagMs));
    }
  }

  // ---- lag --------------------------------------------------------------------------------------

  /** One look at the lag: bytes behind on the slot and as applied, seconds by the heartbeat. */
  record Sample(long slotBytes, long appliedBytes, double staleSeconds, double behindSeconds,
      Double replayLagSeconds) {}

  /** Percentiles of samples (p50, p99, max); seconds* are the stale ones, the upper bound. */
  record Lag(int samples, double secondsP50, double secondsP99, double secondsMax,
      double behindSecondsP50, double behindSecondsP99, double behindSecondsMax,
      long appliedBytesP50, long appliedBytesP99, long appliedBytesMax, long slotBytesP50,
      long slotBytesP99, long slotBytesMax, Double replayLagSecondsP50,
      Double replayLagSecondsP99, int replayLagNull) {
    static Lag of(List<Sample> s) {
      if (s.isEmpty()) {
        throw new IllegalStateException("no lag sample in the window");
      }
      var seconds = s.stream().map(Sample::staleSeconds).toList();
      var behind = s.stream().map(Sample::behindSeconds).toList();
      var applied = s.stream().map(Sample::appliedBytes).toList();
      var slot = s.stream().map(Sample::slotBytes).toList();
      var replay = s.stream().map(Sample::replayLagSeconds).filter(x -> x != null).toList();
      return new Lag(s.size(), round(Benchmark.percentile(seconds, 50)),
          round(Benchmark.percentile(seconds, 99)), round(Collections.max(seconds)),
          round(Benchmark.percentile(behind, 50)), round(Benchmark.percentile(behind, 99)),
          round(Collections.max(behind)),
          Benchmark.percentile(applied, 50), Benchmark.percentile(applied, 99),
          Collections.max(applied), Benchmark.percentile(slot, 50),
          Benchmark.percentile(slot, 99), Collections.max(slot),
          replay.isEmpty() ? null : Benchmark.percentile(replay, 50),
          replay.isEmpty() ? null : Benchmark.percentile(replay, 99), s.size() - replay.size());
    }

    private static double round(double seconds) {
      return Math.round(seconds * 1000) / 1000.0;
    }
  }

  /**
   * The heartbeat and the sampler of one replication (see the class comment): a row on the
   * source updated every 50 ms, and every 200 ms one sample of both servers, on connections of
   * their own so that neither waits for the other or for the caller.
   */
  static final class Probe implements AutoCloseable {
    private final Connection beat;
    private final Connection sourceRead;
    private final Connection targetRead;
    private final String slot;
    private final String subscription;
    private final Map<Long, Long> committedAt = new ConcurrentHashMap<>();
    private final AtomicLong latest = new AtomicLong();
    private final long first;
    private volatile long seenOnTarget = -1;
    private final List<Sample> samples = new ArrayList<>();
    private final AtomicInteger missed = new AtomicInteger();
    private final ScheduledExecutorService heartbeat = Executors.newSingleThreadScheduledExecutor();
    private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();

    Probe(PostgresServer source, String sourceDb, PostgresServer target, String targetDb,
        String slot, String subscription) throws SQLException {
      this.slot = slot;
      this.subscription = subscription;
      beat = source.connect(sourceDb);
      try (var st = beat.createStatement()) {
        st.execute("set synchronous_commit = on");
      }
      sourceRead = source.connect(sourceDb);
      targetRead = target.connect(targetDb);
      // the row's number goes on from an earlier probe's, so the target's row compares
      latest.set(Long.parseLong(query(beat, "select seq from " + HEARTBEAT + " where id = 1")));
      first = latest.get() + 1;
      heartbeat.scheduleAtFixedRate(this::beat, 0, HEARTBEAT_MS, TimeUnit.MILLISECONDS);
      sampler.scheduleAtFixedRate(this::sample, 0, SAMPLE_MS, TimeUnit.MILLISECONDS);
    }

    private void beat() {
      long n = latest.get() + 1;
      try (var ps = beat.prepareStatement("update " + HEARTBEAT
          + " set seq = ?, at = clock_timestamp() where id = 1")) {
        ps.setLong(1, n);
        ps.executeUpdate();
        committedAt.put(n, System.nanoTime());
        latest.set(n);
      } catch (SQLException e) {
        missed.incrementAndGet(); // a missed beat: the next one carries on
      }
    }

    private void sample() {
      try {
        long sourceLsn;
        long slotBytes;
        Double replay;
        try (var ps = sourceRead.prepareStatement("select pg_current_wal_lsn()::text,"
            + " pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::bigint,"
            + " extract(epoch from r.replay_lag)::float8 from pg_replication_slots s"
            + " left join pg_stat_replication r on r.pid = s.active_pid where s.slot_name = ?")) {
          ps.setString(1, slot);
          try (var rs = ps.executeQuery()) {
            if (!rs.next()) {
              return; // no slot (yet, or any more)
            }
            sourceLsn = lsn(rs.getString(1));
            slotBytes = rs.getLong(2);
            double r = rs.getDouble(3);
            replay = rs.wasNull() ? null : r;
          }
        }
        // taken before the target's snapshot: what that snapshot lacks was committed before
        long asked = System.nanoTime();
        long seen;
        long applied;
        try (var ps = targetRead.prepareStatement("select (select seq from " + HEARTBEAT
            + " where id = 1), (select o.remote_lsn::text from pg_replication_origin_status o"
            + " join pg_subscription s on o.external_id = 'pg_' || s.oid where s.subname = ?)")) {
          ps.setString(1, subscription);
          try (var rs = ps.executeQuery()) {
            rs.next();
            seen = rs.getLong(1);
            var origin = rs.getString(2);
            if (origin == null) {
              return;
            }
            applied = lsn(origin);
          }
        }
        seenOnTarget = seen;
        // the newest heartbeat the target shows: one of ours whose commit time is not recorded
        // yet is the newest there is (stale 0); one from before this probe counts from our
        // first one's commit (a lower bound)
        var shown = committedAt.get(seen);
        if (shown == null && seen < first) {
          shown = committedAt.get(first);
        }
        // the oldest heartbeat it lacks that had committed
        Long missing = seen >= latest.get() ? null
            : committedAt.getOrDefault(seen + 1, committedAt.get(first));
        double stale = shown == null || shown > asked ? 0 : (asked - shown) / 1e9;
        double behind = missing == null || missing > asked ? 0 : (asked - missing) / 1e9;
        synchronized (samples) {
          samples.add(new Sample(slotBytes, Math.max(0, sourceLsn - applied), stale, behind,
              replay));
        }
      } catch (SQLException | RuntimeException e) {
        missed.incrementAndGet(); // a missed sample
      }
    }

    static long lsn(String text) {
      int slash = text.indexOf('/');
      return (Long.parseLong(text.substring(0, slash), 16) << 32)
          | Long.parseLong(text.substring(slash + 1), 16);
    }

    int mark() {
      synchronized (samples) {
        return samples.size();
      }
    }

    List<Sample> since(int mark) {
      synchronized (samples) {
        return List.copyOf(samples.subList(mark, samples.size()));
      }
    }

    Sample latestSample() {
      synchronized (samples) {
        return samples.isEmpty() ? null : samples.get(samples.size() - 1);
      }
    }

    /** Waits until the target shows every heartbeat committed by now; returns the seconds. */
    double awaitApplied(Duration limit) {
      long now = latest.get();
      var t0 = Instant.now();
      Awaitility.await().atMost(limit).pollDelay(Duration.ZERO)
          .pollInterval(Duration.ofMillis(100)).until(() -> seenOnTarget >= now);
      return Benchmark.secondsSince(t0);
    }

    @Override
    public void close() throws Exception {
      heartbeat.shutdown();
      sampler.shutdown();
      heartbeat.awaitTermination(10, TimeUnit.SECONDS);
      sampler.awaitTermination(10, TimeUnit.SECONDS);
      beat.close();
      sourceRead.close();
      targetRead.close();
    }
  }

  // ---- helpers ----------------------------------------------------------------------------------

  /**
   * The heartbeat row and the large transaction's table (rows of ~400 bytes, so that one UPDATE
   * of 200k of them exceeds logical_decoding_work_mem's 64 MB and is streamed or spilled).
   */
  private static void addLagTables(PostgresServer s, String db, boolean withRows) {
    s.execute(db, "create table " + HEARTBEAT + " (id int primary key, seq bigint not null,"
            + " at timestamptz not null)",
        "create table " + BIG + " (id int primary key, v int not null, pad text not null)");
    if (withRows) {
      s.execute(db, "insert into " + HEARTBEAT + " values (1, 0, now())",
          "insert into " + BIG + " select g, 0, repeat('x', 400) from generate_series(1, "
              + bigRows + ") g",
          "vacuum analyze " + HEARTBEAT + ", " + BIG);
    }
  }

  private static void checkpoint(PostgresServer... servers) {
    for (var s : servers) {
      s.execute("postgres", "checkpoint");
    }
  }

  private static String query(Connection c, String sql) throws SQLException {
    try (var st = c.createStatement(); var rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
