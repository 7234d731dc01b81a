package io.pgmigrate.operator.reconciler;

import io.pgmigrate.operator.api.DatabasePhase;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.pgmigrate.operator.api.DatabaseStatus;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.api.PgMigrationStatus;
import io.pgmigrate.operator.api.SourceFence;
import io.pgmigrate.operator.api.Verify;
import io.pgmigrate.operator.checks.Bytes;
import io.pgmigrate.operator.dump.DumpPods;
import io.pgmigrate.operator.postgres.CopyTotals;
import io.pgmigrate.operator.postgres.Interrupts;
import io.pgmigrate.operator.postgres.ConnectionSpec;
import io.pgmigrate.operator.postgres.Conninfo;
import io.pgmigrate.operator.postgres.PgConnector;
import io.pgmigrate.operator.postgres.PgFeature;
import io.pgmigrate.operator.postgres.Replication;
import io.pgmigrate.operator.postgres.ReplicationNames;
import io.pgmigrate.operator.reconciler.Decision.Event;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The continuous method: after the target is prepared and each database's schema copied by a
 * schema-only Pod, a publication and a logical slot on the source and a subscription on the
 * target carry the rows (initial copy, then changes). Syncing once every table is ready and lag
 * is small; the cutover records a WAL position per database, waits until our slot confirmed it,
 * copies sequence values and removes every replication object of ours.
 */
final class ReplicationStep implements MethodStep {

  static final Duration COPY_POLL = Duration.ofSeconds(2);
  static final Duration SYNC_POLL = Duration.ofSeconds(10);
  static final Duration CUTOVER_POLL = Duration.ofMillis(500);
  /** While only comparisons of a fenced cutover run (each wakes its migration when it ends). */
  static final Duration VERIFY_POLL = Duration.ofSeconds(10);
  static final Duration CLEANUP_RETRY = Duration.ofSeconds(5);
  private static final Logger log = LoggerFactory.getLogger(ReplicationStep.class);

  private final DumpStep pods;
  private final PgConnector connector;
  private final SecretHolds secrets;
  private final DriftWatch drift;

  private final CutoverVerifier verifier;

  ReplicationStep(DumpStep pods, PgConnector connector, SecretHolds secrets,
      CutoverVerifier verifier, DriftWatch drift) {
    this.pods = pods;
    this.connector = connector;
    this.secrets = secrets;
    this.verifier = verifier;
    this.drift = drift;
  }

  /** Lets the Secrets go once nothing of ours is left; returns those it could not release. */
  List<String> releaseSecrets(PgMigration m) {
    return secrets.release(m);
  }


  @Override
  public boolean runsIn(Phase phase) {
    return phase == Phase.Migrating || phase == Phase.Syncing;
  }

  @Override
  public StepResult run(PgMigration m, PgMigrationStatus status, List<Pod> allPods,
      Instant now) {
    var events = new ArrayList<Event>();
    var generation = m.getMetadata().getGeneration();
    if (!pods.prepareTarget(m, status, now, events)) {
      return new StepResult(events, DumpStep.whenPreparing(status));
    }
    var logins = pods.logins(m);
    if (logins == null) {
      failAndClean(m, status, "CredentialsMissing", pods.loginError(m), now, events);
      return new StepResult(events, null);
    }
    var source = logins[0].spec();
    var target = logins[1].spec();

    // 1. what the rows need of the schema, by a schema Pod per database (pre-data, primary keys
    // and replica identity indexes); the rest comes after the initial copy (step 3)
    var pending = status.getDatabases().stream().filter(d -> !d.isSchemaCopied()).toList();
    if (!pending.isEmpty()) {
      var failed = schemaPods(m, status, pending, allPods, DumpPods.Kind.SCHEMA, now, events,
          db -> {
            db.setSchemaCopied(true);
            DatabaseMachine.move(db, DatabasePhase.Copying,
                "schema copied; starting logical replication");
          },
          (db, pod) -> DatabaseMachine.move(db, DatabasePhase.SchemaCopy, pod),
          "copying the schema: ");
      if (failed != null) {
        return failed;
      }
    }

    // 2. replication objects and progress, per database whose schema is there
    long totalLag = 0;
    int replicating = 0;
    boolean recorded = false;
    var indexing = new ArrayList<DatabaseStatus>();
    var spec = m.getSpec();
    long maxRetained = spec.getReplication().maxRetainedWalBytesValue();
    long caughtUp = caughtUpBytes(spec.getReplication().getCaughtUpLagBytes());
    boolean allowUnverified = spec.getReplication().isAllowUnverifiedSubscription();
    try {
      int targetMajor = targetMajor(status, target);
      var tls = Conninfo.subscriptionTls(source.sslMode(), targetMajor, allowUnverified);
      if (tls == Conninfo.SubscriptionTls.REFUSED) {
        // the pre-flight check refuses this; only a spec edited after validation gets here
        failAndClean(m, status, "SubscriptionTlsRefused", "source sslMode "
            + source.sslMode().libpqName() + " cannot be verified by a subscription on PostgreSQL "
            + targetMajor + " and replication.allowUnverifiedSubscription is false", now, events);
        return new StepResult(events, null);
      }
      if (!status.isSecretsHeld()) {
        // before any replication object exists: its cleanup will need these logins
        secrets.hold(m);
        status.setSecretsHeld(true);
      }
      for (var db : status.getDatabases()) {
        if (!db.isSchemaCopied()) {
          continue;
        }
        if (db.getPhase() == DatabasePhase.Done || db.getCutoverStep() != null) {
          // done, or its cutover is removing replication: never set it up again
          replicating++;
          continue;
        }
        var names = ReplicationNames.of(m.getMetadata().getUid(), db.getName());
        var s = source.withDatabase(db.getName());
        var t = target.withDatabase(db.getName());
        Replication.SlotState slot;
        try (var src = connector.open(s)) {
          if (spec.getReplication().isReplicaIdentityFull()
              && db.getReplicaIdentityChanges() == null) {
            // what we are about to change on the source is in status before we change it, so
            // that whatever happens next, it is put back
            db.setReplicaIdentityChanges(Replication.tablesWithoutIdentity(src));
            db.setMessage("recorded " + db.getReplicaIdentityChanges().size() + " table(s) to set"
                + " to REPLICA IDENTITY FULL while replicating");
            recorded = true;
            continue;
          }
          slot = Replication.slot(src, names.slot());
          if (db.isSlotCreated() && (!slot.exists() || slot.lost())) {
            // a new slot would start at the current position: every change since the old one's
            // last confirmed position would be missing on the target, silently
            var why = "our replication slot " + names.slot() + (slot.exists()
                ? " on the source lost WAL it still needed (max_slot_wal_keep_size)"
                : " disappeared from the source (dropped, or lost in a failover: logical slots"
                    + " do not survive a promotion before PostgreSQL 17)");
            DatabaseMachine.move(db, DatabasePhase.Failed, why);
            failAndClean(m, status, "ReplicationSlotLost", db.getName() + ": " + why
                + "; the changes since its last confirmed position cannot be recovered, so the"
                + " target is incomplete. Remedy: start over (a new value of the annotation"
                + " pgmigrate.io/restart; the target's tables must be emptied or dropped first,"
                + " or use new target databases)", now, events);
            return new StepResult(events, null);
          }
          var created = ensureSource(src, names, subscriptionTlsNote(tls, targetMajor)
              + "; subscription: " + Replication.subscriptionSummary(
                  src.getMetaData().getDatabaseMajorVersion(), targetMajor)
              + uncountedErrorsNote(targetMajor), db);
          FaultPoints.reached("replication.sourceReady");
          if (created != null) {
            events.add(new Event(false, "ReplicationStarted", created));
          }
          slot = Replication.slot(src, names.slot());
          if (slot.exists() && !db.isSlotCreated()) {
            // recorded before the subscription starts consuming it
            db.setSlotCreated(true);
            recorded = true;
            continue;
          }
        }
        Replication.Progress progress;
        try (var dst = connector.open(t)) {
          Replication.ensureSubscription(dst, names.subscription(), names.publication(),
              names.slot(),
              Conninfo.forSubscription(s, db.getName(), targetMajor, allowUnverified),
              isSuperuser(dst));
          FaultPoints.reached("replication.subscriptionReady");
          progress = Replication.progress(dst, names.subscription());
          CopyTotals.recordIn(dst, db);
        }
        if (!slot.exists()) {
          throw new SQLException("our replication slot " + names.slot() + " is gone from the"
              + " source (dropped by someone, or by max_slot_wal_keep_size)");
        }
        if (maxRetained > 0 && slot.retainedBytes() > maxRetained) {
          failAndClean(m, status, "SourceWalRetentionExceeded",
              "replication slot " + names.slot() + " retains " + Bytes.human(slot.retainedBytes())
                  + " of WAL on the source, more than replication.maxRetainedWalBytes ("
                  + spec.getReplication().getMaxRetainedWalBytes()
                  + "); the slot was dropped to protect the source's disk", now, events);
          return new StepResult(events, null);
        }
        boolean progressed = db.getTablesSynced() != null
            && progress.tablesSynced() > db.getTablesSynced();
        db.setTablesTotal(progress.tablesTotal());
        db.setTablesSynced(progress.tablesSynced());
        db.setLagBytes(slot.lagBytes());
        db.setLagSeconds(slot.lagSeconds() == null ? null
            : Math.round(slot.lagSeconds() * 1000) / 1000.0);
        db.setRetainedWalBytes(slot.retainedBytes());
        totalLag += slot.lagBytes();
        boolean copying = progress.tablesSynced() < progress.tablesTotal();
        if (ErrorWatch.persistent(db, progress.errors(), progressed, now)
            && !DriftWatch.holdsFailure(db, now)) {
          var failure = copying ? initialCopyFailed(db, progress) : applyFailed(db, progress);
          DatabaseMachine.move(db, DatabasePhase.Failed, failure[1]);
          failAndClean(m, status, failure[0], db.getName() + ": " + failure[1], now, events);
          return new StepResult(events, null);
        }
        var errors = !ErrorWatch.failing(db) ? ""
            : "; the subscription keeps failing (" + progress.errors() + " error(s) so far;"
                + " PostgreSQL records why only in the target server's log)";
        var synchronising = progress.tablesSynced() + "/" + progress.tablesTotal()
            + " tables synchronised" + errors + uncountedErrorsNote(targetMajor)
            + (progress.notSynced().isEmpty() ? ""
                : "; not yet: " + String.join(", ", progress.notSynced()));
        if (!db.isPostDataCopied() && copying) {
          DatabaseMachine.move(db, DatabasePhase.Copying, "initial copy: " + synchronising);
        } else if (!db.isPostDataCopied()) {
          // every table is synchronised: the rest of the schema once the apply worker has
          // taken every table over, so a foreign key is checked against consistent rows
          DatabaseMachine.move(db, DatabasePhase.Indexing,
              progress.tablesReady() < progress.tablesTotal()
                  ? "initial copy done; waiting for the apply worker to take over every table"
                  : "building indexes and constraints on the copied tables");
          if (progress.tablesReady() == progress.tablesTotal()) {
            indexing.add(db);
          }
        } else if (copying) {
          // a table to synchronise again (the subscription was refreshed): the database stays
          // where it is, but is not counted as replicating, so no cutover confirms a position
          // before that table caught up
          db.setMessage("synchronising a table again: " + synchronising);
        } else if (db.getCutoverLsn() != null) {
          DatabaseMachine.move(db, DatabasePhase.CuttingOver,
              "cutover: waiting until the target confirmed source LSN " + db.getCutoverLsn()
                  + " (lag " + Bytes.human(slot.lagBytes()) + ")" + errors);
          replicating++;
        } else {
          DatabaseMachine.move(db, DatabasePhase.Replicating,
              "replicating, lag " + Bytes.human(slot.lagBytes()) + errors);
          replicating++;
        }
      }
    } catch (SQLException e) {
      Interrupts.rethrowIfInterrupted(e);
      if (!transient_(e)) {
        failAndClean(m, status, "ReplicationFailed", "setting up replication: " + e.getMessage(),
            now, events);
        return new StepResult(events, null);
      }
      // a server down for a moment should not end a migration: report it and look again
      status.setMessage("replication: " + e.getMessage() + " (retrying)");
      return new StepResult(events, COPY_POLL);
    }
    events.addAll(drift.watch(m, status, source, target, now));
    if (recorded) {
      // the record must reach the API server before the source is changed
      return new StepResult(events, Decider.NOW);
    }

    // 3. the rest of the schema, by a post-data Pod per database whose tables are all ready
    if (!indexing.isEmpty()) {
      var failed = schemaPods(m, status, indexing, allPods, DumpPods.Kind.POST_DATA, now, events,
          db -> {
            db.setPostDataCopied(true);
            DatabaseMachine.move(db, DatabasePhase.Replicating,
                "indexes and constraints built; replicating");
          },
          (db, pod) -> db.setMessage("building indexes and constraints: " + pod),
          "building indexes and constraints after the initial copy: ");
      if (failed != null) {
        return failed;
      }
      return new StepResult(events, COPY_POLL);
    }
    int total = status.getDatabases().size();
    status.setProgress(replicating + "/" + total);
    status.setLag(Bytes.human(totalLag));
    boolean allReplicating = replicating == total;
    if (!allReplicating) {
      status.setMessage(replicating + "/" + total + " database(s) replicating, lag "
          + Bytes.human(totalLag));
      return new StepResult(events, COPY_POLL);
    }
    if (status.getPhase() == Phase.Migrating && totalLag <= caughtUp) {
      Decider.caughtUp(status, total + "/" + total + " database(s) replicating, lag "
          + Bytes.human(totalLag), generation, now, events);
    }
    if (status.getPhase() != Phase.Syncing) {
      status.setMessage(total + "/" + total + " database(s) replicating, catching up: lag "
          + Bytes.human(totalLag));
      return new StepResult(events, COPY_POLL);
    }
    boolean cuttingOver = status.getDatabases().stream().anyMatch(d -> d.getCutoverLsn() != null);
    if (spec.isKeepReplicating() && !cuttingOver) {
      status.setCutoverStartedAt(null);
      status.setMessage(total + "/" + total + " database(s) replicating, lag "
          + Bytes.human(totalLag) + "; set keepReplicating: false to cut over");
      return new StepResult(events, SYNC_POLL);
    }
    var window = cuttingOver ? null : CutoverWindow.check(spec.getCutover(), now);
    if (window != null) {
      status.setCutoverStartedAt(null);
      status.setMessage(total + "/" + total + " database(s) replicating, lag "
          + Bytes.human(totalLag) + "; " + window.message());
      return new StepResult(events, window.lookAgain());
    }
    return cutover(m, status, source, target, allPods, now, events);
  }

  /**
   * Runs the schema Pods of one pass for these databases and applies what each Pod says: done,
   * still going (with the Pod's state), or failed; returns the result that ends the pass when
   * the migration failed, else null.
   */
  private StepResult schemaPods(PgMigration m, PgMigrationStatus status,
      List<DatabaseStatus> subset, List<Pod> allPods, DumpPods.Kind kind, Instant now,
      List<Event> events, java.util.function.Consumer<DatabaseStatus> done,
      java.util.function.BiConsumer<DatabaseStatus, String> going, String failurePrefix) {
    var plan = pods.runPods(m, status, subset, allPods, kind, now, events);
    if (plan == null) {
      cleanup(m, status, events);
      return new StepResult(events, null);
    }
    for (var planned : plan.databases()) {
      var db = find(status, planned.getName());
      db.setPod(planned.getPod());
      if (planned.getPhase() == DatabasePhase.Done) {
        done.accept(db);
      } else if (planned.getPhase() == DatabasePhase.Failed) {
        DatabaseMachine.move(db, DatabasePhase.Failed, planned.getMessage());
      } else {
        going.accept(db, planned.getMessage());
      }
    }
    if (plan.failure() != null) {
      failAndClean(m, status, "SchemaCopyFailed", failurePrefix + plan.failure(), now, events);
      return new StepResult(events, null);
    }
    return null;
  }

  /** Recorded steps of a database's cutover (DatabaseStatus.cutoverStep). */
  static final String CONFIRMED = "Confirmed";
  static final String REPLICATION_REMOVED = "ReplicationRemoved";

  /**
   * Per database: record a WAL position; once our slot confirmed it, record that; copy the
   * sequences and remove our replication objects, and record that; then copy what logical
   * replication does not carry (unlogged tables, large objects) with a Pod. Each step is in
   * status before the next starts, and each can be repeated, so an operator stopped at any
   * instant carries on where it was, and never re-creates what it removed.
   */
  private StepResult cutover(PgMigration m, PgMigrationStatus status, ConnectionSpec source,
      ConnectionSpec target, List<Pod> allPods, Instant now, List<Event> events) {
    var generation = m.getMetadata().getGeneration();
    if (status.getCutoverStartedAt() == null) {
      status.setCutoverStartedAt(now.toString());
    }
    var timeout = m.getSpec().getReplication().cutoverTimeoutValue();
    boolean waiting = status.getDatabases().stream()
        .anyMatch(d -> d.getPhase() != DatabasePhase.Done && d.getCutoverStep() == null);
    if (timeout != null && waiting
        && Instant.parse(status.getCutoverStartedAt()).plus(timeout).isBefore(now)) {
      // past Confirmed a database is finishing, not waiting: only the waiting ones time out
      var lagging = status.getDatabases().stream()
          .filter(d -> d.getPhase() != DatabasePhase.Done && d.getCutoverStep() == null)
          .map(d -> d.getName() + " (lag " + Bytes.human(d.getLagBytes() == null ? 0
              : d.getLagBytes()) + ")")
          .toList();
      failAndClean(m, status, "CutoverTimedOut", "the target did not confirm the cutover"
          + " position within replication.cutoverTimeout (" + m.getSpec().getReplication()
          .getCutoverTimeout() + "): " + String.join(", ", lagging) + ". Replication was"
          + " removed; rows after the last confirmed position are not on the target. Remedy: find"
          + " why the target falls behind (the condition ReconcileError, apply errors in the"
          + " target's log, a disabled subscription), then start over", now, events);
      return new StepResult(events, null);
    }
    var extras = new ArrayList<DatabaseStatus>();
    boolean recorded = false;
    int verifying = 0;
    var verify = m.getSpec().getVerify() == Verify.DIGESTS
        ? "row counts and row digests" : "row counts";
    try {
      for (var db : status.getDatabases()) {
        if (db.getPhase() == DatabasePhase.Done) {
          continue;
        }
        var names = ReplicationNames.of(m.getMetadata().getUid(), db.getName());
        try (var src = connector.open(source.withDatabase(db.getName()))) {
          if (db.getCutoverLsn() == null && m.getSpec().getCutover().isFenceSource()) {
            // no write may land on the source after the position: fenced first
            var fence = Fencing.advance(status, db, src, generation, now, events);
            if (fence != Fencing.Step.FENCED) {
              recorded |= fence == Fencing.Step.RECORDED;
              continue;
            }
          }
          if (db.getCutoverLsn() == null) {
            db.setCutoverLsn(Replication.cutoverLsn(src));
            FaultPoints.reached("cutover.lsnRecorded");
            DatabaseMachine.move(db, DatabasePhase.CuttingOver,
                "cutover: waiting until the target confirmed source LSN " + db.getCutoverLsn());
            events.add(new Event(false, "CutoverStarted", db.getName() + ": waiting for LSN "
                + db.getCutoverLsn()));
            continue;
          }
          if (db.getCutoverStep() == null) {
            if (Replication.confirmed(src, names.slot(), db.getCutoverLsn())) {
              db.setCutoverStep(CONFIRMED);
              FaultPoints.reached("cutover.confirmed");
              db.setMessage("cutover: the target confirmed source LSN " + db.getCutoverLsn()
                  + "; removing replication");
              recorded = true;
            }
            continue;
          }
          String verified = "";
          if (CONFIRMED.equals(db.getCutoverStep()) && fenced(status, db)) {
            // a fenced source holds still at the position the target confirmed: both sides
            // hold the same rows now, and only now can they be compared
            Optional<CutoverVerifier.Result> result;
            try {
              result = verifier.compare(m, db.getName(), source, target,
                  m.getSpec().getVerify() == Verify.DIGESTS);
            } catch (RuntimeException e) {
              failAndClean(m, status, "VerificationFailed", "verification at the cutover could"
                  + " not read database " + db.getName() + ": " + e.getMessage() + ". Replication"
                  + " was removed; the source stays fenced until this PgMigration is deleted."
                  + " Remedy: let the logins read every table (or set verify: counts, which reads"
                  + " them too), then start over", now, events);
              return new StepResult(events, null);
            }
            if (result.isEmpty()) {
              verifying++;
              db.setMessage("cutover: the target confirmed source LSN " + db.getCutoverLsn()
                  + "; comparing the " + verify + " of every table on both servers");
              continue;
            }
            var differ = result.get().differences();
            if (!differ.isEmpty()) {
              var tables = String.join("; ", differ);
              if (tables.length() > 800) {
                tables = tables.substring(0, 797) + "...";
              }
              failAndClean(m, status, "VerificationFailed", "verification failed at the cutover:"
                  + " database " + db.getName() + ": " + differ.size() + " of "
                  + result.get().tables() + " table(s) differ between the fenced source and the"
                  + " target: " + tables + ". Replication was removed; the source stays fenced"
                  + " (nothing was written there after the position) until this PgMigration is"
                  + " deleted. Remedy: find what changed the target (a trigger, another writer),"
                  + " then start over", now, events);
              return new StepResult(events, null);
            }
            verified = "; verified: " + verify + " of " + result.get().tables()
                + " table(s) equal on both sides";
          }
          if (CONFIRMED.equals(db.getCutoverStep())) {
            // everything up to the cutover position is on the target: sequences, then teardown
            int sequences = 0;
            try (var dst = connector.open(target.withDatabase(db.getName()))) {
              for (var seq : Replication.sequences(src)) {
                Replication.setSequence(dst, (String) seq[0], (Long) seq[1]);
                sequences++;
              }
              FaultPoints.reached("cutover.sequencesCopied");
              Replication.dropSubscription(dst, names.subscription());
              FaultPoints.reached("cutover.subscriptionDropped");
              // the last changes are applied: the final numbers
              CopyTotals.recordIn(dst, db);
            }
            Replication.dropSlot(src, names.slot());
            FaultPoints.reached("cutover.slotDropped");
            Replication.dropPublication(src, names.publication());
            FaultPoints.reached("cutover.publicationDropped");
            restoreReplicaIdentities(src, db);
            db.setCutoverStep(REPLICATION_REMOVED);
            FaultPoints.reached("cutover.replicationRemoved");
            db.setLagBytes(0L);
            // no slot, no WAL sender: nothing behind and nothing retained
            db.setLagSeconds(null);
            db.setRetainedWalBytes(null);
            db.setMessage("cut over at LSN " + db.getCutoverLsn() + "; " + sequences
                + " sequence(s) copied; replication objects removed" + verified);
            recorded = true;
            continue;
          }
          if (Replication.hasUnreplicatedData(src)) {
            extras.add(db);
          } else {
            // the message of the teardown stays: it counts the sequences copied
            DatabaseMachine.move(db, DatabasePhase.Done, db.getMessage());
          }
        }
      }
    } catch (Fencing.Refused e) {
      failAndClean(m, status, "SourceFenceFailed", e.getMessage(), now, events);
      return new StepResult(events, null);
    } catch (SQLException e) {
      Interrupts.rethrowIfInterrupted(e);
      if (!transient_(e)) {
        // no retry can fix a permission or a value the target refuses: say so and clean up
        failAndClean(m, status, "CutoverFailed", "cutover: " + e.getMessage() + " (SQLSTATE "
            + e.getSQLState() + "). Replication was removed; the target has every change up"
            + " to the point of this error. Remedy: fix the cause on the target, then start"
            + " over (annotation pgmigrate.io/restart) or copy what is missing by hand", now,
            events);
        return new StepResult(events, null);
      }
      status.setMessage("cutover: " + e.getMessage() + " (retrying)");
      return new StepResult(events, COPY_POLL);
    }
    if (recorded) {
      return new StepResult(events, Decider.NOW);
    }
    if (!extras.isEmpty()) {
      var plan = pods.runPods(m, status, extras, allPods, DumpPods.Kind.CUTOVER, now, events);
      if (plan == null) {
        return new StepResult(events, null);
      }
      for (var planned : plan.databases()) {
        var db = find(status, planned.getName());
        db.setPod(planned.getPod());
        if (planned.getPhase() == DatabasePhase.Done) {
          DatabaseMachine.move(db, DatabasePhase.Done, "cut over at LSN " + db.getCutoverLsn()
              + "; replication objects removed; unlogged tables and large objects copied");
        } else if (planned.getPhase() == DatabasePhase.Failed) {
          DatabaseMachine.move(db, DatabasePhase.Failed, "cut over at LSN " + db.getCutoverLsn()
              + "; replication objects removed; copying unlogged tables and large objects"
              + " failed: " + planned.getMessage());
        } else {
          db.setMessage("cut over at LSN " + db.getCutoverLsn() + "; replication objects removed;"
              + " copying unlogged tables and large objects: " + planned.getMessage());
        }
      }
      if (plan.failure() != null) {
        Decider.fail(status, "CutoverFailed", "copying unlogged tables and large objects at the"
            + " cutover: " + plan.failure() + "; replication was already removed: the target"
            + " has every other change, copy these by hand or start over", generation, now,
            events);
        return new StepResult(events, null);
      }
    }
    int total = status.getDatabases().size();
    long done = status.getDatabases().stream().filter(d -> d.getPhase() == DatabasePhase.Done).count();
    status.setProgress(done + "/" + total);
    if (done < total) {
      status.setMessage("cutting over: " + done + "/" + total + " database(s) done"
          + (verifying > 0 ? "; comparing the " + verify + " of " + verifying + " database(s)"
              : ""));
      // a comparison that ends wakes the migration; until then a slow look is enough
      return new StepResult(events, verifying > 0 && verifying == total - done
          ? VERIFY_POLL : CUTOVER_POLL);
    }
    status.setLag(null);
    if (!Fencing.isOn(status)) {
      // a fenced source keeps them: deleting the migration lifts the fence with its login
      secrets.release(m);
      status.setSecretsHeld(null);
    }
    verifier.forget(m);
    Decider.succeed(status, total + " database(s) cut over; the target has every change up to"
        + " the cutover and no replication object of ours is left"
        + (Fencing.isOn(status) ? "; verified at the fenced cutover: " + verify + " of every"
            + " table equal on both sides" : ""), generation, now, events);
    return new StepResult(events, null);
  }

  /** Publication and slot on the source; returns a description when it created them. */
  private String ensureSource(java.sql.Connection src, ReplicationNames names,
      String tlsNote, DatabaseStatus db) throws SQLException {
    boolean superuser = isSuperuser(src);
    var full = new ArrayList<String>();
    if (db.getReplicaIdentityChanges() != null && !Replication.publicationExists(src,
        names.publication())) {
      // before the publication exists: UPDATE and DELETE on these tables fail once it does
      for (var change : db.getReplicaIdentityChanges()) {
        Replication.setReplicaIdentityFull(src, change.getTable());
        full.add(change.getTable());
      }
    }
    boolean publication = Replication.ensurePublication(src, names.publication(), !superuser);
    boolean slot = Replication.ensureSlot(src, names.slot());
    if (!publication && !slot) {
      return null;
    }
    return db.getName() + ": publication " + names.publication() + ", slot " + names.slot()
        + (superuser ? "" : " (through aiven_extras)")
        + tlsNote
        + (full.isEmpty() ? "" : "; REPLICA IDENTITY FULL set on " + full.size()
            + " table(s) without key until replication ends: " + Replication.limited(full));
  }


  /** Reason and message when a table's initial copy keeps failing. */
  private static String[] initialCopyFailed(DatabaseStatus db, Replication.Progress progress) {
    return new String[] {"InitialCopyFailed",
        "the initial copy of " + (progress.notSynced().isEmpty() ? "some tables"
            : String.join(", ", progress.notSynced()))
            + " kept failing for " + ErrorWatch.LIMIT.toSeconds() + " s (" + progress.errors()
            + " error(s)). PostgreSQL records the reason only in the target server's log (look"
            + " for \"logical replication table synchronization worker\"); usual causes: a"
            + " constraint, trigger or column type on the target table that the source's rows"
            + " do not fit, a table missing on the target, or no free replication slot on the"
            + " source for the table sync workers (max_replication_slots, which the"
            + " source.replicationSlots check counts). Remedy: fix the target table (or"
            + " the rows on the source), then start over (a new value of the annotation"
            + " pgmigrate.io/restart); the replication objects of this attempt were removed"};
  }

  /** Reason and message when applying changes keeps failing. */
  private static String[] applyFailed(DatabaseStatus db, Replication.Progress progress) {
    return new String[] {"ApplyFailed",
        "applying the source's changes kept failing for " + ErrorWatch.LIMIT.toSeconds()
            + " s (" + progress.errors() + " error(s)). PostgreSQL records the reason only in"
            + " the target server's log (look for \"logical replication apply worker\");"
            + " usual causes: a schema change on the source (logical replication carries no"
            + " DDL: apply it to the target too), or a row on the target that conflicts with"
            + " the source's (a duplicate key). Remedy: fix the target, then start over (a new"
            + " value of the annotation pgmigrate.io/restart); the replication objects of this"
            + " attempt were removed"};
  }

  /**
   * Before PostgreSQL 15 the target counts no subscription errors (no pg_stat_subscription_stats):
   * what the user gets instead is said where the errors would show.
   */
  static String uncountedErrorsNote(int targetMajor) {
    return PgFeature.SUBSCRIPTION_STATS.on(targetMajor) ? ""
        : "; PostgreSQL " + targetMajor + " counts no subscription errors (that needs "
            + PgFeature.SUBSCRIPTION_STATS.since() + "): a table whose copy keeps failing only"
            + " stays unsynchronised, with the reason in the target server's log";
  }

  /** What the ReplicationStarted Event says of the subscription's TLS, when it differs. */
  static String subscriptionTlsNote(Conninfo.SubscriptionTls tls, int targetMajor) {
    return switch (tls) {
      case AS_REQUESTED, REFUSED -> "";
      case SYSTEM_CA -> "; the subscription verifies the source's certificate with"
          + " sslmode=verify-full against the target server's system CA store"
          + " (sslrootcert=system)";
      case UNVERIFIED -> "; the subscription connects with sslmode=require, the source's"
          + " certificate unverified (replication.allowUnverifiedSubscription): the operator"
          + " cannot place the CA certificate on the target server";
    };
  }

  /** The target's major version, as validation recorded it (read again when missing). */
  private int targetMajor(PgMigrationStatus status, ConnectionSpec target) throws SQLException {
    if (status.getTargetMajorVersion() != null) {
      return status.getTargetMajorVersion();
    }
    try (var dst = connector.open(target)) {
      return dst.getMetaData().getDatabaseMajorVersion();
    }
  }

  /** Drops our subscriptions, slots and publications on both servers; best effort. */
  List<String> cleanup(PgMigration m, PgMigrationStatus status, List<Event> events) {
    var problems = new ArrayList<String>();
    drift.forget(m);
    if (status == null || status.getDatabases() == null) {
      return problems;
    }
    var logins = pods.logins(m);
    if (logins == null) {
      problems.add("credentials missing: " + pods.loginError(m));
      return problems;
    }
    // a server that did not answer is not asked again in this pass: with many databases, each
    // asking would hold this thread for the login timeout (the next pass tries again)
    SQLException targetDown = null;
    SQLException sourceDown = null;
    for (var db : status.getDatabases()) {
      var names = ReplicationNames.of(m.getMetadata().getUid(), db.getName());
      try {
        if (targetDown != null) {
          throw targetDown;
        }
        try (var dst = connector.open(logins[1].spec().withDatabase(db.getName()))) {
          Replication.dropSubscription(dst, names.subscription());
        }
      } catch (SQLException e) {
        Interrupts.rethrowIfInterrupted(e);
        targetDown = unreachable(e) ? e : null;
        if (!"3D000".equals(e.getSQLState())) {
          problems.add("subscription " + names.subscription() + " on the target: " + e.getMessage());
        }
      }
      try {
        if (sourceDown != null) {
          throw sourceDown;
        }
        try (var src = connector.open(logins[0].spec().withDatabase(db.getName()))) {
          Replication.dropSlot(src, names.slot());
          Replication.dropPublication(src, names.publication());
          restoreReplicaIdentities(src, db);
        }
      } catch (SQLException e) {
        Interrupts.rethrowIfInterrupted(e);
        sourceDown = unreachable(e) ? e : null;
        var identities = db.getReplicaIdentityChanges() == null ? List.<String>of()
            : db.getReplicaIdentityChanges().stream()
                .map(c -> c.getTable() + " (was " + c.getOriginal() + ")").toList();
        problems.add("slot " + names.slot() + " / publication " + names.publication()
            + (identities.isEmpty() ? ""
                : " / REPLICA IDENTITY FULL on " + Replication.limited(identities))
            + " on the source: " + e.getMessage());
      }
    }
    if (!problems.isEmpty()) {
      var text = "could not remove every replication object: " + String.join("; ", problems);
      log.warn("{}/{}: {}", m.getMetadata().getNamespace(), m.getMetadata().getName(), text);
      events.add(new Event(true, "CleanupIncomplete", text));
    }
    return problems;
  }

  /** Whether the source database was fenced before its cutover position (cutover.fenceSource). */
  private static boolean fenced(PgMigrationStatus status, DatabaseStatus db) {
    return status.getFence() != null && status.getFence().stream()
        .anyMatch(f -> db.getName().equals(f.getDatabase())
            && SourceFence.FENCED.equals(f.getState()));
  }

  /** Lifts the fences of cutover.fenceSource (the migration is deleted); returns what is left. */
  List<String> liftFence(PgMigration m, PgMigrationStatus status, List<Event> events) {
    verifier.forget(m);
    if (!Fencing.isOn(status)) {
      return List.of();
    }
    var logins = pods.logins(m);
    if (logins == null) {
      return List.of("the fence on the source: credentials missing: " + pods.loginError(m));
    }
    return Fencing.lift(connector, logins[0].spec(), status, events);
  }

  private void failAndClean(PgMigration m, PgMigrationStatus status, String reason,
      String message, Instant now, List<Event> events) {
    verifier.forget(m);
    Decider.fail(status, reason, message, m.getMetadata().getGeneration(), now, events);
    retryCleanup(m, status, now, events);
  }

  /**
   * Removes the replication objects of a Failed migration and records whether anything is left
   * (condition ReplicationObjectsRemoved); the reconciler calls it again until nothing is.
   * Returns when to look again, or null when done.
   */
  Duration retryCleanup(PgMigration m, PgMigrationStatus status, Instant now,
      List<Event> events) {
    var problems = cleanup(m, status, events);
    var generation = m.getMetadata().getGeneration();
    if (problems.isEmpty()) {
      if (!Fencing.isOn(status)) {
        secrets.release(m);
        status.setSecretsHeld(null);
      }
      Conditions.set(status.getConditions(), Conditions.REPLICATION_REMOVED, "True", "Removed",
          "no publication, slot or subscription of this migration is left", generation, now);
      return null;
    }
    Conditions.set(status.getConditions(), Conditions.REPLICATION_REMOVED, "False",
        "CleanupPending", "still to remove: " + String.join("; ", problems), generation, now);
    return CLEANUP_RETRY;
  }

  /** After our publication is gone: every table we set to FULL gets its own identity back. */
  private static void restoreReplicaIdentities(java.sql.Connection src, DatabaseStatus db)
      throws SQLException {
    if (db.getReplicaIdentityChanges() == null) {
      return;
    }
    for (var change : db.getReplicaIdentityChanges()) {
      Replication.restoreReplicaIdentity(src, change);
    }
  }

  private static DatabaseStatus find(PgMigrationStatus status, String name) {
    return status.getDatabases().stream().filter(d -> d.getName().equals(name)).findFirst()
        .orElseThrow();
  }

  private static boolean isSuperuser(java.sql.Connection c) throws SQLException {
    try (var st = c.createStatement();
        var rs = st.executeQuery(
            "select rolsuper from pg_catalog.pg_roles where rolname = current_user")) {
      return rs.next() && rs.getBoolean(1);
    }
  }

  /** The server did not answer, or the connection broke (SQLSTATE class 08). */
  private static boolean unreachable(SQLException e) {
    return e.getSQLState() == null || e.getSQLState().startsWith("08");
  }

  /** Errors a retry can fix: connections, server shutdown, resources, serialization. */
  static boolean transient_(SQLException e) {
    var state = e.getSQLState() == null ? "08000" : e.getSQLState();
    return state.startsWith("08") || state.startsWith("57P") || state.startsWith("53")
        || state.startsWith("40") || state.equals("55006") || state.equals("55P03");
  }

  static long caughtUpBytes(String quantity) {
    if (quantity == null || quantity.isBlank()) {
      return 1024 * 1024;
    }
    return Quantity.getAmountInBytes(new Quantity(quantity)).longValue();
  }
}
