package io.pgmigrate.operator.postgres;

import io.pgmigrate.operator.api.SslMode;

/**
 * Everything needed to log in to one server. The password and CA certificate come from Secrets
 * and are left out of {@link #toString()}.
 */
public record ConnectionSpec(
    String host, int port, String database, String user, String password, SslMode sslMode,
    String caCertificatePem) {

  /** The same server and login, another database. */
  public ConnectionSpec withDatabase(String otherDatabase) {
    return new ConnectionSpec(
        host, port, otherDatabase, user, password, sslMode, caCertificatePem);
  }

  /** host:port, for messages. */
  public String address() {
    return host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
  }

  @Override
  public String toString() {
    return "ConnectionSpec[" + user + "@" + address() + "/" + database + ", sslmode="
        + sslMode.libpqName() + "]";
  }
}
