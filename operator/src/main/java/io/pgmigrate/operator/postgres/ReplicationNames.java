package io.pgmigrate.operator.postgres;

import java.util.Locale;

/**
 * Names of our replication objects, derived from the PgMigration's UID (and the database), so a
 * restarted operator finds its own and never touches anyone else's. Slots are cluster-wide, so
 * the database is part of the slot and subscription names.
 */
public record ReplicationNames(String publication, String slot, String subscription) {

  public static final String PREFIX = "pgmigrate_";

  public static ReplicationNames of(String uid, String database) {
    var id = uid.replace("-", "").toLowerCase(Locale.ROOT).substring(0, 12);
    var db = DatabaseHash.of(database);
    return new ReplicationNames(PREFIX + id, PREFIX + id + "_" + db, PREFIX + id + "_" + db);
  }
}
