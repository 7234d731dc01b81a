package io.pgmigrate.operator.postgres;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Read-only catalog queries used by the pre-flight checks. */
public final class Catalog {

  static final String USER_RELATIONS =
      """
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname not in ('pg_catalog', 'information_schema')
        and n.nspname not like 'pg\\_toast%'
        and n.nspname not like 'pg\\_temp%'
        and not exists (select 1 from pg_catalog.pg_depend d
                        where d.classid = 'pg_catalog.pg_class'::regclass
                          and d.objid = c.oid and d.deptype = 'e')
      """;

  /**
   * Leaf tables an UPDATE or DELETE could not be published for: no replica identity, or the
   * default one without a primary key, or an index identity whose index is gone.
   */
  static final String WITHOUT_REPLICA_IDENTITY =
      """
        and c.relkind = 'r' and c.relpersistence = 'p'
        and (c.relreplident = 'n'
             or (c.relreplident = 'd' and not exists (
                   select 1 from pg_catalog.pg_index i
                   where i.indrelid = c.oid and i.indisprimary))
             or (c.relreplident = 'i' and not exists (
                   select 1 from pg_catalog.pg_index i
                   where i.indrelid = c.oid and i.indisreplident)))
      """;

  /**
   * Every sequence of the connected database, as the cutover copies them (the rows of
   * pg_sequences): its quoted qualified name, whether the login may read it, and its last value,
   * null when it was never called. pg_sequences shows null for both an unreadable sequence and
   * one never called; this tells them apart. The CASE guards keep has_sequence_privilege off
   * other relations: a filter on readable is pushed down next to relkind = 'S', in no set order,
   * and has_sequence_privilege raises an error for a relation that is not a sequence.
   */
  static final String SEQUENCES =
      """
      select pg_catalog.format('%I.%I', n.nspname, c.relname) as name,
             case when c.relkind = 'S'
                  then pg_catalog.has_sequence_privilege(c.oid, 'SELECT,USAGE') end as readable,
             case when c.relkind = 'S'
                  then case when pg_catalog.has_sequence_privilege(c.oid, 'SELECT,USAGE')
                            then pg_catalog.pg_sequence_last_value(c.oid) end
             end as last_value
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where c.relkind = 'S' and not pg_catalog.pg_is_other_temp_schema(n.oid)
      """;

  private Catalog() {}

  /** Server-wide facts; works for any login that can connect. */
  public static ServerInfo server(Connection c) throws SQLException {
    int versionNum = intSetting(c, "server_version_num");
    boolean createSubscription = false;
    if (PgFeature.CREATE_SUBSCRIPTION_ROLE.on(versionNum / 10000)) {
      createSubscription =
          bool(c, "select pg_catalog.pg_has_role(current_user, 'pg_create_subscription', 'MEMBER')");
    }
    String systemIdentifier = null;
    try (var st = c.createStatement();
        var rs = st.executeQuery("select system_identifier::text from pg_catalog.pg_control_system()")) {
      if (rs.next()) {
        systemIdentifier = rs.getString(1);
      }
    } catch (SQLException e) {
      // autocommit, so nothing to roll back; managed services revoke pg_control_system(); the same-server check then uses addresses
    }
    var sql =
        """
        select current_setting('server_version'), current_user::text,
               r.rolsuper, r.rolreplication, r.rolcreatedb, r.rolcreaterole,
               current_setting('wal_level'),
               current_setting('max_replication_slots')::int,
               (select count(*) from pg_catalog.pg_replication_slots)::int,
               current_setting('max_wal_senders')::int,
               (select count(*) from pg_catalog.pg_stat_replication)::int,
               current_setting('max_slot_wal_keep_size', true),
               pg_catalog.pg_is_in_recovery(),
               current_setting('max_logical_replication_workers')::int,
               current_setting('max_worker_processes')::int,
               current_setting('max_sync_workers_per_subscription')::int,
               coalesce(s.ssl, false), s.version, s.cipher,
               (select g.setting from pg_catalog.pg_settings g
                 where g.name = 'output_plugin_libraries'),
               r.rolsuper or pg_catalog.pg_has_role(current_user, 'pg_read_all_settings', 'USAGE')
        from pg_catalog.pg_roles r
        left join pg_catalog.pg_stat_ssl s on s.pid = pg_catalog.pg_backend_pid()
        where r.rolname = current_user
        """;
    try (var st = c.createStatement();
        var rs = st.executeQuery(sql)) {
      if (!rs.next()) {
        throw new SQLException("the login role is not visible in pg_roles");
      }
      return new ServerInfo(
          versionNum, rs.getString(1), rs.getString(2), rs.getBoolean(3), rs.getBoolean(4),
          rs.getBoolean(5), rs.getBoolean(6), createSubscription, rs.getString(7), rs.getInt(8),
          rs.getInt(9), rs.getInt(10), rs.getInt(11), rs.getString(12), rs.getBoolean(13),
          rs.getInt(14), rs.getInt(15), rs.getInt(16), systemIdentifier, rs.getBoolean(17),
          rs.getString(18), rs.getString(19), rs.getString(20), rs.getBoolean(21));
    }
  }

  /** Every database of the server, with whether the login may connect to it. */
  public static List<DatabaseInfo> databases(Connection c) throws SQLException {
    var sql =
        """
        select d.datname, d.datistemplate, d.datallowconn,
               pg_catalog.has_database_privilege(d.oid, 'CONNECT'),
               pg_catalog.pg_encoding_to_char(d.encoding), d.datcollate, d.datctype,
               case when pg_catalog.has_database_privilege(d.oid, 'CONNECT')
                    then pg_catalog.pg_database_size(d.oid) else -1 end
        from pg_catalog.pg_database d
        order by d.datname
        """;
    var result = new ArrayList<DatabaseInfo>();
    try (var st = c.createStatement();
        var rs = st.executeQuery(sql)) {
      while (rs.next()) {
        result.add(
            new DatabaseInfo(
                rs.getString(1), rs.getBoolean(2), rs.getBoolean(3), rs.getBoolean(4),
                rs.getString(5), rs.getString(6), rs.getString(7), rs.getLong(8)));
      }
    }
    return result;
  }

  /** Extensions and languages the target server can install: name to its versions. */
  public static Map<String, List<String>> availableExtensions(Connection c) throws SQLException {
    var result = new TreeMap<String, List<String>>();
    try (var st = c.createStatement();
        var rs =
            st.executeQuery(
                "select name, version from pg_catalog.pg_available_extension_versions")) {
      while (rs.next()) {
        result.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(rs.getString(2));
      }
    }
    return result;
  }

  /** The contents of the database the connection is attached to. */
  public static DatabaseContents contents(Connection c) throws SQLException {
    var extensions = new TreeMap<String, String>();
    try (var st = c.createStatement();
        var rs = st.executeQuery("select extname, extversion from pg_catalog.pg_extension")) {
      while (rs.next()) {
        extensions.put(rs.getString(1), rs.getString(2));
      }
    }
    var languages =
        strings(
            c,
            """
            select l.lanname from pg_catalog.pg_language l
            where l.lanispl and l.lanname <> 'plpgsql'
              and not exists (select 1 from pg_catalog.pg_depend d
                              where d.classid = 'pg_catalog.pg_language'::regclass
                                and d.objid = l.oid and d.deptype = 'e')
            order by 1
            """);
    // leaf tables only: a partitioned parent holds no rows and the publication sends its
    // partitions; replica identity is a property of each partition
    var withoutIdentity =
        strings(
            c,
            "select pg_catalog.format('%I.%I', n.nspname, c.relname) "
                + USER_RELATIONS
                + WITHOUT_REPLICA_IDENTITY
                + " order by 1");
    var unlogged =
        strings(
            c,
            "select pg_catalog.format('%I.%I', n.nspname, c.relname) "
                + USER_RELATIONS
                + " and c.relkind in ('r', 'p') and c.relpersistence = 'u' order by 1");
    long largeObjects = longValue(c, "select count(*) from pg_catalog.pg_largeobject_metadata");
    int userTables =
        (int) longValue(c, "select count(*) " + USER_RELATIONS + " and c.relkind in ('r', 'p')");
    // the capability, not the package: the function exists and this login may call it
    boolean aivenExtras;
    try (var st = c.createStatement();
        var rs = st.executeQuery(
            "select coalesce(pg_catalog.has_function_privilege(pg_catalog.to_regprocedure("
                + "'aiven_extras.pg_create_publication_for_all_tables(text,text)'), 'EXECUTE'),"
                + " false)")) {
      rs.next();
      aivenExtras = rs.getBoolean(1);
    }
    var unreadableSequences =
        strings(c, "select name from (" + SEQUENCES + ") s where not readable order by 1");
    return new DatabaseContents(extensions, languages, withoutIdentity, unlogged, largeObjects,
        userTables, aivenExtras, unreadableSequences);
  }

  private static List<String> strings(Connection c, String sql) throws SQLException {
    var result = new ArrayList<String>();
    try (var st = c.createStatement();
        var rs = st.executeQuery(sql)) {
      while (rs.next()) {
        result.add(rs.getString(1));
      }
    }
    return result;
  }

  private static long longValue(Connection c, String sql) throws SQLException {
    try (var st = c.createStatement();
        var rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static boolean bool(Connection c, String sql) throws SQLException {
    try (var st = c.createStatement();
        var rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getBoolean(1);
    }
  }

  private static int intSetting(Connection c, String name) throws SQLException {
    try (var ps = c.prepareStatement("select current_setting(?)::int")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }
}
