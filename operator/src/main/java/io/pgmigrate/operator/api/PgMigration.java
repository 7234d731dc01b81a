package io.pgmigrate.operator.api;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListSet;

/** A migration of PostgreSQL databases from a source server to a target server. */
@Group(PgMigration.GROUP)
@Version(PgMigration.VERSION)
@Kind("PgMigration")
@Plural("pgmigrations")
@Singular("pgmigration")
@ShortNames("pgm")
// not "all": `kubectl delete all --all` would then delete migrations, tearing down replication
@Categories("pgmigrate")
@JsonClassDescription(
    "A migration of PostgreSQL databases from a source server to a target server: the operator"
        + " checks both servers, copies roles, schema and data (pg_dump, or logical replication"
        + " with a cutover) and reports progress in status. Conditions for GitOps tools: Ready"
        + " (the migration is where its spec asks: done, a passed validateOnly dry run, or"
        + " replicating with keepReplicating: true), Reconciling (working towards it), Stalled"
        + " (failed).")
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Method", jsonPath = ".status.method", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Databases", jsonPath = ".status.progress", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Lag", jsonPath = ".status.lag", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
@AdditionalPrinterColumn(name = "Source", jsonPath = ".spec.source.host", type = AdditionalPrinterColumn.Type.STRING, priority = 1)
@AdditionalPrinterColumn(name = "Target", jsonPath = ".spec.target.host", type = AdditionalPrinterColumn.Type.STRING, priority = 1)
@AdditionalPrinterColumn(name = "Message", jsonPath = ".status.message", type = AdditionalPrinterColumn.Type.STRING, priority = 1)
@ValidationRule(
    value = "!has(oldSelf.status) || !has(oldSelf.status.phase)"
        + " || !(oldSelf.status.phase in ['Migrating', 'Syncing'])"
        + " || (self.spec.source == oldSelf.spec.source"
        + " && self.spec.target == oldSelf.spec.target"
        + " && self.spec.method == oldSelf.spec.method"
        + " && has(self.spec.databases) == has(oldSelf.spec.databases)"
        + " && (!has(self.spec.databases) || self.spec.databases == oldSelf.spec.databases)"
        + " && has(self.spec.excludeDatabases) == has(oldSelf.spec.excludeDatabases)"
        + " && (!has(self.spec.excludeDatabases)"
        + "     || self.spec.excludeDatabases == oldSelf.spec.excludeDatabases))",
    message = "source, target, method, databases and excludeDatabases cannot change while the"
        + " migration is Migrating or Syncing (the copy and the replication already point at"
        + " them): to migrate something else, delete this PgMigration (its finalizer removes"
        + " the replication objects) and create a new one; keepReplicating, validateOnly and"
        + " the thresholds may change at any time")
public class PgMigration extends CustomResource<PgMigrationSpec, PgMigrationStatus>
    implements Namespaced {

  public static final String GROUP = "pgmigrate.io";
  public static final String VERSION = "v1alpha1";
  /** Annotation whose new value restarts a Failed migration from Validating. */
  public static final String RESTART_ANNOTATION = "pgmigrate.io/restart";

  /**
   * Required: without it no object could ever be acted on, and JOSDK adds its finalizer with a
   * server-side apply of name and finalizer only, which creates the object anew when it was
   * deleted just before (CrdValidationIT); a required spec makes that apply fail instead.
   */
  @Override
  @Required
  @JsonPropertyDescription(
      "What to migrate: source and target servers (host, port, a Secret with the login,"
          + " sslMode), the databases, the method (continuous or dump) and its settings.")
  public PgMigrationSpec getSpec() {
    return super.getSpec();
  }

  @Override
  @JsonPropertyDescription(
      "What the operator observed and did: phase, the pre-flight checks, per-database progress"
          + " and conditions. Written only by the operator.")
  public PgMigrationStatus getStatus() {
    return super.getStatus();
  }

  /**
   * Fields under spec that this operator's classes do not know, as paths ("spec.newField"):
   * the object was written against a newer CRD ({@link UnknownFields}). Not part of the JSON.
   */
  @JsonIgnore
  private final transient Set<String> unknownSpecFields = new ConcurrentSkipListSet<>();

  public Set<String> unknownSpecFields() {
    return unknownSpecFields;
  }

  public String restartToken() {
    var annotations = getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(RESTART_ANNOTATION);
  }
}
