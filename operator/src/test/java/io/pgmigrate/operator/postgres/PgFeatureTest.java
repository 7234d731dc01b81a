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
    assertThat(Replication.subscriptionSummary(13)).contains("no binary transfer or streaming");
    assertThat(Replication.subscriptionOptions(14)).isEqualTo(", binary = true, streaming = on");
    assertThat(Replication.subscriptionSummary(14)).contains("parallel apply needs 16");
    assertThat(Replication.subscriptionOptions(16))
        .isEqualTo(", binary = true, streaming = parallel");
  }
}
