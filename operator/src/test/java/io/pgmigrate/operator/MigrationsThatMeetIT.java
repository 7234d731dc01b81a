package io.pgmigrate.operator;

import static io.pgmigrate.operator.ContinuousMigrationIT.deleteAndWait;
import static io.pgmigrate.operator.ContinuousMigrationIT.migration;
import static io.pgmigrate.operator.ContinuousMigrationIT.seed;
import static io.pgmigrate.operator.OperatorValidationIT.awaitPhase;
import static io.pgmigrate.operator.OperatorValidationIT.check;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgmigrate.operator.api.CheckOutcome;
import io.pgmigrate.operator.api.Method;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.testing.OperatorExtension;
import io.pgmigrate.operator.testing.PostgresPair;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Two PgMigrations that share a target database, or the start of their names. */
@ExtendWith({PostgresPair.class, OperatorExtension.class})
class MigrationsThatMeetIT {

  @Test
  void aSecondMigrationIntoTheSameTargetDatabaseIsRefusedNamingTheFirst(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    seed(pg.source(), "meet_db");
    env.client().resource(migration(env, "first", pg.source(), pg.target(), List.of("meet_db")))
        .create();
    awaitPhase(env, "first", Phase.Syncing);
    env.client().resource(migration(env, "second", pg.source(), pg.target(), List.of("meet_db")))
        .create();
    var refused = awaitPhase(env, "second", Phase.Failed);
    var c = check(refused, "target.otherMigrations");
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Failed);
    assertThat(c.getMessage()).contains(env.namespace() + "/first").contains("meet_db");
    // the first one never noticed
    assertThat(OperatorValidationIT.get(env, "first").getStatus().getPhase())
        .isEqualTo(Phase.Syncing);
    deleteAndWait(env, "second");
    deleteAndWait(env, "first");
  }

  @Test
  void migrationsWhoseNamesShareFortyCharactersRunSideBySide(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    // one source database copied into two servers: same database, names alike but for the end
    var prefix = "a-migration-name-long-enough-to-share-forty-characters";
    seed(pg.source(), "twin_db");
    try (var second = ContinuousMigrationIT.source("twin-target")) {
      var targets = List.of(pg.target(), second);
      for (var i : List.of(0, 1)) {
        var m = migration(env, prefix + "-" + i, pg.source(), targets.get(i), List.of("twin_db"));
        m.getSpec().setMethod(Method.DUMP);
        env.client().resource(m).create();
      }
      for (var i : List.of(0, 1)) {
        var ready = awaitPhase(env, prefix + "-" + i, Phase.Ready);
        assertThat(ready.getStatus().getPhase()).isEqualTo(Phase.Ready);
        ContinuousMigrationIT.assertSameData(pg.source(), targets.get(i), "twin_db");
      }
      deleteAndWait(env, prefix + "-0");
      deleteAndWait(env, prefix + "-1");
    }
  }
}
