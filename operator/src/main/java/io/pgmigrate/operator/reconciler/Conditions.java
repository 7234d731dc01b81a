package io.pgmigrate.operator.reconciler;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Kubernetes-style conditions; lastTransitionTime moves only when status or reason changes.
 *
 * <p>Ready, Reconciling and Stalled are the ones GitOps tools read (kstatus, which Flux and
 * {@code kubectl wait} users rely on, and the Argo CD health check in the chart): Ready is True
 * once the migration reached what its spec asks for, Reconciling True while the operator works
 * towards it, Stalled True when it failed. {@link Decider#summarize} sets all three.
 */
public final class Conditions {

  public static final String VALIDATED = "Validated";
  /**
   * True when the migration reached its goal: phase Ready; validateOnly with the checks passed;
   * Syncing with keepReplicating: true (replicating is what was asked for). False otherwise.
   */
  public static final String READY = "Ready";
  /** True while the operator works towards Ready (Validating, Migrating, a cutover). */
  public static final String RECONCILING = "Reconciling";
  /** True when the migration failed (phase Failed), with the failure's reason and message. */
  public static final String STALLED = "Stalled";
  public static final String TARGET_PREPARED = "TargetPrepared";
  /** continuous: False while a publication, slot or subscription of ours is still left. */
  public static final String REPLICATION_REMOVED = "ReplicationObjectsRemoved";
  /** True while an unexpected error (not a migration failure) keeps a pass from finishing. */
  public static final String RECONCILE_ERROR = "ReconcileError";

  private Conditions() {}

  public static void set(
      List<Condition> conditions,
      String type,
      String status,
      String reason,
      String message,
      Long generation,
      Instant now) {
    var existing = conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
    var transition =
        existing
            .filter(c -> status.equals(c.getStatus()) && reason.equals(c.getReason()))
            .map(Condition::getLastTransitionTime)
            .orElse(now.toString());
    var updated =
        new ConditionBuilder()
            .withType(type)
            .withStatus(status)
            .withReason(reason)
            .withMessage(message)
            .withObservedGeneration(generation)
            .withLastTransitionTime(transition)
            .build();
    if (existing.isPresent()) {
      conditions.set(conditions.indexOf(existing.get()), updated);
    } else {
      conditions.add(updated);
    }
  }

  public static Condition get(List<Condition> conditions, String type) {
    return conditions.stream().filter(c -> Objects.equals(type, c.getType())).findFirst().orElse(null);
  }
}
