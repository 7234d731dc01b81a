package io.pgmigrate.operator.postgres;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * Every difference between the PostgreSQL major versions (13 to 17) that the operator's SQL
 * depends on, in one place: what it is, the first major that has it, and what a user gets on a
 * server without it. Code that branches on a server's version asks {@link #on(int)} or {@link
 * #on(Connection)}; nothing else compares version numbers. The one exception is the dump Pod's
 * script ({@code dump/copy-database.sh}), which reads the servers' versions itself: it sets
 * {@link #TRANSACTION_TIMEOUT} only on a 17+ target, filters its session settings through
 * pg_settings, and copies in binary only between servers of one major.
 *
 * <pre>
 *  since  feature                                   without it
 *   13    DROP DATABASE ... WITH (FORCE)            (every supported major has it)
 *   14    subscription binary = true                rows travel as text
 *   14    subscription streaming = on               large transactions sent only once committed
 *   14    pg_terminate_backend(pid, timeout)        the slot's walsender is signalled, not awaited
 *   14    pg_stat_progress_copy                     rowsCopied counts committed rows only
 *   15    pg_stat_subscription_stats                errors not counted: status says so
 *   15    pg_database.datlocprovider, ICU databases every database uses libc's locale
 *   16    subscription streaming = parallel         streamed transactions applied by one worker
 *   16    role pg_create_subscription               the target login must be a superuser
 *   16    sslrootcert=system                        a subscription cannot verify the source
 *   17    pg_database.datlocale (daticulocale)      (15 and 16 call it daticulocale)
 *   17    builtin locale provider                   (a 17 source's builtin database needs 17)
 *   17    transaction_timeout                       (no such timeout to switch off)
 * </pre>
 */
public enum PgFeature {
  DROP_DATABASE_FORCE(13, "DROP DATABASE ... WITH (FORCE)"),
  BINARY_SUBSCRIPTION(14, "CREATE SUBSCRIPTION ... WITH (binary = true)"),
  STREAMING_SUBSCRIPTION(14, "CREATE SUBSCRIPTION ... WITH (streaming = on)"),
  TERMINATE_BACKEND_TIMEOUT(14, "pg_terminate_backend(pid, timeout)"),
  PROGRESS_COPY(14, "pg_stat_progress_copy (rows of a COPY still running)"),
  SUBSCRIPTION_STATS(15, "pg_stat_subscription_stats (apply and table sync error counts)"),
  LOCALE_PROVIDER(15, "pg_database.datlocprovider and CREATE DATABASE ... LOCALE_PROVIDER"),
  PARALLEL_APPLY(16, "CREATE SUBSCRIPTION ... WITH (streaming = parallel)"),
  CREATE_SUBSCRIPTION_ROLE(16, "the predefined role pg_create_subscription"),
  SSLROOTCERT_SYSTEM(16, "libpq's sslrootcert=system (the server's system CA store)"),
  DATLOCALE(17, "pg_database.datlocale, formerly daticulocale"),
  BUILTIN_LOCALE_PROVIDER(17, "the builtin locale provider"),
  TRANSACTION_TIMEOUT(17, "the setting transaction_timeout");

  /** The oldest major version the operator supports, as source or target. */
  public static final int OLDEST_SUPPORTED = 13;

  private final int since;
  private final String what;

  PgFeature(int since, String what) {
    this.since = since;
    this.what = what;
  }

  /** The first major version that has it. */
  public int since() {
    return since;
  }

  public String what() {
    return what;
  }

  public boolean on(int major) {
    return major >= since;
  }

  /** Whether the connected server has it. */
  public boolean on(Connection c) throws SQLException {
    return on(c.getMetaData().getDatabaseMajorVersion());
  }
}
