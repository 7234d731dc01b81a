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

    // -o wide adds where from, where to, and the message
    var message = OperatorValidationIT.get(env, "shop").getStatus().getMessage();
    var wide = Kubectl.run(env.api(), null, "get", "pgmigrations", "-o", "wide", "-n",
        env.namespace());
    assertThat(wide.exitCode()).as(wide.output()).isZero();
    var wideLines = wide.output().strip().lines().toList();
    assertThat(wideLines.get(0).split("\\s+")).containsExactly("NAME", "PHASE", "METHOD",
        "DATABASES", "LAG", "AGE", "SOURCE", "TARGET", "MESSAGE");
    var wideRow = wideLines.stream().filter(l -> l.startsWith("shop ")).findFirst().orElseThrow();
    var host = m.getSpec().getSource().getHost();
    assertThat(wideRow).matches(".*\\s" + java.util.regex.Pattern.quote(host) + "\\s+"
        + java.util.regex.Pattern.quote(m.getSpec().getTarget().getHost()) + "\\s.*");
    // the message of the status kubectl printed, or of the one before or after it: Migrating
    // moves on meanwhile (the target prepared, then the replication started)
    var before = message;
    var after = OperatorValidationIT.get(env, "shop").getStatus().getMessage();
    assertThat(List.of(before, after)).anySatisfy(text ->
        assertThat(wideRow).contains(text.substring(0, Math.min(40, text.length()))));

    // the category: `kubectl get pgmigrate` lists them, `kubectl get all` does not
    var category = Kubectl.run(env.api(), null, "get", "pgmigrate", "-n", env.namespace());
    assertThat(category.exitCode()).as(category.output()).isZero();
    assertThat(category.output()).containsPattern("(?m)^shop\\s+Migrating\\s");
    var all = Kubectl.run(env.api(), null, "get", "all", "-n", env.namespace());
    assertThat(all.output()).doesNotContain("pgmigration");

    // kubectl wait: a migration that has not reached its goal times out, as it should
    var notYet = Kubectl.run(env.api(), null, "wait", "--for=condition=Ready", "pgmigration/shop",
        "--timeout=1s", "-n", env.namespace());
    assertThat(notYet.exitCode()).as(notYet.output()).isNotZero();
  }

  @Test
  void explainDescribesTheKindItsSpecStatusAndConditions(OperatorExtension.Env env) {
    var kind = Kubectl.run(env.api(), null, "explain", "pgmigration");
    assertThat(kind.exitCode()).as(kind.output()).isZero();
    assertThat(kind.output()).contains("A migration of PostgreSQL databases from a source server")
        .contains("What to migrate").contains("What the operator observed and did");
    var conditions = Kubectl.run(env.api(), null, "explain", "pgmigration.status.conditions");
    assertThat(conditions.output()).contains("Reconciling: True while")
        .contains("Stalled: True when the migration failed")
        .contains("kubectl wait --for=condition=Ready");
    var reason = Kubectl.run(env.api(), null, "explain", "pgmigration.status.conditions.reason");
    assertThat(reason.output()).contains("Why, as a CamelCase constant");
    var phase = Kubectl.run(env.api(), null, "explain", "pgm.status.phase");
    assertThat(phase.output()).contains("Syncing (continuous: replicating");
  }
}
