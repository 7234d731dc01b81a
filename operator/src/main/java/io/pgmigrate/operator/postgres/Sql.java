package io.pgmigrate.operator.postgres;

import java.sql.Connection;
import java.sql.SQLException;

/** Identifier quoting and utility statements; values are never quoted by hand, they are bound. */
public final class Sql {

  private Sql() {}

  /** Quotes an identifier the way PostgreSQL's quote_ident does, always adding the quotes. */
  public static String ident(String name) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("an SQL identifier cannot be empty");
    }
    if (name.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("an SQL identifier cannot contain a NUL character");
    }
    return '"' + name.replace("\"", "\"\"") + '"';
  }

  /** Quotes a schema-qualified name. */
  public static String qualified(String schema, String name) {
    return ident(schema) + "." + ident(name);
  }

  /**
   * Runs a utility statement, which cannot take bind parameters: the server itself builds it
   * with format(), %I quoting identifiers and %L quoting literals, from values sent as bound
   * parameters; nothing is quoted by string concatenation here.
   */
  public static void utility(Connection c, String formatQuery, String... values) throws SQLException {
    String statement;
    try (var ps = c.prepareStatement(formatQuery)) {
      for (int i = 0; i < values.length; i++) {
        ps.setString(i + 1, values[i]);
      }
      try (var rs = ps.executeQuery()) {
        rs.next();
        statement = rs.getString(1);
      }
    }
    try (var st = c.createStatement()) {
      st.execute(statement);
    }
  }

  /**
   * Runs the utility statement that pg_catalog.format() builds from {@code pattern} (placeholders
   * %I and %L only; no quote characters) and {@code values}, one bound text parameter each.
   */
  public static void format(Connection c, String pattern, String... values) throws SQLException {
    if (pattern.indexOf('\'') >= 0 || pattern.indexOf('\\') >= 0) {
      // the pattern is a literal in the query text: only placeholders may carry quotes
      throw new IllegalArgumentException("a format pattern cannot contain quotes: " + pattern);
    }
    var placeholders = new StringBuilder();
    for (int i = 0; i < values.length; i++) {
      placeholders.append(", ?::text");
    }
    utility(c, "select pg_catalog.format('" + pattern + "'" + placeholders + ")", values);
  }
}
