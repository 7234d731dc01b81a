package io.pgmigrate.operator.postgres;

/** Server-wide facts read from the catalogs and settings of one server. */
public record ServerInfo(
    int versionNum,
    String version,
    String currentUser,
    boolean superuser,
    boolean replicationRole,
    boolean createDb,
    boolean createRole,
    boolean createSubscriptionRole,
    String walLevel,
    int maxReplicationSlots,
    int usedReplicationSlots,
    int maxWalSenders,
    int usedWalSenders,
    String maxSlotWalKeepSize,
    boolean inRecovery,
    int maxLogicalReplicationWorkers,
    int maxWorkerProcesses,
    int maxSyncWorkersPerSubscription,
    String systemIdentifier,
    boolean ssl,
    String sslVersion,
    String sslCipher,
    /**
     * null on servers without the setting (15 before 15.19, and older minors of others), and
     * when the login may not read it (a superuser-only setting: see readsAllSettings).
     */
    String outputPluginLibraries,
    /**
     * Superuser, or has the privileges of pg_read_all_settings (a NOINHERIT member has not):
     * every setting, the superuser-only ones too.
     */
    boolean readsAllSettings) {

  public int major() {
    return versionNum / 10000;
  }
}
