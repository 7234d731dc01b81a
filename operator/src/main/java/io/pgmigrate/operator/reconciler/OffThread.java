package io.pgmigrate.operator.reconciler;

import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.pgmigrate.operator.api.PgMigration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Reads whose time grows with what the servers hold run here, on threads of their own, instead
 * of on a reconcile thread: the pre-flight checks (two servers and every selected database, each
 * call bounded by the connector's timeouts, so a server that accepts connections and never
 * answers costs the login timeout per connection) and the rows and size on the target while a
 * dump copies. A pass starts a read and ends; the read's end can trigger the next pass of that
 * migration, which takes the result. JOSDK's reconcile threads stay free for the migrations that
 * run, for deletions and for spec changes, however many reads wait on a slow server.
 *
 * <p>Only reads run here. Whatever changes a server stays on the reconcile thread, where status
 * records it before it happens.
 */
final class OffThread {

  /**
   * Reads at once. A read mostly waits on a server (a login, a catalog query), so more threads
   * than cores help; the queue holds the rest, so that 100 migrations created at once open at
   * most this many connections per server for their checks.
   */
  static final int THREADS = 16;

  private final ThreadPoolExecutor pool;
  private volatile Consumer<ResourceID> wake = id -> {};

  OffThread() {
    var count = new AtomicInteger();
    pool = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), r -> {
          var t = new Thread(r, "pgmigrate-read-" + count.incrementAndGet());
          // an operator that stops does not wait for a read that only fills a cache
          t.setDaemon(true);
          return t;
        });
    // idle threads go: an operator with nothing to validate holds none
    pool.allowCoreThreadTimeOut(true);
  }

  /** Where a finished read asks for a new pass of its migration (JOSDK's event source). */
  void wakeWith(Consumer<ResourceID> wake) {
    this.wake = wake;
  }

  /**
   * Runs {@code read} on these threads. With {@code wake}, its end (a result or an exception)
   * triggers a pass of the migration; without it, the migration's next pass finds the result.
   */
  <T> CompletableFuture<T> run(PgMigration m, boolean wake, Callable<T> read) {
    var id = ResourceID.fromResource(m);
    var result = new CompletableFuture<T>();
    pool.execute(() -> {
      try {
        result.complete(read.call());
      } catch (Exception | Error e) {
        result.completeExceptionally(e);
      }
      if (wake) {
        this.wake.accept(id);
      }
    });
    return result;
  }

  /** The result of a finished read; its exception rethrown on the calling (reconcile) thread. */
  static <T> T resultOf(CompletableFuture<T> done) {
    try {
      return done.join();
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
    }
  }
}
