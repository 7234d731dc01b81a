package io.pgmigrate.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** Progress of one database. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DatabaseStatus {

  @JsonPropertyDescription("Database name.")
  private String name;

  @JsonPropertyDescription(
      "Pending, SchemaCopy, Copying, Indexing (continuous: the rest of the schema after the"
          + " initial copy), Replicating, CuttingOver, Done or Failed.")
  private DatabasePhase phase;

  @JsonPropertyDescription("Tables to copy.")
  private Integer tablesTotal;

  @JsonPropertyDescription("Tables copied (or replicating).")
  private Integer tablesSynced;

  @JsonPropertyDescription("Replication lag in bytes (continuous).")
  private Long lagBytes;

  @JsonPropertyDescription(
      "continuous: replication lag in seconds, as the source's WAL sender of our subscription"
          + " measures it (pg_stat_replication.replay_lag: from sending a change to the target"
          + " confirming it); 0 when the target confirmed everything it was sent; unset while"
          + " no WAL sender runs for our slot or none was measured yet.")
  private Double lagSeconds;

  @JsonPropertyDescription(
      "continuous: bytes of WAL our replication slot keeps on the source (from its restart"
          + " position to the current one), what replication.maxRetainedWalBytes limits.")
  private Long retainedWalBytes;

  @JsonPropertyDescription(
      "Rows in the target database's tables as the target's statistics count them"
          + " (pg_stat_user_tables.n_live_tup: rows inserted minus rows deleted by committed"
          + " transactions, an estimate after VACUUM or ANALYZE), plus the rows of COPYs still"
          + " running (PostgreSQL 14+). Read while the database is copied or replicated.")
  private Long rowsCopied;

  @JsonPropertyDescription(
      "Size of the target database on disk (pg_database_size: tables, indexes and catalogs)."
          + " Read while the database is copied or replicated.")
  private Long bytesCopied;

  @JsonPropertyDescription("The dump Pod working on this database.")
  private String pod;

  @JsonPropertyDescription(
      "True when the operator created this database on the target, so a retry may drop and"
          + " create it again; a database that existed before is never dropped.")
  private Boolean createdOnTarget;

  @JsonPropertyDescription("continuous: the schema-only copy that precedes replication is done.")
  private Boolean schemaCopied;

  @JsonPropertyDescription(
      "continuous: the source WAL position recorded at the cutover; the database is cut over"
          + " once our slot confirmed it.")
  private String cutoverLsn;

  @JsonPropertyDescription(
      "continuous: our slot exists on the source (recorded before the subscription uses it);"
          + " if it disappears after that, the migration fails instead of making a new one, which"
          + " would miss every change in between.")
  private Boolean slotCreated;

  @JsonPropertyDescription(
      "continuous: how far the cutover got, each step recorded before the next starts:"
          + " Confirmed (the target has every change up to cutoverLsn), ReplicationRemoved"
          + " (sequences copied; subscription, slot and publication dropped); then unlogged"
          + " tables and large objects are copied and the phase is Done.")
  private String cutoverStep;

  @JsonPropertyDescription(
      "continuous: the rest of the schema (indexes, constraints, triggers) was restored after"
          + " the initial copy.")
  private Boolean postDataCopied;

  @JsonPropertyDescription(
      "continuous: source tables the operator set to REPLICA IDENTITY FULL (recorded before"
          + " setting it), each restored to its original identity when replication ends.")
  private List<ReplicaIdentityChange> replicaIdentityChanges;

  @JsonPropertyDescription(
      "continuous: table sync and apply errors the subscription reported so far.")
  private Long replicationErrors;

  @JsonPropertyDescription(
      "continuous: since when the subscription keeps reporting errors (unset once it stops).")
  private String erroringSince;

  @JsonPropertyDescription("continuous: when the last new subscription error was seen.")
  private String lastErrorAt;

  @JsonPropertyDescription(
      "continuous: replicated tables and columns whose definition on the target differs from"
          + " the source's (logical replication carries no DDL), compared about every 20 s while"
          + " the subscription runs; at most 20, with the SQL that brings the target in line.")
  private List<SchemaDrift> schemaDrift;

  @JsonPropertyDescription("What is happening or what went wrong.")
  private String message;

  public DatabaseStatus() {}

  public DatabaseStatus(String name, DatabasePhase phase) {
    this.name = name;
    this.phase = phase;
  }

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public DatabasePhase getPhase() {
    return phase;
  }

  public void setPhase(DatabasePhase phase) {
    this.phase = phase;
  }

  public Integer getTablesTotal() {
    return tablesTotal;
  }

  public void setTablesTotal(Integer tablesTotal) {
    this.tablesTotal = tablesTotal;
  }

  public Integer getTablesSynced() {
    return tablesSynced;
  }

  public void setTablesSynced(Integer tablesSynced) {
    this.tablesSynced = tablesSynced;
  }

  public Long getLagBytes() {
    return lagBytes;
  }

  public void setLagBytes(Long lagBytes) {
    this.lagBytes = lagBytes;
  }

  public Double getLagSeconds() {
    return lagSeconds;
  }

  public void setLagSeconds(Double lagSeconds) {
    this.lagSeconds = lagSeconds;
  }

  public Long getRetainedWalBytes() {
    return retainedWalBytes;
  }

  public void setRetainedWalBytes(Long retainedWalBytes) {
    this.retainedWalBytes = retainedWalBytes;
  }

  public Long getRowsCopied() {
    return rowsCopied;
  }

  public void setRowsCopied(Long rowsCopied) {
    this.rowsCopied = rowsCopied;
  }

  public Long getBytesCopied() {
    return bytesCopied;
  }

  public void setBytesCopied(Long bytesCopied) {
    this.bytesCopied = bytesCopied;
  }

  public String getPod() {
    return pod;
  }

  public void setPod(String pod) {
    this.pod = pod;
  }

  public Boolean getCreatedOnTarget() {
    return createdOnTarget;
  }

  public void setCreatedOnTarget(Boolean createdOnTarget) {
    this.createdOnTarget = createdOnTarget;
  }

  public boolean isCreatedOnTarget() {
    return Boolean.TRUE.equals(createdOnTarget);
  }

  public Boolean getSchemaCopied() {
    return schemaCopied;
  }

  public void setSchemaCopied(Boolean schemaCopied) {
    this.schemaCopied = schemaCopied;
  }

  public boolean isSchemaCopied() {
    return Boolean.TRUE.equals(schemaCopied);
  }

  public String getCutoverLsn() {
    return cutoverLsn;
  }

  public void setCutoverLsn(String cutoverLsn) {
    this.cutoverLsn = cutoverLsn;
  }

  public boolean isSlotCreated() {
    return Boolean.TRUE.equals(slotCreated);
  }

  public Boolean getSlotCreated() {
    return slotCreated;
  }

  public void setSlotCreated(Boolean slotCreated) {
    this.slotCreated = slotCreated;
  }

  public String getCutoverStep() {
    return cutoverStep;
  }

  public void setCutoverStep(String cutoverStep) {
    this.cutoverStep = cutoverStep;
  }

  public boolean isPostDataCopied() {
    return Boolean.TRUE.equals(postDataCopied);
  }

  public Boolean getPostDataCopied() {
    return postDataCopied;
  }

  public void setPostDataCopied(Boolean postDataCopied) {
    this.postDataCopied = postDataCopied;
  }

  public List<ReplicaIdentityChange> getReplicaIdentityChanges() {
    return replicaIdentityChanges;
  }

  public void setReplicaIdentityChanges(List<ReplicaIdentityChange> replicaIdentityChanges) {
    this.replicaIdentityChanges = replicaIdentityChanges;
  }

  public Long getReplicationErrors() {
    return replicationErrors;
  }

  public void setReplicationErrors(Long replicationErrors) {
    this.replicationErrors = replicationErrors;
  }

  public String getErroringSince() {
    return erroringSince;
  }

  public void setErroringSince(String erroringSince) {
    this.erroringSince = erroringSince;
  }

  public String getLastErrorAt() {
    return lastErrorAt;
  }

  public void setLastErrorAt(String lastErrorAt) {
    this.lastErrorAt = lastErrorAt;
  }

  public List<SchemaDrift> getSchemaDrift() {
    return schemaDrift;
  }

  public void setSchemaDrift(List<SchemaDrift> schemaDrift) {
    this.schemaDrift = schemaDrift;
  }

  /** A deep copy that shares no object with this one. */
  public DatabaseStatus copy() {
    return StatusJson.copy(this, DatabaseStatus.class);
  }

  public String getMessage() {
    return message;
  }

  public void setMessage(String message) {
    this.message = message;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DatabaseStatus d && StatusJson.tree(this).equals(StatusJson.tree(d));
  }

  @Override
  public int hashCode() {
    return StatusJson.tree(this).hashCode();
  }
}
