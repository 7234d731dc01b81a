package io.pgmigrate.operator.postgres;

/** Quoting of SQL identifiers; values are never quoted by hand, they are bound. */
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
}
