package io.pgmigrate.operator.reconciler;

import java.util.function.Consumer;

/**
 * Named points between the irreversible steps of both methods (validation reported, target
 * prepared, each kind of copy Pod created, each step of setting up replication and of the
 * cutover), where tests inject a
 * crash: an exception thrown there ends the pass before its status is written, exactly what an
 * operator killed at that instant leaves behind. A no-op unless a test sets {@link #hook}.
 */
public final class FaultPoints {

  /** Called with the point's name; production never sets it. */
  public static volatile Consumer<String> hook = name -> {};

  private FaultPoints() {}

  static void reached(String name) {
    hook.accept(name);
  }
}
