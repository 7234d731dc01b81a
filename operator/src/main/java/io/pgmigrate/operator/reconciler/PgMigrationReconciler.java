package io.pgmigrate.operator.reconciler;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.Mappers;
import io.pgmigrate.operator.api.Method;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.dump.DumpPods;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.pgmigrate.operator.metrics.MigrationMetrics;
import io.pgmigrate.operator.postgres.PgConnector;
import io.pgmigrate.operator.postgres.TargetPreparation;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Map;
import java.util.List;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.pgmigrate.operator.api.PgMigrationStatus;
import io.javaoperatorsdk.operator.api.reconciler.PrimaryUpdateAndCacheUtils;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.checks.Estimates;
import io.pgmigrate.operator.checks.MigrationConflicts;
import io.pgmigrate.operator.checks.ValidationReport;
import io.pgmigrate.operator.checks.Validator;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import java.time.Clock;
import java.time.temporal.ChronoUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Orchestrates one PgMigration: observe (the checks, when due, run by {@link BackgroundChecks}
 * off this thread), decide ({@link Decider}), act, and write status only when it changed.
 */
@ControllerConfiguration(name = PgMigrationReconciler.NAME, generationAwareEventProcessing = false)
public class PgMigrationReconciler implements Reconciler<PgMigration>, Cleaner<PgMigration> {

  public static final String NAME = "pgmigration";
  /** After JOSDK's retries ran out, how often a failing migration is looked at again. */
  static final java.time.Duration ERROR_RETRY = java.time.Duration.ofMinutes(1);
  private static final java.time.Duration SPECLESS_RETRY = java.time.Duration.ofSeconds(5);
  private static final Logger log = LoggerFactory.getLogger(PgMigrationReconciler.class);

  /** While the checks run off the thread: when to look again if their end is not seen. */
  static final java.time.Duration CHECKS_POLL = java.time.Duration.ofSeconds(10);

  private final BackgroundChecks checks;
  private final Estimates estimates;
  private final TargetTotals totals;
  private final OffThread offThread;
  /** One step per method: the reconciler never asks which method it runs. */
  private final Map<Method, MethodStep> steps;
  private final ReplicationStep replication;
  private final SecretSwitch secretSwitch;
  private final EventRecorder events;
  private final MigrationMetrics metrics;
  private final KubernetesClient client;
  private final Clock clock;

  PgMigrationReconciler(
      BackgroundChecks checks, Estimates estimates, TargetTotals totals, OffThread offThread,
      DumpStep dump,
      ReplicationStep replication, EventRecorder events, MigrationMetrics metrics,
      KubernetesClient client, Clock clock) {
    this.metrics = metrics;
    this.checks = checks;
    this.estimates = estimates;
    this.totals = totals;
    this.offThread = offThread;
    this.steps = new EnumMap<>(Map.of(Method.DUMP, dump, Method.CONTINUOUS, replication));
    this.replication = replication;
    this.secretSwitch = new SecretSwitch(client, dump);
    this.events = events;
    this.client = client;
    this.clock = clock;
  }

  /** The reconciler with its production collaborators. */
  public static PgMigrationReconciler create(
      KubernetesClient client, PgConnector connector, MigrationMetrics metrics, Clock clock) {
    var secrets = new KubernetesSecretLookup(client);
    var offThread = new OffThread();
    var totals = new TargetTotals(offThread, connector);
    var dump = new DumpStep(secrets, new TargetPreparation(connector), totals, client);
    var estimates = new Estimates(connector);
    return new PgMigrationReconciler(
        new BackgroundChecks(new Validator(secrets, connector, estimates), offThread),
        estimates,
        totals,
        offThread,
        dump,
        new ReplicationStep(dump, connector, new SecretHolds(client),
            new CutoverVerifier(offThread, connector), new DriftWatch(offThread, connector)),
        new EventRecorder(client),
        metrics,
        client,
        clock);
  }

  @Override
  public List<EventSource<?, PgMigration>> prepareEventSources(
      EventSourceContext<PgMigration> context) {
    // dump Pods, observed through an informer: their status changes trigger a reconcile
    var pods =
        InformerEventSourceConfiguration.from(Pod.class, PgMigration.class)
            .withLabelSelector(DumpPods.MANAGED_BY + "=" + DumpPods.OPERATOR)
            .withSecondaryToPrimaryMapper(Mappers.fromOwnerReferences(PgMigration.class))
            .withNamespacesInheritedFromController()
            .build();
    // the end of a read run off the reconcile thread (the checks, the final totals)
    var reads = new SimpleInboundEventSource<PgMigration>("reads");
    offThread.wakeWith(reads::propagateEvent);
    // the copy estimate reads earlier migrations' throughput from this cache, off this thread
    var cache = context.getPrimaryCache();
    estimates.readMigrationsWith(namespace -> cache.list(namespace).toList());
    return List.of(new InformerEventSource<>(pods, context), reads);
  }

  @Override
  public UpdateControl<PgMigration> reconcile(PgMigration resource, Context<PgMigration> context) {
    if (resource.getSpec() == null) {
      // only an object made before the schema required spec: JOSDK's finalizer apply re-created
      // a PgMigration deleted just before it (see PgMigration.getSpec). Nothing can be done
      // with it; a spec, if one is ever written, comes as an event of its own
      log.warn("{}/{}: has no spec, so nothing is done with it; delete it",
          resource.getMetadata().getNamespace(), resource.getMetadata().getName());
      return UpdateControl.noUpdate();
    }
    var unknown = unknownSpecFields(resource, context);
    if (!unknown.isEmpty()) {
      return refuseUnknownFields(resource, context, unknown);
    }
    ValidationReport report = null;
    boolean checking = false;
    if (resource.getStatus() == null) {
      // this pass only records Validating: the checks may start meanwhile
      checks.start(resource);
    } else if (Decider.needsValidation(resource)) {
      // off this thread: checking many databases, or a server that does not answer, takes long
      var checked = checks.take(resource);
      checking = checked.isEmpty();
      if (!checking) {
        // against the cache as it is now, not as it was when the checks started
        report = MigrationConflicts.addTo(checked.get(), resource,
            context.getPrimaryCache().list().toList());
        FaultPoints.reached("validation.reported");
      }
    }
    var now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
    var decision = Decider.decide(resource, report, now);
    var status = decision.status();
    var toRecord = new ArrayList<>(decision.events());
    var before = resource.getStatus() == null ? null : resource.getStatus().getPhase();
    if (before == Phase.Failed && status.getPhase() == Phase.Validating) {
      // a restart: the Pods of the failed run must not count against the new one
      deletePods(resource);
    }
    java.time.Duration requeue = checking && decision.requeueAfter() == null ? CHECKS_POLL
        : decision.requeueAfter();
    var step = status.getMethod() == null ? null : steps.get(status.getMethod());
    if (step != null && step.runsIn(status.getPhase()) && report == null) {
      var pods = context.getSecondaryResources(Pod.class).stream()
          .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
          .toList();
      var result = step.run(resource, status, pods, now);
      toRecord.addAll(result.events());
      requeue = result.requeueAfter();
    }

    var removed = Conditions.get(status.getConditions(), Conditions.REPLICATION_REMOVED);
    if (status.getPhase() == Phase.Failed && report == null && removed != null
        && "False".equals(removed.getStatus())
        && resource.getStatus() != null && resource.getStatus().getPhase() == Phase.Failed) {
      // a slot left on the source fills its disk: keep trying, without blocking a thread
      requeue = replication.retryCleanup(resource, status, now, new ArrayList<>());
    }
    if (SecretSwitch.pending(resource, status)) {
      // once Ready is on the API server: a crash before it would cut over again, not switch
      requeue = resource.getStatus() != null && resource.getStatus().getPhase() == Phase.Ready
          ? secretSwitch.run(resource, status, now, toRecord) : Decider.NOW;
    }
    // the step may have moved the phase or begun the cutover: Ready/Reconciling/Stalled follow
    Decider.summarize(resource, status, now);
    if (!status.equals(resource.getStatus())) {
      PrimaryUpdateAndCacheUtils.ssaPatchStatusAndCacheResource(resource,
          statusOnly(resource, status), context);
      if (before != status.getPhase()) {
        log.info(
            "{}/{}: {} -> {}: {}", resource.getMetadata().getNamespace(),
            resource.getMetadata().getName(), before, status.getPhase(), status.getMessage());
      }
    }
    toRecord.forEach(e -> events.record(resource, e));
    metrics.record(resource, status);
    metrics.podsSeen(context.getSecondaryResources(Pod.class).stream().toList());
    var control = UpdateControl.<PgMigration>noUpdate();
    if (before == Phase.Validating && status.getPhase() == Phase.Migrating) {
      // the next step (preparing the target) runs in its own pass, after this status is seen
      return control.rescheduleAfter(Decider.NOW);
    }
    return requeue == null ? control : control.rescheduleAfter(requeue);
  }

  /**
   * An exception that escaped a pass (an API server error, a bug) shows in the condition
   * ReconcileError at once, instead of status going stale while JOSDK retries; and a migration
   * is looked at again every minute after the retries ran out, since it may hold a slot that
   * fills the source's disk. The next pass that succeeds removes the condition.
   */
  @Override
  public ErrorStatusUpdateControl<PgMigration> updateErrorStatus(
      PgMigration resource, Context<PgMigration> context, Exception e) {
    var status = resource.getStatus() == null ? new PgMigrationStatus()
        : resource.getStatus().copy();
    var message = e.getClass().getSimpleName() + ": " + e.getMessage();
    Conditions.set(status.getConditions(), Conditions.RECONCILE_ERROR, "True", "UnexpectedError",
        (message.length() > 1000 ? message.substring(0, 997) + "..." : message)
            + " (retrying; the operator's log has the details)",
        resource.getMetadata().getGeneration(), clock.instant().truncatedTo(ChronoUnit.SECONDS));
    // JOSDK logs the exception itself
    return ErrorStatusUpdateControl.patchStatus(statusOnly(resource, status))
        .rescheduleAfter(ERROR_RETRY);
  }

  /**
   * Spec fields this operator does not know (a newer CRD's): JOSDK hands {@code reconcile} a
   * copy made through JSON, which the record does not survive, so the informer's own object is
   * asked too.
   */
  private static java.util.Set<String> unknownSpecFields(PgMigration resource,
      Context<PgMigration> context) {
    var fields = new java.util.TreeSet<>(resource.unknownSpecFields());
    context.getPrimaryCache().get(ResourceID.fromResource(resource))
        .ifPresent(cached -> fields.addAll(cached.unknownSpecFields()));
    return fields;
  }

  /**
   * A spec with fields of a newer operator: doing what the rest of it says could go against
   * them (a newer safety setting silently not applied), so nothing is done, not even a phase
   * change; status says why and what to do, and objects already on the servers stay as they
   * are. Deleting the migration still cleans up.
   */
  private UpdateControl<PgMigration> refuseUnknownFields(PgMigration resource,
      Context<PgMigration> context, java.util.Set<String> unknown) {
    var status = resource.getStatus() == null ? new PgMigrationStatus()
        : resource.getStatus().copy();
    Conditions.set(status.getConditions(), Conditions.RECONCILE_ERROR, "True",
        "UnknownSpecFields",
        "this operator does not know " + String.join(", ", unknown) + ": the spec was written"
            + " for a newer version of pgmigrate-operator (an operator older than the CRD, or"
            + " after a rollback). Nothing is done with this migration until the operator is"
            + " upgraded or the fields are removed; what it already made on the servers stays"
            + " as it is, and deleting it still cleans up",
        resource.getMetadata().getGeneration(), clock.instant().truncatedTo(ChronoUnit.SECONDS));
    if (!status.equals(resource.getStatus())) {
      log.warn("{}/{}: spec fields unknown to this operator: {}",
          resource.getMetadata().getNamespace(), resource.getMetadata().getName(), unknown);
      PrimaryUpdateAndCacheUtils.ssaPatchStatusAndCacheResource(resource,
          statusOnly(resource, status), context);
    }
    return UpdateControl.<PgMigration>noUpdate().rescheduleAfter(ERROR_RETRY);
  }

  /** A fresh object with only name, namespace and status: what a status patch sends. */
  private static PgMigration statusOnly(PgMigration resource, PgMigrationStatus status) {
    var fresh = new PgMigration();
    fresh.setMetadata(
        new ObjectMetaBuilder()
            .withName(resource.getMetadata().getName())
            .withNamespace(resource.getMetadata().getNamespace())
            .build());
    fresh.setStatus(status);
    return fresh;
  }

  @Override
  public DeleteControl cleanup(PgMigration resource, Context<PgMigration> context) {
    if (resource.getSpec() == null) {
      // see reconcile: an object without spec never had a pass that did anything, which would
      // have written status; one with status (never seen) keeps its finalizer, to be looked at
      if (resource.getStatus() == null) {
        log.info("{}/{}: deleted; it had no spec, so nothing was done for it",
            resource.getMetadata().getNamespace(), resource.getMetadata().getName());
        return DeleteControl.defaultDelete();
      }
      log.warn("{}/{}: deleted, but has no spec while its status says work was done; keeping"
          + " the finalizer", resource.getMetadata().getNamespace(),
          resource.getMetadata().getName());
      return DeleteControl.noFinalizerRemoval().rescheduleAfter(SPECLESS_RETRY);
    }
    // stop running copies (garbage collection of owned Pods needs a controller manager, and
    // should not be what stops a copy); data already copied stays on the target
    var deleted = deletePods(resource);
    var events = new ArrayList<Decision.Event>();
    // a Ready migration removed its replication objects at the cutover
    var problems = new ArrayList<>(resource.getStatus() != null
        && resource.getStatus().getMethod() == Method.CONTINUOUS
        && resource.getStatus().getPhase() != Phase.Ready
        ? replication.cleanup(resource, resource.getStatus(), events)
        : List.<String>of());
    // after the replication objects: a fenced source becomes writable only once nothing of
    // ours replicates from it
    problems.addAll(replication.liftFence(resource, resource.getStatus(), events));
    events.forEach(e -> this.events.record(resource, e));
    metrics.forget(resource);
    checks.forget(resource);
    totals.forget(resource);
    // objects of ours may exist while it runs, and after a failure whose cleanup could not reach
    // a server (the Secrets stay held until a cleanup succeeded)
    var active = resource.getStatus() != null
        && (resource.getStatus().getPhase() == Phase.Migrating
            || resource.getStatus().getPhase() == Phase.Syncing
            || resource.getStatus().isSecretsHeld()
            || Fencing.isOn(resource.getStatus()));
    if (!problems.isEmpty() && active && !cleanupTimedOut(resource)) {
      // keep the finalizer and try again: a slot left behind fills the source's disk
      return DeleteControl.noFinalizerRemoval().rescheduleAfter(java.time.Duration.ofSeconds(5));
    }
    // the Secrets were held for this cleanup: done, or given up (and said so)
    var held = replication.releaseSecrets(resource);
    if (!held.isEmpty()) {
      this.events.record(resource, new Decision.Event(true, "SecretsNotReleased",
          "could not remove our finalizer from Secret(s): " + String.join("; ", held)));
    }
    log.info(
        "{}/{}: deleted; stopped {} dump Pod(s){}", resource.getMetadata().getNamespace(),
        resource.getMetadata().getName(), deleted,
        problems.isEmpty() ? "" : "; gave up removing: " + problems);
    return DeleteControl.defaultDelete();
  }

  /** After five minutes of failed attempts the finalizer goes; the Event names what is left. */
  private boolean cleanupTimedOut(PgMigration resource) {
    var since = resource.getMetadata().getDeletionTimestamp();
    return since != null
        && java.time.Instant.parse(since).plus(java.time.Duration.ofMinutes(5))
            .isBefore(clock.instant());
  }

  private int deletePods(PgMigration resource) {
    var deleted =
        client.pods().inNamespace(resource.getMetadata().getNamespace())
            .withLabel(DumpPods.MIGRATION_UID, resource.getMetadata().getUid())
            .delete();
    return deleted == null ? 0 : deleted.size();
  }
}
