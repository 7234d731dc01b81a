package io.pgmigrate.operator.postgres;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
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
    var db = hash(database);
    return new ReplicationNames(PREFIX + id, PREFIX + id + "_" + db, PREFIX + id + "_" + db);
  }

  private static String hash(String database) {
    try {
      var digest = MessageDigest.getInstance("SHA-256")
          .digest(database.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 5);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
