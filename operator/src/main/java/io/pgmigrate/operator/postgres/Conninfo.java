package io.pgmigrate.operator.postgres;

/** libpq connection strings, for the subscription's connection to the source. */
public final class Conninfo {

  private Conninfo() {}

  /**
   * The source as the target's subscription reaches it. verify-ca and verify-full become
   * require: the CA certificate would have to be a file on the target server, which the operator
   * cannot place there (status says so).
   */
  public static String forSubscription(ConnectionSpec source, String database) {
    var mode = source.sslMode().verifiesCertificate() ? "require" : source.sslMode().libpqName();
    return "host=" + quote(source.host()) + " port=" + source.port() + " dbname="
        + quote(database) + " user=" + quote(source.user()) + " password="
        + quote(source.password()) + " sslmode=" + mode + " application_name=pgmigrate";
  }

  /** A libpq value in single quotes, with backslash and quote escaped. */
  static String quote(String value) {
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
  }
}
