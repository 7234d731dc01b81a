package io.pgmigrate.operator.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * The schema of one entry of status.conditions, with descriptions for `kubectl explain`; the
 * Java field stays fabric8's Condition, which has none.
 */
final class ConditionDescription {

  @JsonPropertyDescription("Ready, Reconciling, Stalled, Validated, TargetPrepared,"
      + " ReplicationObjectsRemoved or ReconcileError.")
  public String type;

  @JsonPropertyDescription("True, False or Unknown.")
  public String status;

  @JsonPropertyDescription("Why, as a CamelCase constant (e.g. ValidationFailed, Replicating).")
  public String reason;

  @JsonPropertyDescription("Why, for a person, with the remedy when something failed.")
  public String message;

  @JsonPropertyDescription("The metadata.generation this condition describes.")
  public Long observedGeneration;

  @JsonPropertyDescription("When status or reason last changed (RFC 3339).")
  public String lastTransitionTime;

  private ConditionDescription() {}
}
