package io.pgmigrate.operator.checks;

import io.pgmigrate.operator.api.DatabasePhase;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.pgmigrate.operator.api.CheckOutcome;
import io.pgmigrate.operator.api.DatabaseStatus;
import io.pgmigrate.operator.api.Endpoint;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.api.PgMigrationSpec;
import io.pgmigrate.operator.api.PgMigrationStatus;
import java.util.List;
import org.junit.jupiter.api.Test;

class MigrationConflictsTest {

  static PgMigration migration(String name, String host, Phase phase, String... databases) {
    var m = new PgMigration();
    m.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("ns").withUid(name + "-uid")
        .build());
    var spec = new PgMigrationSpec();
    var target = new Endpoint();
    target.setHost(host);
    spec.setTarget(target);
    m.setSpec(spec);
    if (phase != null) {
      var status = new PgMigrationStatus();
      status.setPhase(phase);
      for (var d : databases) {
        status.getDatabases().add(new DatabaseStatus(d, DatabasePhase.Copying));
      }
      m.setStatus(status);
    }
    return m;
  }

  @Test
  void anActiveMigrationIntoTheSameDatabaseIsNamed() {
    var self = migration("second", "db.example.com", null);
    var first = migration("first", "DB.example.com", Phase.Migrating, "shop", "billing");
    var c = MigrationConflicts.check(self, List.of("shop", "crm"), List.of(self, first));
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Failed);
    assertThat(c.getMessage()).contains("ns/first (Migrating: shop)").doesNotContain("billing");
    assertThat(c.getRemedy()).contains("Wait until it is Ready");
  }

  @Test
  void otherServersOtherDatabasesAndFinishedMigrationsDoNotCount() {
    var self = migration("second", "db.example.com", null);
    var others = List.of(
        migration("elsewhere", "other.example.com", Phase.Syncing, "shop"),
        migration("disjoint", "db.example.com", Phase.Syncing, "crm"),
        migration("done", "db.example.com", Phase.Ready, "shop"),
        migration("failed", "db.example.com", Phase.Failed, "shop"),
        self);
    assertThat(MigrationConflicts.check(self, List.of("shop"), others).getResult())
        .isEqualTo(CheckOutcome.Passed);
  }
}
