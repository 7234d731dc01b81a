package io.pgmigrate.operator.testing;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgmigrate.operator.api.CredentialsSecret;
import io.pgmigrate.operator.api.Endpoint;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.api.PgMigrationSpec;
import io.pgmigrate.operator.api.SslMode;
import java.util.Map;

/** Builders for the Secrets and PgMigrations the tests apply. */
public final class Fixtures {

  private Fixtures() {}

  /**
   * A JSON merge patch, as `kubectl patch --type merge` sends it: no resourceVersion, so it
   * cannot conflict with the operator's status writes.
   */
  public static void mergePatch(KubernetesClient client, String namespace, String name,
      String json) {
    client.resources(PgMigration.class).inNamespace(namespace).withName(name)
        .patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
            io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE), json);
  }

  public static Secret credentials(String namespace, String name, String user, String password) {
    return new SecretBuilder()
        .withMetadata(new ObjectMetaBuilder().withName(name).withNamespace(namespace).build())
        .withStringData(Map.of("username", user, "password", password))
        .build();
  }

  public static void applySecret(KubernetesClient client, Secret secret) {
    client.resource(secret).serverSideApply();
  }

  public static Endpoint endpoint(PostgresServer server, String secretName) {
    var e = new Endpoint();
    e.setHost(server.host());
    e.setPort(server.port());
    e.setCredentialsSecret(new CredentialsSecret());
    e.getCredentialsSecret().setName(secretName);
    e.setSslMode(SslMode.DISABLE);
    return e;
  }

  /**
   * A migration between two servers, logging in as their superusers through two Secrets, with
   * TLS verify-full against the test CA (Secret {@code test-ca}). The test targets are
   * PostgreSQL 15, whose subscriptions cannot verify the source against a private CA, so
   * replication.allowUnverifiedSubscription is set; tests of that check unset it.
   */
  public static PgMigration migration(
      KubernetesClient client, String namespace, String name, PostgresServer source,
      PostgresServer target) {
    applySecret(client, credentials(namespace, name + "-source", PostgresServer.SUPERUSER,
        PostgresServer.SUPERUSER_PASSWORD));
    applySecret(client, credentials(namespace, name + "-target", PostgresServer.SUPERUSER,
        PostgresServer.SUPERUSER_PASSWORD));
    client
        .resource(
            new SecretBuilder()
                .withMetadata(new ObjectMetaBuilder().withName("test-ca").withNamespace(namespace).build())
                .withStringData(Map.of("ca.crt", TestCertificates.shared().caPem()))
                .build())
        .serverSideApply();
    var m = new PgMigration();
    m.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(namespace).build());
    var spec = new PgMigrationSpec();
    spec.setSource(endpoint(source, name + "-source"));
    spec.setTarget(endpoint(target, name + "-target"));
    for (var e : java.util.List.of(spec.getSource(), spec.getTarget())) {
      // a name the server certificate has: the test node's address when Pods run there (a
      // Pod has no DNS, and its localhost is its own), else localhost
      e.setHost(TestNode.enabled() ? TestNode.IP : "localhost");
      e.setSslMode(SslMode.VERIFY_FULL);
      var ca = new io.pgmigrate.operator.api.SecretKeyRef();
      ca.setName("test-ca");
      e.setCaSecret(ca);
    }
    spec.getReplication().setAllowUnverifiedSubscription(true);
    m.setSpec(spec);
    return m;
  }
}
