package io.pgmigrate.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgmigrate.operator.api.CheckOutcome;
import io.pgmigrate.operator.api.CheckResult;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.testing.Fixtures;
import io.pgmigrate.operator.testing.OperatorExtension;
import io.pgmigrate.operator.testing.PostgresPair;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The operator, running against a real API server, validating real PostgreSQL servers. */
@ExtendWith({PostgresPair.class, OperatorExtension.class})
class OperatorValidationIT {

  @Test
  void healthyPairPassesEveryCheckAndMovesToMigrating(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    pg.source().execute("postgres", "create database if_not_exists_app");
    var m = Fixtures.migration(env.client(), env.namespace(), "healthy", pg.source(), pg.target());
    m.getSpec().setDatabases(java.util.List.of("if_not_exists_app"));
    env.client().resource(m).create();

    var done = awaitPhase(env, "healthy", Phase.Migrating);
    assertThat(done.getStatus().getChecks())
        .isNotEmpty()
        .allSatisfy(c -> assertThat(c.getResult()).as(c.toString()).isEqualTo(CheckOutcome.Passed));
    assertThat(done.getStatus().getProgress()).isEqualTo("0/1");
    assertThat(env.client().v1().events().inNamespace(env.namespace()).list().getItems())
        .extracting(e -> e.getReason())
        .contains("Validating", "Migrating");
  }

  static PgMigration awaitPhase(OperatorExtension.Env env, String name, Phase phase) {
    return await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(300))
        .until(
            () -> env.client().resources(PgMigration.class).inNamespace(env.namespace())
                .withName(name).get(),
            m -> m != null && m.getStatus() != null && m.getStatus().getPhase() == phase);
  }

  static CheckResult check(PgMigration m, String name) {
    return m.getStatus().getChecks().stream()
        .filter(c -> c.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no check " + name + " in " + m.getStatus().getChecks()));
  }
}
