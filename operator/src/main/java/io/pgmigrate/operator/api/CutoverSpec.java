package io.pgmigrate.operator.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;

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
