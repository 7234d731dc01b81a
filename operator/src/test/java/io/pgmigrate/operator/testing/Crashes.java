package io.pgmigrate.operator.testing;

import io.pgmigrate.operator.reconciler.FaultPoints;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The operator "killed" at a named point between two irreversible steps (see {@link
 * FaultPoints}): an exception there ends the pass before its status is written, which is what a
 * SIGKILL at that instant leaves behind.
 */
public final class Crashes {

  private Crashes() {}

  /** Crashes the pass that first reaches {@code point}; the flag says whether it happened. */
  public static AtomicBoolean onceAt(String point) {
    var crashed = new AtomicBoolean();
    FaultPoints.hook = reached -> {
      if (reached.equals(point) && crashed.compareAndSet(false, true)) {
        throw new IllegalStateException("injected crash at " + point);
      }
    };
    return crashed;
  }

  /** No more crashes (after each test). */
  public static void none() {
    FaultPoints.hook = name -> {};
  }
}
