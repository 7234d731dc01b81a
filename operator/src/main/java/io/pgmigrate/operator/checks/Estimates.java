package io.pgmigrate.operator.checks;

import io.pgmigrate.operator.api.CheckResult;
import io.pgmigrate.operator.api.Estimate;
import io.pgmigrate.operator.api.Method;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.api.PgMigrationSpec;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.postgres.ConnectionSpec;
import io.pgmigrate.operator.postgres.Interrupts;
import io.pgmigrate.operator.postgres.PgConnector;
import io.pgmigrate.operator.postgres.SizeEstimate;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * What a migration would cost, measured while validating (a validateOnly dry run too): the size,
 * tables and largest tables of each database to migrate, the target's free disk where its login
 * can see it (with the check target.freeDisk), the WAL the source writes per minute, and an
 * estimate of the copy's duration with its basis. Runs with the checks, off the reconcile
 * thread; every statement is bounded by the connector's timeouts, the WAL sample and the probe by
 * their own short limits. Nothing here fails a migration: what could not be measured is said in
 * status instead.
 */
public class Estimates {

  /** Largest tables listed per database. */
  static final int LARGEST_TABLES = 5;
  /** How long the COPY probe reads before it counts: see SizeEstimate.copyProbe. */
  static final Duration PROBE_WARMUP = Duration.ofMillis(300);
  /** How long the COPY probe counts, at most. */
  static final Duration PROBE = Duration.ofMillis(700);
  /** How much the COPY probe reads, at most: a fast network ends the probe before the second. */
  static final long PROBE_MAX_BYTES = 512L << 20;

  /**
   * Free disk the target should have for each byte of data to migrate. The issue took ~1.3x
   * from Aiven's documentation, which advises leaving free disk headroom on a PostgreSQL service
   * rather than running it close to full; migration services that publish a figure ask for
   * 1.2x to 2.5x of the data (Tencent DTS, Huawei DRS). The reason is the same everywhere: the
   * restored tables take about their size on the source, and the WAL written while loading them
   * and the indexes built after them need room of their own until checkpoints recycle the WAL.
   */
  static final double HEADROOM = 1.3;

  private final PgConnector connector;
  /** The migrations of a namespace, as the operator's cache holds them (set once it runs). */
  private volatile Function<String, List<PgMigration>> migrations = ns -> List.of();

  public Estimates(PgConnector connector) {
    this.connector = connector;
  }

  /** Where earlier migrations are read from: the operator's cache, by namespace. */
  public void readMigrationsWith(Function<String, List<PgMigration>> migrations) {
    this.migrations = Objects.requireNonNull(migrations);
  }

  /**
   * The source's WAL position when validation starts (see {@link #markWal}): the rate is the
   * WAL written from there until the estimates end, the time the checks take anyway, rather
   * than an interval every migration would wait for before it starts.
   */
  public record WalMark(Long position, long nanos) {}

  /** The first of the two WAL positions, read as the checks begin. */
  public WalMark markWal(ConnectionSpec source) {
    return new WalMark(walPosition(source), System.nanoTime());
  }

  /**
   * The report with status.estimate and the check target.freeDisk added. {@code source} and
   * {@code target} are the logins of the two servers, both reached by the checks;
   * {@code wal} the source's WAL position as the checks began.
   */
  public ValidationReport addTo(ValidationReport report, String namespace, PgMigrationSpec spec,
      ConnectionSpec source, ConnectionSpec target, WalMark wal) {
    if (report.databases().isEmpty() || source == null || target == null) {
      return report;
    }
    var scrub = new Scrub(source, target);
    var estimate = new Estimate();

    long total = 0;
    long dataBytes = 0;
    String largestDb = null;
    SizeEstimate.Table largest = null;
    for (var db : report.databases()) {
      var d = new Estimate.Database();
      d.setName(db);
      try (var c = connector.open(source.withDatabase(db))) {
        var size = SizeEstimate.database(c, LARGEST_TABLES);
        d.setSizeBytes(size.bytes());
        d.setSize(Bytes.human(size.bytes()));
        d.setTables(size.tables());
        for (var t : size.largest()) {
          d.getLargestTables().add(
              new Estimate.Table(t.display(), Bytes.human(t.bytes()), t.bytes()));
          if (largest == null || t.bytes() > largest.bytes()) {
            largest = t;
            largestDb = db;
          }
        }
        total += size.bytes();
        dataBytes += size.dataBytes();
      } catch (SQLException e) {
        Interrupts.rethrowIfInterrupted(e);
        d.setMessage("could not measure: " + scrub.of(e));
      }
      estimate.getDatabases().add(d);
    }
    estimate.setTotalBytes(total);
    estimate.setTotal(Bytes.human(total));

    var free = freeDisk(target, scrub);
    estimate.setTargetFreeDisk(free.text());
    estimate.setTargetFreeDiskBytes(free.bytes());

    var earlier = earlierRate(migrations.apply(namespace), spec);
    if (earlier.isPresent()) {
      var rate = earlier.get();
      setCopy(estimate, total / rate.bytesPerSecond(), rate.basis());
    } else if (spec.isValidateOnly()) {
      probe(estimate, source, largestDb, largest, dataBytes, scrub);
    } else {
      estimate.setCopyBasis(NOT_PROBED);
    }

    sourceWal(estimate, source, wal, scrub);
    var checks = new ArrayList<>(report.checks());
    checks.add(freeDiskCheck(total, free));
    return new ValidationReport(List.copyOf(checks), report.method(), report.databases(),
        report.targetMajor(), estimate);
  }

  // ---- the target's free disk ----

  /** The free disk, or why it is not known. */
  record FreeDisk(Long bytes, String text) {}

  private FreeDisk freeDisk(ConnectionSpec target, Scrub scrub) {
    try (var c = connector.open(target)) {
      if (!SizeEstimate.mayRunPrograms(c)) {
        return new FreeDisk(null, NOT_VISIBLE);
      }
      var df = SizeEstimate.dataDirectoryFreeDisk(c);
      return df.map(d -> new FreeDisk(d.bytes(), Bytes.human(d.bytes())
              + " free on the file system of the data directory (mounted on " + d.mountedOn()
              + "), read by running df on the server (COPY FROM PROGRAM)"))
          .orElse(new FreeDisk(null, "not visible: df on the server printed nothing readable"));
    } catch (SQLException e) {
      Interrupts.rethrowIfInterrupted(e);
      return new FreeDisk(null, "not visible: running df on the server failed: " + scrub.of(e));
    }
  }

  static final String NOT_VISIBLE = "not visible to this login: PostgreSQL has no SQL function"
      + " for free disk; only a superuser or a member of pg_execute_server_program can read it"
      + " (by running df on the server). See the target's disk in its provider's console or"
      + " metrics";

  /** Warning below {@link #HEADROOM} times the data; passed (saying so) when not visible. */
  static CheckResult freeDiskCheck(long dataBytes, FreeDisk free) {
    long needed = (long) Math.ceil(dataBytes * HEADROOM);
    var need = String.format(Locale.ROOT, "%.1fx the %s to migrate, %s", HEADROOM,
        Bytes.human(dataBytes), Bytes.human(needed));
    if (free.bytes() == null) {
      return CheckEvaluator.passed(CheckName.TARGET_FREE_DISK,
          "not checked: the target's free disk is " + free.text() + " (the copy wants about "
              + need + ")");
    }
    if (free.bytes() < needed) {
      return CheckEvaluator.warning(CheckName.TARGET_FREE_DISK,
          "only " + Bytes.human(free.bytes()) + " free on the target, less than " + need
              + ": the copy, the WAL it writes and the indexes built after it may fill the"
              + " target's disk",
          "Give the target's data directory at least " + Bytes.human(needed)
              + " free before starting (grow the volume or free space).");
    }
    return CheckEvaluator.passed(CheckName.TARGET_FREE_DISK,
        Bytes.human(free.bytes()) + " free on the target, at least " + need);
  }

  // ---- the source's WAL rate ----

  /** The source's WAL position, or null when it could not be read (then no rate). */
  private Long walPosition(ConnectionSpec source) {
    try (var c = connector.open(source)) {
      return SizeEstimate.walPosition(c);
    } catch (SQLException e) {
      Interrupts.rethrowIfInterrupted(e);
      return null;
    }
  }

  private void sourceWal(Estimate estimate, ConnectionSpec source, WalMark start, Scrub scrub) {
    if (start == null || start.position() == null) {
      estimate.setSourceWal("not measured: the source's WAL position could not be read");
      return;
    }
    long end;
    try (var c = connector.open(source)) {
      end = SizeEstimate.walPosition(c);
    } catch (SQLException e) {
      Interrupts.rethrowIfInterrupted(e);
      estimate.setSourceWal("not measured: " + scrub.of(e));
      return;
    }
    double seconds = (System.nanoTime() - start.nanos()) / 1e9;
    long bytes = end - start.position();
    long perMinute = Math.max(0, Math.round(bytes * 60 / seconds));
    estimate.setSourceWalBytesPerMinute(perMinute);
    estimate.setSourceWal(walText(perMinute, bytes, seconds));
  }

  static String walText(long perMinute, long bytes, double seconds) {
    return Bytes.human(perMinute) + " per minute (" + Bytes.human(Math.max(0, bytes))
        + " in " + String.format(Locale.ROOT, "%.1f", seconds) + " s by pg_current_wal_insert_lsn,"
        + " the whole server): a stalled replication slot would retain ~"
        + Bytes.human(perMinute * 60) + " per hour";
  }

  // ---- the copy's duration ----

  /** A copy rate and what it rests on. */
  record Rate(double bytesPerSecond, String basis) {}

  /**
   * The rate of the latest dump migration in the namespace that finished between the same
   * source and target (host and port): its bytes on the target (status.databases[].bytesCopied,
   * pg_database_size there) over its run from startedAt to completedAt. Throughput depends on
   * those servers and the network between them, so migrations between other servers are not
   * used; a continuous migration's run includes its replication, so neither is it.
   */
  static Optional<Rate> earlierRate(List<PgMigration> migrations, PgMigrationSpec spec) {
    record Run(PgMigration m, long bytes, Instant end, double seconds) {}
    return migrations.stream()
        .filter(m -> m.getStatus() != null && m.getSpec() != null
            && m.getStatus().getPhase() == Phase.Ready
            && m.getStatus().getMethod() == Method.DUMP
            && m.getStatus().getStartedAt() != null && m.getStatus().getCompletedAt() != null
            && sameServer(m.getSpec().getSource(), spec.getSource())
            && sameServer(m.getSpec().getTarget(), spec.getTarget()))
        .map(m -> {
          long bytes = m.getStatus().getDatabases().stream()
              .map(d -> d.getBytesCopied()).filter(Objects::nonNull)
              .mapToLong(Long::longValue).sum();
          var start = Instant.parse(m.getStatus().getStartedAt());
          var end = Instant.parse(m.getStatus().getCompletedAt());
          return new Run(m, bytes, end, Duration.between(start, end).toMillis() / 1000.0);
        })
        .filter(r -> r.bytes() > 0 && r.seconds() > 0)
        .max(Comparator.comparing(Run::end))
        .map(r -> {
          double rate = r.bytes() / r.seconds();
          return new Rate(rate, "from the throughput of migration "
              + r.m().getMetadata().getName() + " (a dump between the same servers, finished "
              + r.end() + "): " + Bytes.human(r.bytes()) + " in " + elapsed(r.seconds())
              + ", " + Bytes.human((long) rate) + "/s, applied to the "
              + "databases' size");
        });
  }

  private static boolean sameServer(io.pgmigrate.operator.api.Endpoint a,
      io.pgmigrate.operator.api.Endpoint b) {
    return a != null && b != null && Objects.equals(a.getHost(), b.getHost())
        && a.portOrDefault() == b.portOrDefault();
  }

  private void probe(Estimate estimate, ConnectionSpec source, String db,
      SizeEstimate.Table table, long dataBytes, Scrub scrub) {
    if (table == null || dataBytes == 0) {
      estimate.setCopyBasis("no estimate: no table holds data, so the copy is the schema only");
      return;
    }
    try (var c = connector.open(source.withDatabase(db))) {
      var probe = SizeEstimate.copyProbe(c, table, PROBE_WARMUP, PROBE,
          PROBE_MAX_BYTES);
      if (probe.bytes() == 0 || probe.seconds() <= 0) {
        estimate.setCopyBasis("no estimate: a COPY probe of " + db + ": " + table.display()
            + " read nothing");
        return;
      }
      var rate = probe.bytesPerSecond();
      setCopy(estimate, dataBytes / rate, String.format(Locale.ROOT,
          "from a %.1f s COPY probe of %s: %s on the source at %s/s (%s read%s), applied to"
              + " the %s of table data (indexes not counted; writing the target and building"
              + " the indexes come on top)",
          probe.seconds(), db, table.display(), Bytes.human((long) rate),
          Bytes.human(probe.bytes()), probe.complete() ? ", the whole table" : "",
          Bytes.human(dataBytes)));
    } catch (SQLException e) {
      Interrupts.rethrowIfInterrupted(e);
      estimate.setCopyBasis("no estimate: the COPY probe of " + db + ": " + table.display()
          + " failed: " + scrub.of(e));
    }
  }

  /**
   * A migration that copies is not held in Validating by a probe: the probe takes a second, and
   * on a small database that is a large part of what the user waits for (the benchmark's 700 MB
   * copy takes about 12 s). A dry run, where the duration is the question, probes.
   */
  static final String NOT_PROBED = "no estimate: the copy starts at once rather than spend a"
      + " second probing the source's COPY rate (a validateOnly dry run probes it; an earlier"
      + " dump between the same servers gives it without a probe)";

  private static void setCopy(Estimate estimate, double seconds, String basis) {
    estimate.setCopySeconds(Math.round(seconds));
    estimate.setCopyDuration(duration(seconds));
    estimate.setCopyBasis("estimate: " + basis);
  }

  /** "~40 s", "~4 min", "~2.5 h": an estimate, rounded as one. */
  static String duration(double seconds) {
    if (seconds < 1) {
      return "~1 s";
    }
    if (seconds < 90) {
      return "~" + Math.round(seconds) + " s";
    }
    if (seconds < 90 * 60) {
      return "~" + Math.round(seconds / 60) + " min";
    }
    return String.format(Locale.ROOT, "~%.1f h", seconds / 3600);
  }

  /** "45 s", "3 min 10 s": a measured time. */
  static String elapsed(double seconds) {
    long s = Math.round(seconds);
    return s < 60 ? s + " s" : s / 60 + " min " + s % 60 + " s";
  }

  /** No message that reaches status may repeat a password. */
  private record Scrub(ConnectionSpec source, ConnectionSpec target) {
    String of(SQLException e) {
      var text = String.valueOf(e.getMessage());
      for (var login : List.of(source, target)) {
        if (login.password() != null && !login.password().isEmpty()) {
          text = text.replace(login.password(), "***");
        }
      }
      return text;
    }
  }
}
