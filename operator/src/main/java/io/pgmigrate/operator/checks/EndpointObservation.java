package io.pgmigrate.operator.checks;

import io.pgmigrate.operator.postgres.DatabaseContents;
import io.pgmigrate.operator.postgres.DatabaseInfo;
import io.pgmigrate.operator.postgres.ServerInfo;
import java.util.List;
import java.util.Map;

/**
 * What the operator saw of one server. When {@code credentialsError} or {@code connectFailure} is
 * set, the server facts are absent.
 *
 * @param side "source" or "target"
 * @param address host:port, for messages
 * @param credentialsSecret name of the Secret the login came from
 * @param contents per database: its contents (source: the databases to migrate; target: those
 *     of them that already exist)
 * @param contentErrors per database: why it could not be read
 * @param availableExtensions extensions the server can install, with their versions
 */
public record EndpointObservation(
    String side,
    String address,
    String sslMode,
    String credentialsSecret,
    String credentialsError,
    ConnectFailure connectFailure,
    ServerInfo server,
    List<DatabaseInfo> databases,
    Map<String, DatabaseContents> contents,
    Map<String, String> contentErrors,
    Map<String, List<String>> availableExtensions) {

  /** True when the server was reached and its catalogs read. */
  public boolean connected() {
    return server != null;
  }

  public static EndpointObservation credentialsMissing(
      String side, String address, String sslMode, String secret, String error) {
    return new EndpointObservation(
        side, address, sslMode, secret, error, null, null, List.of(), Map.of(), Map.of(),
        Map.of());
  }

  public static EndpointObservation unreachable(
      String side, String address, String sslMode, String secret, ConnectFailure failure) {
    return new EndpointObservation(
        side, address, sslMode, secret, null, failure, null, List.of(), Map.of(), Map.of(),
        Map.of());
  }
}
