package io.pgmigrate.operator.postgres;

import java.io.InterruptedIOException;
import java.nio.channels.ClosedByInterruptException;

/**
 * A JDBC call cut short because the operator is stopping says nothing about the servers: it
 * must not fail a migration. Such errors become {@link Interrupted}, which ends the reconcile
 * without writing status; the next operator instance carries on.
 */
public final class Interrupts {

  /** The reconcile was interrupted (the operator is stopping). */
  public static final class Interrupted extends RuntimeException {
    Interrupted(Throwable cause) {
      super("interrupted, the operator is stopping: " + cause.getMessage(), cause);
    }
  }

  private Interrupts() {}

  /** Throws {@link Interrupted} when the error comes from an interrupt. */
  public static void rethrowIfInterrupted(Exception e) {
    if (Thread.currentThread().isInterrupted()) {
      throw new Interrupted(e);
    }
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof InterruptedException
          || t instanceof InterruptedIOException
          || t instanceof ClosedByInterruptException) {
        Thread.currentThread().interrupt();
        throw new Interrupted(e);
      }
    }
  }
}
