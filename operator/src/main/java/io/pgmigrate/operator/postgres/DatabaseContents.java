package io.pgmigrate.operator.postgres;

import java.util.List;
import java.util.Map;

/**
 * What one database holds that matters to a migration. {@code aivenExtras}: the login may call
 * aiven_extras.pg_create_publication_for_all_tables here (the non-superuser path).
 * {@code unreadableSequences}: sequences whose value the login may not read (neither SELECT nor
 * USAGE), which the cutover could not copy.
 */
public record DatabaseContents(
    Map<String, String> extensions,
    List<String> proceduralLanguages,
    List<String> tablesWithoutReplicaIdentity,
    List<String> unloggedTables,
    long largeObjects,
    int userTables,
    boolean aivenExtras,
    List<String> unreadableSequences) {

  public DatabaseContents(Map<String, String> extensions, List<String> proceduralLanguages,
      List<String> tablesWithoutReplicaIdentity, List<String> unloggedTables, long largeObjects,
      int userTables) {
    this(extensions, proceduralLanguages, tablesWithoutReplicaIdentity, unloggedTables,
        largeObjects, userTables, extensions.containsKey("aiven_extras"), List.of());
  }
}
