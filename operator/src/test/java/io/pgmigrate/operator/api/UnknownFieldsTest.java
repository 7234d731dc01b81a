package io.pgmigrate.operator.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.Test;

/** A PgMigration written against a newer CRD is read, and what this operator lacks is named. */
class UnknownFieldsTest {

  private static final String NEWER = """
      {"apiVersion": "pgmigrate.io/v1alpha1", "kind": "PgMigration",
       "metadata": {"name": "shop", "namespace": "team"},
       "spec": {"newField": "x",
                "source": {"host": "old-db", "port": 5432, "tlsPolicy": {"pin": ["a", "b"]}},
                "target": {"host": "new-db"},
                "databases": ["shop"],
                "cutover": {"fenceSource": true, "waitFor": "x"},
                "replication": {"maxRetainedWalBytes": "1Gi", "slotFailover": true}},
       "status": {"phase": "Syncing", "newerStatusField": {"x": 1},
                  "databases": [{"name": "shop", "lagBytes": 5, "estimate": 3}]}}
      """;

  @Test
  void theDefaultSerializationRefusesAnUnknownField() {
    // what failed the informer before: every migration's reconciliation and cleanup stopped
    assertThatThrownBy(() -> new KubernetesSerialization().unmarshal(NEWER, PgMigration.class))
        .hasStackTraceContaining("newField");
  }

  @Test
  void unknownSpecFieldsAreReadAndNamedWithTheirPaths() {
    var m = UnknownFields.serialization().unmarshal(NEWER, PgMigration.class);
    assertThat(m.unknownSpecFields()).containsExactly(
        "spec.cutover.waitFor", "spec.newField", "spec.replication.slotFailover",
        "spec.source.tlsPolicy");
    // everything known is read as usual, also after the unknown fields
    assertThat(m.getSpec().getSource().getHost()).isEqualTo("old-db");
    assertThat(m.getSpec().getSource().getPort()).isEqualTo(5432);
    assertThat(m.getSpec().getTarget().getHost()).isEqualTo("new-db");
    assertThat(m.getSpec().getDatabases()).containsExactly("shop");
    assertThat(m.getSpec().getReplication().getMaxRetainedWalBytes()).isEqualTo("1Gi");
    assertThat(m.getStatus().getPhase()).isEqualTo(Phase.Syncing);
    assertThat(m.getStatus().getDatabases()).singleElement()
        .satisfies(d -> assertThat(d.getLagBytes()).isEqualTo(5L));
  }

  @Test
  void aKnownSpecRecordsNothingAndTheRecordIsNotWritten() {
    var serialization = UnknownFields.serialization();
    var known = serialization.unmarshal("""
        {"apiVersion": "pgmigrate.io/v1alpha1", "kind": "PgMigration",
         "metadata": {"name": "shop"},
         "spec": {"source": {"host": "a"}, "target": {"host": "b"}},
         "status": {"newerStatusField": 1}}
        """, PgMigration.class);
    assertThat(known.unknownSpecFields()).isEmpty();
    var newer = serialization.unmarshal(NEWER, PgMigration.class);
    assertThat(serialization.asJson(newer)).doesNotContain("unknownSpecFields")
        .doesNotContain("newField");
  }
}
