package io.pgmigrate.operator.dump;

import io.pgmigrate.operator.api.DatabasePhase;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.PodBuilder;
import io.pgmigrate.operator.api.DatabaseStatus;
import io.pgmigrate.operator.dump.DumpPlanner.PodView;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DumpPlannerTest {

  static List<DatabaseStatus> dbs(String... names) {
    return java.util.Arrays.stream(names).map(n -> new DatabaseStatus(n, DatabasePhase.Pending)).toList();
  }

  @Test
  void startsTheFirstAttemptForEveryDatabaseWithoutPods() {
    var plan = DumpPlanner.plan(dbs("a", "b"), Map.of(), 3);
    assertThat(plan.create()).containsExactly(new DumpPlanner.Create("a", 1),
        new DumpPlanner.Create("b", 1));
    assertThat(plan.databases()).extracting(DatabaseStatus::getPhase).containsOnly(DatabasePhase.Copying);
    assertThat(plan.allDone()).isFalse();
  }

  @Test
  void runningPodsAreWaitedForAndSucceededOnesCount() {
    var plan = DumpPlanner.plan(dbs("a", "b"), Map.of(
        "a", List.of(new PodView("p-a-1", 1, "Running", null)),
        "b", List.of(new PodView("p-b-1", 1, "Succeeded", null))), 3);
    assertThat(plan.create()).isEmpty();
    assertThat(plan.done()).isEqualTo(1);
    assertThat(plan.databases().get(1).getPhase()).isEqualTo(DatabasePhase.Done);
    assertThat(plan.databases().get(0).getPod()).isEqualTo("p-a-1");
  }

  /** Copied and verified is final: a Pod gone since (deleted, garbage-collected) copies nothing again. */
  @Test
  void aDoneDatabaseWhosePodIsGoneIsNeverCopiedAgain() {
    var done = new DatabaseStatus("a", DatabasePhase.Done);
    done.setMessage("copied");
    var plan = DumpPlanner.plan(List.of(done, new DatabaseStatus("b", DatabasePhase.Copying)),
        Map.of("b", List.of(new PodView("p-b-1", 1, "Running", null))), 3);
    assertThat(plan.create()).isEmpty();
    assertThat(plan.done()).isEqualTo(1);
    assertThat(plan.databases().get(0).getPhase()).isEqualTo(DatabasePhase.Done);
    assertThat(plan.databases().get(0).getMessage()).isEqualTo("copied");
  }

  @Test
  void aFailedPodIsRetriedWithTheNextAttemptUntilTheLimit() {
    var retry = DumpPlanner.plan(dbs("a"), Map.of("a", List.of(
        new PodView("p-a-1", 1, "Failed", "exit code 1: boom"))), 3);
    assertThat(retry.create()).containsExactly(new DumpPlanner.Create("a", 2));
    assertThat(retry.databases().get(0).getMessage()).contains("boom").contains("attempt 2 of 3");
    assertThat(retry.failure()).isNull();

    var exhausted = DumpPlanner.plan(dbs("a"), Map.of("a", List.of(
        new PodView("p-a-1", 1, "Failed", "one"),
        new PodView("p-a-3", 3, "Failed", "exit code 1: last words"),
        new PodView("p-a-2", 2, "Failed", "two"))), 3);
    assertThat(exhausted.create()).isEmpty();
    assertThat(exhausted.failure()).contains("failed 3 times").contains("last words");
    assertThat(exhausted.databases().get(0).getPhase()).isEqualTo(DatabasePhase.Failed);
  }

  @Test
  void differingRowCountsFailAtOnceWithEachTableAndBothCounts() {
    var pod = new PodBuilder().withNewMetadata().withName("p-a-1")
        .addToLabels(DumpPods.ATTEMPT, "1").endMetadata()
        .withNewStatus().withPhase("Failed").addNewContainerStatus().withNewState()
        .withNewTerminated().withExitCode(DumpPods.VERIFICATION_FAILED_EXIT_CODE)
        .withMessage("""
            building indexes and constraints with 2 jobs
            row count differs: "public"."lossy": 100 row(s) in the source's snapshot, 90 on the target
            row count differs: "s"."gone": 5 row(s) in the source's snapshot, missing on the target
            row digest differs: "s"."edited": 12 row(s) on both sides, but their contents differ
            verification failed: 3 of 7 table(s) differ from the source's snapshot
            """)
        .endTerminated().endState().endContainerStatus().endStatus().build();
    var view = PodView.of(pod);
    assertThat(view.verificationFailed()).isTrue();
    assertThat(view.message()).isEqualTo("3 of 7 table(s) differ from the source's snapshot:"
        + " \"public\".\"lossy\": 100 row(s) in the source's snapshot, 90 on the target;"
        + " \"s\".\"gone\": 5 row(s) in the source's snapshot, missing on the target;"
        + " \"s\".\"edited\": 12 row(s) on both sides, but their contents differ");

    var plan = DumpPlanner.plan(dbs("a"), Map.of("a", List.of(view)), 3);
    assertThat(plan.create()).isEmpty();
    assertThat(plan.verificationFailed()).isTrue();
    assertThat(plan.failure()).startsWith("verification failed: database a: 3 of 7 table(s)")
        .contains("100 row(s) in the source's snapshot, 90 on the target");
    assertThat(plan.databases().get(0).getPhase()).isEqualTo(DatabasePhase.Failed);
    assertThat(plan.databases().get(0).getMessage()).contains("\"public\".\"lossy\"");
  }

  @Test
  void otherExitCodesAreRetriedAndAreNoVerificationFailure() {
    var view = new PodView("p-a-1", 1, "Failed", "exit code 3: ERROR: boom", 3);
    assertThat(view.verificationFailed()).isFalse();
    var plan = DumpPlanner.plan(dbs("a"), Map.of("a", List.of(view)), 3);
    assertThat(plan.create()).containsExactly(new DumpPlanner.Create("a", 2));
    assertThat(plan.verificationFailed()).isFalse();
  }

  @Test
  void allSucceededIsDone() {
    var plan = DumpPlanner.plan(dbs("a"), Map.of("a", List.of(
        new PodView("p-a-1", 1, "Failed", "x"), new PodView("p-a-2", 2, "Succeeded", null))), 3);
    assertThat(plan.allDone()).isTrue();
    assertThat(plan.databases().get(0).getMessage()).contains("attempt 2");
  }

  @Test
  void longTerminationMessagesKeepTheirLastLines() {
    var text = "line1\nline2\nline3\nline4\nline5\nline6\nline7\nERROR: the reason";
    assertThat(DumpPlanner.lastLines(text, 3)).isEqualTo("line6 | line7 | ERROR: the reason");
  }
}
