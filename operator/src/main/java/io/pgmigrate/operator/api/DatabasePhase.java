package io.pgmigrate.operator.api;

/**
 * Where one database stands. Dump: Pending, Copying, then Done (or Failed). Continuous: Pending,
 * SchemaCopy (pre-data, keys), Copying (the subscription's initial copy), Indexing (the rest of
 * the schema), Replicating, CuttingOver, Done (or Failed). Stopped: another database's failure
 * ended the migration before this one finished.
 */
public enum DatabasePhase {
  Pending,
  SchemaCopy,
  Copying,
  Indexing,
  Replicating,
  CuttingOver,
  Done,
  Failed,
  Stopped
}
