package io.pgmigrate.operator.dump;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.pgmigrate.operator.api.CredentialsSecret;
import io.pgmigrate.operator.api.Endpoint;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.api.PgMigrationSpec;
import io.pgmigrate.operator.api.SecretKeyRef;
import io.pgmigrate.operator.api.SslMode;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.Test;

class DumpPodsTest {

  static PgMigration migration(String name) {
    var m = new PgMigration();
    m.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("ns")
        .withUid("0f1e2d3c-0000-4000-8000-000000000001").build());
    var spec = new PgMigrationSpec();
    spec.setSource(endpoint("legacy.example.com", "src-creds"));
    spec.setTarget(endpoint("new.example.com", "dst-creds"));
    spec.getTarget().setSslMode(SslMode.VERIFY_FULL);
    var ca = new SecretKeyRef();
    ca.setName("new-ca");
    spec.getTarget().setCaSecret(ca);
    m.setSpec(spec);
    return m;
  }

  static Endpoint endpoint(String host, String secret) {
    var e = new Endpoint();
    e.setHost(host);
    e.setCredentialsSecret(new CredentialsSecret());
    e.getCredentialsSecret().setName(secret);
    return e;
  }

  @Test
  void commandNamesNoHostDatabaseOrCredentialAndPasswordsComeFromSecrets() {
    var pod = DumpPods.build(new DumpPods.Request(migration("shop"), "sales db", 1,
        "postgres:16", 4, true));
    var c = pod.getSpec().getContainers().get(0);
    var command = String.join(" ", c.getCommand());
    assertThat(command).doesNotContain("legacy.example.com").doesNotContain("sales db")
        .doesNotContain("src-creds");
    assertThat(c.getArgs()).isNullOrEmpty();
    assertThat(c.getEnv()).filteredOn(e -> e.getName().endsWith("_PASSWORD") || e.getName().endsWith("_USER"))
        .hasSize(4)
        .allSatisfy(e -> {
          assertThat(e.getValue()).isNull();
          assertThat(e.getValueFrom().getSecretKeyRef().getName()).isIn("src-creds", "dst-creds");
        });
    assertThat(c.getEnv()).anySatisfy(e -> {
      assertThat(e.getName()).isEqualTo("DATABASE");
      assertThat(e.getValue()).isEqualTo("sales db");
    });
    assertThat(c.getImage()).isEqualTo("postgres:16");
  }

  @Test
  void securityContextIsRestricted() {
    var pod = DumpPods.build(new DumpPods.Request(migration("shop"), "db", 1, "postgres:16", 1, true));
    var psc = pod.getSpec().getSecurityContext();
    assertThat(psc.getRunAsNonRoot()).isTrue();
    assertThat(psc.getRunAsUser()).isEqualTo(999L);
    assertThat(psc.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    var sc = pod.getSpec().getContainers().get(0).getSecurityContext();
    assertThat(sc.getReadOnlyRootFilesystem()).isTrue();
    assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
    assertThat(sc.getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(pod.getSpec().getAutomountServiceAccountToken()).isFalse();
    assertThat(pod.getSpec().getRestartPolicy()).isEqualTo("Never");
    assertThat(pod.getSpec().getContainers().get(0).getTerminationMessagePolicy())
        .isEqualTo("FallbackToLogsOnError");
  }

  @Test
  void parallelJobsGetScratchSpaceWithTheSizeLimitAndOneJobStreams() {
    var m = migration("shop");
    m.getSpec().getDump().setScratchSize("20Gi");
    var parallel = DumpPods.build(new DumpPods.Request(m, "db", 1, "postgres:16", 4, true));
    assertThat(parallel.getSpec().getVolumes()).anySatisfy(v -> {
      assertThat(v.getName()).isEqualTo("scratch");
      assertThat(v.getEmptyDir().getSizeLimit().toString()).isEqualTo("20Gi");
    });
    var streamed = DumpPods.build(new DumpPods.Request(m, "db", 1, "postgres:16", 1, true));
    assertThat(streamed.getSpec().getVolumes()).extracting(v -> v.getName())
        .doesNotContain("scratch");
    assertThat(DumpPods.SCRIPT).contains("src pg_dump --format=custom --compress=0")
        .contains("xargs -r -n 1 -P \"$JOBS\"");
  }

  @Test
  void theScriptReportsDifferingRowCountsAsTheOperatorReadsThem() {
    // one definition of the exit code and the lines' prefixes on each side
    assertThat(DumpPods.SCRIPT)
        .contains("VERIFICATION_FAILED=" + DumpPods.VERIFICATION_FAILED_EXIT_CODE + "\n")
        .contains("exit \"$VERIFICATION_FAILED\"")
        .contains("echo \"" + DumpPods.COUNT_DIFFERS + "$name: ")
        .contains("echo \"" + DumpPods.VERIFICATION_FAILED + "$differ of $tables table(s)");
    // psql exits with 1 to 3, pg_dump and pg_restore with 1, sort with 2, xargs with 123 to 127
    assertThat(DumpPods.VERIFICATION_FAILED_EXIT_CODE).isGreaterThan(3).isLessThan(123);
  }

  @Test
  void caCertificateIsMountedFromItsSecretForVerifyModes() {
    var pod = DumpPods.build(new DumpPods.Request(migration("shop"), "db", 1, "postgres:16", 1, true));
    assertThat(pod.getSpec().getVolumes()).anySatisfy(v -> {
      assertThat(v.getName()).isEqualTo("target-ca");
      assertThat(v.getSecret().getSecretName()).isEqualTo("new-ca");
    });
    assertThat(pod.getSpec().getContainers().get(0).getEnv())
        .anySatisfy(e -> assertThat(e.getName() + "=" + e.getValue())
            .isEqualTo("DST_SSLROOTCERT=/certs/target/ca.crt"))
        .noneSatisfy(e -> assertThat(e.getName()).isEqualTo("SRC_SSLROOTCERT"));
  }

  @Test
  void withoutRoleCopyTheRestoreSkipsOwnersAndGrants() {
    var pod = DumpPods.build(new DumpPods.Request(migration("shop"), "db", 1, "postgres:16", 1, false));
    assertThat(pod.getSpec().getContainers().get(0).getEnv())
        .anySatisfy(e -> assertThat(e.getName() + "=" + e.getValue())
            .isEqualTo("RESTORE_FLAGS=--no-owner --no-acl"));
  }

  @Test
  void namesAreDnsSafeAndStableForAnyDatabaseName() {
    var m = migration("a-very-long-migration-name-that-goes-on-and-on-and-on-forever");
    var name = DumpPods.podName(m, "Weird \"db\"; drop", 2);
    assertThat(name).matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?").hasSizeLessThanOrEqualTo(63)
        .endsWith("-2");
    assertThat(DumpPods.podName(m, "Weird \"db\"; drop", 2)).isEqualTo(name);
    assertThat(DumpPods.podName(m, "other", 2)).isNotEqualTo(name);
    // another migration whose name shares the first 30 characters gets Pods of its own
    var twin = migration("a-very-long-migration-name-that-goes-on-and-on-and-on-forever-2");
    twin.getMetadata().setUid("7a6b5c4d-0000-4000-8000-000000000002");
    assertThat(DumpPods.podName(twin, "Weird \"db\"; drop", 2)).isNotEqualTo(name)
        .hasSizeLessThanOrEqualTo(63);
    assertThat(name).startsWith("a-very-long-migration-name-tha-0f1e2d-dump-");
    var pod = DumpPods.build(new DumpPods.Request(m, "Weird \"db\"; drop", 2, "postgres:16", 1, true));
    assertThat(pod.getMetadata().getLabels()).allSatisfy((k, v) ->
        assertThat(v).matches("[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?").hasSizeLessThanOrEqualTo(63));
    assertThat(pod.getMetadata().getAnnotations()).containsEntry(DumpPods.DATABASE, "Weird \"db\"; drop");
    assertThat(new KubernetesSerialization().asYaml(pod)).contains("controller: true");
  }

  @Test
  void targetDatabaseIsQuotedForLibpq() {
    assertThat(DumpPods.conninfoDbname("plain")).isEqualTo("dbname='plain'");
    assertThat(DumpPods.conninfoDbname("a=b c")).isEqualTo("dbname='a=b c'");
    assertThat(DumpPods.conninfoDbname("it's\\x")).isEqualTo("dbname='it\\'s\\\\x'");
  }
}
