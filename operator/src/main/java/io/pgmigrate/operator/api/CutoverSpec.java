package io.pgmigrate.operator.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;

/** What the operator does around the cutover besides moving the data. */
public class CutoverSpec {

  @Default("false")
  @JsonPropertyDescription(
      "continuous: before taking the cutover position, make every migrated source database"
          + " read-only (ALTER DATABASE ... SET default_transaction_read_only = on) and end the"
          + " sessions connected to it, so that no write can land on the source after the"
          + " position. The fence stays after Ready (status.fence says how to lift it for a"
          + " rollback); deleting the PgMigration lifts it. A session may still run SET"
          + " default_transaction_read_only = off by itself: the fence stops applications, not"
          + " a determined user. The login needs ownership of the databases (or superuser) and"
          + " pg_signal_backend; the pre-flight check source.fence says what is missing.")
  private Boolean fenceSource = false;

  @JsonPropertyDescription(
      "After Ready (both methods): rewrite this Secret, the application's connection, so that"
          + " it points at the target.")
  private SwitchSecretSpec switchSecret;

  static final String TIME =
      "^$|^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$";

  @Pattern(TIME)
  @JsonPropertyDescription(
      "continuous: the cutover asked for (keepReplicating: false) starts no earlier than this"
          + " time (RFC 3339, e.g. 2026-12-01T02:00:00Z); until then the migration keeps"
          + " replicating and says when it will cut over.")
  private String notBefore;

  @Pattern(TIME)
  @JsonPropertyDescription(
      "continuous: a cutover not started by this time (RFC 3339) does not start: the migration"
          + " keeps replicating and says so, until the window is moved. A cutover already"
          + " under way finishes.")
  private String notAfter;

  public String getNotBefore() {
    return notBefore;
  }

  public void setNotBefore(String notBefore) {
    this.notBefore = notBefore;
  }

  public String getNotAfter() {
    return notAfter;
  }

  public void setNotAfter(String notAfter) {
    this.notAfter = notAfter;
  }

  public boolean isFenceSource() {
    return Boolean.TRUE.equals(fenceSource);
  }

  public Boolean getFenceSource() {
    return fenceSource;
  }

  public void setFenceSource(Boolean fenceSource) {
    this.fenceSource = fenceSource;
  }

  public SwitchSecretSpec getSwitchSecret() {
    return switchSecret;
  }

  public void setSwitchSecret(SwitchSecretSpec switchSecret) {
    this.switchSecret = switchSecret;
  }
}
