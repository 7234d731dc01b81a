package io.pgmigrate.operator.postgres;

import io.pgmigrate.operator.api.ReplicaIdentityChange;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Logical replication objects: the publication and slot on the source, the subscription on the
 * target. Every creation looks before it creates; every drop tolerates absence. Names come from
 * {@link ReplicationNames}, so only our own objects are ever touched.
 */
public final class Replication {

  /**
   * Where our slot stands, in bytes behind the source's current WAL position; {@code lagSeconds}
   * as the WAL sender serving it measures it (null when unknown: see {@link #slot}).
   */
  public record SlotState(
      boolean exists, boolean active, String confirmedFlushLsn, long lagBytes,
      long retainedBytes, boolean lost, Double lagSeconds) {}

  /**
   * Initial copy progress and errors of a subscription: tables known to it, synchronised (ready
   * or sync done), ready (the apply worker took over), and up to ten that are not synchronised
   * with their state; errors counted by the server (PostgreSQL 15 and later; -1 before).
   */
  public record Progress(int tablesTotal, int tablesSynced, int tablesReady,
      List<String> notSynced, long applyErrors, long syncErrors, boolean enabled) {

    public long errors() {
      return Math.max(0, applyErrors) + Math.max(0, syncErrors);
    }
  }

  private Replication() {}

  // ---- source -------------------------------------------------------------------------------

  /**
   * Tables of the connected database without primary key or replica identity, quoted and
   * qualified, with their replica identity as it is: DEFAULT or NOTHING (an identity index that
   * is gone acts as NOTHING).
   */
  public static List<ReplicaIdentityChange> tablesWithoutIdentity(Connection src)
      throws SQLException {
    var result = new ArrayList<ReplicaIdentityChange>();
    try (var st = src.createStatement();
        var rs = st.executeQuery(
            "select pg_catalog.format('%I.%I', n.nspname, c.relname),"
                + " case c.relreplident when 'd' then 'DEFAULT' else 'NOTHING' end "
                + Catalog.USER_RELATIONS + Catalog.WITHOUT_REPLICA_IDENTITY + " order by 1")) {
      while (rs.next()) {
        result.add(new ReplicaIdentityChange(rs.getString(1), rs.getString(2)));
      }
    }
    return result;
  }

  /**
   * ALTER TABLE ... REPLICA IDENTITY FULL, so UPDATE and DELETE keep working once published;
   * nothing when the table is gone or already FULL.
   */
  public static void setReplicaIdentityFull(Connection src, String table) throws SQLException {
    replicaIdentity(src, table, "FULL", "c.relreplident <> 'f'");
  }

  /**
   * Puts back the replica identity a table had before we set FULL, unless someone changed it
   * since (then it is no longer FULL) or the table is gone.
   */
  public static void restoreReplicaIdentity(Connection src, ReplicaIdentityChange change)
      throws SQLException {
    var original = "NOTHING".equals(change.getOriginal()) ? "NOTHING" : "DEFAULT";
    replicaIdentity(src, change.getTable(), original, "c.relreplident = 'f'");
  }

  private static void replicaIdentity(Connection src, String table, String identity,
      String condition) throws SQLException {
    // the name from status is resolved by the server (to_regclass), never spliced into SQL
    try (var ps = src.prepareStatement(
        "select pg_catalog.format('ALTER TABLE %s REPLICA IDENTITY " + identity + "', c.oid::"
            + "pg_catalog.regclass) from pg_catalog.pg_class c"
            + " where c.oid = pg_catalog.to_regclass(?) and " + condition)) {
      ps.setString(1, table);
      String statement = null;
      try (var rs = ps.executeQuery()) {
        if (rs.next()) {
          statement = rs.getString(1);
        }
      }
      if (statement != null) {
        try (var st = src.createStatement()) {
          st.execute(statement);
        }
      }
    }
  }

  public static boolean publicationExists(Connection src, String name) throws SQLException {
    return exists(src, "select 1 from pg_catalog.pg_publication where pubname = ?", name);
  }

  /** Creates the FOR ALL TABLES publication unless it exists; true when created. */
  public static boolean ensurePublication(Connection src, String name, boolean viaAivenExtras)
      throws SQLException {
    if (publicationExists(src, name)) {
      return false;
    }
    if (viaAivenExtras) {
      try (var ps = src.prepareStatement(
          "select aiven_extras.pg_create_publication_for_all_tables(?, ?)")) {
        ps.setString(1, name);
        ps.setString(2, "INSERT,UPDATE,DELETE,TRUNCATE");
        ps.execute();
      }
    } else {
      Sql.utility(src,
          "select pg_catalog.format('CREATE PUBLICATION %I FOR ALL TABLES', ?::text)", name);
    }
    return true;
  }

  /** Creates our logical slot (pgoutput) unless it exists; true when created. */
  public static boolean ensureSlot(Connection src, String slot) throws SQLException {
    if (exists(src, "select 1 from pg_catalog.pg_replication_slots where slot_name = ?", slot)) {
      return false;
    }
    try (var ps = src.prepareStatement(
        "select pg_catalog.pg_create_logical_replication_slot(?, 'pgoutput')")) {
      ps.setString(1, slot);
      ps.execute();
    }
    return true;
  }

  /**
   * Our slot's state. Its lag in seconds is the replay_lag of the WAL sender that serves it
   * (pg_stat_replication, the same login's, so visible without pg_read_all_stats): the time from
   * sending a change to the target's confirmation that it was applied. PostgreSQL shows NULL
   * there in two cases: the target confirmed everything it was sent (twice in a row, so it has
   * caught up and there is no traffic), which is a lag of 0; or nothing was measured yet, or no
   * WAL sender runs for the slot (the subscription is disabled or its worker is down), which
   * is unknown, not 0: null.
   */
  public static SlotState slot(Connection src, String slot) throws SQLException {
    try (var ps = src.prepareStatement(
        """
        select s.active, s.confirmed_flush_lsn::text,
               -- 'lost' once max_slot_wal_keep_size removed WAL it needed (13+, as all we support)
               coalesce(s.wal_status = 'lost', false),
               coalesce(pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(),
                                                   s.confirmed_flush_lsn), 0)::bigint,
               coalesce(pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(),
                                                   s.restart_lsn), 0)::bigint,
               case when r.replay_lag is not null
                      then extract(epoch from r.replay_lag)::float8
                    when r.pid is not null and r.replay_lsn >= r.sent_lsn then 0::float8
               end
        from pg_catalog.pg_replication_slots s
        left join pg_catalog.pg_stat_replication r on r.pid = s.active_pid
        where s.slot_name = ?
        """)) {
      ps.setString(1, slot);
      try (var rs = ps.executeQuery()) {
        if (!rs.next()) {
          return new SlotState(false, false, null, 0, 0, false, null);
        }
        double seconds = rs.getDouble(6);
        Double lagSeconds = rs.wasNull() ? null : Math.max(0, seconds);
        return new SlotState(true, rs.getBoolean(1), rs.getString(2),
            Math.max(0, rs.getLong(4)), Math.max(0, rs.getLong(5)), rs.getBoolean(3),
            lagSeconds);
      }
    }
  }

  /**
   * Writes a marker into the source's WAL and returns its position: everything committed
   * before the cutover lies before it, so the target has it all once our slot confirms it.
   */
  public static String cutoverLsn(Connection src) throws SQLException {
    try (var st = src.createStatement();
        var rs = st.executeQuery(
            "select pg_catalog.pg_logical_emit_message(true, 'pgmigrate', 'cutover')::text")) {
      rs.next();
      return rs.getString(1);
    }
  }

  /** True once the slot's confirmed position reached the LSN. */
  public static boolean confirmed(Connection src, String slot, String lsn) throws SQLException {
    try (var ps = src.prepareStatement(
        "select confirmed_flush_lsn >= ?::pg_lsn from pg_catalog.pg_replication_slots"
            + " where slot_name = ?")) {
      ps.setString(1, lsn);
      ps.setString(2, slot);
      try (var rs = ps.executeQuery()) {
        return rs.next() && rs.getBoolean(1);
      }
    }
  }

  /**
   * Drops our slot, ending the walsender that still holds it. From PostgreSQL 14 the server
   * waits (up to 5 s) for that walsender to exit; when it has not, the error is SQLSTATE 55006,
   * which callers treat as "try again on the next reconcile" rather than blocking a thread.
   */
  public static void dropSlot(Connection src, String slot) throws SQLException {
    boolean waits = PgFeature.TERMINATE_BACKEND_TIMEOUT.on(src);
    try (var ps = src.prepareStatement(waits
        ? "select pg_catalog.pg_terminate_backend(active_pid, 5000)"
            + " from pg_catalog.pg_replication_slots where slot_name = ? and active_pid is not null"
        : "select pg_catalog.pg_terminate_backend(active_pid)"
            + " from pg_catalog.pg_replication_slots where slot_name = ? and active_pid is not null")) {
      ps.setString(1, slot);
      ps.execute();
    }
    try (var ps = src.prepareStatement(
        "select pg_catalog.pg_drop_replication_slot(slot_name)"
            + " from pg_catalog.pg_replication_slots where slot_name = ?")) {
      ps.setString(1, slot);
      ps.execute();
    }
  }

  public static void dropPublication(Connection src, String name) throws SQLException {
    Sql.utility(src, "select pg_catalog.format('DROP PUBLICATION IF EXISTS %I', ?::text)", name);
  }

  /**
   * Sequences of the connected database that have been used: quoted qualified name to
   * last_value. A sequence never called is left out (the target's is fresh too); one the login
   * may not read is an error naming it, never skipped: its value would be lost at the cutover.
   */
  public static List<Object[]> sequences(Connection src) throws SQLException {
    var result = new ArrayList<Object[]>();
    var unreadable = new ArrayList<String>();
    try (var st = src.createStatement();
        var rs = st.executeQuery(
            "select name, readable, last_value from (" + Catalog.SEQUENCES + ") s order by 1")) {
      while (rs.next()) {
        if (!rs.getBoolean(2)) {
          unreadable.add(rs.getString(1));
          continue;
        }
        long value = rs.getLong(3);
        if (!rs.wasNull()) {
          result.add(new Object[] {rs.getString(1), value});
        }
      }
    }
    if (!unreadable.isEmpty()) {
      var login = src.getMetaData().getUserName();
      throw new SQLException("the source login " + login + " may not read "
          + unreadable.size() + " sequence(s) of database " + src.getCatalog()
          + ", so their values cannot be copied: " + limited(unreadable)
          + "; on the source GRANT SELECT ON ALL SEQUENCES IN SCHEMA <their schemas> TO "
          + login + ", or log in as a superuser", "42501");
    }
    return result;
  }

  /**
   * True when the connected database holds what logical replication does not carry: large
   * objects, or unlogged tables (with or without rows: the copy empties them on the target).
   */
  public static boolean hasUnreplicatedData(Connection src) throws SQLException {
    try (var st = src.createStatement();
        var rs = st.executeQuery(
            "select exists (select 1 from pg_catalog.pg_largeobject_metadata)"
                + " or exists (select 1 " + Catalog.USER_RELATIONS
                + " and c.relkind = 'r' and c.relpersistence = 'u')")) {
      rs.next();
      return rs.getBoolean(1);
    }
  }

  /** Up to 20 names, then how many more. */
  public static String limited(List<String> names) {
    int max = 20;
    return names.size() <= max
        ? String.join(", ", names)
        : String.join(", ", names.subList(0, max)) + " and " + (names.size() - max) + " more";
  }

  // ---- target -------------------------------------------------------------------------------

  /**
   * Creates the subscription on our existing slot unless it exists: copy_data on, binary
   * transfer and streaming of large transactions on. The connection string holds the source's
   * password: PostgreSQL keeps it in pg_subscription, readable by superusers only; the statement
   * is kept out of the target's log.
   */
  public static boolean ensureSubscription(Connection dst, String subscription,
      String publication, String slot, String conninfo, boolean superuser) throws SQLException {
    if (exists(dst,
        "select 1 from pg_catalog.pg_subscription where subname = ? and subdbid ="
            + " (select oid from pg_catalog.pg_database where datname = current_database())",
        subscription)) {
      return false;
    }
    if (superuser) {
      try (var st = dst.createStatement()) {
        st.execute("set log_statement = 'none'");
        st.execute("set log_min_error_statement = 'panic'");
      }
    }
    Sql.utility(dst,
        "select pg_catalog.format('CREATE SUBSCRIPTION %I CONNECTION %L PUBLICATION %I WITH"
            + " (create_slot = false, slot_name = %L, copy_data = true"
            + subscriptionOptions(dst.getMetaData().getDatabaseMajorVersion())
            + ")', ?::text, ?::text, ?::text, ?::text)",
        subscription, conninfo, publication, slot);
    return true;
  }

  /**
   * The fastest options the target's version has: binary transfer and streaming of large
   * transactions from 14, applied in parallel from 16.
   */
  static String subscriptionOptions(int targetMajor) {
    var options = new StringBuilder();
    if (PgFeature.BINARY_SUBSCRIPTION.on(targetMajor)) {
      options.append(", binary = true");
    }
    if (PgFeature.PARALLEL_APPLY.on(targetMajor)) {
      options.append(", streaming = parallel");
    } else if (PgFeature.STREAMING_SUBSCRIPTION.on(targetMajor)) {
      options.append(", streaming = on");
    }
    return options.toString();
  }

  /**
   * What the subscription gets between servers of these majors, and what it lacks, for the Event
   * that reports the replication's start. The source must have a feature too: a subscriber asks
   * a source older than 14 for neither binary transfer nor streaming, and one older than 16
   * streams for a single apply worker, whatever the subscription's options say.
   */
  public static String subscriptionSummary(int sourceMajor, int targetMajor) {
    int both = Math.min(sourceMajor, targetMajor);
    // the older server is the one that lacks it: the source's major is said when it is older
    var lacking = sourceMajor < targetMajor ? "a PostgreSQL " + sourceMajor + " source"
        : "PostgreSQL " + targetMajor;
    if (PgFeature.PARALLEL_APPLY.on(both)) {
      return "binary transfer, large transactions streamed and applied in parallel";
    }
    if (PgFeature.STREAMING_SUBSCRIPTION.on(both)) {
      return "binary transfer, large transactions streamed (" + lacking + " has them applied by"
          + " one worker; parallel apply needs " + PgFeature.PARALLEL_APPLY.since()
          + (sourceMajor < targetMajor ? " on the source too" : "") + ")";
    }
    return "rows as text, large transactions sent once committed (" + lacking
        + " has no binary transfer or streaming; both need "
        + PgFeature.STREAMING_SUBSCRIPTION.since()
        + (sourceMajor < targetMajor ? " on the source too" : "") + ")";
  }

  public static Progress progress(Connection dst, String subscription) throws SQLException {
    boolean stats = PgFeature.SUBSCRIPTION_STATS.on(dst);
    try (var ps = dst.prepareStatement(
        """
        select count(r.srrelid)::int,
               (count(r.srrelid) filter (where r.srsubstate in ('r', 's')))::int,
               (count(r.srrelid) filter (where r.srsubstate = 'r'))::int,
               (select pg_catalog.array_agg(x.name order by x.name) from (
                  select pg_catalog.format('%%I.%%I', n.nspname, c.relname) || ' (' || case r2.srsubstate
                           when 'i' then 'waiting to start' when 'd' then 'copying'
                           when 'f' then 'copy finished' else r2.srsubstate::text end
                           || ')' as name
                    from pg_catalog.pg_subscription_rel r2
                    join pg_catalog.pg_class c on c.oid = r2.srrelid
                    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
                   where r2.srsubid = s.oid and r2.srsubstate not in ('r', 's')
                   order by 1 limit 10) x),
               %s,
               bool_or(s.subenabled)
        from pg_catalog.pg_subscription s
        left join pg_catalog.pg_subscription_rel r on r.srsubid = s.oid
        %s
        where s.subname = ?
          and s.subdbid = (select oid from pg_catalog.pg_database where datname = current_database())
        group by s.oid
        """.formatted(
            stats ? "coalesce(max(st.apply_error_count), 0), coalesce(max(st.sync_error_count), 0)"
                : "-1::bigint, -1::bigint",
            stats ? "left join pg_catalog.pg_stat_subscription_stats st on st.subid = s.oid" : ""))) {
      ps.setString(1, subscription);
      try (var rs = ps.executeQuery()) {
        if (!rs.next()) {
          return new Progress(0, 0, 0, List.of(), 0, 0, false);
        }
        var notSynced = rs.getArray(4) == null ? List.<String>of()
            : List.of((String[]) rs.getArray(4).getArray());
        return new Progress(rs.getInt(1), rs.getInt(2), rs.getInt(3), notSynced, rs.getLong(5),
            rs.getLong(6), rs.getBoolean(7));
      }
    }
  }

  /** Drops the subscription without touching the slot (dropped on the source separately). */
  public static void dropSubscription(Connection dst, String subscription) throws SQLException {
    if (!exists(dst,
        "select 1 from pg_catalog.pg_subscription where subname = ? and subdbid ="
            + " (select oid from pg_catalog.pg_database where datname = current_database())",
        subscription)) {
      return;
    }
    Sql.utility(dst, "select pg_catalog.format('ALTER SUBSCRIPTION %I DISABLE', ?::text)",
        subscription);
    Sql.utility(dst,
        "select pg_catalog.format('ALTER SUBSCRIPTION %I SET (slot_name = NONE)', ?::text)",
        subscription);
    Sql.utility(dst, "select pg_catalog.format('DROP SUBSCRIPTION %I', ?::text)", subscription);
  }

  /** Sets a sequence on the target to the source's last value (the next call returns more). */
  public static void setSequence(Connection dst, String qualifiedName, long value)
      throws SQLException {
    try (var ps = dst.prepareStatement("select pg_catalog.setval(?::regclass, ?, true)")) {
      ps.setString(1, qualifiedName);
      ps.setLong(2, value);
      ps.execute();
    }
  }

  private static boolean exists(Connection c, String sql, String value) throws SQLException {
    try (var ps = c.prepareStatement(sql)) {
      ps.setString(1, value);
      try (var rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }
}
