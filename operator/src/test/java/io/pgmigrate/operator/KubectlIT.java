package io.pgmigrate.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.testing.Fixtures;
import io.pgmigrate.operator.testing.Kubectl;
import io.pgmigrate.operator.testing.OperatorExtension;
import io.pgmigrate.operator.testing.PostgresPair;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** What `kubectl get pgmigrations` shows a person, with the real kubectl. */
@ExtendWith({PostgresPair.class, OperatorExtension.class})
class KubectlIT {

  @Test
  void getShowsPhaseMethodDatabasesLagAndAge(OperatorExtension.Env env, PostgresPair.Servers pg) {
    pg.source().execute("postgres", "create database kubectl_a", "create database kubectl_b");
    var m = Fixtures.migration(env.client(), env.namespace(), "shop", pg.source(), pg.target());
    m.getSpec().setDatabases(List.of("kubectl_a", "kubectl_b"));
    // applied the way a user does it: YAML through kubectl
    var yaml = env.client().getKubernetesSerialization().asYaml(m);
    var applied = Kubectl.run(env.api(), yaml, "apply", "-n", env.namespace(), "-f", "-");
    assertThat(applied.exitCode()).as(applied.output()).isZero();
    assertThat(applied.output()).contains("pgmigration.pgmigrate.io/shop created");

    OperatorValidationIT.awaitPhase(env, "shop", Phase.Migrating);
    var get = Kubectl.run(env.api(), null, "get", "pgmigrations", "-n", env.namespace());
    assertThat(get.exitCode()).as(get.output()).isZero();
    var lines = get.output().strip().lines().toList();
    assertThat(lines.get(0).split("\\s+"))
        .containsExactly("NAME", "PHASE", "METHOD", "DATABASES", "LAG", "AGE");
    var row = lines.stream().filter(l -> l.startsWith("shop ")).findFirst().orElseThrow();
    assertThat(row.split("\\s+")).startsWith("shop", "Migrating", "continuous", "0/2");
    assertThat(row).matches(".*\\s\\d+s$");

    var shortName = Kubectl.run(env.api(), null, "get", "pgm", "shop", "-n", env.namespace());
    assertThat(shortName.output()).contains("Migrating");
  }
}
