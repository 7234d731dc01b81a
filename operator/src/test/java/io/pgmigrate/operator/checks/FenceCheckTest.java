package io.pgmigrate.operator.checks;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgmigrate.operator.api.CheckOutcome;
import io.pgmigrate.operator.api.Method;
import io.pgmigrate.operator.postgres.Fence;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The pre-flight check source.fence: what the login may do to fence the source. */
class FenceCheckTest {

  @Test
  void aSuperuserMayFence() {
    var c = CheckEvaluator.fence(Method.CONTINUOUS,
        new Fence.Privileges("postgres", true, true, List.of()), null);
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Passed);
    assertThat(c.getName()).isEqualTo("source.fence");
  }

  @Test
  void anOwnerWithPgSignalBackendMayFence() {
    var c = CheckEvaluator.fence(Method.CONTINUOUS,
        new Fence.Privileges("app_owner", false, true, List.of()), null);
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Passed);
    assertThat(c.getMessage()).contains("superuser's session");
  }

  @Test
  void aLoginThatOwnsNothingAndMaySignalNobodyFailsNamingBothRemedies() {
    var c = CheckEvaluator.fence(Method.CONTINUOUS,
        new Fence.Privileges("migrator", false, false, List.of("shop", "billing")), null);
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Failed);
    assertThat(c.getMessage()).contains("ownership of shop, billing")
        .contains("pg_terminate_backend needs pg_signal_backend");
    assertThat(c.getRemedy()).contains("ALTER DATABASE ... OWNER TO migrator")
        .contains("GRANT pg_signal_backend TO migrator")
        .contains("cutover.fenceSource: false");
  }

  @Test
  void withoutPgSignalBackendAloneItFails() {
    var c = CheckEvaluator.fence(Method.CONTINUOUS,
        new Fence.Privileges("owner", false, false, List.of()), null);
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Failed);
    assertThat(c.getRemedy()).startsWith("GRANT pg_signal_backend TO owner");
  }

  @Test
  void theDumpMethodIsWarnedThatNothingIsFenced() {
    var c = CheckEvaluator.fence(Method.DUMP, null, null);
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Warning);
    assertThat(c.getMessage()).contains("continuous method only");
  }

  @Test
  void privilegesThatCouldNotBeReadFail() {
    var c = CheckEvaluator.fence(Method.CONTINUOUS, null, "connection refused");
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Failed);
    assertThat(c.getMessage()).contains("connection refused");
  }
}
