package io.pgmigrate.operator.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** A source table whose replica identity the operator set to FULL, and what it was before. */
public class ReplicaIdentityChange {

  @JsonPropertyDescription("The table, schema-qualified and quoted as PostgreSQL prints it.")
  private String table;

  @JsonPropertyDescription("Its replica identity before: DEFAULT or NOTHING; restored after.")
  private String original;

  public ReplicaIdentityChange() {}

  public ReplicaIdentityChange(String table, String original) {
    this.table = table;
    this.original = original;
  }

  public String getTable() {
    return table;
  }

  public void setTable(String table) {
    this.table = table;
  }

  public String getOriginal() {
    return original;
  }

  public void setOriginal(String original) {
    this.original = original;
  }
}
