package io.pgmigrate.operator.postgres;

import java.util.List;
import java.util.Map;

/** What one database holds that matters to a migration. */
public record DatabaseContents(
    Map<String, String> extensions,
    List<String> proceduralLanguages,
    List<String> tablesWithoutReplicaIdentity,
    List<String> unloggedTables,
    long largeObjects,
    int userTables) {}
