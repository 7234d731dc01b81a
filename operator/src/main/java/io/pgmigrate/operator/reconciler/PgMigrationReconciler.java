package io.pgmigrate.operator.reconciler;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.PrimaryUpdateAndCacheUtils;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.checks.ValidationReport;
import io.pgmigrate.operator.checks.Validator;
import java.time.Clock;
import java.time.temporal.ChronoUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Orchestrates one PgMigration: observe (the checks, when due), decide ({@link Decider}), act,
 * and write status only when it changed.
 */
@ControllerConfiguration(name = PgMigrationReconciler.NAME, generationAwareEventProcessing = false)
public class PgMigrationReconciler implements Reconciler<PgMigration>, Cleaner<PgMigration> {

  public static final String NAME = "pgmigration";
  private static final Logger log = LoggerFactory.getLogger(PgMigrationReconciler.class);

  private final Validator validator;
  private final EventRecorder events;
  private final Clock clock;

  public PgMigrationReconciler(Validator validator, EventRecorder events, Clock clock) {
    this.validator = validator;
    this.events = events;
    this.clock = clock;
  }

  @Override
  public UpdateControl<PgMigration> reconcile(PgMigration resource, Context<PgMigration> context) {
    ValidationReport report = null;
    if (Decider.needsValidation(resource)) {
      report = validator.validate(resource.getMetadata().getNamespace(), resource.getSpec());
    }
    var now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
    var decision = Decider.decide(resource, report, now);

    if (!decision.status().equals(resource.getStatus())) {
      var fresh = new PgMigration();
      fresh.setMetadata(
          new ObjectMetaBuilder()
              .withName(resource.getMetadata().getName())
              .withNamespace(resource.getMetadata().getNamespace())
              .build());
      fresh.setStatus(decision.status());
      PrimaryUpdateAndCacheUtils.ssaPatchStatusAndCacheResource(resource, fresh, context);
      var before = resource.getStatus() == null ? null : resource.getStatus().getPhase();
      if (before != decision.status().getPhase()) {
        log.info(
            "{}/{}: {} -> {}: {}", resource.getMetadata().getNamespace(),
            resource.getMetadata().getName(), before, decision.status().getPhase(),
            decision.status().getMessage());
      }
    }
    decision.events().forEach(e -> events.record(resource, e));
    var control = UpdateControl.<PgMigration>noUpdate();
    return decision.requeueAfter() == null ? control : control.rescheduleAfter(decision.requeueAfter());
  }

  @Override
  public DeleteControl cleanup(PgMigration resource, Context<PgMigration> context) {
    // the methods create replication objects and Pods; until then there is nothing of ours on
    // either server, and data already copied stays on the target
    log.info(
        "{}/{}: deleted; nothing left to clean up", resource.getMetadata().getNamespace(),
        resource.getMetadata().getName());
    return DeleteControl.defaultDelete();
  }
}
