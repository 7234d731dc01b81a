package io.pgmigrate.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pgmigrate.operator.metrics.MigrationMetrics;
import io.pgmigrate.operator.postgres.Timeouts;
import io.pgmigrate.operator.testing.OperatorExtension;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** With LEADER_ELECTION_NAMESPACE set, the operator holds a Lease there before it works. */
@ExtendWith(OperatorExtension.class)
class LeaderElectionIT {

  @Test
  void theOperatorTakesTheLease(OperatorExtension.Env env) {
    env.stopOperator();
    var operator = PgMigrateOperator.create(env.client(), Set.of(env.namespace()),
        Timeouts.DEFAULT, new MigrationMetrics(new SimpleMeterRegistry()), env.namespace(), false);
    operator.start();
    try {
      var lease = await().atMost(Duration.ofSeconds(60)).until(
          () -> env.client().leases().inNamespace(env.namespace()).withName("pgmigrate-operator")
              .get(),
          l -> l != null && l.getSpec().getHolderIdentity() != null);
      assertThat(lease.getSpec().getHolderIdentity()).isNotBlank();
    } finally {
      operator.stop();
    }
  }
}
