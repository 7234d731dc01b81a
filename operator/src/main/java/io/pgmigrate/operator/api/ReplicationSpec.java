package io.pgmigrate.operator.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.kubernetes.api.model.Quantity;

/** Settings of logical replication (method continuous). */
public class ReplicationSpec {

  static final String QUANTITY = "^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$";

  @Default("1Mi")
  @Pattern(QUANTITY)
  @JsonPropertyDescription(
      "Lag at or below which a database counts as caught up (a quantity of bytes, default"
          + " 1Mi).")
  private String caughtUpLagBytes = "1Mi";

  @Pattern("^$|" + QUANTITY)
  @JsonPropertyDescription(
      "Safety valve for the source's disk: when our replication slot retains more WAL than this"
          + " (a quantity such as 50Gi), the slot is dropped and the migration fails. Empty means"
          + " no limit.")
  private String maxRetainedWalBytes = "";

  @Pattern("^$|^([0-9]+h)?([0-9]+m)?([0-9]+s)?$")
  @JsonPropertyDescription(
      "Longest the cutover may wait for the target to confirm the cutover position (a duration"
          + " such as 30m, 1h or 90s); past it the migration fails (CutoverTimedOut) and removes"
          + " its replication objects. Empty (default) waits as long as it takes, saying so in"
          + " status.")
  private String cutoverTimeout = "";

  @Default("false")
  @JsonPropertyDescription(
      "Tables without primary key or replica identity: true sets REPLICA IDENTITY FULL on them"
          + " so UPDATE and DELETE keep working on the source once they are published; false"
          + " (default) refuses to start while such tables exist.")
  private Boolean replicaIdentityFull = false;

  @Default("false")
  @JsonPropertyDescription(
      "The user accepts that the subscription's connection from the target server to the"
          + " source is encrypted but does not verify the source's certificate. Only matters when"
          + " source.sslMode is verify-ca or verify-full: the operator cannot place caSecret's CA"
          + " on the target server, so by default a PostgreSQL 16+ target verifies with its"
          + " system CA store (public CAs only) and an older one refuses to start; true connects"
          + " the subscription with sslmode=require instead (e.g. for a private CA).")
  private Boolean allowUnverifiedSubscription = false;

  @Default("false")
  @JsonPropertyDescription(
      "Logical replication carries no DDL: the operator compares the replicated tables on both"
          + " servers while replicating and reports what differs (status schemaDrift and an"
          + " Event, with the SQL for the target). true also applies the additive changes on the"
          + " target: new columns (with the value the source's existing rows have), new tables"
          + " (then the subscription is refreshed, copying their rows); a dropped column or"
          + " table, a type or NOT NULL change is only reported, never applied.")
  private Boolean applySchemaChanges = false;

  public boolean isApplySchemaChanges() {
    return Boolean.TRUE.equals(applySchemaChanges);
  }

  public Boolean getApplySchemaChanges() {
    return applySchemaChanges;
  }

  public void setApplySchemaChanges(Boolean applySchemaChanges) {
    this.applySchemaChanges = applySchemaChanges;
  }

  public String getCaughtUpLagBytes() {
    return caughtUpLagBytes;
  }

  public void setCaughtUpLagBytes(String caughtUpLagBytes) {
    this.caughtUpLagBytes = caughtUpLagBytes;
  }

  public String getMaxRetainedWalBytes() {
    return maxRetainedWalBytes;
  }

  public void setMaxRetainedWalBytes(String maxRetainedWalBytes) {
    this.maxRetainedWalBytes = maxRetainedWalBytes;
  }

  public boolean isReplicaIdentityFull() {
    return Boolean.TRUE.equals(replicaIdentityFull);
  }

  public Boolean getReplicaIdentityFull() {
    return replicaIdentityFull;
  }

  public void setReplicaIdentityFull(Boolean replicaIdentityFull) {
    this.replicaIdentityFull = replicaIdentityFull;
  }

  public boolean isAllowUnverifiedSubscription() {
    return Boolean.TRUE.equals(allowUnverifiedSubscription);
  }

  public Boolean getAllowUnverifiedSubscription() {
    return allowUnverifiedSubscription;
  }

  public void setAllowUnverifiedSubscription(Boolean allowUnverifiedSubscription) {
    this.allowUnverifiedSubscription = allowUnverifiedSubscription;
  }

  /** The retained-WAL limit in bytes, or -1 when unset. */
  public long maxRetainedWalBytesValue() {
    return maxRetainedWalBytes == null || maxRetainedWalBytes.isBlank()
        ? -1
        : Quantity.getAmountInBytes(new Quantity(maxRetainedWalBytes)).longValue();
  }

  public String getCutoverTimeout() {
    return cutoverTimeout;
  }

  public void setCutoverTimeout(String cutoverTimeout) {
    this.cutoverTimeout = cutoverTimeout;
  }

  /** The cutover timeout, or null when there is none ("1h30m", "90s", "45m"). */
  public java.time.Duration cutoverTimeoutValue() {
    if (cutoverTimeout == null || cutoverTimeout.isBlank()) {
      return null;
    }
    var m = java.util.regex.Pattern.compile("^(?:(\\d+)h)?(?:(\\d+)m)?(?:(\\d+)s)?$")
        .matcher(cutoverTimeout);
    if (!m.matches()) {
      return null;
    }
    long seconds = 0;
    for (int g = 1; g <= 3; g++) {
      if (m.group(g) != null) {
        seconds += Long.parseLong(m.group(g)) * (g == 1 ? 3600 : g == 2 ? 60 : 1);
      }
    }
    return java.time.Duration.ofSeconds(seconds);
  }
}
