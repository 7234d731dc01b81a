package io.pgmigrate.operator.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An application that keeps inserting into {@code items} (see {@link Writer#TABLE}) as a given
 * role and application_name, and connects again whenever its session is ended, as a
 * connection pool does; it counts what succeeded and what failed, by SQLSTATE.
 */
public final class ReconnectingWriter implements AutoCloseable {

  private final PostgresServer server;
  private final String database;
  private final Properties login = new Properties();
  private final ScheduledThreadPoolExecutor scheduler;
  private final AtomicLong inserted = new AtomicLong();
  private final AtomicLong attemptsSinceMark = new AtomicLong();
  private final AtomicLong insertedSinceMark = new AtomicLong();
  private final Map<String, AtomicLong> failures = new ConcurrentHashMap<>();
  private volatile String lastFailure;
  private Connection connection;

  public ReconnectingWriter(PostgresServer server, String database, String user,
      String password, String applicationName, Duration maxRunTime) {
    this.server = server;
    this.database = database;
    login.setProperty("user", user);
    login.setProperty("password", password);
    login.setProperty("sslmode", "disable");
    login.setProperty("ApplicationName", applicationName);
    scheduler = new ScheduledThreadPoolExecutor(1, r -> {
      var t = new Thread(r, "app-writer-" + database);
      t.setDaemon(true);
      return t;
    });
    scheduler.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    scheduler.scheduleAtFixedRate(this::writeOne, 0, 5, TimeUnit.MILLISECONDS);
    scheduler.schedule(scheduler::shutdown, maxRunTime.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void writeOne() {
    attemptsSinceMark.incrementAndGet();
    try {
      if (connection == null) {
        connection = DriverManager.getConnection(server.jdbcUrl(database), login);
      }
      try (var st = connection.createStatement()) {
        st.execute("insert into items (v) values (md5(random()::text))");
      }
      inserted.incrementAndGet();
      insertedSinceMark.incrementAndGet();
    } catch (SQLException e) {
      var state = e.getSQLState() == null ? "none" : e.getSQLState();
      failures.computeIfAbsent(state, s -> new AtomicLong()).incrementAndGet();
      lastFailure = state + ": " + e.getMessage();
      if (state.startsWith("08") || state.startsWith("57P")) {
        // the session was ended: a pool would open a new one
        closeQuietly();
      }
    }
  }

  /** Starts counting anew what happens from now on ({@link #sinceMark}). */
  public void mark() {
    attemptsSinceMark.set(0);
    insertedSinceMark.set(0);
  }

  /** Attempts and successful inserts since the last {@link #mark}. */
  public long[] sinceMark() {
    return new long[] {attemptsSinceMark.get(), insertedSinceMark.get()};
  }

  public long inserted() {
    return inserted.get();
  }

  /** Failed statements by SQLSTATE. */
  public Map<String, Long> failures() {
    var out = new java.util.TreeMap<String, Long>();
    failures.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  public String lastFailure() {
    return lastFailure;
  }

  private void closeQuietly() {
    try {
      if (connection != null) {
        connection.close();
      }
    } catch (SQLException ignored) {
      // the session is gone already
    }
    connection = null;
  }

  @Override
  public void close() throws InterruptedException {
    scheduler.shutdown();
    scheduler.awaitTermination(10, TimeUnit.SECONDS);
    closeQuietly();
  }
}
