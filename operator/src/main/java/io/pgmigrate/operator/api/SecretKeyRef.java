package io.pgmigrate.operator.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** One key of a Secret in the PgMigration's namespace. */
public class SecretKeyRef {

  @Required
  @Size(min = 1, max = 253)
  @JsonPropertyDescription("Name of the Secret, in the PgMigration's namespace.")
  private String name;

  @Default("ca.crt")
  @JsonPropertyDescription("Key in the Secret (default ca.crt).")
  private String key = "ca.crt";

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public String getKey() {
    return key == null ? "ca.crt" : key;
  }

  public void setKey(String key) {
    this.key = key;
  }
}
