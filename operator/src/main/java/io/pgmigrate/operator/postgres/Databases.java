package io.pgmigrate.operator.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** Creating and dropping target databases. */
public final class Databases {

  /** Encoding, locale and owner of a source database. */
  public record Definition(
      String name, String encoding, String collate, String ctype, String localeProvider,
      String icuLocale, String owner) {}

  private Databases() {}

  public static Definition definition(Connection source, String name) throws SQLException {
    var provider = source.getMetaData().getDatabaseMajorVersion() >= 15
        ? "d.datlocprovider::text, d.daticulocale" : "'c'::text, null::text";
    try (var ps = source.prepareStatement(
        "select pg_catalog.pg_encoding_to_char(d.encoding), d.datcollate, d.datctype, " + provider
            + ", pg_catalog.pg_get_userbyid(d.datdba) from pg_catalog.pg_database d where d.datname = ?")) {
      ps.setString(1, name);
      try (var rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new SQLException("database " + name + " does not exist on the source", "3D000");
        }
        return new Definition(name, rs.getString(1), rs.getString(2), rs.getString(3),
            rs.getString(4), rs.getString(5), rs.getString(6));
      }
    }
  }

  /** Creates the database on the target unless it exists; true when it was created. */
  public static boolean createIfMissing(Connection target, Definition d) throws SQLException {
    try (var ps = target.prepareStatement("select 1 from pg_catalog.pg_database where datname = ?")) {
      ps.setString(1, d.name());
      try (var rs = ps.executeQuery()) {
        if (rs.next()) {
          return false;
        }
      }
    }
    boolean ownerExists;
    try (var ps = target.prepareStatement("select 1 from pg_catalog.pg_roles where rolname = ?")) {
      ps.setString(1, d.owner());
      try (var rs = ps.executeQuery()) {
        ownerExists = rs.next();
      }
    }
    var format = new StringBuilder(
        "CREATE DATABASE %I TEMPLATE template0 ENCODING %L LC_COLLATE %L LC_CTYPE %L");
    var values = new ArrayList<>(List.of(d.name(), d.encoding(), d.collate(), d.ctype()));
    if ("i".equals(d.localeProvider()) && target.getMetaData().getDatabaseMajorVersion() >= 15) {
      format.append(" LOCALE_PROVIDER icu ICU_LOCALE %L");
      values.add(d.icuLocale());
    }
    if (ownerExists) {
      format.append(" OWNER %I");
      values.add(d.owner());
    }
    var placeholders = String.join(", ", values.stream().map(v -> "?::text").toList());
    Sql.utility(target, "select pg_catalog.format('" + format + "', " + placeholders + ")",
        values.toArray(String[]::new));
    return true;
  }

  /** Drops a database, ending its sessions (PostgreSQL 13 and later). */
  static void drop(Connection target, String name) throws SQLException {
    var force = target.getMetaData().getDatabaseMajorVersion() >= 13 ? " WITH (FORCE)" : "";
    Sql.utility(target, "select pg_catalog.format('DROP DATABASE IF EXISTS %I" + force + "', ?::text)",
        name);
  }
}
