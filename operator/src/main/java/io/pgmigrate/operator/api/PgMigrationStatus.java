package io.pgmigrate.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/** What the operator observed and did, written only by the operator. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PgMigrationStatus {

  @JsonPropertyDescription(
      "Validating (the pre-flight checks; a validateOnly dry run stays here), Migrating (the"
          + " copy), Syncing (continuous: replicating, until keepReplicating: false cuts over),"
          + " Ready (done) or Failed (see message and the Stalled condition).")
  private Phase phase;

  @JsonPropertyDescription("The method actually used (dump when continuous fell back).")
  private Method method;

  @JsonPropertyDescription("The metadata.generation this status describes.")
  private Long observedGeneration;

  @JsonPropertyDescription("The generation the pre-flight checks were last run for.")
  private Long validatedGeneration;

  @JsonPropertyDescription("Major version of the target server, found by the checks.")
  private Integer targetMajorVersion;

  @JsonPropertyDescription("The last pgmigrate.io/restart annotation value acted upon.")
  private String restartToken;

  @JsonPropertyDescription("A one-line summary a person can act on.")
  private String message;

  @JsonPropertyDescription("Databases done out of databases to migrate, e.g. 2/3.")
  private String progress;

  @JsonPropertyDescription("Total replication lag, human readable (continuous).")
  private String lag;

  @JsonPropertyDescription("When this run started (RFC 3339).")
  private String startedAt;

  @JsonPropertyDescription("continuous: when the cutover was asked for (RFC 3339).")
  private String cutoverStartedAt;

  @JsonPropertyDescription("When the migration finished (RFC 3339).")
  private String completedAt;

  @JsonPropertyDescription(
      "continuous: the Secrets this migration reads carry its finalizer (pgmigrate.io/cleanup-"
          + "<uid>) until no replication object of ours is left, so that deleting the namespace"
          + " cannot take the logins its cleanup needs.")
  private Boolean secretsHeld;

  @JsonPropertyDescription(
      "continuous with cutover.fenceSource: the source databases the cutover made read-only,"
          + " each recorded before it is changed and kept across restarts until the fence is"
          + " lifted (deleting the PgMigration lifts it).")
  private List<SourceFence> fence;

  @JsonPropertyDescription(
      "Databases this migration created on the target (recorded before creating them, kept"
          + " across restarts): only these may be emptied for a retry.")
  private List<String> createdDatabases = new ArrayList<>();

  @JsonPropertyDescription("The pre-flight report: one entry per check.")
  private List<CheckResult> checks = new ArrayList<>();

  @JsonPropertyDescription(
      "What the migration would cost, measured while validating (also with validateOnly):"
          + " sizes, largest tables, the target's free disk, the source's WAL rate and an"
          + " estimate of the copy's duration with its basis.")
  private Estimate estimate;

  @JsonPropertyDescription("Per-database progress.")
  private List<DatabaseStatus> databases = new ArrayList<>();

  @JsonPropertyDescription(
      "Kubernetes-style conditions. Ready: True when the migration reached what its spec asks"
          + " (phase Ready; validateOnly with the checks passed; Syncing with keepReplicating:"
          + " true), so `kubectl wait --for=condition=Ready` returns. Reconciling: True while"
          + " the operator works towards Ready (Validating, Migrating, a cutover). Stalled:"
          + " True when the migration failed, with the reason and message. Validated: the"
          + " pre-flight checks' result. Also TargetPrepared, ReplicationObjectsRemoved"
          + " (continuous) and ReconcileError (an unexpected error, while it lasts).")
  @SchemaFrom(type = ConditionDescription[].class)
  private List<Condition> conditions = new ArrayList<>();

  public Phase getPhase() {
    return phase;
  }

  public void setPhase(Phase phase) {
    this.phase = phase;
  }

  public Method getMethod() {
    return method;
  }

  public void setMethod(Method method) {
    this.method = method;
  }

  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }

  public Long getValidatedGeneration() {
    return validatedGeneration;
  }

  public void setValidatedGeneration(Long validatedGeneration) {
    this.validatedGeneration = validatedGeneration;
  }

  public Integer getTargetMajorVersion() {
    return targetMajorVersion;
  }

  public void setTargetMajorVersion(Integer targetMajorVersion) {
    this.targetMajorVersion = targetMajorVersion;
  }

  public String getRestartToken() {
    return restartToken;
  }

  public void setRestartToken(String restartToken) {
    this.restartToken = restartToken;
  }

  public String getMessage() {
    return message;
  }

  public void setMessage(String message) {
    this.message = message;
  }

  public String getProgress() {
    return progress;
  }

  public void setProgress(String progress) {
    this.progress = progress;
  }

  public String getLag() {
    return lag;
  }

  public void setLag(String lag) {
    this.lag = lag;
  }

  public String getStartedAt() {
    return startedAt;
  }

  public void setStartedAt(String startedAt) {
    this.startedAt = startedAt;
  }

  public String getCompletedAt() {
    return completedAt;
  }

  public void setCompletedAt(String completedAt) {
    this.completedAt = completedAt;
  }

  public String getCutoverStartedAt() {
    return cutoverStartedAt;
  }

  public void setCutoverStartedAt(String cutoverStartedAt) {
    this.cutoverStartedAt = cutoverStartedAt;
  }

  public List<SourceFence> getFence() {
    return fence;
  }

  public void setFence(List<SourceFence> fence) {
    this.fence = fence;
  }

  public boolean isSecretsHeld() {
    return Boolean.TRUE.equals(secretsHeld);
  }

  public Boolean getSecretsHeld() {
    return secretsHeld;
  }

  public void setSecretsHeld(Boolean secretsHeld) {
    this.secretsHeld = secretsHeld;
  }

  public List<String> getCreatedDatabases() {
    return createdDatabases;
  }

  public void setCreatedDatabases(List<String> createdDatabases) {
    this.createdDatabases = createdDatabases == null ? new ArrayList<>() : createdDatabases;
  }

  public List<CheckResult> getChecks() {
    return checks;
  }

  public void setChecks(List<CheckResult> checks) {
    this.checks = checks == null ? new ArrayList<>() : checks;
  }

  public Estimate getEstimate() {
    return estimate;
  }

  public void setEstimate(Estimate estimate) {
    this.estimate = estimate;
  }

  public List<DatabaseStatus> getDatabases() {
    return databases;
  }

  public void setDatabases(List<DatabaseStatus> databases) {
    this.databases = databases == null ? new ArrayList<>() : databases;
  }

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions == null ? new ArrayList<>() : conditions;
  }

  /** A deep copy that shares no object with this one. */
  public PgMigrationStatus copy() {
    return StatusJson.copy(this, PgMigrationStatus.class);
  }

  /** Equal when the JSON the API server would store is equal. */
  @Override
  public boolean equals(Object o) {
    return o instanceof PgMigrationStatus s && StatusJson.tree(this).equals(StatusJson.tree(s));
  }

  @Override
  public int hashCode() {
    return StatusJson.tree(this).hashCode();
  }
}
