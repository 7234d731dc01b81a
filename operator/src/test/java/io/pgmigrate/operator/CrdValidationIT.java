package io.pgmigrate.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.testing.Kubectl;
import io.pgmigrate.operator.testing.OperatorExtension;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The real API server refuses bad PgMigrations with the schema's and CEL rules' messages. */
@ExtendWith(OperatorExtension.class)
class CrdValidationIT {

  static String migration(String name, String source, String target, String extra) {
    return """
        apiVersion: pgmigrate.io/v1alpha1
        kind: PgMigration
        metadata:
          name: %s
        spec:
          source:
        %s
          target:
        %s
        %s
        """.formatted(name, indent(source), indent(target), extra);
  }

  static String indent(String fields) {
    return fields.lines().map(l -> "    " + l).reduce((a, b) -> a + "\n" + b).orElse("");
  }

  static final String SOURCE = "host: legacy.example.com\ncredentialsSecret: {name: src}";
  static final String TARGET = "host: new.example.com\ncredentialsSecret: {name: dst}";

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      textBlock = """
          bad method enum     | method: snapshot                                   | Unsupported value: "snapshot"
          database in and out | databases: [app]\\nexcludeDatabases: [app, logs]   | a database cannot be both in databases and in excludeDatabases
          jobs out of range   | dump: {jobs: 0}                                    | should be greater than or equal to 1
          bad quantity        | replication: {caughtUpLagBytes: lots}              | spec.replication.caughtUpLagBytes
          """)
  void refusesBadSpecFields(String name, String extra, String message, OperatorExtension.Env env) {
    var yaml = migration("bad", SOURCE, TARGET, "  " + extra.replace("\\n", "\n  "));
    var result = Kubectl.run(env.api(), yaml, "apply", "-n", env.namespace(), "-f", "-");
    assertThat(result.exitCode()).as(result.output()).isNotZero();
    assertThat(result.output()).contains(message);
  }

  @Test
  void refusesPortZero(OperatorExtension.Env env) {
    var yaml = migration("port", SOURCE + "\nport: 0", TARGET, "");
    var result = Kubectl.run(env.api(), yaml, "apply", "-n", env.namespace(), "-f", "-");
    assertThat(result.exitCode()).isNotZero();
    assertThat(result.output()).contains("spec.source.port").contains("greater than or equal to 1");
  }

  @Test
  void refusesVerifyFullWithoutCaSecret(OperatorExtension.Env env) {
    var yaml = migration("tls", SOURCE + "\nsslMode: verify-full", TARGET, "");
    var result = Kubectl.run(env.api(), yaml, "apply", "-n", env.namespace(), "-f", "-");
    assertThat(result.exitCode()).isNotZero();
    assertThat(result.output())
        .contains("caSecret is required when sslMode is verify-ca or verify-full");
  }

  @Test
  void refusesBadSslModeEnum(OperatorExtension.Env env) {
    var yaml = migration("tls2", SOURCE + "\nsslMode: always", TARGET, "");
    var result = Kubectl.run(env.api(), yaml, "apply", "-n", env.namespace(), "-f", "-");
    assertThat(result.exitCode()).isNotZero();
    assertThat(result.output()).contains("spec.source.sslMode").contains("Unsupported value");
  }

  @Test
  void refusesSameServerAsSourceAndTarget(OperatorExtension.Env env) {
    var yaml = migration("same", SOURCE, SOURCE.replace("src", "dst"), "");
    var result = Kubectl.run(env.api(), yaml, "apply", "-n", env.namespace(), "-f", "-");
    assertThat(result.exitCode()).isNotZero();
    assertThat(result.output()).contains("source and target must be different servers");
  }

  @Test
  void refusesMissingRequiredFields(OperatorExtension.Env env) {
    var yaml = """
        apiVersion: pgmigrate.io/v1alpha1
        kind: PgMigration
        metadata:
          name: empty
        spec:
          source: {host: a.example.com}
        """;
    var result = Kubectl.run(env.api(), yaml, "apply", "-n", env.namespace(), "-f", "-");
    assertThat(result.exitCode()).isNotZero();
    assertThat(result.output()).contains("spec.target: Required value")
        .contains("spec.source.credentialsSecret: Required value");
  }

  @Test
  void refusesAMigrationWithoutSpec(OperatorExtension.Env env) {
    var yaml = """
        apiVersion: pgmigrate.io/v1alpha1
        kind: PgMigration
        metadata:
          name: nospec
        """;
    var result = Kubectl.run(env.api(), yaml, "apply", "-n", env.namespace(), "-f", "-");
    assertThat(result.exitCode()).as(result.output()).isNotZero();
    assertThat(result.output()).contains("spec: Required value");
  }

  /**
   * A PgMigration deleted the moment it was created (an apply and a delete in a script, a
   * GitOps tool pruning what it just synced) is gone for good. The operator's first pass adds
   * its finalizer with a server-side apply of name and finalizer only; when the object was
   * deleted before that apply arrived, the apply created it anew, without spec, held by the
   * finalizer: a PgMigration no reconcile or cleanup could act on, and no delete could remove.
   * With spec required by the schema the apply is refused instead.
   */
  @Test
  void aMigrationDeletedAsSoonAsItIsCreatedIsGoneForGood(OperatorExtension.Env env) {
    var migrations = env.client().resources(PgMigration.class).inNamespace(env.namespace());
    for (int i = 0; i < 20; i++) {
      var yaml = migration("gone-" + i, SOURCE, TARGET, "  validateOnly: true");
      var m = migrations.load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)))
          .item();
      migrations.resource(m).create();
      migrations.withName("gone-" + i).delete();
    }
    Awaitility.await().atMost(Duration.ofSeconds(30))
        .until(() -> migrations.list().getItems().isEmpty());
    // and none comes back (the operator retries a refused finalizer apply)
    Awaitility.await().during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(10))
        .until(() -> migrations.list().getItems().isEmpty());
  }

  @Test
  void acceptsAMinimalSpecAndAppliesDefaults(OperatorExtension.Env env) {
    var yaml = migration("minimal", SOURCE, TARGET, "  validateOnly: true");
    var result = Kubectl.run(env.api(), yaml, "apply", "-n", env.namespace(), "-f", "-");
    assertThat(result.exitCode()).as(result.output()).isZero();
    var got = Kubectl.run(env.api(), null, "get", "pgm", "minimal", "-n", env.namespace(),
        "-o", "jsonpath={.spec.method} {.spec.source.port} {.spec.source.sslMode} "
            + "{.spec.source.database} {.spec.keepReplicating} {.spec.dump.jobs}");
    assertThat(got.output()).isEqualTo("continuous 5432 require postgres true 4");
  }
}
