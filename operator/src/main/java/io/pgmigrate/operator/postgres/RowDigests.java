package io.pgmigrate.operator.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Every table's row count and, with digests, an order-independent digest of its rows: the sum of
 * {@code hashtextextended} over each row's text, as the dump Pods compute them (copy-database.sh,
 * VERIFY=digests). The same tables are counted: plain tables each without its inheritance
 * children, a hash-partitioned table whole instead of by partition (rows keyed on an enum land in
 * other partitions on the target), no temporary tables, no system schemas. The session settings
 * make a row's text the same bytes on every major version, whatever each server's defaults are;
 * hashtextextended is what hash partitioning relies on, stable across versions.
 */
public final class RowDigests {

  private RowDigests() {}

  /** What the Pods set; timeouts are the caller's (the connection's statement timeout). */
  private static final String SETTINGS = """
      SELECT pg_catalog.count(pg_catalog.set_config(name, setting, false))
        FROM (VALUES ('row_security', 'off'), ('extra_float_digits', '3'), ('datestyle', 'ISO'),
                     ('intervalstyle', 'postgres'), ('timezone', 'UTC'), ('bytea_output', 'hex'),
                     ('lc_monetary', 'C'), ('search_path', ''))
             AS v (name, setting)
       WHERE name IN (SELECT pg_catalog.lower(name) FROM pg_catalog.pg_settings)""";

  private static final String TABLES = """
      SELECT pg_catalog.format('%I.%I', n.nspname, c.relname),
             pg_catalog.format('%s%I.%I', CASE c.relkind WHEN 'p' THEN '' ELSE 'ONLY ' END,
                               n.nspname, c.relname)
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       WHERE (c.relkind = 'r' OR (c.relkind = 'p' AND EXISTS (
               SELECT 1 FROM pg_catalog.pg_partitioned_table p
                WHERE p.partrelid = c.oid AND p.partstrat = 'h')))
         AND c.relpersistence = 'p'
         AND n.nspname NOT IN ('pg_catalog', 'information_schema')
         AND n.nspname !~ '^pg_'
         AND NOT EXISTS (
           WITH RECURSIVE up (relid) AS (
             SELECT i.inhparent FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid
             UNION
             SELECT i.inhparent FROM pg_catalog.pg_inherits i JOIN up ON i.inhrelid = up.relid)
           SELECT 1 FROM up JOIN pg_catalog.pg_partitioned_table p ON p.partrelid = up.relid
            WHERE p.partstrat = 'h')
       ORDER BY 1""";

  /**
   * Per table (schema.name, quoted as needed): its row count, then with {@code digests} a space
   * and its digest. Reads in one REPEATABLE READ transaction, so all tables are of one moment;
   * unlogged tables are left out (logical replication does not carry them).
   */
  public static Map<String, String> read(Connection c, boolean digests) throws SQLException {
    var result = new TreeMap<String, String>();
    boolean auto = c.getAutoCommit();
    c.setAutoCommit(false);
    try (var st = c.createStatement()) {
      st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
      st.execute(SETTINGS);
      var tables = new ArrayList<String[]>();
      try (var rs = st.executeQuery(TABLES)) {
        while (rs.next()) {
          tables.add(new String[] {rs.getString(1), rs.getString(2)});
        }
      }
      for (var t : tables) {
        var sql = "SELECT pg_catalog.count(*)::pg_catalog.text"
            + (digests ? " || ' ' || COALESCE(pg_catalog.sum(pg_catalog.hashtextextended("
                + "ROW(pgmigrate_row.*)::pg_catalog.text, 0)), 0)" : "")
            + " FROM " + t[1] + " AS pgmigrate_row";
        try (var rs = st.executeQuery(sql)) {
          rs.next();
          result.put(t[0], rs.getString(1));
        }
      }
    } finally {
      c.rollback();
      c.setAutoCommit(auto);
    }
    return result;
  }

  /**
   * The tables whose counts or digests differ, each with what differs, in the words the dump
   * Pods use; empty when all are equal.
   */
  public static List<String> differences(Map<String, String> source, Map<String, String> target) {
    var out = new ArrayList<String>();
    for (var e : source.entrySet()) {
      var want = e.getValue();
      var got = target.get(e.getKey());
      var wantRows = want.split(" ")[0];
      if (got == null) {
        out.add(e.getKey() + ": " + wantRows + " row(s) on the source, missing on the target");
      } else if (!got.split(" ")[0].equals(wantRows)) {
        out.add(e.getKey() + ": " + wantRows + " row(s) on the source, " + got.split(" ")[0]
            + " on the target");
      } else if (!got.equals(want)) {
        out.add(e.getKey() + ": " + wantRows + " row(s) on both sides, but their contents"
            + " differ");
      }
    }
    return out;
  }
}
