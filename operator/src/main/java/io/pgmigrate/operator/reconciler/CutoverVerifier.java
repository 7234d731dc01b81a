package io.pgmigrate.operator.reconciler;

import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.postgres.ConnectionSpec;
import io.pgmigrate.operator.postgres.PgConnector;
import io.pgmigrate.operator.postgres.RowDigests;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The continuous method's verification at a fenced cutover: once the target confirmed the
 * cutover position of a source that accepts no more writes, both sides hold the same rows, and
 * every table's row count (and with {@code verify: digests} its rows' digest, {@link
 * RowDigests}) is compared. The reads take as long as reading every table does, so they run
 * {@link OffThread off the reconcile thread}: a pass starts them, a later pass takes the result.
 * Nothing is recorded: after an operator restart the comparison simply runs again.
 */
final class CutoverVerifier {

  /** A table read may take as long as the largest table takes to scan. */
  static final Duration STATEMENT = Duration.ofHours(6);

  private final OffThread threads;
  private final PgConnector connector;
  /** By migration UID and database. */
  private final Map<String, CompletableFuture<Result>> running = new ConcurrentHashMap<>();

  /** How many of the source's tables were compared, and those that differ with what differs. */
  record Result(int tables, List<String> differences) {}

  CutoverVerifier(OffThread threads, PgConnector connector) {
    this.threads = threads;
    this.connector = new PgConnector(connector.timeouts().withLongStatements(STATEMENT));
  }

  /**
   * Empty while the comparison runs (started now if it was not); then its result. A failed read
   * is rethrown once, and the next call starts a new one.
   */
  Optional<Result> compare(PgMigration m, String database, ConnectionSpec source,
      ConnectionSpec target, boolean digests) {
    var key = m.getMetadata().getUid() + "/" + database;
    var read = running.computeIfAbsent(key, k -> threads.run(m, true, () -> {
      // both sides at once, each one session reading its tables; the source's on a thread of
      // its own (a cutover is rare, and a task of the shared pool waiting on another of the
      // same pool could wait forever once the pool is full)
      var src = CompletableFuture.supplyAsync(() -> read(source.withDatabase(database), digests),
          r -> {
            var t = new Thread(r, "pgmigrate-verify-source");
            t.setDaemon(true);
            t.start();
          });
      var dst = read(target.withDatabase(database), digests);
      var fromSource = src.join();
      return new Result(fromSource.size(), RowDigests.differences(fromSource, dst));
    }));
    if (!read.isDone()) {
      return Optional.empty();
    }
    running.remove(key);
    return Optional.of(OffThread.resultOf(read));
  }

  /** Forgets a migration's reads (it was deleted or ended). */
  void forget(PgMigration m) {
    running.keySet().removeIf(k -> k.startsWith(m.getMetadata().getUid() + "/"));
  }

  private Map<String, String> read(ConnectionSpec spec, boolean digests) {
    try (var c = connector.open(spec)) {
      return RowDigests.read(c, digests);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException("reading the tables of " + spec.address() + "/"
          + spec.database() + ": " + e.getMessage() + " (SQLSTATE " + e.getSQLState() + ")", e);
    }
  }
}
