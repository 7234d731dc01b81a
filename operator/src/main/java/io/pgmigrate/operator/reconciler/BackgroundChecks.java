package io.pgmigrate.operator.reconciler;

import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.checks.ValidationReport;
import io.pgmigrate.operator.checks.Validator;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The pre-flight checks of each migration, run {@link OffThread off the reconcile thread}: the
 * first pass that needs them starts them, the pass their end triggers takes the report. A report
 * belongs to the generation whose spec it checked; one of an older generation is dropped.
 */
final class BackgroundChecks {

  /** The checks of one generation of one migration, running or done. */
  private record Run(long generation, CompletableFuture<ValidationReport> report) {}

  private final Validator validator;
  private final OffThread threads;
  /** By the migration's UID: at most one run each. */
  private final Map<String, Run> runs = new ConcurrentHashMap<>();

  BackgroundChecks(Validator validator, OffThread threads) {
    this.validator = validator;
    this.threads = threads;
  }

  /** Starts the checks of the migration's current spec, unless they run or ran already. */
  void start(PgMigration m) {
    var generation = generation(m);
    runs.compute(m.getMetadata().getUid(), (uid, run) ->
        run != null && run.generation() == generation ? run
            : new Run(generation, threads.run(m, true, () -> validator.validate(
                m.getMetadata().getNamespace(), m.getSpec()))));
  }

  /**
   * The report of the checks of the migration's current spec once they ended (then forgotten: a
   * later need checks again), else empty, after starting them when they were not running. An
   * exception of the checks is rethrown here, and the next pass starts them again.
   */
  Optional<ValidationReport> take(PgMigration m) {
    start(m);
    var uid = m.getMetadata().getUid();
    var run = runs.get(uid);
    if (!run.report().isDone()) {
      return Optional.empty();
    }
    runs.remove(uid, run);
    return Optional.of(OffThread.resultOf(run.report()));
  }

  /** The migration is gone: a report still to come is not kept. */
  void forget(PgMigration m) {
    runs.remove(m.getMetadata().getUid());
  }

  private static long generation(PgMigration m) {
    return Objects.requireNonNullElse(m.getMetadata().getGeneration(), 0L);
  }
}
