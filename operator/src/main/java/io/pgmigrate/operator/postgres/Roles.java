package io.pgmigrate.operator.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Copies roles from the source to the target: attributes, connection limits, per-role settings
 * (also those in one database), memberships, and password hashes when the source login may read
 * them. Roles that already exist on the target are left as they are (they may belong to the
 * target's platform); only missing memberships are added to them.
 */
public final class Roles {

  /** A role as read from the source. {@code passwordHash} is null when it cannot be read. */
  public record Role(
      String name,
      boolean superuser,
      boolean inherit,
      boolean createRole,
      boolean createDb,
      boolean login,
      boolean replication,
      boolean bypassRls,
      int connectionLimit,
      String validUntil,
      String passwordHash,
      List<String> settings) {}

  /**
   * A setting of a role in one database ({@code ALTER ROLE role IN DATABASE database SET ...}),
   * {@code item} as stored: {@code name=value}.
   */
  public record DatabaseSetting(String role, String database, String item) {}

  /** A membership: {@code member} is granted {@code role}. */
  public record Membership(String role, String member, boolean adminOption) {}

  /** What a copy did, for status. */
  public record Result(
      List<String> created, List<String> existing, List<String> withoutPassword,
      List<String> attributesDropped, int membershipsGranted) {

    public String summary() {
      var parts = new ArrayList<String>();
      parts.add(created.size() + " role(s) created");
      if (!existing.isEmpty()) {
        parts.add(existing.size() + " already existed and were left as they are");
      }
      if (!withoutPassword.isEmpty()) {
        parts.add("created without password (the source login cannot read password hashes;"
            + " set them on the target): " + String.join(", ", withoutPassword));
      }
      if (!attributesDropped.isEmpty()) {
        parts.add("attributes the target login may not grant were left out: "
            + String.join(", ", attributesDropped));
      }
      parts.add(membershipsGranted + " membership(s) granted");
      return String.join("; ", parts);
    }
  }

  private Roles() {}

  /**
   * Roles of the source worth copying: not the bootstrap superuser (OID 10), not reserved
   * {@code pg_*} roles, not the excluded ones.
   */
  public static List<Role> read(Connection source, Set<String> exclude) throws SQLException {
    boolean canReadHashes;
    try (var st = source.createStatement();
        var rs = st.executeQuery("select rolsuper from pg_catalog.pg_roles where rolname = current_user")) {
      canReadHashes = rs.next() && rs.getBoolean(1);
    }
    var sql =
        """
        select r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb,
               r.rolcanlogin, r.rolreplication, r.rolbypassrls, r.rolconnlimit,
               r.rolvaliduntil::text, %s,
               coalesce((select s.setconfig from pg_catalog.pg_db_role_setting s
                         where s.setrole = r.oid and s.setdatabase = 0), '{}')
        from pg_catalog.pg_roles r
        %s
        where r.oid <> 10 and r.rolname !~ '^pg_'
        order by r.rolname
        """
            .formatted(
                canReadHashes ? "a.rolpassword" : "null::text",
                canReadHashes ? "join pg_catalog.pg_authid a on a.oid = r.oid" : "");
    var roles = new ArrayList<Role>();
    try (var st = source.createStatement();
        var rs = st.executeQuery(sql)) {
      while (rs.next()) {
        var name = rs.getString(1);
        if (exclude.contains(name)) {
          continue;
        }
        var settings = new ArrayList<String>();
        for (var s : (String[]) rs.getArray(12).getArray()) {
          settings.add(s);
        }
        roles.add(
            new Role(
                name, rs.getBoolean(2), rs.getBoolean(3), rs.getBoolean(4), rs.getBoolean(5),
                rs.getBoolean(6), rs.getBoolean(7), rs.getBoolean(8), rs.getInt(9),
                rs.getString(10), rs.getString(11), settings));
      }
    }
    return roles;
  }

  /**
   * The settings of roles in the given databases (not database-wide ones, setrole 0, nor a
   * role's settings in every database, setdatabase 0: the joins leave both out), ordered by
   * database, role and position.
   */
  public static List<DatabaseSetting> databaseSettings(Connection c, Collection<String> databases)
      throws SQLException {
    var result = new ArrayList<DatabaseSetting>();
    try (var ps = c.prepareStatement(
        """
        select r.rolname, d.datname, cfg.item
        from pg_catalog.pg_db_role_setting s
        join pg_catalog.pg_roles r on r.oid = s.setrole
        join pg_catalog.pg_database d on d.oid = s.setdatabase
        cross join lateral pg_catalog.unnest(s.setconfig) with ordinality as cfg(item, n)
        where d.datname = any (?)
        order by d.datname, r.rolname, cfg.n
        """)) {
      ps.setArray(1, c.createArrayOf("text", databases.toArray()));
      try (var rs = ps.executeQuery()) {
        while (rs.next()) {
          result.add(new DatabaseSetting(rs.getString(1), rs.getString(2), rs.getString(3)));
        }
      }
    }
    return result;
  }

  /**
   * Sets each role-in-database setting on the target whose role and database both exist there;
   * returns how many were set. Setting a value again replaces it, so this is safe to repeat.
   */
  public static int applyDatabaseSettings(Connection target, List<DatabaseSetting> settings)
      throws SQLException {
    int applied = 0;
    for (var s : settings) {
      if (!roleAndDatabaseExist(target, s.role(), s.database())) {
        continue;
      }
      ConfigSetting.apply(target, "ALTER ROLE %I IN DATABASE %I", List.of(s.role(), s.database()),
          s.item());
      applied++;
    }
    return applied;
  }

  private static boolean roleAndDatabaseExist(Connection c, String role, String database)
      throws SQLException {
    try (var ps = c.prepareStatement(
        "select exists (select 1 from pg_catalog.pg_roles where rolname = ?)"
            + " and exists (select 1 from pg_catalog.pg_database where datname = ?)")) {
      ps.setString(1, role);
      ps.setString(2, database);
      try (var rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  /** Memberships among the given roles. */
  public static List<Membership> memberships(Connection source, Set<String> roles)
      throws SQLException {
    var sql =
        """
        select g.rolname, m.rolname, am.admin_option
        from pg_catalog.pg_auth_members am
        join pg_catalog.pg_roles g on g.oid = am.roleid
        join pg_catalog.pg_roles m on m.oid = am.member
        order by 1, 2
        """;
    var result = new ArrayList<Membership>();
    try (var st = source.createStatement();
        var rs = st.executeQuery(sql)) {
      while (rs.next()) {
        var role = rs.getString(1);
        var member = rs.getString(2);
        if ((roles.contains(role) || role.startsWith("pg_")) && roles.contains(member)) {
          result.add(new Membership(role, member, rs.getBoolean(3)));
        }
      }
    }
    return result;
  }

  /** Creates the missing roles on the target and grants the missing memberships. */
  public static Result apply(Connection target, List<Role> roles, List<Membership> memberships)
      throws SQLException {
    boolean targetSuperuser;
    String targetUser;
    try (var st = target.createStatement();
        var rs = st.executeQuery(
            "select rolsuper, current_user::text from pg_catalog.pg_roles where rolname = current_user")) {
      rs.next();
      targetSuperuser = rs.getBoolean(1);
      targetUser = rs.getString(2);
    }
    if (targetSuperuser) {
      // password hashes travel in ALTER ROLE statements: keep them out of the target's log
      try (var st = target.createStatement()) {
        st.execute("set log_statement = 'none'");
      }
    }
    var existing = new HashSet<String>();
    try (var st = target.createStatement();
        var rs = st.executeQuery("select rolname from pg_catalog.pg_roles")) {
      while (rs.next()) {
        existing.add(rs.getString(1));
      }
    }
    var created = new ArrayList<String>();
    var kept = new ArrayList<String>();
    var withoutPassword = new ArrayList<String>();
    var dropped = new ArrayList<String>();
    for (var role : roles) {
      if (existing.contains(role.name()) || role.name().equals(targetUser)) {
        kept.add(role.name());
        continue;
      }
      var attributes = new ArrayList<String>();
      attributes.add(role.inherit() ? "INHERIT" : "NOINHERIT");
      attributes.add(role.createRole() ? "CREATEROLE" : "NOCREATEROLE");
      attributes.add(role.createDb() ? "CREATEDB" : "NOCREATEDB");
      attributes.add(role.login() ? "LOGIN" : "NOLOGIN");
      for (var a : List.of(
          new Object[] {"SUPERUSER", role.superuser()},
          new Object[] {"REPLICATION", role.replication()},
          new Object[] {"BYPASSRLS", role.bypassRls()})) {
        if ((Boolean) a[1]) {
          if (targetSuperuser) {
            attributes.add((String) a[0]);
          } else {
            dropped.add(role.name() + " " + a[0]);
          }
        }
      }
      attributes.add("CONNECTION LIMIT " + role.connectionLimit());
      Sql.utility(target, "select pg_catalog.format('CREATE ROLE %I WITH " + String.join(" ", attributes)
          + "', ?::text)", role.name());
      if (role.validUntil() != null) {
        Sql.utility(target, "select pg_catalog.format('ALTER ROLE %I VALID UNTIL %L', ?::text, ?::text)",
            role.name(), role.validUntil());
      }
      if (role.passwordHash() != null) {
        Sql.utility(target, "select pg_catalog.format('ALTER ROLE %I PASSWORD %L', ?::text, ?::text)",
            role.name(), role.passwordHash());
      } else if (role.login()) {
        withoutPassword.add(role.name());
      }
      for (var setting : role.settings()) {
        ConfigSetting.apply(target, "ALTER ROLE %I", List.of(role.name()), setting);
      }
      created.add(role.name());
    }
    int granted = 0;
    for (var m : memberships) {
      if (isMember(target, m.role(), m.member())) {
        continue;
      }
      Sql.utility(target, "select pg_catalog.format('GRANT %I TO %I" + (m.adminOption() ? " WITH ADMIN OPTION" : "")
          + "', ?::text, ?::text)", m.role(), m.member());
      granted++;
    }
    return new Result(created, kept, withoutPassword, dropped, granted);
  }

  private static boolean isMember(Connection target, String role, String member)
      throws SQLException {
    try (var ps = target.prepareStatement(
        """
        select 1 from pg_catalog.pg_auth_members am
        join pg_catalog.pg_roles g on g.oid = am.roleid
        join pg_catalog.pg_roles m on m.oid = am.member
        where g.rolname = ? and m.rolname = ?
        """)) {
      ps.setString(1, role);
      ps.setString(2, member);
      try (var rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }
}
