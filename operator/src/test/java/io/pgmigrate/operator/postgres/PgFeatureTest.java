package io.pgmigrate.operator.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class PgFeatureTest {

  @Test
  void eachFeatureIsOnFromItsMajorOn() {
    assertThat(PgFeature.SUBSCRIPTION_STATS.on(14)).isFalse();
    assertThat(PgFeature.SUBSCRIPTION_STATS.on(15)).isTrue();
    assertThat(PgFeature.PARALLEL_APPLY.on(15)).isFalse();
    assertThat(PgFeature.PARALLEL_APPLY.on(17)).isTrue();
    assertThat(PgFeature.TRANSACTION_TIMEOUT.on(16)).isFalse();
    assertThat(PgFeature.TRANSACTION_TIMEOUT.on(17)).isTrue();
    for (var f : PgFeature.values()) {
      assertThat(f.since()).isBetween(PgFeature.OLDEST_SUPPORTED, 17);
    }
  }

  @Test
  void theTableAReaderSeesListsEveryFeatureAtItsMajor() throws Exception {
    var source = Files.readString(Path.of(System.getProperty("pgmigrate.repoRoot"),
        "operator/src/main/java/io/pgmigrate/operator/postgres/PgFeature.java"));
    var table = source.substring(source.indexOf("<pre>"), source.indexOf("</pre>"));
    long rows = table.lines().filter(l -> l.matches(" \\*   1[3-7] .*")).count();
    assertThat(rows).isEqualTo(PgFeature.values().length);
    for (var f : PgFeature.values()) {
      assertThat(table).as(f.name()).containsPattern("\\*   " + f.since() + " ");
    }
  }

  @Test
  void theSubscriptionSaysWhatItLacksOnOlderTargets() {
    assertThat(Replication.subscriptionOptions(13)).isEmpty();
    assertThat(Replication.subscriptionSummary(13, 13))
        .contains("PostgreSQL 13 has no binary transfer or streaming; both need 14)");
    assertThat(Replication.subscriptionOptions(14)).isEqualTo(", binary = true, streaming = on");
    assertThat(Replication.subscriptionSummary(14, 14))
        .contains("PostgreSQL 14 has them applied by one worker; parallel apply needs 16)");
    assertThat(Replication.subscriptionOptions(16))
        .isEqualTo(", binary = true, streaming = parallel");
    assertThat(Replication.subscriptionSummary(16, 17))
        .isEqualTo("binary transfer, large transactions streamed and applied in parallel");
  }

  @Test
  void theSubscriptionSaysWhatAnOlderSourceDoesNotSend() {
    // the options follow the target, but a subscriber asks an older source only for what that
    // source has: 15 streams for one worker, 13 sends rows as text once committed
    assertThat(Replication.subscriptionOptions(17)).contains("streaming = parallel");
    assertThat(Replication.subscriptionSummary(15, 17))
        .contains("a PostgreSQL 15 source has them applied by one worker")
        .contains("parallel apply needs 16 on the source too")
        .doesNotContain("applied in parallel");
    assertThat(Replication.subscriptionSummary(13, 16))
        .startsWith("rows as text")
        .contains("a PostgreSQL 13 source has no binary transfer or streaming; both need 14 on"
            + " the source too");
  }
}
