package io.pgmigrate.operator.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A test CA and a server certificate for localhost, 127.0.0.1 and the test node's address, made with the openssl command,
 * so TLS is tested for real (verify-ca and verify-full included).
 */
public record TestCertificates(Path dir, Path caCert, Path serverCert, Path serverKey) {

  private static TestCertificates shared;

  /** One set per test JVM. */
  public static synchronized TestCertificates shared() {
    if (shared == null) {
      shared = create();
    }
    return shared;
  }

  public String caPem() {
    try {
      return Files.readString(caCert);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A second, unrelated CA and certificate: for tests that a wrong CA is refused. */
  public static TestCertificates createOther() {
    return create();
  }

  static TestCertificates create() {
    try {
      var dir = Files.createTempDirectory("pgmigrate-certs-");
      Runtime.getRuntime().addShutdownHook(new Thread(() -> PostgresServer.deleteTree(dir)));
      var ca = dir.resolve("ca.crt");
      var caKey = dir.resolve("ca.key");
      var key = dir.resolve("server.key");
      var csr = dir.resolve("server.csr");
      var cert = dir.resolve("server.crt");
      var ext = dir.resolve("san.ext");
      Files.writeString(ext, "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:" + TestNode.IP + "\n");
      openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
          "-subj", "/CN=pgmigrate test CA", "-keyout", caKey.toString(), "-out", ca.toString());
      openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
          "-keyout", key.toString(), "-out", csr.toString());
      openssl(dir, "x509", "-req", "-in", csr.toString(), "-CA", ca.toString(),
          "-CAkey", caKey.toString(), "-CAcreateserial", "-days", "2",
          "-extfile", ext.toString(), "-out", cert.toString());
      return new TestCertificates(dir, ca, cert, key);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void openssl(Path dir, String... args) {
    var command = new java.util.ArrayList<>(List.of("openssl"));
    command.addAll(List.of(args));
    try {
      var p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
      var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("openssl failed: " + command + "\n" + out);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
