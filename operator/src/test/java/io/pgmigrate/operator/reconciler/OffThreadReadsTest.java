package io.pgmigrate.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.pgmigrate.operator.api.DatabasePhase;
import io.pgmigrate.operator.api.DatabaseStatus;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.api.PgMigrationSpec;
import io.pgmigrate.operator.api.SslMode;
import io.pgmigrate.operator.checks.ValidationReport;
import io.pgmigrate.operator.checks.Validator;
import io.pgmigrate.operator.postgres.ConnectionSpec;
import io.pgmigrate.operator.postgres.PgConnector;
import io.pgmigrate.operator.postgres.Timeouts;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The bookkeeping of the reads run off the reconcile thread, with the servers replaced by
 * latches: which pass gets which result, and what a pass that asks while a read runs gets.
 */
class OffThreadReadsTest {

  static PgMigration migration(long generation) {
    var m = new PgMigration();
    m.setMetadata(new ObjectMetaBuilder().withName("m").withNamespace("ns").withUid("uid-1")
        .withGeneration(generation).build());
    m.setSpec(new PgMigrationSpec());
    return m;
  }

  /** Checks that end when the test says, counting their runs. */
  static final class HeldValidator extends Validator {
    final AtomicInteger runs = new AtomicInteger();
    volatile CountDownLatch release = new CountDownLatch(1);
    volatile RuntimeException failure;

    HeldValidator() {
      super(null, null);
    }

    @Override
    public ValidationReport validate(String namespace, PgMigrationSpec spec) {
      runs.incrementAndGet();
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (failure != null) {
        throw failure;
      }
      return new ValidationReport(List.of(), null, List.of());
    }
  }

  @Test
  void theChecksRunOnceAGenerationAndTheirEndWakesThePassThatTakesTheReport() {
    var validator = new HeldValidator();
    var threads = new OffThread();
    var woken = new CopyOnWriteArrayList<String>();
    threads.wakeWith(id -> woken.add(id.getName()));
    var checks = new BackgroundChecks(validator, threads);
    var m = migration(1);

    checks.start(m);
    assertThat(checks.take(m)).isEmpty();
    assertThat(checks.take(m)).isEmpty();
    validator.release.countDown();
    await().atMost(Duration.ofSeconds(10)).until(() -> woken.contains("m"));
    assertThat(checks.take(m)).isPresent();
    assertThat(validator.runs).hasValue(1);

    // the report was taken: a later need (a restart) checks again
    validator.release = new CountDownLatch(1);
    assertThat(checks.take(m)).isEmpty();
    // the second run started on the pool: it counts itself there
    await().atMost(Duration.ofSeconds(10)).until(() -> validator.runs.get() == 2);
    validator.release.countDown();
  }

  @Test
  void aReportOfAnOlderSpecIsDroppedAndAFailureIsRethrownOnTheCallingThread() {
    var validator = new HeldValidator();
    var checks = new BackgroundChecks(validator, new OffThread());
    validator.release.countDown();
    checks.start(migration(1));
    await().atMost(Duration.ofSeconds(10)).until(() -> validator.runs.get() == 1);

    // the spec changed before the report was taken: generation 2 is checked, 1's is not used
    var changed = migration(2);
    validator.failure = new IllegalStateException("reading Secret x: forbidden");
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThatThrownBy(() -> checks.take(changed)).hasMessage("reading Secret x: forbidden"));
    assertThat(validator.runs).hasValue(2);
    // the next pass starts them again
    validator.failure = null;
    await().atMost(Duration.ofSeconds(10)).until(() -> checks.take(changed).isPresent());
  }

  /** A target whose every login waits for the test, then does not answer. */
  static final class HeldConnector extends PgConnector {
    final List<String> opened = new CopyOnWriteArrayList<>();
    volatile CountDownLatch release = new CountDownLatch(1);

    HeldConnector() {
      super(Timeouts.DEFAULT);
    }

    @Override
    public Connection open(ConnectionSpec spec) throws SQLException {
      opened.add(spec.database());
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      throw new SQLException("Connection attempt timed out.", "08001");
    }
  }

  @Test
  void aDatabaseAskedForWhileAReadRunsGetsAReadOfItsOwnAfterIt() {
    var connector = new HeldConnector();
    var totals = new TargetTotals(new OffThread(), connector);
    var m = migration(1);
    var target = new ConnectionSpec("db", 5432, "postgres", "u", "p", SslMode.DISABLE, null);
    var statuses = List.of(new DatabaseStatus("a", DatabasePhase.Copying),
        new DatabaseStatus("b", DatabasePhase.Copying));

    assertThat(totals.refresh(m, () -> target, statuses, List.of("a", "b"), false)).isFalse();
    // b's copy ended while that read ran: its final numbers need a read that starts later
    assertThat(totals.refresh(m, () -> target, statuses, List.of("b"), true)).isFalse();
    await().atMost(Duration.ofSeconds(10)).until(() -> connector.opened.equals(List.of("a")));
    connector.release.countDown();
    // a target that did not answer is not asked for b in the same read: b gets the next one,
    // which the pass that finds the first one ended starts
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      totals.refresh(m, () -> target, statuses, List.of(), true);
      return connector.opened.size() == 2;
    });
    assertThat(connector.opened).containsExactly("a", "b");
    await().atMost(Duration.ofSeconds(10)).until(() ->
        totals.refresh(m, () -> target, statuses, List.of(), true));
    // nothing read: the numbers stay as they were
    assertThat(statuses).allSatisfy(d -> assertThat(d.getRowsCopied()).isNull());
    // a missing Secret: nothing to read, nothing to wait for
    assertThat(totals.refresh(m, () -> null, statuses, List.of("a"), true)).isTrue();
  }
}
