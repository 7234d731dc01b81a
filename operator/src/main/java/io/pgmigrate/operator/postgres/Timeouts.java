package io.pgmigrate.operator.postgres;

import java.time.Duration;

/** Bounds on every JDBC call the operator makes, so no reconcile can hang on a server. */
public record Timeouts(Duration connect, Duration socket, Duration statement) {

  public static final Timeouts DEFAULT =
      new Timeouts(Duration.ofSeconds(10), Duration.ofSeconds(60), Duration.ofSeconds(30));

  /**
   * The same connect timeout, with statements allowed to run for {@code statement} (and the
   * socket a minute longer): for the full-table counts that verify a copy.
   */
  public Timeouts withLongStatements(Duration statement) {
    return new Timeouts(connect, statement.plusMinutes(1), statement);
  }

  public Timeouts {
    if (socket.compareTo(statement) <= 0) {
      // the server must give up on a statement before the client gives up on the socket, so a
      // slow query ends with a clear statement_timeout error instead of a broken connection
      throw new IllegalArgumentException("socket timeout must exceed statement timeout");
    }
  }
}
