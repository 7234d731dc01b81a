package io.pgmigrate.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Objects;

/** A replicated table or column whose definition on the target differs from the source's. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SchemaDrift {

  @JsonPropertyDescription(
      "The table (schema-qualified) or column (table.column), quoted as PostgreSQL prints it.")
  private String object;

  @JsonPropertyDescription(
      "What differs: TableAdded or ColumnAdded (on the source, missing on the target),"
          + " TableNotSubscribed (on both, not yet in the subscription), TableDropped or"
          + " ColumnDropped (gone from the source, still on the target), TypeChanged,"
          + " NotNullAdded, NotNullDropped.")
  private String change;

  @JsonPropertyDescription("The SQL that brings the target in line, to run on the target.")
  private String ddl;

  @JsonPropertyDescription(
      "Whether replication.applySchemaChanges applies it (additive changes only), and else"
          + " what to do.")
  private String note;

  @JsonPropertyDescription("Why applying it failed the last time it was tried.")
  private String error;

  public SchemaDrift() {}

  public SchemaDrift(String object, String change, String ddl, String note) {
    this.object = object;
    this.change = change;
    this.ddl = ddl;
    this.note = note;
  }

  /** Object and change: what tells one difference from another. */
  public String key() {
    return object + " " + change;
  }

  public String getObject() {
    return object;
  }

  public void setObject(String object) {
    this.object = object;
  }

  public String getChange() {
    return change;
  }

  public void setChange(String change) {
    this.change = change;
  }

  public String getDdl() {
    return ddl;
  }

  public void setDdl(String ddl) {
    this.ddl = ddl;
  }

  public String getNote() {
    return note;
  }

  public void setNote(String note) {
    this.note = note;
  }

  public String getError() {
    return error;
  }

  public void setError(String error) {
    this.error = error;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SchemaDrift d && Objects.equals(object, d.object)
        && Objects.equals(change, d.change) && Objects.equals(ddl, d.ddl)
        && Objects.equals(note, d.note) && Objects.equals(error, d.error);
  }

  @Override
  public int hashCode() {
    return Objects.hash(object, change, ddl, note, error);
  }
}
