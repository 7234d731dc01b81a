package io.pgmigrate.operator.checks;

import io.pgmigrate.operator.postgres.DatabaseInfo;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Which databases of the source a spec selects. */
public record DatabaseSelection(List<String> selected, List<String> missing, List<String> templates) {

  /**
   * Databases that managed services keep for themselves; they are skipped when no list is given
   * (they are never a user's data, and the login usually cannot read them).
   */
  static final Set<String> SERVICE_DATABASES =
      Set.of("rdsadmin", "azure_maintenance", "azure_sys", "cloudsqladmin", "_aiven");

  /**
   * Applies include and exclude lists to the source's databases: templates never; with an empty
   * include list, every database that accepts connections.
   */
  public static DatabaseSelection of(
      List<String> include, List<String> exclude, List<DatabaseInfo> onSource) {
    var excluded = Set.copyOf(exclude);
    var selected = new ArrayList<String>();
    var missing = new ArrayList<String>();
    var templates = new ArrayList<String>();
    if (include.isEmpty()) {
      for (var db : onSource) {
        if (!db.template()
            && db.allowConnections()
            && !excluded.contains(db.name())
            && !SERVICE_DATABASES.contains(db.name())) {
          selected.add(db.name());
        }
      }
    } else {
      for (var name : new LinkedHashSet<>(include)) {
        if (excluded.contains(name)) {
          continue;
        }
        var found = onSource.stream().filter(d -> d.name().equals(name)).findFirst();
        if (found.isEmpty()) {
          missing.add(name);
        } else if (found.get().template()) {
          templates.add(name);
        } else {
          selected.add(name);
        }
      }
    }
    return new DatabaseSelection(List.copyOf(selected), List.copyOf(missing), List.copyOf(templates));
  }
}
