package io.pgmigrate.operator.postgres;

import io.pgmigrate.operator.api.SslMode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import org.postgresql.ds.PGSimpleDataSource;

/** Opens JDBC connections with TLS as requested and connect, socket and statement timeouts. */
public class PgConnector {

  public static final String APPLICATION_NAME = "pgmigrate-operator";

  private final Timeouts timeouts;

  public PgConnector(Timeouts timeouts) {
    this.timeouts = timeouts;
  }

  public Timeouts timeouts() {
    return timeouts;
  }

  /** Opens a connection; the caller closes it. */
  public Connection open(ConnectionSpec spec) throws SQLException {
    var ds = new PGSimpleDataSource();
    ds.setServerNames(new String[] {spec.host()});
    ds.setPortNumbers(new int[] {spec.port()});
    ds.setDatabaseName(spec.database());
    ds.setUser(spec.user());
    ds.setPassword(spec.password());
    ds.setApplicationName(APPLICATION_NAME);
    ds.setConnectTimeout(seconds(timeouts.connect().toSeconds()));
    ds.setLoginTimeout(seconds(timeouts.connect().toSeconds()));
    ds.setSocketTimeout(seconds(timeouts.socket().toSeconds()));
    ds.setTcpKeepAlive(true);
    ds.setGssEncMode("disable");
    ds.setOptions(
        "-c statement_timeout=" + timeouts.statement().toMillis()
            + " -c lock_timeout=" + Math.min(10_000, timeouts.statement().toMillis())
            + " -c idle_in_transaction_session_timeout=" + timeouts.socket().toMillis()
            // a source fenced at the cutover (cutover.fenceSource) is read-only by default;
            // the operator's own sessions still drop its replication objects and lift the fence
            + " -c default_transaction_read_only=off");
    ds.setSslMode(spec.sslMode().libpqName());
    Path caFile = null;
    try {
      if (spec.sslMode().verifiesCertificate()) {
        caFile = writeCaFile(spec.caCertificatePem());
        ds.setSslRootCert(caFile.toString());
      } else if (spec.sslMode() != SslMode.DISABLE) {
        // require/prefer/allow encrypt without checking the certificate, as in libpq when no
        // root certificate is given; never pick up a stray ~/.postgresql/root.crt
        ds.setSslfactory("org.postgresql.ssl.NonValidatingFactory");
      }
      return ds.getConnection();
    } finally {
      if (caFile != null) {
        deleteQuietly(caFile);
      }
    }
  }

  private static int seconds(long s) {
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, s));
  }

  private static Path writeCaFile(String pem) {
    try {
      var file =
          Files.createTempFile(
              "pgmigrate-ca", ".crt",
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(file, pem == null ? "" : pem, StandardCharsets.UTF_8);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("writing the CA certificate to a temporary file", e);
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException ignored) {
      // a temp file left behind holds only a public CA certificate
    }
  }
}
