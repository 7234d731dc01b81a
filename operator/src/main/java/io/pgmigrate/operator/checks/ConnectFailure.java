package io.pgmigrate.operator.checks;

import java.sql.SQLException;
import java.util.Locale;

/** Why a connection attempt failed, classified so the report can say what to fix. */
public record ConnectFailure(Kind kind, String message) {

  /** Failure classes, each with its own remedy. */
  public enum Kind {
    AUTHENTICATION,
    UNREACHABLE,
    TLS,
    DATABASE_MISSING,
    OTHER
  }

  /** Classifies a JDBC error by SQLSTATE and, for TLS, by pgjdbc's wording. */
  public static ConnectFailure of(SQLException e) {
    var state = e.getSQLState() == null ? "" : e.getSQLState();
    var text = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    var lower = text.toLowerCase(Locale.ROOT);
    Kind kind;
    if (state.equals("28P01") || state.equals("28000")) {
      kind = lower.contains("ssl") || lower.contains("encryption") ? Kind.TLS : Kind.AUTHENTICATION;
    } else if (state.equals("3D000")) {
      kind = Kind.DATABASE_MISSING;
    } else if (lower.contains("ssl") || lower.contains("certificate") || lower.contains("pkix")) {
      kind = Kind.TLS;
    } else if (state.startsWith("08")) {
      kind = Kind.UNREACHABLE;
    } else {
      kind = Kind.OTHER;
    }
    return new ConnectFailure(kind, text);
  }
}
