package io.pgmigrate.operator.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InterruptedIOException;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

class ReplicationNamesTest {

  static final String UID = "3f0c2a1b-9d8e-4f7a-b6c5-0123456789ab";

  @Test
  void namesAreStableValidIdentifiersPerMigrationAndDatabase() {
    var a = ReplicationNames.of(UID, "shop");
    assertThat(ReplicationNames.of(UID, "shop")).isEqualTo(a);
    assertThat(a.publication()).isEqualTo("pgmigrate_3f0c2a1b9d8e");
    assertThat(a.slot()).startsWith("pgmigrate_3f0c2a1b9d8e_").matches("[a-z0-9_]{1,63}");
    assertThat(a.subscription()).isEqualTo(a.slot());
    assertThat(ReplicationNames.of(UID, "Weird \"db\"").slot()).isNotEqualTo(a.slot())
        .matches("[a-z0-9_]{1,63}");
    assertThat(ReplicationNames.of("99999999-9d8e-4f7a-b6c5-0123456789ab", "shop").slot())
        .isNotEqualTo(a.slot());
  }

  @Test
  void interruptedCallsAreNotServerErrors() {
    var interrupted = new SQLException("Something unusual", "08000",
        new InterruptedIOException("interrupted"));
    assertThatThrownBy(() -> Interrupts.rethrowIfInterrupted(interrupted))
        .isInstanceOf(Interrupts.Interrupted.class);
    Thread.interrupted(); // clear the flag the check set
    Interrupts.rethrowIfInterrupted(new SQLException("permission denied", "42501"));
  }

  @Test
  void subscriptionOptionsFollowTheTargetVersion() {
    assertThat(Replication.subscriptionOptions(13)).isEmpty();
    assertThat(Replication.subscriptionOptions(15)).contains("binary = true", "streaming = on");
    assertThat(Replication.subscriptionOptions(16)).contains("streaming = parallel");
  }

  @Test
  void verificationGetsLongStatementsButTheSameConnectTimeout() {
    var t = Timeouts.DEFAULT.withLongStatements(java.time.Duration.ofHours(6));
    assertThat(t.connect()).isEqualTo(Timeouts.DEFAULT.connect());
    assertThat(t.statement()).isEqualTo(java.time.Duration.ofHours(6));
    assertThat(t.socket()).isGreaterThan(t.statement());
  }
}
