package io.pgmigrate.operator.reconciler;

import io.pgmigrate.operator.api.DatabaseStatus;
import java.time.Duration;
import java.time.Instant;

/**
 * Tells a subscription that keeps failing from one that failed for a moment. PostgreSQL retries
 * a failed table sync or apply worker every few seconds (wal_retrieve_retry_interval) and only
 * counts the errors; a source that was down for half a minute leaves a few, a constraint the
 * rows violate adds one on every attempt. Errors that keep coming for {@link #LIMIT}, with no
 * quiet spell of {@link #QUIET} between them, are persistent. Pure: the record lives in status.
 */
final class ErrorWatch {

  /** No new error for this long: whatever failed recovered. */
  static final Duration QUIET = Duration.ofSeconds(30);
  /** New errors for this long: no more retries, the migration fails. */
  static final Duration LIMIT = Duration.ofSeconds(90);

  private ErrorWatch() {}

  /**
   * Records the error count seen now in the database's status; true when errors have kept
   * coming for {@link #LIMIT} without progress. Progress (another table synchronised) starts
   * the window again: table sync workers that wait for a free replication slot on the source
   * fail on every try while the others copy.
   */
  static boolean persistent(DatabaseStatus db, long errors, boolean progressed, Instant now) {
    long before = db.getReplicationErrors() == null ? 0 : db.getReplicationErrors();
    if (errors > before) {
      boolean afterQuiet = db.getLastErrorAt() != null
          && Instant.parse(db.getLastErrorAt()).plus(QUIET).isBefore(now);
      if (db.getErroringSince() == null || progressed || afterQuiet) {
        db.setErroringSince(now.toString());
      }
      db.setLastErrorAt(now.toString());
    } else if (db.getLastErrorAt() != null
        && Instant.parse(db.getLastErrorAt()).plus(QUIET).isBefore(now)) {
      db.setErroringSince(null);
    }
    // a counter that went back (statistics reset) is the new baseline; -1: no counters
    db.setReplicationErrors(Math.max(0, errors));
    return db.getErroringSince() != null
        && !Instant.parse(db.getErroringSince()).plus(LIMIT).isAfter(now);
  }

  /** True while errors are coming (seen within {@link #QUIET}). */
  static boolean failing(DatabaseStatus db) {
    return db.getErroringSince() != null;
  }
}
