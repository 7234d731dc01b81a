package io.pgmigrate.operator.postgres;

import io.pgmigrate.operator.api.SslMode;

/** libpq connection strings, for the subscription's connection to the source. */
public final class Conninfo {

  /**
   * How the subscription, which connects from the target server to the source, secures that
   * connection. The operator cannot place caSecret's CA file on the target server, so a
   * certificate can only be verified against the target server's system CA store.
   */
  public enum SubscriptionTls {
    /** The source's sslMode verifies no certificate: the subscription uses it as it is. */
    AS_REQUESTED,
    /**
     * sslmode=verify-full with sslrootcert=system (libpq 16+): the target server's system CA
     * store, which holds public CAs but not a private one.
     */
    SYSTEM_CA,
    /** sslmode=require: encrypted, the certificate unchecked; the user accepted that. */
    UNVERIFIED,
    /** Verification asked for, impossible on this target, and not waived: no subscription. */
    REFUSED
  }

  private Conninfo() {}

  /**
   * The decision for a source sslMode and a target major version: from PostgreSQL 16 the
   * target's system store, unless the user accepted an unverified subscription (the only way
   * through for a private CA, which no system store holds).
   */
  public static SubscriptionTls subscriptionTls(
      SslMode sourceMode, int targetMajor, boolean allowUnverified) {
    if (!sourceMode.verifiesCertificate()) {
      return SubscriptionTls.AS_REQUESTED;
    }
    // the user's explicit word wins: a private CA (caSecret) is in no system store
    if (allowUnverified) {
      return SubscriptionTls.UNVERIFIED;
    }
    return PgFeature.SSLROOTCERT_SYSTEM.on(targetMajor)
        ? SubscriptionTls.SYSTEM_CA : SubscriptionTls.REFUSED;
  }

  /**
   * The source as the target's subscription reaches it. verify-ca becomes verify-full with the
   * system store: libpq refuses any weaker mode with sslrootcert=system, since anyone can get a
   * publicly trusted certificate for a host they control.
   *
   * @throws IllegalStateException when {@link #subscriptionTls} refuses: a caller must not get
   *     this far, the pre-flight check target.subscriptionTls fails first
   */
  public static String forSubscription(
      ConnectionSpec source, String database, int targetMajor, boolean allowUnverified) {
    var ssl =
        switch (subscriptionTls(source.sslMode(), targetMajor, allowUnverified)) {
          case AS_REQUESTED -> "sslmode=" + source.sslMode().libpqName();
          case SYSTEM_CA -> "sslmode=verify-full sslrootcert=system";
          case UNVERIFIED -> "sslmode=require";
          case REFUSED ->
              throw new IllegalStateException(
                  "sslmode " + source.sslMode().libpqName() + " cannot be honoured by a"
                      + " subscription on PostgreSQL " + targetMajor);
        };
    return "host=" + quote(source.host()) + " port=" + source.port() + " dbname="
        + quote(database) + " user=" + quote(source.user()) + " password="
        + quote(source.password()) + " " + ssl + " application_name=pgmigrate";
  }

  /** A libpq value in single quotes, with backslash and quote escaped. */
  static String quote(String value) {
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
  }
}
