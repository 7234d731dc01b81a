package io.pgmigrate.operator.reconciler;

import io.pgmigrate.operator.api.DatabasePhase;
import io.pgmigrate.operator.api.CheckResult;
import io.pgmigrate.operator.api.DatabaseStatus;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.api.PgMigrationStatus;
import io.pgmigrate.operator.checks.ValidationReport;
import io.pgmigrate.operator.reconciler.Decision.Event;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * The phase machine, pure: (resource with its status, what was observed, now) to (next status,
 * events, requeue), and every phase transition: Validating's own in {@link #decide}, and the
 * ones the method steps report ({@link #caughtUp}, {@link #succeed}, {@link #fail}). No
 * client, no database: unit-tested directly. The machine is drawn in the README.
 */
public final class Decider {

  /**
   * Every phase transition of a migration: from each phase (null: a new resource), the phases it
   * may move to. The README draws the same edges, and a test keeps the two equal.
   */
  static final Map<Phase, Set<Phase>> EDGES = edges();

  private static Map<Phase, Set<Phase>> edges() {
    var e = new HashMap<Phase, Set<Phase>>();
    e.put(null, EnumSet.of(Phase.Validating));
    e.put(Phase.Validating, EnumSet.of(Phase.Migrating, Phase.Failed));
    e.put(Phase.Migrating, EnumSet.of(Phase.Syncing, Phase.Ready, Phase.Failed));
    e.put(Phase.Syncing, EnumSet.of(Phase.Ready, Phase.Failed));
    e.put(Phase.Ready, EnumSet.noneOf(Phase.class));
    e.put(Phase.Failed, EnumSet.of(Phase.Validating));
    return Collections.unmodifiableMap(e);
  }

  /**
   * Moves the migration to {@code to} (staying is no move); an edge the machine does not have is
   * a bug, refused before status changes.
   */
  private static void enter(PgMigrationStatus status, Phase to) {
    if (status.getPhase() != to && !EDGES.get(status.getPhase()).contains(to)) {
      throw new IllegalStateException("no transition from " + status.getPhase() + " to " + to);
    }
    status.setPhase(to);
  }

  /** Requeue at once: used after a status write that must be seen before the next step. */
  static final Duration NOW = Duration.ofMillis(1);

  private Decider() {}

  /** True when the checks must run before {@link #decide} can move on. */
  public static boolean needsValidation(PgMigration m) {
    var s = m.getStatus();
    return s != null
        && s.getPhase() == Phase.Validating
        && !Objects.equals(s.getValidatedGeneration(), m.getMetadata().getGeneration());
  }

  /**
   * The next status of a pass before the method step runs, with Ready, Reconciling and Stalled
   * already {@link #summarize summarized} (the reconciler summarizes again after the step).
   */
  public static Decision decide(PgMigration m, ValidationReport report, Instant now) {
    var decision = transitions(m, report, now);
    summarize(m, decision.status(), now);
    return decision;
  }

  private static Decision transitions(PgMigration m, ValidationReport report, Instant now) {
    var status = copy(m.getStatus());
    // this pass runs: an error of an earlier one is over (it sets the condition again if not)
    status.getConditions().removeIf(c -> Conditions.RECONCILE_ERROR.equals(c.getType()));
    var generation = m.getMetadata().getGeneration();
    var token = m.restartToken();
    var events = new ArrayList<Event>();

    if (status.getPhase() == null) {
      start(status, token, now, "running the pre-flight checks", generation);
      events.add(new Event(false, "Validating", "Running the pre-flight checks"));
      status.setObservedGeneration(generation);
      return new Decision(status, events, NOW);
    }
    if (status.getPhase() == Phase.Failed) {
      boolean specChanged = !Objects.equals(status.getObservedGeneration(), generation);
      boolean restart = !Objects.equals(status.getRestartToken(), token);
      if (specChanged || restart) {
        var why = restart ? "restart requested" : "spec changed";
        start(status, token, now, why + ": running the pre-flight checks again", generation);
        events.add(new Event(false, "Validating", "Running the pre-flight checks again (" + why + ")"));
        status.setObservedGeneration(generation);
        return new Decision(status, events, NOW);
      }
    }
    status.setObservedGeneration(generation);

    if (status.getPhase() == Phase.Validating && report != null) {
      applyReport(m, status, report, now, events);
    }
    return new Decision(status, events, null);
  }

  private static void applyReport(
      PgMigration m, PgMigrationStatus status, ValidationReport report, Instant now,
      List<Event> events) {
    var generation = m.getMetadata().getGeneration();
    status.setChecks(new ArrayList<>(report.checks()));
    status.setValidatedGeneration(generation);
    status.setMethod(report.method());
    status.setTargetMajorVersion(report.targetMajor());
    status.setEstimate(report.estimate());
    status.setDatabases(
        report.databases().stream().map(d -> new DatabaseStatus(d, DatabasePhase.Pending)).collect(
            Collectors.toCollection(ArrayList::new)));
    status.setProgress(report.databases().isEmpty() ? null : "0/" + report.databases().size());

    var failed = report.failed();
    var warnings = report.warnings().size();
    if (!failed.isEmpty()) {
      var message = failureSummary(failed);
      Conditions.set(status.getConditions(), Conditions.VALIDATED, "False", "ValidationFailed",
          message, generation, now);
      fail(status, "ValidationFailed", message, generation, now, events);
      return;
    }
    var passed =
        "all " + report.checks().size() + " checks passed"
            + (warnings > 0 ? " (" + warnings + " with warnings)" : "");
    Conditions.set(status.getConditions(), Conditions.VALIDATED, "True", "ChecksPassed", passed,
        generation, now);
    if (m.getSpec().isValidateOnly()) {
      // the dry run is over: nothing more happens until validateOnly is false
      var message = "validation done, nothing changed (validateOnly): " + passed
          + "; set validateOnly: false to start the migration";
      status.setCompletedAt(now.toString());
      status.setMessage(message);
      // Ready (the dry run reached its goal): summarize
      events.add(new Event(false, "Validated", message));
      return;
    }
    var message =
        passed + "; migrating " + report.databases().size() + " database(s) with method "
            + report.method();
    enter(status, Phase.Migrating);
    status.setCompletedAt(null);
    status.setMessage(message);
    Conditions.set(status.getConditions(), Conditions.READY, "False", "Migrating", message,
        generation, now);
    events.add(new Event(false, "Migrating", message));
  }

  // ---- the transitions the method steps report (every phase change lives in this class) ----

  /** Migrating -> Syncing (continuous): every table replicates and the lag is small. */
  static void caughtUp(PgMigrationStatus status, String message, Long generation, Instant now,
      List<Event> events) {
    enter(status, Phase.Syncing);
    // Ready while replicating is what was asked for, else Reconciling towards the cutover:
    // summarize, which knows keepReplicating
    events.add(new Event(false, "Syncing", message));
  }

  /** Migrating (dump) or Syncing (continuous, after the cutover) -> Ready. */
  static void succeed(PgMigrationStatus status, String message, Long generation, Instant now,
      List<Event> events) {
    enter(status, Phase.Ready);
    status.setCompletedAt(now.toString());
    status.setMessage(message);
    Conditions.set(status.getConditions(), Conditions.READY, "True", "Migrated", message,
        generation, now);
    events.add(new Event(false, "Ready", message));
  }

  /** Any phase -> Failed, with a reason (a CamelCase constant) and a message with the remedy. */
  static void fail(PgMigrationStatus status, String reason, String message,
      Long generation, Instant now, List<Event> events) {
    enter(status, Phase.Failed);
    status.setMessage(message);
    DatabaseMachine.stopUnfinished(status.getDatabases(), reason);
    Conditions.set(status.getConditions(), Conditions.READY, "False", reason, message,
        generation, now);
    events.add(new Event(true, reason, message));
  }

  // ---- the conditions GitOps tools read ----

  /**
   * Sets Ready, Reconciling and Stalled from the phase, the spec and the rest of status, and
   * their observedGeneration to the resource's generation. What each means is in {@link
   * Conditions}; in short, Ready is True once the migration is where its spec asks it to be:
   *
   * <ul>
   *   <li>Ready: the data is on the target (Ready True, reason Migrated);
   *   <li>Validating with validateOnly, the checks of this generation passed: the dry run's
   *       goal (Ready True, reason ValidateOnly);
   *   <li>Syncing with keepReplicating: true, no cutover begun: replication is the steady state
   *       the spec asks for (Ready True, reason Replicating) until keepReplicating: false;
   *   <li>Syncing while cutting over, Validating, Migrating: Reconciling True, Ready False,
   *       both with the phase's reason (CuttingOver, Validating, Migrating);
   *   <li>Failed: Stalled True with the failure's reason and message, Ready False likewise.
   * </ul>
   *
   * Called last in every pass, after the method step, so the three never describe an older
   * state than the phase does. Pure.
   */
  public static void summarize(PgMigration m, PgMigrationStatus status, Instant now) {
    var phase = status.getPhase();
    if (phase == null) {
      return;
    }
    var generation = m.getMetadata().getGeneration();
    var conditions = status.getConditions();
    var message = status.getMessage() == null ? "" : status.getMessage();
    if (phase == Phase.Failed) {
      // fail() put the reason in Ready; an older operator's status may lack Stalled
      var ready = Conditions.get(conditions, Conditions.READY);
      var failed = ready != null && "False".equals(ready.getStatus());
      var reason = failed ? ready.getReason() : "Failed";
      var why = failed && ready.getMessage() != null ? ready.getMessage() : message;
      Conditions.set(conditions, Conditions.READY, "False", reason, why, generation, now);
      Conditions.set(conditions, Conditions.RECONCILING, "False", reason,
          "stopped: change the spec or set a new " + PgMigration.RESTART_ANNOTATION
              + " value to start over", generation, now);
      Conditions.set(conditions, Conditions.STALLED, "True", reason, why, generation, now);
      return;
    }
    String goal = null;
    String working = phase.name();
    if (phase == Phase.Ready) {
      goal = "Migrated";
    } else if (phase == Phase.Validating && m.getSpec().isValidateOnly()
        && Objects.equals(status.getValidatedGeneration(), generation)
        && isTrue(conditions, Conditions.VALIDATED)) {
      goal = "ValidateOnly";
    } else if (phase == Phase.Syncing) {
      if (m.getSpec().isKeepReplicating() && !cutoverBegun(status)) {
        goal = "Replicating";
      } else {
        working = "CuttingOver";
      }
    }
    var reason = goal != null ? goal : working;
    Conditions.set(conditions, Conditions.READY, goal != null ? "True" : "False", reason, message,
        generation, now);
    Conditions.set(conditions, Conditions.RECONCILING, goal != null ? "False" : "True", reason,
        goal != null ? "nothing to do until the spec changes" : message, generation, now);
    Conditions.set(conditions, Conditions.STALLED, "False", reason, "not failed", generation,
        now);
  }

  /** A database got its cutover position: the cutover goes on even if keepReplicating flips. */
  private static boolean cutoverBegun(PgMigrationStatus status) {
    return status.getDatabases().stream().anyMatch(d -> d.getCutoverLsn() != null);
  }

  private static boolean isTrue(List<io.fabric8.kubernetes.api.model.Condition> conditions,
      String type) {
    var c = Conditions.get(conditions, type);
    return c != null && "True".equals(c.getStatus());
  }

  /** "2 checks failed: a (why), b (why)". */
  static String failureSummary(List<CheckResult> failed) {
    var parts =
        failed.stream().map(c -> c.getName() + " (" + c.getMessage() + ")").toList();
    var text = failed.size() + (failed.size() == 1 ? " check" : " checks") + " failed: "
        + String.join("; ", parts);
    return text.length() > 1000 ? text.substring(0, 997) + "..." : text;
  }

  private static void start(
      PgMigrationStatus status, String token, Instant now, String message, Long generation) {
    enter(status, Phase.Validating);
    status.setRestartToken(token);
    status.setValidatedGeneration(null);
    status.setStartedAt(now.toString());
    status.setCompletedAt(null);
    status.setCutoverStartedAt(null);
    status.setMessage(message);
    status.setChecks(new ArrayList<>());
    status.setEstimate(null);
    status.setDatabases(new ArrayList<>());
    status.setProgress(null);
    status.setLag(null);
    status.getConditions().removeIf(c -> Conditions.TARGET_PREPARED.equals(c.getType())
        || Conditions.REPLICATION_REMOVED.equals(c.getType()));
    Conditions.set(status.getConditions(), Conditions.VALIDATED, "Unknown", "Checking",
        "running the pre-flight checks", generation, now);
    Conditions.set(status.getConditions(), Conditions.READY, "False", "Validating",
        "running the pre-flight checks", generation, now);
  }

  /** A deep copy: the cached resource's status must never change under the informer. */
  private static PgMigrationStatus copy(PgMigrationStatus s) {
    return s == null ? new PgMigrationStatus() : s.copy();
  }
}
