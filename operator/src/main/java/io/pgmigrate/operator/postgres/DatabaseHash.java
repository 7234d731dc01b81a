package io.pgmigrate.operator.postgres;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** A short, stable hash of a database name, safe in labels, Pod names and SQL identifiers. */
public final class DatabaseHash {

  private DatabaseHash() {}

  /** Ten hex digits of the name's SHA-256 (names may hold any character). */
  public static String of(String database) {
    try {
      var digest = MessageDigest.getInstance("SHA-256")
          .digest(database.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 5);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
