package io.pgmigrate.operator.testing;

import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An application writing to the source during a migration: inserts, updates and deletes on
 * table {@code items(id bigserial primary key, v text, n int)} of one database, a few hundred
 * statements a second at most, stopping by itself after {@code maxRunTime}.
 */
public final class Writer implements AutoCloseable {

  public static final String TABLE =
      "create table items (id bigserial primary key, v text not null, n int not null default 0)";

  private final AtomicBoolean stop = new AtomicBoolean();
  private final AtomicLong statements = new AtomicLong();
  private final Thread thread;
  private volatile Exception failure;

  public Writer(PostgresServer server, String database, Duration maxRunTime) {
    thread = new Thread(() -> run(server, database, maxRunTime), "writer-" + database);
    thread.setDaemon(true);
    thread.start();
  }

  private void run(PostgresServer server, String database, Duration maxRunTime) {
    var until = Instant.now().plus(maxRunTime);
    try (var c = server.connect(database)) {
      var insert = c.prepareStatement("insert into items (v) values (md5(random()::text))");
      var update = c.prepareStatement(
          "update items set n = n + 1, v = md5(v) where id = (select max(id) - ? from items)");
      var delete = c.prepareStatement("delete from items where id = (select min(id) from items)");
      while (!stop.get() && Instant.now().isBefore(until)) {
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
        Thread.sleep(3);
      }
    } catch (SQLException | RuntimeException e) {
      failure = e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public long statements() {
    return statements.get();
  }

  /** Stops writing and waits for the last statement; throws what the writer ran into. */
  public void stop() throws Exception {
    stop.set(true);
    thread.join(10_000);
    if (failure != null) {
      throw failure;
    }
  }

  @Override
  public void close() throws Exception {
    stop();
  }
}
