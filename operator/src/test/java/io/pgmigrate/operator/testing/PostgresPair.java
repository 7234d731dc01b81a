package io.pgmigrate.operator.testing;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit extension giving tests a source and a target PostgreSQL server (wal_level=logical, TLS
 * with a certificate of {@link TestCertificates#shared()}, a WAL retention limit), started once per test run and stopped when the run ends. Tests that change server-wide state
 * start their own variant with {@link PostgresServer#builder()}.
 */
public final class PostgresPair implements BeforeAllCallback, ParameterResolver {

  /** The two servers a migration runs between. */
  public record Servers(PostgresServer source, PostgresServer target)
      implements AutoCloseable {
    @Override
    public void close() {
      try {
        source.close();
      } finally {
        target.close();
      }
    }
  }

  private static final ExtensionContext.Namespace NS =
      ExtensionContext.Namespace.create(PostgresPair.class);

  @Override
  public void beforeAll(ExtensionContext context) {
    servers(context);
  }

  static Servers servers(ExtensionContext context) {
    return context
        .getRoot()
        .getStore(NS)
        .computeIfAbsent(
            "servers",
            k ->
                new Servers(
                    PostgresServer.builder()
                        .name("source")
                        .ssl(certs().serverCert(), certs().serverKey())
                        .set("max_slot_wal_keep_size", "'10GB'")
                        .start(),
                    PostgresServer.builder()
                        .name("target")
                        .ssl(certs().serverCert(), certs().serverKey())
                        .start()),
            Servers.class);
  }

  private static TestCertificates certs() {
    return TestCertificates.shared();
  }

  @Override
  public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
    return p.getParameter().getType() == Servers.class;
  }

  @Override
  public Object resolveParameter(ParameterContext p, ExtensionContext e) {
    return servers(e);
  }
}
