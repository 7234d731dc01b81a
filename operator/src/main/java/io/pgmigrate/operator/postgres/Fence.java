package io.pgmigrate.operator.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The SQL of fencing a source database at the cutover (cutover.fenceSource): read-only for new
 * sessions through the database's default_transaction_read_only, the sessions from before the
 * fence ended, and the fence lifted again. The flow is reconciler/Fencing's.
 */
public final class Fence {

  /** The setting the fence sets per database. */
  static final String SETTING = "default_transaction_read_only";

  private Fence() {}

  /**
   * What the login may do for a fence: ALTER DATABASE ... SET needs ownership (through role
   * membership with INHERIT, as PostgreSQL checks it) or superuser; ending another role's
   * session needs the privileges of pg_signal_backend, and a superuser's session needs
   * superuser.
   */
  public record Privileges(String user, boolean superuser, boolean signalBackend,
      List<String> notOwned) {}

  public static Privileges privileges(Connection c, List<String> databases) throws SQLException {
    String user;
    boolean superuser;
    boolean signal;
    try (var st = c.createStatement();
        var rs = st.executeQuery("select current_user, r.rolsuper,"
            + " pg_catalog.pg_has_role('pg_signal_backend', 'USAGE')"
            + " from pg_catalog.pg_roles r where r.rolname = current_user")) {
      rs.next();
      user = rs.getString(1);
      superuser = rs.getBoolean(2);
      signal = rs.getBoolean(3);
    }
    var notOwned = new ArrayList<String>();
    try (var ps = c.prepareStatement("select d.datname from pg_catalog.pg_database d"
        + " where d.datname = any(?) and not pg_catalog.pg_has_role(d.datdba, 'USAGE')"
        + " order by 1")) {
      ps.setArray(1, c.createArrayOf("text", databases.toArray()));
      try (var rs = ps.executeQuery()) {
        while (rs.next()) {
          notOwned.add(rs.getString(1));
        }
      }
    }
    return new Privileges(user, superuser, superuser || signal,
        superuser ? List.of() : List.copyOf(notOwned));
  }

  /** The database's own default_transaction_read_only (for every role), or null. */
  public static String databaseSetting(Connection c, String database) throws SQLException {
    try (var ps = c.prepareStatement("select s from pg_catalog.pg_db_role_setting r"
        + " join pg_catalog.pg_database d on d.oid = r.setdatabase,"
        + " unnest(r.setconfig) s where d.datname = ? and r.setrole = 0 and s like ?")) {
      ps.setString(1, database);
      ps.setString(2, SETTING + "=%");
      try (var rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1).substring(SETTING.length() + 1) : null;
      }
    }
  }

  /** New sessions of the database start read-only; those already connected are not changed. */
  public static void makeReadOnly(Connection c, String database) throws SQLException {
    Sql.format(c, "ALTER DATABASE %I SET " + SETTING + " = on", database);
  }

  /** Puts the database's setting back as it was before the fence. */
  public static void lift(Connection c, String database, String previous) throws SQLException {
    if (previous == null) {
      Sql.format(c, "ALTER DATABASE %I RESET " + SETTING, database);
    } else {
      Sql.format(c, "ALTER DATABASE %I SET " + SETTING + " = %L", database, previous);
    }
  }

  /** The statement {@link #lift} runs, for a human to run. */
  public static String liftStatement(String database, String previous) {
    return previous == null
        ? "ALTER DATABASE " + Sql.ident(database) + " RESET " + SETTING
        : "ALTER DATABASE " + Sql.ident(database) + " SET " + SETTING + " = '"
            + previous.replace("'", "''") + "'";
  }

  /** The server's clock, as RFC 3339 in UTC: sessions started before it may still write. */
  public static String serverNow(Connection c) throws SQLException {
    try (var st = c.createStatement();
        var rs = st.executeQuery("select to_char(clock_timestamp() at time zone 'UTC',"
            + " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")) {
      rs.next();
      return rs.getString(1);
    }
  }

  /** A client session; {@code writing}: its transaction has written (it holds a transaction id). */
  public record Session(int pid, String user, String applicationName, boolean writing) {

    /** How an Event names it: never more than pid, user and application_name. */
    public String describe() {
      return "pid " + pid + " (user " + user
          + (applicationName == null || applicationName.isEmpty() ? ""
              : ", application_name " + applicationName)
          + (writing ? ", in a write transaction" : "") + ")";
    }
  }

  /**
   * Client sessions of the database that began before {@code since} (other than this one):
   * they did not get the read-only default and may write. Replication connections (our
   * subscription's WAL sender) are not client backends and are left alone.
   */
  public static List<Session> sessionsBefore(Connection c, String database, String since)
      throws SQLException {
    var found = new ArrayList<Session>();
    try (var ps = c.prepareStatement("select pid, usename, application_name,"
        + " backend_xid is not null from pg_catalog.pg_stat_activity"
        + " where datname = ? and pid <> pg_catalog.pg_backend_pid()"
        + " and backend_type = 'client backend' and backend_start < ?::timestamptz"
        + " order by pid")) {
      ps.setString(1, database);
      ps.setString(2, since);
      try (var rs = ps.executeQuery()) {
        while (rs.next()) {
          found.add(new Session(rs.getInt(1), rs.getString(2), rs.getString(3),
              rs.getBoolean(4)));
        }
      }
    }
    return found;
  }

  /** Ends a session (its open transaction rolls back); false when it had already gone. */
  public static boolean terminate(Connection c, int pid) throws SQLException {
    try (var ps = c.prepareStatement("select pg_catalog.pg_terminate_backend(?)")) {
      ps.setInt(1, pid);
      try (var rs = ps.executeQuery()) {
        return rs.next() && rs.getBoolean(1);
      }
    }
  }

  /** How many of these sessions still exist (a terminated backend takes a moment to exit). */
  public static int stillThere(Connection c, List<Session> sessions) throws SQLException {
    if (sessions.isEmpty()) {
      return 0;
    }
    try (var ps = c.prepareStatement(
        "select count(*) from pg_catalog.pg_stat_activity where pid = any(?)")) {
      ps.setArray(1, c.createArrayOf("int4",
          sessions.stream().map(Session::pid).toArray(Integer[]::new)));
      try (var rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  /** A short pause on the server while terminated sessions exit (bounded by the caller). */
  public static void pause(Connection c) throws SQLException {
    try (var st = c.createStatement()) {
      st.execute("select pg_catalog.pg_sleep(0.05)");
    }
  }

  /**
   * Prepared transactions of the database: COMMIT PREPARED could still write them after the
   * position, so the fence waits until they are committed or rolled back.
   */
  public static int preparedTransactions(Connection c, String database) throws SQLException {
    try (var ps = c.prepareStatement(
        "select count(*) from pg_catalog.pg_prepared_xacts where database = ?")) {
      ps.setString(1, database);
      try (var rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }
}
