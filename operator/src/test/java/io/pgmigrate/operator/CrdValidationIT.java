package io.pgmigrate.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgmigrate.operator.testing.Kubectl;
import io.pgmigrate.operator.testing.OperatorExtension;
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
