package io.pgmigrate.operator.checks;

import io.pgmigrate.operator.api.CheckResult;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Another PgMigration already writing into the same target databases: two copies into one
 * database collide (duplicate keys, roles created twice), so the later one is refused by name.
 * Pure: the migrations come from the operator's cache.
 */
public final class MigrationConflicts {

  public static final String CHECK = CheckName.TARGET_OTHER_MIGRATIONS.id();

  private MigrationConflicts() {}

  /** The report with the check added (failed when another active migration shares a database). */
  public static ValidationReport addTo(ValidationReport report, PgMigration self,
      Collection<PgMigration> all) {
    var checks = new ArrayList<>(report.checks());
    checks.add(check(self, report.databases(), all));
    return new ValidationReport(checks, report.method(), report.databases(),
        report.targetMajor(), report.estimate());
  }

  static CheckResult check(PgMigration self, List<String> databases, Collection<PgMigration> all) {
    var target = self.getSpec().getTarget();
    var conflicts = new ArrayList<String>();
    for (var other : all) {
      if (Objects.equals(other.getMetadata().getUid(), self.getMetadata().getUid())
          || other.getStatus() == null || other.getSpec() == null
          || (other.getStatus().getPhase() != Phase.Migrating
              && other.getStatus().getPhase() != Phase.Syncing)) {
        continue;
      }
      var theirs = other.getSpec().getTarget();
      var theirHost = theirs.getHost().toLowerCase(Locale.ROOT);
      if (!theirHost.equals(target.getHost().toLowerCase(Locale.ROOT))
          || theirs.portOrDefault() != target.portOrDefault()) {
        continue;
      }
      var shared = new TreeSet<String>();
      for (var d : other.getStatus().getDatabases()) {
        if (databases.contains(d.getName())) {
          shared.add(d.getName());
        }
      }
      if (!shared.isEmpty()) {
        conflicts.add(other.getMetadata().getNamespace() + "/" + other.getMetadata().getName()
            + " (" + other.getStatus().getPhase() + ": " + String.join(", ", shared) + ")");
      }
    }
    if (conflicts.isEmpty()) {
      return CheckResult.passed(CHECK, "no other migration is writing into these databases");
    }
    return CheckResult.failed(CHECK,
        "another migration is already writing into the same database(s) on "
            + target.getHost() + ":" + target.portOrDefault() + ": " + String.join("; ", conflicts),
        "Wait until it is Ready (or delete it), or migrate into other databases; two copies into"
            + " one database collide.");
  }
}
