package io.pgmigrate.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgmigrate.operator.testing.Kubectl;
import io.pgmigrate.operator.testing.OperatorExtension;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every file of examples/ is accepted by the real API server (schema and CEL rules). */
@ExtendWith(OperatorExtension.class)
class ExamplesIT {

  static final Path EXAMPLES = Path.of(System.getProperty("pgmigrate.repoRoot", ".."), "examples");

  @ParameterizedTest
  @ValueSource(strings = {"secrets.yaml", "continuous.yaml", "dump.yaml",
      "exclude-databases.yaml", "verify-full.yaml", "validate-only.yaml", "cutover.yaml",
      "digests.yaml", "fence-source.yaml", "switch-secret.yaml", "cutover-window.yaml",
      "schema-changes.yaml"})
  void isAcceptedByTheApiServer(String file, OperatorExtension.Env env) {
    var result = Kubectl.run(env.api(), null, "apply", "--dry-run=server", "-n", env.namespace(),
        "-f", EXAMPLES.resolve(file).toString());
    assertThat(result.exitCode()).as(result.output()).isZero();
    assertThat(result.output()).contains("(server dry run)");
  }

  @ParameterizedTest
  @ValueSource(strings = {"kustomization.yaml"})
  void theKustomizationBuildsAndIsAccepted(String ignored, OperatorExtension.Env env) {
    var result = Kubectl.run(env.api(), null, "create", "namespace", "shop");
    var applied = Kubectl.run(env.api(), null, "apply", "--dry-run=server", "-k",
        EXAMPLES.toString());
    assertThat(applied.exitCode()).as(applied.output() + result.output()).isZero();
    assertThat(applied.output()).contains("pgmigration.pgmigrate.io/shop created (server dry run)")
        .contains("pgmigration.pgmigrate.io/shop-dry-run created (server dry run)");
  }
}
