package io.pgmigrate.operator.checks;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.pgmigrate.operator.api.CheckOutcome;
import io.pgmigrate.operator.api.DatabaseStatus;
import io.pgmigrate.operator.api.Endpoint;
import io.pgmigrate.operator.api.Method;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.api.PgMigrationSpec;
import io.pgmigrate.operator.api.PgMigrationStatus;
import io.pgmigrate.operator.api.Phase;
import java.util.List;
import org.junit.jupiter.api.Test;

class EstimatesTest {

  static final long GB = 1L << 30;

  @Test
  void freeDiskBelowTheHeadroomWarnsWithARemedyAndNeverFails() {
    var low = Estimates.freeDiskCheck(10 * GB, new Estimates.FreeDisk(12 * GB, "12 GB free"));
    assertThat(low.getName()).isEqualTo("target.freeDisk");
    assertThat(low.getResult()).isEqualTo(CheckOutcome.Warning);
    assertThat(low.getMessage()).contains("only 12 GB free").contains("1.3x the 10 GB")
        .contains("13 GB");
    assertThat(low.getRemedy()).contains("at least 13 GB");

    var enough = Estimates.freeDiskCheck(10 * GB, new Estimates.FreeDisk(14 * GB, "14 GB free"));
    assertThat(enough.getResult()).isEqualTo(CheckOutcome.Passed);

    var unknown = Estimates.freeDiskCheck(10 * GB,
        new Estimates.FreeDisk(null, Estimates.NOT_VISIBLE));
    assertThat(unknown.getResult()).isEqualTo(CheckOutcome.Passed);
    assertThat(unknown.getMessage()).startsWith("not checked: the target's free disk is not"
        + " visible to this login");
  }

  @Test
  void theLatestDumpBetweenTheSameServersGivesTheRateOthersDoNot() {
    var spec = spec("src", "dst");
    var older = done("older", spec("src", "dst"), Method.DUMP, "2026-11-01T10:00:00Z",
        "2026-11-01T10:01:40Z", 100_000_000L);
    var newer = done("newer", spec("src", "dst"), Method.DUMP, "2026-11-02T10:00:00Z",
        "2026-11-02T10:00:50Z", 100_000_000L);
    var elsewhere = done("elsewhere", spec("src", "other"), Method.DUMP, "2026-11-03T10:00:00Z",
        "2026-11-03T10:00:10Z", 100_000_000L);
    var continuous = done("cont", spec("src", "dst"), Method.CONTINUOUS,
        "2026-11-04T10:00:00Z", "2026-11-04T10:00:10Z", 100_000_000L);
    var rate = Estimates.earlierRate(List.of(older, newer, elsewhere, continuous), spec);
    assertThat(rate).isPresent();
    assertThat(rate.get().bytesPerSecond()).isEqualTo(2_000_000.0);
    assertThat(rate.get().basis()).contains("migration newer").contains("50 s");

    assertThat(Estimates.earlierRate(List.of(elsewhere, continuous), spec)).isEmpty();
    var running = done("running", spec("src", "dst"), Method.DUMP, "2026-11-02T10:00:00Z",
        "2026-11-02T10:00:50Z", 100_000_000L);
    running.getStatus().setPhase(Phase.Migrating);
    assertThat(Estimates.earlierRate(List.of(running), spec)).isEmpty();
  }

  @Test
  void durationsReadAsEstimates() {
    assertThat(Estimates.duration(0.2)).isEqualTo("~1 s");
    assertThat(Estimates.duration(42)).isEqualTo("~42 s");
    assertThat(Estimates.duration(240)).isEqualTo("~4 min");
    assertThat(Estimates.duration(9000)).isEqualTo("~2.5 h");
    assertThat(Estimates.elapsed(190)).isEqualTo("3 min 10 s");
  }

  @Test
  void walTextSaysWhatAStalledSlotWouldKeep() {
    assertThat(Estimates.walText(1024 * 1024 * 20, 1024 * 1024, 3.0))
        .startsWith("20 MB per minute (1024 kB in 3.0 s by pg_current_wal_insert_lsn")
        .endsWith("a stalled replication slot would retain ~1200 MB per hour");
  }

  static PgMigrationSpec spec(String source, String target) {
    var spec = new PgMigrationSpec();
    var s = new Endpoint();
    s.setHost(source);
    var t = new Endpoint();
    t.setHost(target);
    spec.setSource(s);
    spec.setTarget(t);
    return spec;
  }

  static PgMigration done(String name, PgMigrationSpec spec, Method method, String started,
      String completed, long bytes) {
    var m = new PgMigration();
    m.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("ns").build());
    m.setSpec(spec);
    var status = new PgMigrationStatus();
    status.setPhase(Phase.Ready);
    status.setMethod(method);
    status.setStartedAt(started);
    status.setCompletedAt(completed);
    var db = new DatabaseStatus();
    db.setName("db");
    db.setBytesCopied(bytes);
    status.setDatabases(new java.util.ArrayList<>(List.of(db)));
    m.setStatus(status);
    return m;
  }
}
