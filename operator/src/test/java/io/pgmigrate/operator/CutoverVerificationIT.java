package io.pgmigrate.operator;

import static io.pgmigrate.operator.ContinuousMigrationIT.deleteAndWait;
import static io.pgmigrate.operator.ContinuousMigrationIT.ourObjects;
import static io.pgmigrate.operator.ContinuousMigrationIT.seed;
import static io.pgmigrate.operator.ContinuousMigrationIT.source;
import static io.pgmigrate.operator.OperatorValidationIT.awaitPhase;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClientException;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.api.Verify;
import io.pgmigrate.operator.reconciler.Conditions;
import io.pgmigrate.operator.testing.OperatorExtension;
import io.pgmigrate.operator.testing.PostgresPair;
import io.pgmigrate.operator.testing.ReconnectingWriter;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The continuous method's verification at a fenced cutover: with the source read-only and the
 * position confirmed, both sides hold the same rows, and each table's row count (verify: counts)
 * or count and row digest (verify: digests) is compared before replication is removed.
 */
@ExtendWith({PostgresPair.class, OperatorExtension.class})
class CutoverVerificationIT {

  /**
   * A row of the target changed behind the operator's back while it replicated (the apply never
   * touches it again: the source's row does not change): digests fail the cutover naming the
   * table; counts cannot see it; an untouched migration with a writer until the fence passes.
   */
  @ParameterizedTest(name = "verify {0}, a target row changed: {1}")
  @CsvSource({"digests, true", "counts, true", "digests, false"})
  void aTargetRowChangedBehindTheOperatorsBackFailsDigestsNamingTheTable(String verify,
      boolean tamper, OperatorExtension.Env env, PostgresPair.Servers pg) throws Exception {
    var digests = verify.equals("digests");
    var name = "verify-" + verify + (tamper ? "-tampered" : "");
    var db = name.replace('-', '_');
    try (var src = source(name + "-src")) {
      seed(src, db);
      src.execute(db, "create table notes (id int primary key, body text, at timestamptz,"
              + " amount numeric, ratio float8)",
          "insert into notes select g, md5(g::text), timestamptz '2026-01-01 00:00+00' + g"
              + " * interval '1 minute', g / 7.0, g / 3.0 from generate_series(1, 3000) g");
      var m = CutoverFenceIT.fenced(env, name, src, pg.target(), db);
      m.getSpec().setVerify(digests ? Verify.DIGESTS : Verify.COUNTS);
      env.client().resource(m).create();
      awaitPhase(env, name, Phase.Syncing);
      if (tamper) {
        pg.target().execute(db, "update notes set body = upper(body) where id = 1234");
      }
      PgMigration end;
      // an application writing until the fence ends its session (and fails after it)
      CutoverFenceIT.application(src, db);
      try (var writer = new ReconnectingWriter(src, db, "app", "app-pw", "verify-app",
          Duration.ofMinutes(2))) {
        await().atMost(Duration.ofSeconds(20)).until(() -> writer.inserted() > 50);
        ContinuousMigrationIT.setKeepReplicating(env, name, false);
        end = await().atMost(Duration.ofMinutes(3)).until(() -> get(env, name),
            x -> x.getStatus().getPhase() == Phase.Ready
                || x.getStatus().getPhase() == Phase.Failed);
      }
      if (tamper && digests) {
        assertThat(end.getStatus().getPhase()).as(end.getStatus().getMessage())
            .isEqualTo(Phase.Failed);
        assertThat(Conditions.get(end.getStatus().getConditions(), Conditions.READY).getReason())
            .isEqualTo("VerificationFailed");
        assertThat(end.getStatus().getMessage()).contains("database " + db)
            .contains("public.notes: 3000 row(s) on both sides, but their contents differ")
            .doesNotContain("public.items").doesNotContain("public.ref");
        // nothing of ours is left on either server; the fence stays until the deletion
        assertThat(ourObjects(src, pg.target(), List.of(db))).isEmpty();
      } else {
        assertThat(end.getStatus().getPhase()).as(end.getStatus().getMessage())
            .isEqualTo(Phase.Ready);
        assertThat(end.getStatus().getDatabases().get(0).getMessage())
            .contains(digests ? "row counts and row digests of 3 table(s) equal on both sides"
                : "row counts of 3 table(s) equal on both sides");
        if (!tamper) {
          ContinuousMigrationIT.assertSameData(src, pg.target(), db);
        }
      }
      deleteAndWait(env, name);
    }
  }

  @Test
  void digestsOfAContinuousMigrationNeedTheFence(OperatorExtension.Env env,
      PostgresPair.Servers pg) {
    var m = ContinuousMigrationIT.migration(env, "unfenced-digests", pg.source(), pg.target(),
        List.of("postgres"));
    m.getSpec().setVerify(Verify.DIGESTS);
    assertThatThrownBy(() -> env.client().resource(m).create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("verify: digests with method continuous needs"
            + " cutover.fenceSource: true");
    // the dump method takes them without a fence: examples/digests.yaml, which ExamplesIT applies
  }

  static PgMigration get(OperatorExtension.Env env, String name) {
    return env.client().resources(PgMigration.class).inNamespace(env.namespace()).withName(name)
        .get();
  }
}
