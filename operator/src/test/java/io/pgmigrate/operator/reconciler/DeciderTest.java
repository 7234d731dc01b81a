package io.pgmigrate.operator.reconciler;

import io.pgmigrate.operator.api.DatabasePhase;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.pgmigrate.operator.api.CheckResult;
import io.pgmigrate.operator.api.Method;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.api.PgMigrationSpec;
import io.pgmigrate.operator.checks.ValidationReport;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DeciderTest {

  static final Instant T0 = Instant.parse("2026-11-25T10:00:00Z");
  static final Instant T1 = Instant.parse("2026-11-25T10:05:00Z");

  static PgMigration migration(long generation) {
    var m = new PgMigration();
    m.setMetadata(new ObjectMetaBuilder().withName("m").withNamespace("ns")
        .withGeneration(generation).build());
    m.setSpec(new PgMigrationSpec());
    return m;
  }

  static ValidationReport passing() {
    return new ValidationReport(
        List.of(CheckResult.passed("a", "ok"), CheckResult.warning("b", "hmm", "do x")),
        Method.CONTINUOUS, List.of("app", "shop"));
  }

  static ValidationReport failing() {
    return new ValidationReport(
        List.of(CheckResult.passed("a", "ok"),
            CheckResult.failed("source.walLevel", "wal_level is replica", "set it")),
        Method.CONTINUOUS, List.of("app"));
  }

  /** Applies a decision the way the reconciler's status write does. */
  static PgMigration apply(PgMigration m, Decision d) {
    m.setStatus(d.status());
    return m;
  }

  @Test
  void newResourceStartsValidatingAndAsksToBeRequeued() {
    var m = migration(1);
    assertThat(Decider.needsValidation(m)).isFalse();
    var d = Decider.decide(m, null, T0);
    assertThat(d.status().getPhase()).isEqualTo(Phase.Validating);
    assertThat(d.status().getStartedAt()).isEqualTo(T0.toString());
    assertThat(d.status().getObservedGeneration()).isEqualTo(1L);
    assertThat(d.requeueAfter()).isNotNull();
    assertThat(d.events()).extracting(Decision.Event::reason).containsExactly("Validating");
    assertThat(Decider.needsValidation(apply(m, d))).isTrue();
  }

  @Test
  void passingChecksMoveToMigratingWithPendingDatabases() {
    var m = apply(migration(1), Decider.decide(migration(1), null, T0));
    var d = Decider.decide(m, passing(), T1);
    assertThat(d.status().getPhase()).isEqualTo(Phase.Migrating);
    assertThat(d.status().getMethod()).isEqualTo(Method.CONTINUOUS);
    assertThat(d.status().getProgress()).isEqualTo("0/2");
    assertThat(d.status().getDatabases()).extracting(db -> db.getName() + "=" + db.getPhase())
        .containsExactly("app=Pending", "shop=Pending");
    assertThat(d.status().getValidatedGeneration()).isEqualTo(1L);
    assertThat(d.events()).extracting(Decision.Event::reason).containsExactly("Migrating");
    var validated = Conditions.get(d.status().getConditions(), Conditions.VALIDATED);
    assertThat(validated.getStatus()).isEqualTo("True");
    assertThat(validated.getReason()).isEqualTo("ChecksPassed");
    assertThat(validated.getObservedGeneration()).isEqualTo(1L);
    assertThat(Decider.needsValidation(apply(m, d))).isFalse();
  }

  @Test
  void failedCheckFailsTheMigrationWithReasonAndNamedCheck() {
    var m = apply(migration(1), Decider.decide(migration(1), null, T0));
    var d = Decider.decide(m, failing(), T1);
    assertThat(d.status().getPhase()).isEqualTo(Phase.Failed);
    assertThat(d.status().getMessage()).contains("source.walLevel").contains("wal_level is replica");
    var ready = Conditions.get(d.status().getConditions(), Conditions.READY);
    assertThat(ready.getReason()).isEqualTo("ValidationFailed");
    assertThat(d.events()).singleElement().satisfies(e -> {
      assertThat(e.warning()).isTrue();
      assertThat(e.reason()).isEqualTo("ValidationFailed");
    });
  }

  @Test
  void theDecidedStatusSharesNoObjectWithTheCachedResource() {
    var m = apply(migration(1), Decider.decide(migration(1), null, T0));
    m = apply(m, Decider.decide(m, passing(), T0));
    var next = Decider.decide(m, null, T1).status();
    // what a step does to the new status (in place) must show as a change against the cache
    next.getDatabases().get(0).setPhase(DatabasePhase.SchemaCopy);
    next.getDatabases().get(0).setSchemaCopied(true);
    next.getConditions().get(0).setMessage("changed");
    next.getChecks().get(0).setMessage("changed");
    assertThat(m.getStatus().getDatabases().get(0).getPhase()).isEqualTo(DatabasePhase.Pending);
    assertThat(m.getStatus().getDatabases().get(0).getSchemaCopied()).isNull();
    assertThat(m.getStatus().getConditions().get(0).getMessage()).isNotEqualTo("changed");
    assertThat(m.getStatus().getChecks().get(0).getMessage()).isNotEqualTo("changed");
    assertThat(next).isNotEqualTo(m.getStatus());
  }

  @Test
  void failedStaysFailedWithoutChangeAndRestartsOnNewGeneration() {
    var m = apply(migration(1), Decider.decide(migration(1), null, T0));
    m = apply(m, Decider.decide(m, failing(), T0));
    var same = Decider.decide(m, null, T1);
    assertThat(same.status()).isEqualTo(m.getStatus());
    assertThat(same.events()).isEmpty();

    m.getMetadata().setGeneration(2L);
    var restarted = Decider.decide(m, null, T1);
    assertThat(restarted.status().getPhase()).isEqualTo(Phase.Validating);
    assertThat(restarted.status().getChecks()).isEmpty();
    assertThat(restarted.status().getStartedAt()).isEqualTo(T1.toString());
    assertThat(Decider.needsValidation(apply(m, restarted))).isTrue();
  }

  @Test
  void newRestartAnnotationValueRestartsAFailedMigration() {
    var m = apply(migration(1), Decider.decide(migration(1), null, T0));
    m = apply(m, Decider.decide(m, failing(), T0));
    m.getMetadata().setAnnotations(Map.of(PgMigration.RESTART_ANNOTATION, "try-2"));
    var d = Decider.decide(m, null, T1);
    assertThat(d.status().getPhase()).isEqualTo(Phase.Validating);
    assertThat(d.status().getRestartToken()).isEqualTo("try-2");
    assertThat(d.events().get(0).message()).contains("restart requested");
    // the same value again does not restart twice
    m = apply(m, d);
    m = apply(m, Decider.decide(m, failing(), T1));
    assertThat(Decider.decide(m, null, T1).status().getPhase()).isEqualTo(Phase.Failed);
  }

  @Test
  void validateOnlyReportsAndStaysThenContinuesWhenFlipped() {
    var m = migration(1);
    m.getSpec().setValidateOnly(true);
    m = apply(m, Decider.decide(m, null, T0));
    var d = Decider.decide(m, passing(), T0);
    assertThat(d.status().getPhase()).isEqualTo(Phase.Validating);
    assertThat(d.status().getChecks()).hasSize(2);
    assertThat(d.status().getMessage()).contains("validateOnly").startsWith("validation done");
    // the dry run says it is over
    assertThat(d.status().getCompletedAt()).isEqualTo(T0.toString());
    assertThat(Conditions.get(d.status().getConditions(), Conditions.READY).getReason())
        .isEqualTo("ValidateOnly");
    assertGitOps(d.status(), "True", "False", "False");
    m = apply(m, d);
    assertThat(Decider.needsValidation(m)).isFalse();

    m.getSpec().setValidateOnly(false);
    m.getMetadata().setGeneration(2L);
    assertThat(Decider.needsValidation(m)).isTrue();
    var flipped = Decider.decide(m, passing(), T1);
    assertThat(flipped.status().getPhase()).isEqualTo(Phase.Migrating);
    assertThat(flipped.status().getCompletedAt()).isNull();
    assertThat(flipped.status().getObservedGeneration()).isEqualTo(2L);
  }

  @Test
  void conditionTransitionTimeIsKeptWhileStatusAndReasonStay() {
    var m = migration(1);
    m.getSpec().setValidateOnly(true);
    m = apply(m, Decider.decide(m, null, T0));
    m = apply(m, Decider.decide(m, passing(), T0));
    m.getMetadata().setGeneration(2L);
    var again = Decider.decide(m, passing(), T1);
    var validated = Conditions.get(again.status().getConditions(), Conditions.VALIDATED);
    assertThat(validated.getLastTransitionTime()).isEqualTo(T0.toString());
    assertThat(validated.getObservedGeneration()).isEqualTo(2L);
  }

  @Test
  void fallbackMethodFromTheReportIsRecorded() {
    var m = apply(migration(1), Decider.decide(migration(1), null, T0));
    var report = new ValidationReport(List.of(CheckResult.passed("a", "ok")), Method.DUMP,
        List.of("app"));
    assertThat(Decider.decide(m, report, T1).status().getMethod()).isEqualTo(Method.DUMP);
  }

  @Test
  void failureSummaryIsBounded() {
    var many = java.util.stream.IntStream.range(0, 100)
        .mapToObj(i -> CheckResult.failed("c" + i, "x".repeat(50), "r")).toList();
    assertThat(Decider.failureSummary(many)).hasSizeLessThanOrEqualTo(1000).startsWith("100 checks failed");
  }

  @Test
  void theTransitionsTheStepsReportSetPhaseConditionAndEvent() {
    var status = new io.pgmigrate.operator.api.PgMigrationStatus();
    status.setPhase(Phase.Migrating);
    var events = new java.util.ArrayList<Decision.Event>();
    Decider.caughtUp(status, "1/1 database(s) replicating, lag 0 bytes", 3L, T0, events);
    assertThat(status.getPhase()).isEqualTo(Phase.Syncing);
    Decider.summarize(migration(3), status, T0);
    assertThat(Conditions.get(status.getConditions(), Conditions.READY).getReason())
        .isEqualTo("Replicating");
    Decider.succeed(status, "cut over", 3L, T1, events);
    assertThat(status.getPhase()).isEqualTo(Phase.Ready);
    assertThat(status.getCompletedAt()).isEqualTo(T1.toString());
    var ready = Conditions.get(status.getConditions(), Conditions.READY);
    assertThat(ready.getStatus()).isEqualTo("True");
    assertThat(ready.getObservedGeneration()).isEqualTo(3L);
    var syncing = new io.pgmigrate.operator.api.PgMigrationStatus();
    syncing.setPhase(Phase.Syncing);
    Decider.fail(syncing, "CutoverFailed", "no", 3L, T1, events);
    assertThat(syncing.getPhase()).isEqualTo(Phase.Failed);
    assertThat(Conditions.get(syncing.getConditions(), Conditions.READY).getReason())
        .isEqualTo("CutoverFailed");
    assertThat(events).extracting(Decision.Event::reason)
        .containsExactly("Syncing", "Ready", "CutoverFailed");
    assertThat(events.get(2).warning()).isTrue();
  }

  @Test
  void aPassThatRunsClearsTheErrorOfAnEarlierOne() {
    var m = apply(migration(1), Decider.decide(migration(1), null, T0));
    Conditions.set(m.getStatus().getConditions(), Conditions.RECONCILE_ERROR, "True",
        "UnexpectedError", "boom", 1L, T0);
    var next = Decider.decide(m, null, T1).status();
    assertThat(Conditions.get(next.getConditions(), Conditions.RECONCILE_ERROR)).isNull();
  }

  // ---- Ready, Reconciling, Stalled: what kstatus (Flux) and the Argo CD health check read ----

  /** Asserts the three conditions' statuses, each of this generation. */
  static void assertGitOps(io.pgmigrate.operator.api.PgMigrationStatus status, String ready,
      String reconciling, String stalled) {
    var types = List.of(Conditions.READY, Conditions.RECONCILING, Conditions.STALLED);
    var expected = List.of(ready, reconciling, stalled);
    for (int i = 0; i < types.size(); i++) {
      var c = Conditions.get(status.getConditions(), types.get(i));
      assertThat(c).as(types.get(i) + " in " + status.getConditions()).isNotNull();
      assertThat(c.getStatus()).as(types.get(i) + ": " + c).isEqualTo(expected.get(i));
      assertThat(c.getObservedGeneration()).as(types.get(i)).isEqualTo(status.getObservedGeneration());
    }
  }

  @Test
  void validatingAndMigratingAreReconcilingAndNotReady() {
    var m = apply(migration(1), Decider.decide(migration(1), null, T0));
    assertGitOps(m.getStatus(), "False", "True", "False");
    assertThat(Conditions.get(m.getStatus().getConditions(), Conditions.RECONCILING).getReason())
        .isEqualTo("Validating");
    var d = Decider.decide(m, passing(), T1);
    assertGitOps(d.status(), "False", "True", "False");
    var reconciling = Conditions.get(d.status().getConditions(), Conditions.RECONCILING);
    assertThat(reconciling.getReason()).isEqualTo("Migrating");
    assertThat(reconciling.getMessage()).isEqualTo(d.status().getMessage());
  }

  @Test
  void aFailedMigrationIsStalledWithTheFailuresReasonAndMessage() {
    var m = apply(migration(1), Decider.decide(migration(1), null, T0));
    var status = Decider.decide(m, failing(), T1).status();
    assertGitOps(status, "False", "False", "True");
    var stalled = Conditions.get(status.getConditions(), Conditions.STALLED);
    assertThat(stalled.getReason()).isEqualTo("ValidationFailed");
    assertThat(stalled.getMessage()).contains("source.walLevel").isEqualTo(status.getMessage());
    assertThat(stalled.getLastTransitionTime()).isEqualTo(T1.toString());

    // a restart: no longer stalled, working again
    m = apply(m, Decider.decide(m, failing(), T1));
    m.getMetadata().setGeneration(2L);
    var restarted = Decider.decide(m, null, T1).status();
    assertGitOps(restarted, "False", "True", "False");
    assertThat(restarted.getObservedGeneration()).isEqualTo(2L);
  }

  @Test
  void aFailedStatusOfAnOlderOperatorGetsStalledFromItsReadyCondition() {
    var status = new io.pgmigrate.operator.api.PgMigrationStatus();
    status.setPhase(Phase.Failed);
    status.setObservedGeneration(4L);
    Conditions.set(status.getConditions(), Conditions.READY, "False", "ApplyFailed", "why", 4L,
        T0);
    var m = migration(4);
    m.setStatus(status);
    var next = Decider.decide(m, null, T1).status();
    assertGitOps(next, "False", "False", "True");
    assertThat(Conditions.get(next.getConditions(), Conditions.STALLED).getReason())
        .isEqualTo("ApplyFailed");
  }

  @Test
  void syncingIsReadyWhileKeepReplicatingAndReconcilingOnceTheCutoverIsAskedFor() {
    var m = migration(1);
    var status = new io.pgmigrate.operator.api.PgMigrationStatus();
    status.setPhase(Phase.Migrating);
    status.setObservedGeneration(1L);
    status.getDatabases().add(
        new io.pgmigrate.operator.api.DatabaseStatus("app", DatabasePhase.Replicating));
    Decider.caughtUp(status, "1/1 database(s) replicating", 1L, T0, new java.util.ArrayList<>());
    Decider.summarize(m, status, T0);
    assertGitOps(status, "True", "False", "False");
    assertThat(Conditions.get(status.getConditions(), Conditions.READY).getReason())
        .isEqualTo("Replicating");

    // keepReplicating: false, a new generation: the cutover is work towards the new goal
    m.getMetadata().setGeneration(2L);
    m.getSpec().setKeepReplicating(false);
    status.setObservedGeneration(2L);
    Decider.summarize(m, status, T1);
    assertGitOps(status, "False", "True", "False");
    assertThat(Conditions.get(status.getConditions(), Conditions.RECONCILING).getReason())
        .isEqualTo("CuttingOver");

    // once a database has its cutover position, keepReplicating: true cannot stop it
    status.getDatabases().get(0).setCutoverLsn("0/16B3748");
    m.getSpec().setKeepReplicating(true);
    Decider.summarize(m, status, T1);
    assertGitOps(status, "False", "True", "False");

    Decider.succeed(status, "cut over", 2L, T1, new java.util.ArrayList<>());
    Decider.summarize(m, status, T1);
    assertGitOps(status, "True", "False", "False");
    assertThat(Conditions.get(status.getConditions(), Conditions.READY).getReason())
        .isEqualTo("Migrated");
  }

  @Test
  void validateOnlyIsReadyOnlyForTheGenerationItValidated() {
    var m = migration(1);
    m.getSpec().setValidateOnly(true);
    m = apply(m, Decider.decide(m, null, T0));
    m = apply(m, Decider.decide(m, passing(), T0));
    assertGitOps(m.getStatus(), "True", "False", "False");
    // a failed check is Failed (Stalled), never a Ready dry run
    var failed = migration(1);
    failed.getSpec().setValidateOnly(true);
    failed = apply(failed, Decider.decide(failed, null, T0));
    assertGitOps(Decider.decide(failed, failing(), T0).status(), "False", "False", "True");
    // a new generation is validated again: not Ready until then
    m.getMetadata().setGeneration(2L);
    assertGitOps(Decider.decide(m, null, T1).status(), "False", "True", "False");
  }
}
