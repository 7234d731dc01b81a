package io.pgmigrate.operator.reconciler;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.pgmigrate.operator.api.DatabasePhase;
import io.pgmigrate.operator.api.DatabaseStatus;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.api.PgMigrationStatus;
import io.pgmigrate.operator.api.Verify;
import io.pgmigrate.operator.checks.Logins;
import io.pgmigrate.operator.checks.SecretLookup;
import io.pgmigrate.operator.dump.DumpPlanner;
import io.pgmigrate.operator.dump.DumpPods;
import io.pgmigrate.operator.postgres.Interrupts;
import io.pgmigrate.operator.postgres.TargetPreparation;
import io.pgmigrate.operator.reconciler.Decision.Event;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;

/**
 * The Migrating phase of the dump method: prepare the target (roles, databases), run one dump
 * Pod per database with retries, and finish when all succeeded (each Pod verified its row
 * counts). Also runs the schema-only Pods of the continuous method. Mutates the status it is
 * given and returns the Events.
 */
final class DumpStep implements MethodStep {

  static final int MAX_ATTEMPTS = 3;

  private final SecretLookup secrets;
  private final TargetPreparation preparation;
  private final TargetTotals totals;
  private final KubernetesClient client;

  DumpStep(SecretLookup secrets, TargetPreparation preparation, TargetTotals totals,
      KubernetesClient client) {
    this.secrets = secrets;
    this.preparation = preparation;
    this.totals = totals;
    this.client = client;
  }

  /** While the dump Pods run: how often to look again (a retry may wait for a server). */
  static final java.time.Duration POLL = java.time.Duration.ofSeconds(5);

  /**
   * Every Pod is done and the final rows and size are being read: how often to look again
   * (the read's end triggers a pass; this only covers a read still running from before).
   */
  static final java.time.Duration FINAL_TOTALS_POLL = java.time.Duration.ofMillis(500);

  @Override
  public boolean runsIn(Phase phase) {
    return phase == Phase.Migrating;
  }

  @Override
  public StepResult run(PgMigration m, PgMigrationStatus status, List<Pod> pods,
      Instant now) {
    var events = new ArrayList<Event>();
    if (!prepareTarget(m, status, now, events)) {
      return new StepResult(events, whenPreparing(status));
    }
    var plan = runPods(m, status, status.getDatabases(), pods, DumpPods.Kind.DATA, now, events);
    if (plan == null) {
      return new StepResult(events, null);
    }
    var measure = new ArrayList<String>();
    for (var planned : plan.databases()) {
      // what the Pods say, through the database phase machine
      var db = status.getDatabases().stream().filter(d -> d.getName().equals(planned.getName()))
          .findFirst().orElseThrow();
      var before = db.getPhase();
      db.setPod(planned.getPod());
      DatabaseMachine.move(db, planned.getPhase(), planned.getMessage());
      // while its Pod copies, and once more when it is done: the final numbers
      if (db.getPhase() == DatabasePhase.Copying
          || (db.getPhase() == DatabasePhase.Done && before != DatabasePhase.Done)) {
        measure.add(db.getName());
      }
    }
    boolean totalsRead = readTotals(m, status, measure, plan.allDone());
    status.setProgress(plan.done() + "/" + plan.databases().size());
    if (plan.failure() != null) {
      totals.forget(m);
      stopTheOthers(m, status, pods);
      var reason = plan.verificationFailed() ? "VerificationFailed" : "DumpFailed";
      var text = plan.failure();
      Decider.fail(status, reason, text.length() > 1000 ? text.substring(0, 997) + "..." : text,
          m.getMetadata().getGeneration(), now, events);
      return new StepResult(events, null);
    }
    if (!plan.allDone()) {
      status.setMessage("copying with pg_dump/pg_restore: " + plan.done() + "/"
          + plan.databases().size() + " database(s) done");
      return new StepResult(events, POLL);
    }
    if (!totalsRead) {
      // Ready with the final numbers of every database, which a read is getting now
      status.setMessage("copied and verified " + plan.databases().size() + " database(s);"
          + " reading their rows and size on the target");
      return new StepResult(events, FINAL_TOTALS_POLL);
    }
    totals.forget(m);
    return new StepResult(finish(m, status, now, events), null);
  }

  /**
   * The migration failed on one database: the copies still running for the others are stopped
   * (a Failed migration copies nothing more); Decider.fail marks their entries Stopped.
   */
  private void stopTheOthers(PgMigration m, PgMigrationStatus status, List<Pod> pods) {
    for (var pod : pods) {
      var phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
      if (pod.getMetadata().getDeletionTimestamp() == null
          && (phase == null || "Pending".equals(phase) || "Running".equals(phase))) {
        client.pods().inNamespace(m.getMetadata().getNamespace())
            .withName(pod.getMetadata().getName()).delete();
      }
    }
  }

  /** After prepareTarget said no: nothing when it failed, at once when it just recorded the
   * prepared target, in a second when it waits for a server. */
  static java.time.Duration whenPreparing(PgMigrationStatus status) {
    if (status.getPhase() == Phase.Failed) {
      return null;
    }
    var prepared = Conditions.get(status.getConditions(), Conditions.TARGET_PREPARED);
    // just recorded: carry on as soon as it is written; else a server is awaited
    return prepared != null && "True".equals(prepared.getStatus()) ? Decider.NOW
        : java.time.Duration.ofSeconds(1);
  }

  /**
   * Roles and databases on the target, once per run; true once that is recorded in status,
   * false when the migration failed, waits for a server, or just prepared the target (then the
   * caller looks again soon, after status was written).
   *
   * <p>The databases this migration is about to create are recorded in status first
   * (status.createdDatabases, kept across restarts): a database that exists only because an
   * earlier attempt or run of this same migration made it is ours to empty and fill again,
   * while one that existed before is the user's and is never dropped.
   */
  boolean prepareTarget(PgMigration m, PgMigrationStatus status, Instant now, List<Event> events) {
    var prepared = Conditions.get(status.getConditions(), Conditions.TARGET_PREPARED);
    if (prepared != null && "True".equals(prepared.getStatus())) {
      return true;
    }
    var generation = m.getMetadata().getGeneration();
    var logins = logins(m);
    if (logins == null) {
      Decider.fail(status, "CredentialsMissing", loginError(m), generation, now, events);
      return false;
    }
    try {
      var spec = m.getSpec();
      var databases = status.getDatabases().stream().map(DatabaseStatus::getName).toList();
      var ours = new java.util.LinkedHashSet<>(status.getCreatedDatabases());
      var missing = preparation.missingDatabases(logins[1].spec(), databases);
      if (!ours.containsAll(missing)) {
        // recorded before they are created: a crash in between cannot make them the user's
        ours.addAll(missing);
        status.setCreatedDatabases(new ArrayList<>(ours));
        status.setMessage("creating " + missing.size() + " database(s) on the target");
        return false;
      }
      var result = preparation.prepare(logins[0].spec(), logins[1].spec(), databases,
          spec.getRoles().isMigrate(), new HashSet<>(spec.getRoles().getExclude()));
      var emptied = new ArrayList<String>();
      for (var db : status.getDatabases()) {
        boolean created = result.createdDatabases().contains(db.getName());
        if (!created && ours.contains(db.getName())) {
          // made by an earlier run of this migration (a restart): start it over empty
          preparation.recreate(logins[0].spec(), logins[1].spec(), db.getName());
          emptied.add(db.getName());
        }
        db.setCreatedOnTarget(ours.contains(db.getName()));
      }
      FaultPoints.reached("target.prepared");
      var summary = result.summary() + (emptied.isEmpty() ? ""
          : "; emptied what an earlier run of this migration left in " + String.join(", ", emptied));
      Conditions.set(status.getConditions(), Conditions.TARGET_PREPARED, "True", "Prepared",
          summary, generation, now);
      events.add(new Event(false, "TargetPrepared", summary));
      // recorded before any Pod writes there: a pass that ended before this reached the API
      // server would prepare again, and empty a database a Pod is filling
      status.setMessage("target prepared: " + summary);
      return false;
    } catch (SQLException e) {
      Interrupts.rethrowIfInterrupted(e);
      if (ReplicationStep.transient_(e)) {
        status.setMessage("preparing the target (roles, databases): " + e.getMessage()
            + " (waiting for the server, retrying)");
        return false;
      }
      Decider.fail(status, "PreparationFailed", "preparing the target (roles, databases): "
          + e.getMessage(), generation, now, events);
      return false;
    }
  }

  /**
   * Plans and creates the copy Pods of the given databases (data, or one of the schema passes);
   * returns the plan, or null when the migration failed on the way.
   */
  DumpPlanner.Plan runPods(PgMigration m, PgMigrationStatus status, List<DatabaseStatus> subset,
      List<Pod> pods, DumpPods.Kind kind, Instant now, List<Event> events) {
    var namespace = m.getMetadata().getNamespace();
    var generation = m.getMetadata().getGeneration();
    var spec = m.getSpec();
    Map<String, List<DumpPlanner.PodView>> byDatabase = new HashMap<>();
    for (var pod : pods) {
      var labels = pod.getMetadata().getLabels();
      var annotations = pod.getMetadata().getAnnotations();
      if (annotations == null || annotations.get(DumpPods.DATABASE) == null
          || kind != DumpPods.Kind.ofLabel(labels.get(DumpPods.KIND))) {
        continue;
      }
      byDatabase.computeIfAbsent(annotations.get(DumpPods.DATABASE), k -> new ArrayList<>())
          .add(DumpPlanner.PodView.of(pod));
    }
    var plan = DumpPlanner.plan(subset, byDatabase, MAX_ATTEMPTS);
    var image = spec.getDump().getImage() == null || spec.getDump().getImage().isBlank()
        ? "postgres:" + status.getTargetMajorVersion()
        : spec.getDump().getImage();
    for (var c : plan.create()) {
      var db = plan.databases().stream().filter(d -> d.getName().equals(c.database()))
          .findFirst().orElseThrow();
      var name = DumpPods.podName(m, kind, c.database(), c.attempt());
      if (client.pods().inNamespace(namespace).withName(name).get() != null) {
        // created by an earlier pass that the informer has not shown yet: nothing to do
        db.setPod(name);
        continue;
      }
      if (c.attempt() > 1) {
        // a retry after a failed Pod: both servers must answer first (an outage would fail
        // every attempt within seconds), and a database the operator created starts over
        // empty, since a failed attempt leaves objects that make the next restore fail
        try {
          var logins = logins(m);
          if (logins == null) {
            throw new SQLException(loginError(m));
          }
          preparation.probe(logins[0].spec(), logins[1].spec(), c.database());
          if (db.isCreatedOnTarget() && kind != DumpPods.Kind.POST_DATA
              && kind != DumpPods.Kind.CUTOVER) {
            preparation.recreate(logins[0].spec(), logins[1].spec(), c.database());
          }
        } catch (SQLException e) {
          Interrupts.rethrowIfInterrupted(e);
          if (ReplicationStep.transient_(e)) {
            db.setMessage("attempt " + (c.attempt() - 1) + " failed; attempt " + c.attempt()
                + " waits for the servers: " + e.getMessage());
            continue;
          }
          Decider.fail(status, "PreparationFailed", "emptying database " + c.database()
              + " on the target for attempt " + c.attempt() + ": " + e.getMessage(), generation,
              now, events);
          return null;
        }
      }
      var pod = DumpPods.build(new DumpPods.Request(m, c.database(), c.attempt(), image,
          spec.getDump().jobsOrDefault(), spec.getRoles().isMigrate(), kind));
      try {
        client.pods().inNamespace(namespace).resource(pod).create();
      } catch (KubernetesClientException e) {
        if (e.getCode() == 403) {
          // only RBAC can fix this: say so instead of retrying forever
          Decider.fail(status, "Forbidden", "the operator may not create Pods in namespace " + namespace
              + " (check the chart's RBAC): " + e.getStatus().getMessage(), generation, now,
              events);
          return null;
        }
        if (e.getCode() != 409) {
          throw e;
        }
      }
      db.setPod(pod.getMetadata().getName());
      FaultPoints.reached("pods.created." + kind);
    }
    return plan;
  }

  /**
   * Every data Pod succeeded, and a Pod succeeds only when the target's row counts equal the
   * source's, counted in the snapshot the Pod copied (a live source's own counts move on).
   */
  private List<Event> finish(PgMigration m, PgMigrationStatus status, Instant now,
      List<Event> events) {
    var what = m.getSpec().getVerify() == Verify.DIGESTS
        ? "row counts and row digests" : "row counts";
    for (var db : status.getDatabases()) {
      db.setMessage(db.getMessage() + " and verified: " + what + " of every table equal to the"
          + " source's in the dump's snapshot (computed by the dump Pod)");
    }
    var message = status.getDatabases().size() + " database(s) copied and verified (" + what
        + " of every table equal to the source's in the dump's snapshot, computed by the dump"
        + " Pods)";
    Decider.succeed(status, message, m.getMetadata().getGeneration(), now, events);
    return events;
  }

  /**
   * Rows and size on the target ({@link TargetTotals}, off the reconcile thread): the numbers
   * of a read that ended go into status, and these databases are asked for; when {@code last},
   * the read's end triggers the pass that finishes. True when every database asked for has had
   * its read (also when the logins are missing: there is nothing to wait for then). The
   * target's login is looked up only when a read starts.
   */
  private boolean readTotals(PgMigration m, PgMigrationStatus status, List<String> databases,
      boolean last) {
    return totals.refresh(m, () -> {
      var logins = logins(m);
      return logins == null ? null : logins[1].spec();
    }, status.getDatabases(), databases, last);
  }

  /** Source and target logins, or null when a Secret is missing. */
  Logins.Login[] logins(PgMigration m) {
    var namespace = m.getMetadata().getNamespace();
    var source = Logins.resolve(secrets, namespace, m.getSpec().getSource());
    var target = Logins.resolve(secrets, namespace, m.getSpec().getTarget());
    if (source.error() != null || target.error() != null) {
      return null;
    }
    return new Logins.Login[] {source, target};
  }

  String loginError(PgMigration m) {
    var namespace = m.getMetadata().getNamespace();
    var source = Logins.resolve(secrets, namespace, m.getSpec().getSource());
    return source.error() != null ? source.error()
        : Logins.resolve(secrets, namespace, m.getSpec().getTarget()).error();
  }
}
