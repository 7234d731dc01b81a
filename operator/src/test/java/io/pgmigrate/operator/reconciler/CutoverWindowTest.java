package io.pgmigrate.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgmigrate.operator.api.CutoverSpec;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** cutover.notBefore / notAfter: when a cutover asked for may start. */
class CutoverWindowTest {

  static final Instant NOW = Instant.parse("2026-12-01T01:59:00Z");

  static CutoverSpec window(String notBefore, String notAfter) {
    var spec = new CutoverSpec();
    spec.setNotBefore(notBefore);
    spec.setNotAfter(notAfter);
    return spec;
  }

  @Test
  void withoutAWindowItStartsAtOnce() {
    assertThat(CutoverWindow.check(new CutoverSpec(), NOW)).isNull();
    assertThat(CutoverWindow.check(window("", ""), NOW)).isNull();
  }

  @Test
  void beforeNotBeforeItWaitsAndSaysWhen() {
    var wait = CutoverWindow.check(window("2026-12-01T02:00:00Z", null), NOW);
    assertThat(wait.message()).contains("starts at 2026-12-01T02:00:00Z").contains("in 60 s");
    assertThat(wait.lookAgain()).isEqualTo(Duration.ofSeconds(10));
    var soon = CutoverWindow.check(window("2026-12-01T03:59:03+02:00", null), NOW);
    assertThat(soon.lookAgain()).isEqualTo(Duration.ofSeconds(3));
  }

  @Test
  void insideTheWindowItStarts() {
    assertThat(CutoverWindow.check(window("2026-12-01T01:00:00Z", "2026-12-01T02:00:00Z"), NOW))
        .isNull();
  }

  @Test
  void afterNotAfterItDoesNotStart() {
    var wait = CutoverWindow.check(window(null, "2026-12-01T01:30:00Z"), NOW);
    assertThat(wait.message()).contains("window ended at 2026-12-01T01:30:00Z")
        .contains("not started");
  }

  @Test
  void anImpossibleDateIsReported() {
    var wait = CutoverWindow.check(window("2026-02-30T01:00:00Z", null), NOW);
    assertThat(wait.message()).contains("is not a time");
  }
}
