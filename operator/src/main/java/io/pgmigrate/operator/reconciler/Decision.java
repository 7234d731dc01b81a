package io.pgmigrate.operator.reconciler;

import io.pgmigrate.operator.api.PgMigrationStatus;
import java.time.Duration;
import java.util.List;

/**
 * What the reconciler does next: the status to write, the Events to record, and when to look
 * again (null: only on the next change).
 */
public record Decision(PgMigrationStatus status, List<Event> events, Duration requeueAfter) {

  /** A Kubernetes Event to record on the PgMigration. */
  public record Event(boolean warning, String reason, String message) {}
}
