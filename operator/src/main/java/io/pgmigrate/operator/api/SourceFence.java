package io.pgmigrate.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** One source database the cutover made read-only (cutover.fenceSource). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SourceFence {

  /** Recorded before the ALTER DATABASE, so that whatever happens next the fence is known. */
  public static final String FENCING = "Fencing";

  /** Read-only for new sessions, and no session from before the fence is left. */
  public static final String FENCED = "Fenced";

  @JsonPropertyDescription("The source database.")
  private String database;

  @JsonPropertyDescription(
      "Fencing (recorded before making it read-only; sessions from before the fence may still"
          + " be ending) or Fenced (read-only for new sessions, no older session left).")
  private String state;

  @JsonPropertyDescription(
      "The database's own default_transaction_read_only setting before the fence, when it had"
          + " one; lifting the fence puts it back.")
  private String previous;

  @JsonPropertyDescription("When the source server made the database read-only (its clock).")
  private String fencedAt;

  @JsonPropertyDescription("The statement that lifts the fence (for a rollback to the source).")
  private String liftWith;

  public SourceFence() {}

  public SourceFence(String database, String state) {
    this.database = database;
    this.state = state;
  }

  public String getDatabase() {
    return database;
  }

  public void setDatabase(String database) {
    this.database = database;
  }

  public String getState() {
    return state;
  }

  public void setState(String state) {
    this.state = state;
  }

  public String getPrevious() {
    return previous;
  }

  public void setPrevious(String previous) {
    this.previous = previous;
  }

  public String getFencedAt() {
    return fencedAt;
  }

  public void setFencedAt(String fencedAt) {
    this.fencedAt = fencedAt;
  }

  public String getLiftWith() {
    return liftWith;
  }

  public void setLiftWith(String liftWith) {
    this.liftWith = liftWith;
  }
}
