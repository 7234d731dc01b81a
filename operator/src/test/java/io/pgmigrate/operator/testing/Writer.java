package io.pgmigrate.operator.testing;

import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An application writing to the source during a migration: inserts, updates and deletes on
 * table {@code items(id bigserial primary key, v text, n int)} of one database, a few hundred
 * statements a second at most, stopping by itself after {@code maxRunTime}.
 */
public final class Writer implements AutoCloseable {

  public static final String TABLE =
      "create table items (id bigserial primary key, v text not null, n int not null default 0)";

  private final AtomicLong statements = new AtomicLong();
  private final java.util.concurrent.ScheduledExecutorService scheduler;
  private final java.sql.Connection connection;
  private final java.sql.PreparedStatement insert;
  private final java.sql.PreparedStatement update;
  private final java.sql.PreparedStatement delete;
  private volatile Exception failure;

  public Writer(PostgresServer server, String database, Duration maxRunTime) {
    try {
      connection = server.connect(database);
      insert = connection.prepareStatement("insert into items (v) values (md5(random()::text))");
      update = connection.prepareStatement(
          "update items set n = n + 1, v = md5(v) where id = (select max(id) - ? from items)");
      delete = connection.prepareStatement(
          "delete from items where id = (select min(id) from items)");
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    var executor = new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> {
      var t = new Thread(r, "writer-" + database);
      t.setDaemon(true);
      return t;
    });
    // stop() ends the writing at once: without this the delayed shutdown below would still be
    // waited for, and stop()'s awaitTermination ran into its 10 s timeout every time
    executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    scheduler = executor;
    // one statement every 3 ms at most: a steady load, not a flood on 2 cores
    scheduler.scheduleAtFixedRate(this::writeOne, 0, 3, TimeUnit.MILLISECONDS);
    scheduler.schedule(scheduler::shutdown, maxRunTime.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void writeOne() {
    if (failure != null) {
      return;
    }
    try {
      var r = ThreadLocalRandom.current().nextInt(10);
      if (r < 6) {
        insert.execute();
      } else if (r < 9) {
        update.setInt(1, ThreadLocalRandom.current().nextInt(20));
        update.execute();
      } else {
        delete.execute();
      }
      statements.incrementAndGet();
    } catch (SQLException | RuntimeException e) {
      failure = e;
    }
  }

  public long statements() {
    return statements.get();
  }

  /** Stops writing and waits for the last statement; throws what the writer ran into. */
  public void stop() throws Exception {
    scheduler.shutdown();
    scheduler.awaitTermination(10, TimeUnit.SECONDS);
    connection.close();
    if (failure != null) {
      throw failure;
    }
  }

  @Override
  public void close() throws Exception {
    stop();
  }
}
