package io.pgmigrate.operator.reconciler;

import io.pgmigrate.operator.api.DatabasePhase;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgmigrate.operator.api.DatabaseStatus;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ErrorWatchTest {

  static final Instant T0 = Instant.parse("2026-11-29T10:00:00Z");

  @Test
  void errorsOnEveryRetryForNinetySecondsArePersistent() {
    var db = new DatabaseStatus("app", DatabasePhase.Copying);
    assertThat(ErrorWatch.persistent(db, 0, false, T0)).isFalse();
    assertThat(ErrorWatch.failing(db)).isFalse();
    long errors = 0;
    for (int s = 5; s < 95; s += 5) {
      errors++;
      assertThat(ErrorWatch.persistent(db, errors, false, T0.plusSeconds(s))).as("at %d s", s).isFalse();
      assertThat(ErrorWatch.failing(db)).isTrue();
    }
    assertThat(ErrorWatch.persistent(db, errors + 1, false, T0.plusSeconds(95))).isTrue();
    assertThat(db.getReplicationErrors()).isEqualTo(errors + 1);
    assertThat(db.getErroringSince()).isEqualTo(T0.plusSeconds(5).toString());
  }

  @Test
  void aBurstOfErrorsThenQuietIsForgotten() {
    var db = new DatabaseStatus("app", DatabasePhase.Replicating);
    // a source outage: six errors in 30 s, then none
    for (int s = 0; s <= 30; s += 5) {
      ErrorWatch.persistent(db, s / 5 + 1, false, T0.plusSeconds(s));
    }
    assertThat(ErrorWatch.failing(db)).isTrue();
    assertThat(ErrorWatch.persistent(db, 7, false, T0.plusSeconds(50))).isFalse();
    assertThat(ErrorWatch.persistent(db, 7, false, T0.plusSeconds(70))).isFalse();
    assertThat(ErrorWatch.failing(db)).isFalse();
    // much later, one more error starts a new window instead of failing at once
    assertThat(ErrorWatch.persistent(db, 8, false, T0.plusSeconds(200))).isFalse();
    assertThat(db.getErroringSince()).isEqualTo(T0.plusSeconds(200).toString());
  }

  @Test
  void anotherTableSynchronisedStartsTheWindowAgain() {
    var db = new DatabaseStatus("app", DatabasePhase.Copying);
    for (int s = 0; s <= 80; s += 5) {
      ErrorWatch.persistent(db, s / 5 + 1, false, T0.plusSeconds(s));
    }
    // a table finished while another kept failing for want of a slot: not given up yet
    assertThat(ErrorWatch.persistent(db, 18, true, T0.plusSeconds(85))).isFalse();
    long errors = 18;
    for (int s = 90; s < 175; s += 5) {
      assertThat(ErrorWatch.persistent(db, ++errors, false, T0.plusSeconds(s))).isFalse();
    }
    assertThat(ErrorWatch.persistent(db, ++errors, false, T0.plusSeconds(175))).isTrue();
  }

  @Test
  void aCounterThatWentBackwardsIsNoNewError() {
    // statistics reset, or an older server without counters (-1)
    var db = new DatabaseStatus("app", DatabasePhase.Replicating);
    ErrorWatch.persistent(db, 4, false, T0);
    assertThat(ErrorWatch.persistent(db, 0, false, T0.plusSeconds(40))).isFalse();
    assertThat(ErrorWatch.failing(db)).isFalse();
    assertThat(ErrorWatch.persistent(db, -1, false, T0.plusSeconds(400))).isFalse();
  }
}
