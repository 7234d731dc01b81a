package io.pgmigrate.operator.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.postgresql.PGConnection;

/**
 * The SQL of the estimates the pre-flight checks make: a database's size and largest tables,
 * the server's WAL position, the free disk of the target's data directory (where the login may
 * run a program on the server) and a short timed COPY of a table. Read-only on the servers; each
 * statement bounded by the connection's statement_timeout, the probe by its own time limit.
 */
public final class SizeEstimate {

  /** A table by schema and name (unquoted) with its size in bytes. */
  public record Table(String schema, String name, long bytes) {

    private static final java.util.regex.Pattern PLAIN =
        java.util.regex.Pattern.compile("[a-z_][a-z0-9_$]*");

    /** schema.name, each part quoted when PostgreSQL would need it quoted. */
    public String display() {
      return part(schema) + "." + part(name);
    }

    private static String part(String s) {
      return PLAIN.matcher(s).matches() ? s : Sql.ident(s);
    }
  }

  /**
   * One database: {@code bytes} pg_database_size; {@code tables} the user tables (ordinary and
   * partitioned, as the checks count them); {@code dataBytes} the tables' data without indexes
   * (pg_table_size of the ordinary ones: heap and TOAST), what a copy moves; {@code largest}
   * the largest ordinary tables by pg_total_relation_size, largest first.
   */
  public record DatabaseSize(long bytes, int tables, long dataBytes, List<Table> largest) {}

  /** What a timed COPY read: bytes of COPY text in so many seconds, whether it read it all. */
  public record Probe(long bytes, double seconds, boolean complete) {
    public double bytesPerSecond() {
      return seconds <= 0 ? 0 : bytes / seconds;
    }
  }

  /** Free bytes of a file system and where it is mounted. */
  public record FreeDisk(long bytes, String mountedOn) {}

  private SizeEstimate() {}

  /** Measures the connected database; {@code largest} bounds the list of tables. */
  public static DatabaseSize database(Connection c, int largest) throws SQLException {
    long bytes;
    int tables;
    long dataBytes;
    try (var st = c.createStatement();
        var rs = st.executeQuery(
            "select pg_catalog.pg_database_size(pg_catalog.current_database()),"
                + " (select count(*) " + Catalog.USER_RELATIONS
                + " and c.relkind in ('r', 'p'))::int,"
                + " (select coalesce(sum(pg_catalog.pg_table_size(c.oid)), 0)::bigint "
                + Catalog.USER_RELATIONS + " and c.relkind = 'r')")) {
      rs.next();
      bytes = rs.getLong(1);
      tables = rs.getInt(2);
      dataBytes = rs.getLong(3);
    }
    var list = new ArrayList<Table>();
    // pg_total_relation_size is null for a table dropped meanwhile; such a row is skipped
    try (var ps = c.prepareStatement(
        "select n.nspname, c.relname, pg_catalog.pg_total_relation_size(c.oid) as bytes "
            + Catalog.USER_RELATIONS + " and c.relkind = 'r'"
            + " and pg_catalog.pg_total_relation_size(c.oid) is not null"
            + " order by 3 desc, 1, 2 limit ?")) {
      ps.setInt(1, largest);
      try (var rs = ps.executeQuery()) {
        while (rs.next()) {
          list.add(new Table(rs.getString(1), rs.getString(2), rs.getLong(3)));
        }
      }
    }
    return new DatabaseSize(bytes, tables, dataBytes, List.copyOf(list));
  }

  /**
   * The server's WAL position as a byte count: pg_current_wal_insert_lsn, which every login may
   * call (13 to 17), or on a standby the position replayed. The insert position, not
   * pg_current_wal_lsn's write position: with synchronous_commit off, WAL of committed
   * transactions is written up to wal_writer_delay later, and a short sample would miss it.
   */
  public static long walPosition(Connection c) throws SQLException {
    try (var st = c.createStatement();
        var rs = st.executeQuery(
            "select (case when pg_catalog.pg_is_in_recovery()"
                + " then pg_catalog.pg_last_wal_replay_lsn()"
                + " else pg_catalog.pg_current_wal_insert_lsn() end)::text")) {
      rs.next();
      return lsnBytes(rs.getString(1));
    }
  }

  /** "16/B374D848" as a byte position. */
  static long lsnBytes(String lsn) {
    if (lsn == null) {
      throw new IllegalArgumentException("no WAL position");
    }
    int slash = lsn.indexOf('/');
    return (Long.parseLong(lsn.substring(0, slash), 16) << 32)
        | Long.parseLong(lsn.substring(slash + 1), 16);
  }

  /**
   * Whether the login may run a program on the server with COPY FROM PROGRAM: a superuser, or
   * one with the privileges of pg_execute_server_program (a NOINHERIT member has not).
   */
  public static boolean mayRunPrograms(Connection c) throws SQLException {
    try (var st = c.createStatement();
        var rs = st.executeQuery(
            "select r.rolsuper or pg_catalog.pg_has_role(current_user,"
                + " 'pg_execute_server_program', 'USAGE')"
                + " from pg_catalog.pg_roles r where r.rolname = current_user")) {
      return rs.next() && rs.getBoolean(1);
    }
  }

  /**
   * The free disk of the file system that holds the server's data directory, where databases
   * created without a tablespace live: df run by the server (a backend's working directory is
   * the data directory) through COPY FROM PROGRAM into a temporary table, in a transaction rolled
   * back, so that nothing stays. The command is constant: no value reaches the shell. Empty when
   * df printed nothing this parser understands.
   */
  public static Optional<FreeDisk> dataDirectoryFreeDisk(Connection c) throws SQLException {
    boolean autoCommit = c.getAutoCommit();
    c.setAutoCommit(false);
    try (var st = c.createStatement()) {
      st.execute("create temporary table pgmigrate_df (line text) on commit drop");
      // -P: one line per file system, -k: 1024-byte blocks
      st.execute("copy pgmigrate_df from program 'df -P -k .'");
      var lines = new ArrayList<String>();
      try (var rs = st.executeQuery("select line from pgmigrate_df")) {
        while (rs.next()) {
          lines.add(rs.getString(1));
        }
      }
      return parseDf(lines);
    } finally {
      c.rollback();
      c.setAutoCommit(autoCommit);
    }
  }

  /** df -P -k's output: a header, then "device blocks used available capacity mountpoint". */
  static Optional<FreeDisk> parseDf(List<String> lines) {
    if (lines.size() < 2) {
      return Optional.empty();
    }
    var f = lines.get(lines.size() - 1).trim().split("\\s+", 6);
    if (f.length < 6) {
      return Optional.empty();
    }
    try {
      return Optional.of(new FreeDisk(Long.parseLong(f[3]) * 1024, f[5]));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  /**
   * Reads the table with COPY TO STDOUT and counts what arrives during {@code limit}, after
   * {@code warmup} (the first rows pay for the scan's start and, in a fresh JVM, for code not yet
   * compiled: a cold first second read ten times slower here than the next), or until {@code
   * maxBytes} were counted. A sequential scan that stops early (large scans use a small ring of
   * buffers, so the source's cache is not flushed). The server ends it itself, by a
   * statement_timeout a second longer than the probe, set for the probe only: a cancel request
   * from the client is asynchronous and was seen to cancel the statement after the COPY instead.
   * A table read whole before the warm-up ended is counted whole.
   */
  public static Probe copyProbe(Connection c, Table table, Duration warmup, Duration limit,
      long maxBytes) throws SQLException {
    String timeout;
    try (var st = c.createStatement();
        var rs = st.executeQuery("select pg_catalog.current_setting('statement_timeout')")) {
      rs.next();
      timeout = rs.getString(1);
    }
    setTimeout(c, warmup.plus(limit).plusSeconds(1).toMillis() + "ms");
    try {
      var copy = c.unwrap(PGConnection.class).getCopyAPI().copyOut(
          "copy " + Sql.qualified(table.schema(), table.name()) + " to stdout");
      long begin = System.nanoTime();
      long start = begin + warmup.toNanos();
      long deadline = start + limit.toNanos();
      long early = 0;
      long bytes = 0;
      double seconds = -1;
      boolean complete = false;
      try {
        while (true) {
          var row = copy.readFromCopy();
          long now = System.nanoTime();
          if (row == null) {
            if (seconds < 0 && now < start) {
              // all of it within the warm-up: the whole read is the measure
              bytes = early;
              start = begin;
            }
            complete = seconds < 0;
            break;
          }
          if (now < start) {
            early += row.length;
          } else if (seconds < 0) {
            bytes += row.length;
            if (now >= deadline || bytes >= maxBytes) {
              // counted; the rest until the server's timeout ends the COPY is only read
              seconds = (now - start) / 1e9;
            }
          }
        }
      } catch (SQLException e) {
        if (!"57014".equals(e.getSQLState())) {
          throw e;
        }
        // canceling statement due to statement timeout: the end the probe asked for
      }
      if (seconds < 0) {
        seconds = (System.nanoTime() - start) / 1e9;
      }
      return new Probe(bytes, seconds, complete);
    } finally {
      setTimeout(c, timeout);
    }
  }

  private static void setTimeout(Connection c, String value) throws SQLException {
    try (var ps = c.prepareStatement(
        "select pg_catalog.set_config('statement_timeout', ?, false)")) {
      ps.setString(1, value);
      ps.executeQuery().close();
    }
  }

}
