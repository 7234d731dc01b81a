package io.pgmigrate.operator.reconciler;

import io.pgmigrate.operator.api.DatabaseStatus;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.postgres.ConnectionSpec;
import io.pgmigrate.operator.postgres.CopyTotals;
import io.pgmigrate.operator.postgres.Interrupts;
import io.pgmigrate.operator.postgres.PgConnector;
import java.sql.SQLException;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rows and size on the target of the databases a dump copies ({@link CopyTotals}), read {@link
 * OffThread off the reconcile thread}: a pass asks for databases, a later pass gets their
 * numbers. Each database asked for is read by a read that starts after the asking, so the
 * numbers asked for once a copy ended are its final ones. Only progress to show: a database
 * that cannot be read keeps its last numbers.
 */
final class TargetTotals {

  private static final Logger log = LoggerFactory.getLogger(TargetTotals.class);

  /** What one migration has running and what it asked for since that read started. */
  private static final class Asked {
    /** A read of some databases' totals, running or done; null when none was started. */
    CompletableFuture<Map<String, CopyTotals>> running;
    final Set<String> next = new LinkedHashSet<>();
  }

  private final OffThread threads;
  private final PgConnector connector;
  /** By the migration's UID; JOSDK runs one pass of a migration at a time. */
  private final Map<String, Asked> byMigration = new ConcurrentHashMap<>();

  TargetTotals(OffThread threads, PgConnector connector) {
    this.threads = threads;
    this.connector = connector;
  }

  /**
   * Writes the numbers of a read that ended into {@code statuses}, then asks for {@code ask}. With
   * {@code wake}, the read's end triggers a pass (the caller waits for these numbers). {@code
   * target} is asked for the login when a read starts; null (a Secret missing) drops what was
   * asked. Returns true when every database asked for, now or before, has had its read.
   */
  boolean refresh(PgMigration m, Supplier<ConnectionSpec> target, List<DatabaseStatus> statuses,
      Collection<String> ask, boolean wake) {
    var asked = byMigration.computeIfAbsent(m.getMetadata().getUid(), k -> new Asked());
    if (asked.running != null && asked.running.isDone()) {
      var totals = asked.running.join();
      for (var db : statuses) {
        var t = totals.get(db.getName());
        if (t != null) {
          db.setRowsCopied(t.rows());
          db.setBytesCopied(t.bytes());
        }
      }
      asked.running = null;
    }
    asked.next.addAll(ask);
    if (asked.running == null && !asked.next.isEmpty()) {
      var databases = List.copyOf(asked.next);
      asked.next.clear();
      var login = target.get();
      if (login != null) {
        asked.running = threads.run(m, wake, () -> {
          try {
            return read(login, databases);
          } catch (RuntimeException e) {
            // only progress to show: the numbers stay as they were, the copy goes on
            log.warn("reading the totals of {} on the target", databases, e);
            return Map.<String, CopyTotals>of();
          }
        });
      }
    }
    return asked.running == null && asked.next.isEmpty();
  }

  /** The migration is gone, or no longer copies: nothing more to read. */
  void forget(PgMigration m) {
    byMigration.remove(m.getMetadata().getUid());
  }

  /**
   * Each database on a connection of its own with the usual timeouts; a target that does not
   * answer is not asked again in this read (the next one tries again).
   */
  private Map<String, CopyTotals> read(ConnectionSpec target, List<String> databases) {
    var totals = new LinkedHashMap<String, CopyTotals>();
    for (var db : databases) {
      try (var dst = connector.open(target.withDatabase(db))) {
        totals.put(db, CopyTotals.read(dst));
      } catch (SQLException e) {
        Interrupts.rethrowIfInterrupted(e);
        log.debug("reading the totals of {} on the target: {}", db, e.getMessage());
        if (e.getSQLState() != null && e.getSQLState().startsWith("08")) {
          break;
        }
      }
    }
    return totals;
  }
}
