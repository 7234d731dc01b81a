package io.pgmigrate.operator.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Creating and dropping target databases. */
public final class Databases {

  /**
   * A source database: encoding, locale and owner, and the properties pg_dump carries only with
   * --create: database-wide settings ({@code name=value} as stored), comment and privileges
   * ({@code privileges} null when datacl is null, meaning the built-in defaults).
   */
  public record Definition(
      String name, String encoding, String collate, String ctype, String localeProvider,
      String icuLocale, String owner, List<String> settings, String comment,
      List<Privilege> privileges) {}

  /** One entry of a database's ACL; {@code grantee} null stands for PUBLIC. */
  public record Privilege(String grantee, String grantor, String privilege, boolean grantable) {}

  /** What creating did: whether the database was created, grantees missing on the target. */
  public record Creation(boolean created, List<String> missingGrantees) {}

  /** The privileges a database has; anything else in an ACL is refused rather than guessed. */
  private static final Set<String> DATABASE_PRIVILEGES = Set.of("CREATE", "TEMPORARY", "CONNECT");

  private Databases() {}

  public static Definition definition(Connection source, String name) throws SQLException {
    int major = source.getMetaData().getDatabaseMajorVersion();
    var provider = !PgFeature.LOCALE_PROVIDER.on(major) ? "'c'::text, null::text"
        : PgFeature.DATLOCALE.on(major) ? "d.datlocprovider::text, d.datlocale"
        : "d.datlocprovider::text, d.daticulocale";
    Definition base;
    try (var ps = source.prepareStatement(
        "select pg_catalog.pg_encoding_to_char(d.encoding), d.datcollate, d.datctype, " + provider
            + ", pg_catalog.pg_get_userbyid(d.datdba),"
            + " pg_catalog.shobj_description(d.oid, 'pg_database'), d.datacl is null"
            + " from pg_catalog.pg_database d where d.datname = ?")) {
      ps.setString(1, name);
      try (var rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new SQLException("database " + name + " does not exist on the source", "3D000");
        }
        base = new Definition(name, rs.getString(1), rs.getString(2), rs.getString(3),
            rs.getString(4), rs.getString(5), rs.getString(6), List.of(), rs.getString(7),
            rs.getBoolean(8) ? null : List.of());
      }
    }
    var settings = new ArrayList<String>();
    try (var ps = source.prepareStatement(
        """
        select cfg.item
        from pg_catalog.pg_db_role_setting s
        join pg_catalog.pg_database d on d.oid = s.setdatabase
        cross join lateral pg_catalog.unnest(s.setconfig) with ordinality as cfg(item, n)
        where s.setrole = 0 and d.datname = ?
        order by cfg.n
        """)) {
      ps.setString(1, name);
      try (var rs = ps.executeQuery()) {
        while (rs.next()) {
          settings.add(rs.getString(1));
        }
      }
    }
    List<Privilege> privileges = null;
    if (base.privileges() != null) {
      privileges = new ArrayList<>();
      try (var ps = source.prepareStatement(
          """
          select case when a.grantee = 0 then null
                      else pg_catalog.pg_get_userbyid(a.grantee) end,
                 pg_catalog.pg_get_userbyid(a.grantor), a.privilege_type, a.is_grantable
          from pg_catalog.pg_database d
          cross join lateral pg_catalog.aclexplode(d.datacl) with ordinality as a
          where d.datname = ?
          order by a.ordinality
          """)) {
        ps.setString(1, name);
        try (var rs = ps.executeQuery()) {
          while (rs.next()) {
            privileges.add(new Privilege(rs.getString(1), rs.getString(2), rs.getString(3),
                rs.getBoolean(4)));
          }
        }
      }
    }
    return new Definition(name, base.encoding(), base.collate(), base.ctype(),
        base.localeProvider(), base.icuLocale(), base.owner(), settings, base.comment(),
        privileges);
  }

  /**
   * Creates the database on the target unless it exists, then gives it the source's settings,
   * comment and privileges. A database that already existed is left alone: it belongs to the
   * target's users. If the properties cannot be set, the database just created is dropped
   * again, so that a retry creates it anew instead of taking it for one of the user's.
   */
  public static Creation createIfMissing(Connection target, Definition d) throws SQLException {
    try (var ps = target.prepareStatement("select 1 from pg_catalog.pg_database where datname = ?")) {
      ps.setString(1, d.name());
      try (var rs = ps.executeQuery()) {
        if (rs.next()) {
          return new Creation(false, List.of());
        }
      }
    }
    boolean ownerExists = roleExists(target, d.owner());
    var format = new StringBuilder(
        "CREATE DATABASE %I TEMPLATE template0 ENCODING %L LC_COLLATE %L LC_CTYPE %L");
    var values = new ArrayList<>(List.of(d.name(), d.encoding(), d.collate(), d.ctype()));
    int targetMajor = target.getMetaData().getDatabaseMajorVersion();
    if ("i".equals(d.localeProvider()) && PgFeature.LOCALE_PROVIDER.on(targetMajor)) {
      format.append(" LOCALE_PROVIDER icu ICU_LOCALE %L");
      values.add(d.icuLocale());
    } else if ("b".equals(d.localeProvider())
        && PgFeature.BUILTIN_LOCALE_PROVIDER.on(targetMajor)) {
      format.append(" LOCALE_PROVIDER builtin BUILTIN_LOCALE %L");
      values.add(d.icuLocale());
    }
    if (ownerExists) {
      format.append(" OWNER %I");
      values.add(d.owner());
    }
    Sql.format(target, format.toString(), values.toArray(String[]::new));
    try {
      return new Creation(true, applyProperties(target, d));
    } catch (SQLException | RuntimeException e) {
      try {
        drop(target, d.name());
      } catch (SQLException dropFailed) {
        e.addSuppressed(dropFailed);
      }
      throw e;
    }
  }

  /**
   * Sets the source's database-wide settings, comment and privileges on the target database;
   * returns the grantees left out because they do not exist on the target. Every statement
   * replaces what it sets, so this is safe to repeat.
   */
  static List<String> applyProperties(Connection target, Definition d) throws SQLException {
    for (var item : d.settings()) {
      ConfigSetting.apply(target, "ALTER DATABASE %I", List.of(d.name()), item);
    }
    if (d.comment() != null) {
      Sql.format(target, "COMMENT ON DATABASE %I IS %L", d.name(), d.comment());
    }
    if (d.privileges() == null) {
      // the source has the built-in defaults, as a database just created on the target has
      return List.of();
    }
    String targetOwner;
    try (var ps = target.prepareStatement("select pg_catalog.pg_get_userbyid(datdba)"
        + " from pg_catalog.pg_database where datname = ?")) {
      ps.setString(1, d.name());
      try (var rs = ps.executeQuery()) {
        rs.next();
        targetOwner = rs.getString(1);
      }
    }
    // start from an empty ACL, as pg_dump does, instead of knowing each version's defaults
    Sql.format(target, "REVOKE ALL ON DATABASE %I FROM PUBLIC", d.name());
    Sql.format(target, "REVOKE ALL ON DATABASE %I FROM %I", d.name(), targetOwner);
    var missing = new LinkedHashSet<String>();
    for (var p : d.privileges()) {
      if (!DATABASE_PRIVILEGES.contains(p.privilege())) {
        throw new SQLException("unknown database privilege " + p.privilege() + " on "
            + d.name() + " on the source", "42601");
      }
      // the privilege keyword is one of the constants above, so it may go into the pattern
      var grant = "GRANT " + p.privilege() + " ON DATABASE %I TO ";
      if (p.grantee() == null) {
        Sql.format(target, grant + "PUBLIC", d.name());
        continue;
      }
      // the owner's own privileges go to whoever owns the database on the target (the login
      // that created it, when the source's owner does not exist there)
      var grantee = p.grantee().equals(d.owner()) ? targetOwner : p.grantee();
      if (!roleExists(target, grantee)) {
        missing.add(grantee);
        continue;
      }
      Sql.format(target, grant + "%I" + (p.grantable() ? " WITH GRANT OPTION" : ""), d.name(),
          grantee);
    }
    return List.copyOf(missing);
  }

  private static boolean roleExists(Connection target, String role) throws SQLException {
    try (var ps = target.prepareStatement("select 1 from pg_catalog.pg_roles where rolname = ?")) {
      ps.setString(1, role);
      try (var rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  /** Drops a database, ending its sessions (PostgreSQL 13 and later). */
  static void drop(Connection target, String name) throws SQLException {
    var force = PgFeature.DROP_DATABASE_FORCE.on(target) ? " WITH (FORCE)" : "";
    Sql.format(target, "DROP DATABASE IF EXISTS %I" + force, name);
  }
}
