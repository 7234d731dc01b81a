package io.pgmigrate.operator.reconciler;

import io.pgmigrate.operator.api.DatabasePhase;
import io.pgmigrate.operator.api.DatabaseStatus;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.api.PgMigrationStatus;
import io.pgmigrate.operator.api.SchemaDrift;
import io.pgmigrate.operator.postgres.ConnectionSpec;
import io.pgmigrate.operator.postgres.Interrupts;
import io.pgmigrate.operator.postgres.PgConnector;
import io.pgmigrate.operator.postgres.ReplicationNames;
import io.pgmigrate.operator.postgres.SchemaDiff;
import io.pgmigrate.operator.postgres.Sql;
import io.pgmigrate.operator.reconciler.Decision.Event;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Schema drift while a subscription runs. Logical replication carries no DDL: a column added on
 * the source stops the apply at the first row that has it ("missing replicated column"), a new
 * table at its first row ("target relation does not exist"). Every {@link #INTERVAL} a read
 * {@link OffThread off the reconcile thread} compares the replicated tables' definitions on both
 * servers ({@link SchemaDiff}); the pass that takes the result writes what differs into the
 * database's status (schemaDrift) with an Event once per new difference, and, with
 * replication.applySchemaChanges, applies the additive ones on the target.
 *
 * <p>Applying changes the target, so it runs on the reconcile thread, each statement bounded by
 * the connector's timeouts. It is safe to repeat, which is what makes an operator stopped between
 * detecting and applying harmless: the next comparison finds the same difference in the catalogs
 * and the statements are IF NOT EXISTS, and a refresh adds only the tables the subscription
 * lacks. The apply worker that failed meanwhile retries from its last confirmed position (the
 * slot resends the whole transaction), so no row is lost while it waits.
 */
final class DriftWatch {

  /** How often the definitions are compared: a difference is in status within a minute. */
  static final Duration INTERVAL = Duration.ofSeconds(20);
  /** Differences kept in each database's status; the Event and the message count the rest. */
  static final int LIMIT = 20;
  private static final Logger log = LoggerFactory.getLogger(DriftWatch.class);
  /**
   * Differences that make applying fail: a column or table the target lacks, a type the
   * source's values may not fit, a NULL the target refuses (a column NOT NULL only there, or
   * dropped on the source while NOT NULL on the target). A dropped table, a NOT NULL only on the
   * source or a table outside the subscription do not: apply errors beside them fail as usual.
   */
  private static final java.util.Set<String> STOPS_APPLY = java.util.Set.of(
      SchemaDiff.Change.ColumnAdded.name(), SchemaDiff.Change.TableAdded.name(),
      SchemaDiff.Change.TypeChanged.name(), SchemaDiff.Change.NotNullDropped.name(),
      SchemaDiff.Change.ColumnDropped.name());

  /** One comparison of a migration's databases: when it started, and its result by database. */
  private static final class Run {
    final Instant started;
    final CompletableFuture<Map<String, List<SchemaDiff.Drift>>> result;
    boolean taken;

    Run(Instant started, CompletableFuture<Map<String, List<SchemaDiff.Drift>>> result) {
      this.started = started;
      this.result = result;
    }
  }

  private final OffThread threads;
  private final PgConnector connector;
  /** By the migration's UID; JOSDK runs one pass of a migration at a time. */
  private final Map<String, Run> runs = new ConcurrentHashMap<>();

  DriftWatch(OffThread threads, PgConnector connector) {
    this.threads = threads;
    this.connector = connector;
  }

  /**
   * Takes the result of a comparison that ended (status, Events, and the changes applied when
   * the spec says so), and starts the next one when due. Returns the Events to record.
   */
  List<Event> watch(PgMigration m, PgMigrationStatus status, ConnectionSpec source,
      ConnectionSpec target, Instant now) {
    var events = new ArrayList<Event>();
    var uid = m.getMetadata().getUid();
    var watched = status.getDatabases().stream().filter(DriftWatch::watched).toList();
    if (watched.isEmpty()) {
      runs.remove(uid);
      return events;
    }
    var run = runs.get(uid);
    boolean applied = false;
    if (run != null && run.result.isDone() && !run.taken) {
      run.taken = true;
      Map<String, List<SchemaDiff.Drift>> found;
      try {
        found = OffThread.resultOf(run.result);
      } catch (RuntimeException e) {
        // only a report: the next comparison tries again
        log.warn("{}/{}: comparing the schemas: {}", m.getMetadata().getNamespace(),
            m.getMetadata().getName(), e.getMessage());
        found = Map.of();
      }
      for (var db : watched) {
        var drift = found.get(db.getName());
        if (drift != null) {
          applied |= report(m, db, drift, target, events);
        }
      }
    }
    for (var db : watched) {
      var drift = db.getSchemaDrift();
      if (drift != null) {
        // PostgreSQL counts apply errors but keeps their text in the target's log: while they
        // come, the differences are what the user is pointed at
        db.setMessage(db.getMessage() + "; schema drift: " + drift.size()
            + " difference(s) from the source (status schemaDrift)"
            + (!ErrorWatch.failing(db) ? "" : "; the apply errors are likely caused by "
                + drift.stream().limit(3).map(SchemaDrift::key)
                    .collect(Collectors.joining(", "))
                + " (held, not failed, until the target is in line: see their ddl)"));
      }
    }
    boolean due = run == null || (run.taken
        && (applied || !run.started.plus(INTERVAL).isAfter(now)));
    if (due) {
      // after applying, compared again at once: status shows what is left
      var names = watched.stream().map(DatabaseStatus::getName).toList();
      runs.put(uid, new Run(now, threads.run(m, true, () -> compare(uid, names, source,
          target))));
    }
    return events;
  }

  /** The migration is gone, or its replication is: nothing more to compare. */
  void forget(PgMigration m) {
    runs.remove(m.getMetadata().getUid());
  }

  /**
   * Whether a database's apply errors are held rather than failing the migration: while its
   * tables differ from the source's, that difference is the likely cause, and failing would
   * drop the slot, so that only a new migration could recover; once the target is brought in
   * line (by applySchemaChanges or by hand) the apply worker carries on where it stopped.
   * replication.maxRetainedWalBytes still protects the source's disk meanwhile. Called when
   * {@link ErrorWatch#persistent} says the migration should fail.
   */
  static boolean holdsFailure(DatabaseStatus db, Instant now) {
    if (db.getSchemaDrift() == null
        || db.getSchemaDrift().stream().noneMatch(d -> STOPS_APPLY.contains(d.getChange()))) {
      return false;
    }
    // errors from now on count anew: once the target is in line, apply errors that still keep
    // coming for ErrorWatch.LIMIT have another cause, and fail the migration as before
    db.setErroringSince(now.toString());
    return true;
  }

  /** Databases whose subscription runs, until their cutover removes it. */
  private static boolean watched(DatabaseStatus db) {
    return db.isSchemaCopied() && db.isSlotCreated() && db.getCutoverStep() == null
        && (db.getPhase() == DatabasePhase.Copying || db.getPhase() == DatabasePhase.Indexing
            || db.getPhase() == DatabasePhase.Replicating
            || db.getPhase() == DatabasePhase.CuttingOver);
  }

  /** The off-thread read: both servers' definitions, per database, compared. */
  private Map<String, List<SchemaDiff.Drift>> compare(String uid, List<String> databases,
      ConnectionSpec source, ConnectionSpec target) throws SQLException {
    var result = new LinkedHashMap<String, List<SchemaDiff.Drift>>();
    for (var name : databases) {
      var names = ReplicationNames.of(uid, name);
      try {
        Map<String, SchemaDiff.Table> onSource;
        try (var src = connector.open(source.withDatabase(name))) {
          onSource = SchemaDiff.read(src, null).tables();
        }
        SchemaDiff.Definitions onTarget;
        try (var dst = connector.open(target.withDatabase(name))) {
          onTarget = SchemaDiff.read(dst, names.subscription());
        }
        if (onTarget.subscribed() == null) {
          // no subscription yet (or any more): nothing replicates, nothing to compare
          continue;
        }
        result.put(name, SchemaDiff.compare(onSource, onTarget, Sql.ident(names.subscription())));
      } catch (SQLException e) {
        Interrupts.rethrowIfInterrupted(e);
        if (e.getSQLState() != null && e.getSQLState().startsWith("08")) {
          throw e;
        }
        // one database that cannot be read keeps its last report; the others are compared
        log.debug("comparing the schemas of {}: {}", name, e.getMessage());
      }
    }
    return result;
  }

  /**
   * Writes a database's differences into its status, with an Event for those not reported
   * before, and applies the additive ones when the spec says so; true when it applied any.
   */
  private boolean report(PgMigration m, DatabaseStatus db, List<SchemaDiff.Drift> drift,
      ConnectionSpec target, List<Event> events) {
    var before = new HashMap<String, SchemaDrift>();
    if (db.getSchemaDrift() != null) {
      db.getSchemaDrift().forEach(d -> before.put(d.key(), d));
    }
    // those status can hold: beyond them, a difference would look new on every comparison
    var fresh = drift.stream().limit(LIMIT).filter(d -> !before.containsKey(entry(d).key()))
        .toList();
    if (!fresh.isEmpty()) {
      events.add(new Event(true, "SchemaDrift", limit(db.getName() + ": " + fresh.size()
          + " difference(s) from the source (logical replication carries no DDL"
          + (drift.size() > LIMIT ? "; " + drift.size() + " in all, status lists " + LIMIT : "")
          + "): " + fresh.stream().map(d -> d.object() + " " + d.change() + " (" + d.ddl() + ")")
              .collect(Collectors.joining("; ")))));
    }
    var errors = new LinkedHashMap<String, String>();
    boolean applied = false;
    if (m.getSpec().getReplication().isApplySchemaChanges()
        && drift.stream().anyMatch(SchemaDiff.Drift::additive)) {
      applied = apply(m, db, drift, target, errors, events);
    }
    var entries = new ArrayList<SchemaDrift>();
    for (var d : drift) {
      if (applied && d.additive() && !errors.containsKey(d.object())) {
        // applied: the next comparison, started at once, says whether anything is left
        continue;
      }
      var e = entry(d);
      e.setError(errors.get(d.object()));
      var old = before.get(e.key());
      if (e.getError() != null && (old == null || !Objects.equals(old.getError(), e.getError()))) {
        events.add(new Event(true, "SchemaChangeFailed", limit(db.getName() + ": applying "
            + d.ddl() + " on the target failed: " + e.getError())));
      }
      if (entries.size() < LIMIT) {
        entries.add(e);
      }
    }
    db.setSchemaDrift(entries.isEmpty() ? null : entries);
    return applied;
  }

  /**
   * Runs the additive changes on the target: each in a savepoint of one transaction (a failure
   * is kept for that object, the others go on), then the refresh that makes the subscription
   * copy the new tables. Returns true when it ran any.
   */
  private boolean apply(PgMigration m, DatabaseStatus db, List<SchemaDiff.Drift> drift,
      ConnectionSpec target, Map<String, String> errors, List<Event> events) {
    var done = new ArrayList<String>();
    String refresh = null;
    try (var dst = connector.open(target.withDatabase(db.getName()))) {
      dst.setAutoCommit(false);
      try (var st = dst.createStatement()) {
        for (var d : drift) {
          if (!d.additive()) {
            continue;
          }
          var savepoint = dst.setSavepoint();
          try {
            for (var sql : d.statements()) {
              st.execute(sql);
            }
          } catch (SQLException e) {
            Interrupts.rethrowIfInterrupted(e);
            dst.rollback(savepoint);
            errors.put(d.object(), e.getMessage());
            continue;
          }
          var notes = new ArrayList<String>();
          for (var sql : d.optional()) {
            var optional = dst.setSavepoint();
            try {
              st.execute(sql);
            } catch (SQLException e) {
              Interrupts.rethrowIfInterrupted(e);
              dst.rollback(optional);
              notes.add("not done: " + sql + " (" + e.getMessage() + ")");
            }
          }
          if (d.refresh() != null) {
            refresh = d.refresh();
          }
          done.add(d.object() + " " + d.change() + (d.statements().isEmpty() ? ""
              : " (" + String.join("; ", d.statements()) + ")")
              + (notes.isEmpty() ? "" : "; " + String.join("; ", notes)));
        }
        dst.commit();
        // a crash here leaves new tables outside the subscription: the next comparison reports
        // them as TableNotSubscribed, and refreshes
        FaultPoints.reached("drift.committed");
        if (refresh != null) {
          // not in a transaction block; new tables are created first, or the refresh fails
          dst.setAutoCommit(true);
          try {
            st.execute(refresh);
          } catch (SQLException e) {
            Interrupts.rethrowIfInterrupted(e);
            for (var d : drift) {
              if (d.refresh() != null && d.additive()) {
                errors.putIfAbsent(d.object(), "refreshing the subscription: " + e.getMessage());
              }
            }
            refresh = null;
          }
        }
      }
    } catch (SQLException e) {
      Interrupts.rethrowIfInterrupted(e);
      // nothing was committed, or the refresh failed: the next comparison finds it again
      for (var d : drift) {
        if (d.additive()) {
          errors.putIfAbsent(d.object(), e.getMessage());
        }
      }
      log.warn("{}/{}: applying schema changes to {}: {}", m.getMetadata().getNamespace(),
          m.getMetadata().getName(), db.getName(), e.getMessage());
      return false;
    }
    if (!done.isEmpty()) {
      events.add(new Event(false, "SchemaChangesApplied", limit(db.getName() + ": on the target: "
          + String.join("; ", done) + (refresh == null ? "" : "; subscription refreshed"))));
    }
    return !done.isEmpty();
  }

  private static SchemaDrift entry(SchemaDiff.Drift d) {
    return new SchemaDrift(d.object(), d.change().name(), d.ddl(), d.note());
  }

  /** Event messages stay readable (and under the API server's limits). */
  private static String limit(String text) {
    return text.length() <= 1000 ? text : text.substring(0, 997) + "...";
  }
}
