package io.pgmigrate.operator.testing;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Fingerprints of a database's contents, to compare source and target after a migration. */
public final class Contents {

  private Contents() {}

  /** Every user table: row count and an md5 of its rows (by column name) in a stable order. */
  public static Map<String, String> tables(PostgresServer server, String database) {
    var result = new TreeMap<String, String>();
    try (var c = server.connect(database)) {
      // values such as regclass render the same whatever search_path the database sets
      try (var st = c.createStatement()) {
        st.execute("set search_path = pg_catalog");
      }
      var tables = new ArrayList<String>();
      try (var st = c.createStatement();
          var rs = st.executeQuery(
              """
              select format('%I.%I', n.nspname, c.relname) from pg_class c
              join pg_namespace n on n.oid = c.relnamespace
              where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema')
                and n.nspname not like 'pg_toast%'
              """)) {
        while (rs.next()) {
          tables.add(rs.getString(1));
        }
      }
      for (var t : tables) {
        try (var st = c.createStatement();
            // rows as jsonb: compared by column name, so a table whose columns come in another
            // order on the target (an inheritance child, as pg_dump restores it) still matches
            var rs = st.executeQuery("select count(*) || ':' || md5(coalesce(string_agg("
                + "to_jsonb(x)::text, E'\\n' order by to_jsonb(x)::text), '')) from " + t + " x")) {
          rs.next();
          result.put(t, rs.getString(1));
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return result;
  }

  /** Every sequence's last_value and is_called. */
  public static Map<String, String> sequences(PostgresServer server, String database) {
    return query(server, database,
        "select format('%I.%I', schemaname, sequencename), coalesce(last_value::text, 'null') "
            + "from pg_sequences");
  }

  /** Views, functions, triggers, types and large objects, by name. */
  public static Map<String, String> objects(PostgresServer server, String database) {
    return query(server, database,
        """
        select 'view ' || format('%I.%I', schemaname, viewname), md5(definition) from pg_views
          where schemaname not in ('pg_catalog', 'information_schema')
        union all
        select 'function ' || p.oid::regprocedure::text, md5(pg_get_functiondef(p.oid)) from pg_proc p
          join pg_namespace n on n.oid = p.pronamespace
          where n.nspname not in ('pg_catalog', 'information_schema') and p.prokind = 'f'
            and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
        union all
        select 'trigger ' || tgname, pg_get_triggerdef(oid) from pg_trigger where not tgisinternal
        union all
        select 'type ' || t.typname, string_agg(e.enumlabel, ',' order by e.enumsortorder)
          from pg_type t join pg_enum e on e.enumtypid = t.oid group by t.typname
        union all
        select 'constraint ' || conname, pg_get_constraintdef(oid) from pg_constraint
          where connamespace not in ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
        union all
        select 'largeobject ' || count(*), coalesce(md5(string_agg(encode(lo_get(oid), 'hex'), ',' order by oid)), '')
          from pg_largeobject_metadata
        """, true);
  }

  public static List<String> databases(PostgresServer server) {
    return new ArrayList<>(query(server, "postgres",
        "select datname, '' from pg_database where not datistemplate").keySet());
  }

  public static Map<String, String> query(PostgresServer server, String database, String sql) {
    return query(server, database, sql, false);
  }

  /**
   * With catalogPath, object names render the same whatever search_path the database sets (a
   * setting the copy does not carry to the target).
   */
  static Map<String, String> query(PostgresServer server, String database, String sql,
      boolean catalogPath) {
    var result = new TreeMap<String, String>();
    try (var c = server.connect(database);
        var st = c.createStatement()) {
      if (catalogPath) {
        st.execute("set search_path = pg_catalog");
      }
      try (var rs = st.executeQuery(sql)) {
        while (rs.next()) {
          result.put(rs.getString(1), rs.getString(2));
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return result;
  }
}
