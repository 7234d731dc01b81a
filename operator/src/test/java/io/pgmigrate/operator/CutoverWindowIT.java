package io.pgmigrate.operator;

import static io.pgmigrate.operator.ContinuousMigrationIT.assertSameData;
import static io.pgmigrate.operator.ContinuousMigrationIT.deleteAndWait;
import static io.pgmigrate.operator.ContinuousMigrationIT.migration;
import static io.pgmigrate.operator.ContinuousMigrationIT.seed;
import static io.pgmigrate.operator.ContinuousMigrationIT.source;
import static io.pgmigrate.operator.OperatorValidationIT.awaitPhase;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgmigrate.operator.api.CutoverSpec;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.testing.OperatorExtension;
import io.pgmigrate.operator.testing.PostgresPair;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** cutover.notBefore / notAfter: a cutover asked for early waits for its window. */
@ExtendWith({PostgresPair.class, OperatorExtension.class})
class CutoverWindowIT {

  @Test
  void aCutoverAskedForEarlyStartsAtNotBeforeAndOnePastNotAfterDoesNotStart(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    try (var src = source("window-src")) {
      seed(src, "window_db");
      var m = migration(env, "window", src, pg.target(), List.of("window_db"));
      m.getSpec().setCutover(new CutoverSpec());
      // a window that has already ended: replicating, never cut over
      m.getSpec().getCutover().setNotAfter(
          Instant.now().minus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS).toString());
      m.getSpec().setKeepReplicating(false);
      env.client().resource(m).create();
      await().atMost(Duration.ofSeconds(90)).until(() ->
          OperatorValidationIT.get(env, "window").getStatus().getMessage(),
          message -> message != null && message.contains("window ended"));
      var syncing = OperatorValidationIT.get(env, "window");
      assertThat(syncing.getStatus().getPhase()).isEqualTo(Phase.Syncing);
      assertThat(syncing.getStatus().getDatabases())
          .allSatisfy(d -> assertThat(d.getCutoverLsn()).isNull());

      // the window moved: opens 20 s from now
      var opens = Instant.now().plusSeconds(20).truncatedTo(ChronoUnit.SECONDS);
      io.pgmigrate.operator.testing.Fixtures.mergePatch(env.client(), env.namespace(), "window",
          "{\"spec\":{\"cutover\":{\"notAfter\":null,\"notBefore\":\"" + opens + "\"}}}");
      await().atMost(Duration.ofSeconds(15)).until(() ->
          OperatorValidationIT.get(env, "window").getStatus().getMessage(),
          message -> message != null && message.contains("it starts at " + opens));
      var ready = awaitPhase(env, "window", Phase.Ready);
      var started = Instant.parse(ready.getStatus().getCutoverStartedAt());
      assertThat(started).isAfterOrEqualTo(opens);
      assertSameData(src, pg.target(), "window_db");
      System.out.printf("cutover window: opened at %s, cutover started %s, Ready at %s%n",
          opens, started, ready.getStatus().getCompletedAt());
      deleteAndWait(env, "window");
    }
  }
}
