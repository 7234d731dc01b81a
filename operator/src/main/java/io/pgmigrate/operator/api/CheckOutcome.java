package io.pgmigrate.operator.api;

/** Result of one pre-flight check; only Failed stops a migration. */
public enum CheckOutcome {
  Passed,
  Warning,
  Failed
}
