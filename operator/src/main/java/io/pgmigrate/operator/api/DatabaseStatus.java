package io.pgmigrate.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Objects;

/** Progress of one database. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DatabaseStatus {

  @JsonPropertyDescription("Database name.")
  private String name;

  @JsonPropertyDescription(
      "Pending, SchemaCopy, Copying, Replicating, CuttingOver, Done or Failed.")
  private String phase;

  @JsonPropertyDescription("Tables to copy.")
  private Integer tablesTotal;

  @JsonPropertyDescription("Tables copied (or replicating).")
  private Integer tablesSynced;

  @JsonPropertyDescription("Replication lag in bytes (continuous).")
  private Long lagBytes;

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

  @JsonPropertyDescription("What is happening or what went wrong.")
  private String message;

  public DatabaseStatus() {}

  public DatabaseStatus(String name, String phase) {
    this.name = name;
    this.phase = phase;
  }

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public String getPhase() {
    return phase;
  }

  public void setPhase(String phase) {
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

  public String getMessage() {
    return message;
  }

  public void setMessage(String message) {
    this.message = message;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DatabaseStatus d
        && Objects.equals(name, d.name)
        && Objects.equals(phase, d.phase)
        && Objects.equals(tablesTotal, d.tablesTotal)
        && Objects.equals(tablesSynced, d.tablesSynced)
        && Objects.equals(lagBytes, d.lagBytes)
        && Objects.equals(pod, d.pod)
        && Objects.equals(createdOnTarget, d.createdOnTarget)
        && Objects.equals(schemaCopied, d.schemaCopied)
        && Objects.equals(cutoverLsn, d.cutoverLsn)
        && Objects.equals(message, d.message);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, phase, tablesTotal, tablesSynced, lagBytes, pod, message);
  }
}
