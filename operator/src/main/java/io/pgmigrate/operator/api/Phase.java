package io.pgmigrate.operator.api;

/**
 * Lifecycle of a PgMigration.
 *
 * <p>Allowed transitions: (new) to Validating; Validating to Migrating (checks passed, not
 * validateOnly), Validating to Failed (a check failed); Migrating to Syncing (continuous, caught
 * up) or Ready (dump done) or Failed; Syncing to Ready (cutover done) or Failed; Failed to
 * Validating (new generation or new restart annotation value). Ready is final.
 */
public enum Phase {
  Validating,
  Migrating,
  Syncing,
  Ready,
  Failed
}
