package io.pgmigrate.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgmigrate.operator.postgres.Conninfo.SubscriptionTls;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

class ReplicationStepTest {

  @Test
  void onlyConnectionAndResourceErrorsAreRetried() {
    assertThat(ReplicationStep.transient_(new SQLException("refused", "08001"))).isTrue();
    assertThat(ReplicationStep.transient_(new SQLException("shutdown", "57P01"))).isTrue();
    assertThat(ReplicationStep.transient_(new SQLException("slot active", "55006"))).isTrue();
    assertThat(ReplicationStep.transient_(new SQLException("denied", "42501"))).isFalse();
    assertThat(ReplicationStep.transient_(new SQLException("no such", "42704"))).isFalse();
  }

  @Test
  void caughtUpThresholdIsAQuantityOfBytes() {
    assertThat(ReplicationStep.caughtUpBytes("1Mi")).isEqualTo(1024 * 1024);
    assertThat(ReplicationStep.caughtUpBytes("512Ki")).isEqualTo(512 * 1024);
    assertThat(ReplicationStep.caughtUpBytes(null)).isEqualTo(1024 * 1024);
  }

  @Test
  void theStartedEventSaysHowTheSubscriptionsTlsReallyIs() {
    assertThat(ReplicationStep.subscriptionTlsNote(SubscriptionTls.AS_REQUESTED, 15)).isEmpty();
    assertThat(ReplicationStep.subscriptionTlsNote(SubscriptionTls.SYSTEM_CA, 16))
        .contains("verifies").contains("sslrootcert=system").doesNotContain("require");
    assertThat(ReplicationStep.subscriptionTlsNote(SubscriptionTls.UNVERIFIED, 15))
        .contains("sslmode=require").contains("unverified")
        .contains("allowUnverifiedSubscription");
  }

  @Test
  void cutoverTimeoutsReadAsKubernetesDurations() {
    var spec = new io.pgmigrate.operator.api.ReplicationSpec();
    assertThat(spec.cutoverTimeoutValue()).isNull();
    spec.setCutoverTimeout("1h30m");
    assertThat(spec.cutoverTimeoutValue()).isEqualTo(java.time.Duration.ofMinutes(90));
    spec.setCutoverTimeout("90s");
    assertThat(spec.cutoverTimeoutValue()).isEqualTo(java.time.Duration.ofSeconds(90));
    spec.setCutoverTimeout("2m5s");
    assertThat(spec.cutoverTimeoutValue()).isEqualTo(java.time.Duration.ofSeconds(125));
  }
}
