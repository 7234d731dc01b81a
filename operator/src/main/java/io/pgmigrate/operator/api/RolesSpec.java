package io.pgmigrate.operator.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Size;
import java.util.ArrayList;
import java.util.List;

/** Which roles are copied to the target. */
public class RolesSpec {

  @Default("true")
  @JsonPropertyDescription(
      "Copy the source's roles (attributes, memberships, settings) before the data (default"
          + " true). Reserved roles and the bootstrap superuser are never copied.")
  private Boolean migrate = true;

  @Size(max = 1024)
  @JsonPropertyDescription("Roles never copied.")
  private List<@Size(min = 1, max = 63) String> exclude = new ArrayList<>();

  public boolean isMigrate() {
    return !Boolean.FALSE.equals(migrate);
  }

  public Boolean getMigrate() {
    return migrate;
  }

  public void setMigrate(Boolean migrate) {
    this.migrate = migrate;
  }

  public List<String> getExclude() {
    return exclude == null ? List.of() : exclude;
  }

  public void setExclude(List<String> exclude) {
    this.exclude = exclude;
  }
}
