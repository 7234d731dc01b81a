package io.pgmigrate.operator.reconciler;

import io.fabric8.kubernetes.api.model.Pod;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.api.PgMigrationStatus;
import java.time.Instant;
import java.util.List;

/**
 * What one migration method does after Validating, one implementation per method (dump,
 * continuous), picked by status.method. A step observes and acts, records per-database progress
 * in the status it is given, and reports phase changes through {@link Decider}.
 */
interface MethodStep {

  /** True in the phases this method works in. */
  boolean runsIn(Phase phase);

  /** One pass over the migration's databases. */
  StepResult run(PgMigration m, PgMigrationStatus status, List<Pod> pods, Instant now);
}
