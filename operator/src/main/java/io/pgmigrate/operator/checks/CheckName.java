package io.pgmigrate.operator.checks;

/**
 * The pre-flight checks by name: each name (the {@code name} of a status.checks entry) is
 * written once, here. In the order the report lists them.
 */
public enum CheckName {
  SOURCE_CREDENTIALS("source.credentials"),
  TARGET_CREDENTIALS("target.credentials"),
  SOURCE_CONNECTION("source.connection"),
  TARGET_CONNECTION("target.connection"),
  SOURCE_TLS("source.tls"),
  TARGET_TLS("target.tls"),
  SAME_SERVER("sameServer"),
  VERSIONS("versions"),
  TARGET_WRITABLE("target.writable"),
  DATABASES("databases"),
  SOURCE_DATABASE_ACCESS("source.databaseAccess"),
  TARGET_CREATE_DATABASE("target.createDatabase"),
  SOURCE_PRIVILEGES("source.privileges"),
  SOURCE_WAL_LEVEL("source.walLevel"),
  SOURCE_OUTPUT_PLUGIN("source.outputPlugin"),
  SOURCE_REPLICATION_SLOTS("source.replicationSlots"),
  SOURCE_WAL_SENDERS("source.walSenders"),
  TARGET_SUBSCRIPTION_PRIVILEGES("target.subscriptionPrivileges"),
  TARGET_SUBSCRIPTION_TLS("target.subscriptionTls"),
  TARGET_REPLICATION_WORKERS("target.replicationWorkers"),
  SOURCE_REPLICA_IDENTITY("source.replicaIdentity"),
  SOURCE_UNLOGGED_TABLES("source.unloggedTables"),
  SOURCE_SEQUENCES("source.sequences"),
  SOURCE_WAL_RETENTION("source.walRetention"),
  SOURCE_LARGE_OBJECTS("source.largeObjects"),
  TARGET_EXTENSIONS("target.extensions"),
  TARGET_LANGUAGES("target.languages"),
  TARGET_EMPTY_DATABASES("target.emptyDatabases"),
  /** Added by {@link Estimates}: the target's free disk against the data to migrate. */
  TARGET_FREE_DISK("target.freeDisk"),
  DUMP_IMAGE("dump.image"),
  TARGET_OTHER_MIGRATIONS("target.otherMigrations"),
  /** Only with cutover.fenceSource. */
  SOURCE_FENCE("source.fence"),
  /** Only when a database's catalogs could not be read. */
  DATABASE_INSPECTION("databaseInspection");

  private final String id;

  CheckName(String id) {
    this.id = id;
  }

  /** The name as status.checks shows it. */
  public String id() {
    return id;
  }

  /** The check of one side ("source" or "target") for credentials, connection or TLS. */
  static CheckName of(String side, String what) {
    return valueOf((side + "_" + what).toUpperCase(java.util.Locale.ROOT));
  }

  @Override
  public String toString() {
    return id;
  }
}
