package io.pgmigrate.operator.build;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.pgmigrate.operator.api.PgMigration;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Build step (process-test-classes): takes the CRD that fabric8's crd-generator made from the
 * Java classes, puts the printer columns in the order they are declared on {@link PgMigration}
 * (the generator sorts them by JSON path, which would show AGE first), gives the schema the
 * kind's description from {@link PgMigration}'s {@code @JsonClassDescription} (the generator
 * describes properties, not the root, which {@code kubectl explain pgmigration} shows), and
 * writes it to the
 * generated classes, {@code crds/} and the Helm chart's {@code files/crds/} (its
 * {@code templates/crd.yaml} renders it, so that {@code helm upgrade} upgrades the CRD).
 */
public final class CrdPublisher {

  public static final String FILE = "pgmigrations.pgmigrate.io-v1.yml";
  static final String HEADER =
      "# Generated from the Java classes in operator/src/main/java/io/pgmigrate/operator/api\n"
          + "# by fabric8's crd-generator during the build; do not edit.\n";

  private CrdPublisher() {}

  public static void main(String[] args) throws IOException {
    var generated = Path.of(args[0]);
    var repoRoot = Path.of(args[1]);
    var text = render(Files.readString(generated));
    Files.writeString(generated, text);
    for (var copy : copies(repoRoot)) {
      Files.createDirectories(copy.getParent());
      if (!Files.exists(copy) || !Files.readString(copy).equals(text)) {
        Files.writeString(copy, text);
        System.out.println("[crd] wrote " + copy);
      }
    }
  }

  /** Where the build keeps copies of the CRD, relative to the repository root. */
  public static List<Path> copies(Path repoRoot) {
    return List.of(
        repoRoot.resolve("crds").resolve(FILE),
        repoRoot.resolve("helm/pgmigrate-operator/files/crds").resolve(FILE));
  }

  /** The generator's CRD with the printer columns in declaration order and the kind described. */
  public static String render(String generatorOutput) {
    var serialization = new KubernetesSerialization();
    var crd = serialization.unmarshal(generatorOutput, CustomResourceDefinition.class);
    var order =
        Arrays.stream(PgMigration.class.getAnnotationsByType(AdditionalPrinterColumn.class))
            .map(AdditionalPrinterColumn::name)
            .toList();
    var description = PgMigration.class.getAnnotation(JsonClassDescription.class);
    for (var version : crd.getSpec().getVersions()) {
      if (description != null) {
        version.getSchema().getOpenAPIV3Schema().setDescription(description.value());
      }
      version
          .getAdditionalPrinterColumns()
          .sort(
              Comparator.comparingInt(
                  (CustomResourceColumnDefinition c) ->
                      order.indexOf(c.getName()) < 0 ? Integer.MAX_VALUE : order.indexOf(c.getName())));
    }
    return HEADER + serialization.asYaml(crd);
  }
}
