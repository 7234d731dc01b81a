package io.pgmigrate.operator.api;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/** A migration of PostgreSQL databases from a source server to a target server. */
@Group(PgMigration.GROUP)
@Version(PgMigration.VERSION)
@Kind("PgMigration")
@Plural("pgmigrations")
@Singular("pgmigration")
@ShortNames("pgm")
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Method", jsonPath = ".status.method", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Databases", jsonPath = ".status.progress", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Lag", jsonPath = ".status.lag", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class PgMigration extends CustomResource<PgMigrationSpec, PgMigrationStatus>
    implements Namespaced {

  public static final String GROUP = "pgmigrate.io";
  public static final String VERSION = "v1alpha1";
  /** Annotation whose new value restarts a Failed migration from Validating. */
  public static final String RESTART_ANNOTATION = "pgmigrate.io/restart";

  public String restartToken() {
    var annotations = getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(RESTART_ANNOTATION);
  }
}
