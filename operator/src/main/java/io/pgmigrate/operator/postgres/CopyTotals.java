package io.pgmigrate.operator.postgres;

import io.pgmigrate.operator.api.DatabaseStatus;
import java.sql.Connection;
import java.sql.SQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How much of a database the target holds, from its statistics, cheaply (no table is read or
 * locked): {@code rows} in its user tables (pg_stat_user_tables.n_live_tup: rows inserted minus
 * rows deleted by committed transactions, an estimate once VACUUM or ANALYZE ran) plus the rows
 * of COPYs into it still running (from PostgreSQL 14, from 16 as they are inserted, in batches of
 * up to 1000; a large table's copy is one transaction, whose rows the statistics count only when
 * it commits), and {@code bytes}, the database's size
 * on disk (pg_database_size: tables, indexes and catalogs; it walks the database's directory
 * and takes no lock).
 */
public record CopyTotals(long rows, long bytes) {

  private static final Logger log = LoggerFactory.getLogger(CopyTotals.class);

  /**
   * Reads them into a database's status ({@code rowsCopied}, {@code bytesCopied}), for both
   * methods' steps. Only progress to show: a failure leaves the last numbers as they were.
   */
  public static void recordIn(Connection dst, DatabaseStatus db) {
    try {
      var totals = read(dst);
      db.setRowsCopied(totals.rows());
      db.setBytesCopied(totals.bytes());
    } catch (SQLException e) {
      Interrupts.rethrowIfInterrupted(e);
      log.debug("reading the totals of {} on the target: {}", db.getName(), e.getMessage());
    }
  }

  /** Reads the totals of the connected target database. */
  public static CopyTotals read(Connection dst) throws SQLException {
    var running = PgFeature.PROGRESS_COPY.on(dst)
        ? """
          (select coalesce(sum(p.tuples_processed), 0)::bigint
             from pg_catalog.pg_stat_progress_copy p
            where p.datname = pg_catalog.current_database() and p.command = 'COPY FROM')"""
        : "0::bigint";
    try (var st = dst.createStatement();
        var rs = st.executeQuery(
            "select (select coalesce(sum(pg_catalog.pg_stat_get_live_tuples(c.oid)), 0)::bigint "
                + Catalog.USER_RELATIONS + " and c.relkind = 'r') + " + running + ","
                + " pg_catalog.pg_database_size(pg_catalog.current_database())")) {
      rs.next();
      return new CopyTotals(Math.max(0, rs.getLong(1)), rs.getLong(2));
    }
  }
}
