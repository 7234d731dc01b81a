package io.pgmigrate.operator.reconciler;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.pgmigrate.operator.api.PgMigration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Records Kubernetes Events on a PgMigration; a failure to record never fails a reconcile. */
public class EventRecorder {

  public static final String COMPONENT = "pgmigrate-operator";
  private static final Logger log = LoggerFactory.getLogger(EventRecorder.class);

  private final KubernetesClient client;

  public EventRecorder(KubernetesClient client) {
    this.client = client;
  }

  public void record(PgMigration m, Decision.Event event) {
    var now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    var meta = m.getMetadata();
    var e =
        new EventBuilder()
            .withNewMetadata()
            .withName(meta.getName() + "." + UUID.randomUUID().toString().substring(0, 13))
            .withNamespace(meta.getNamespace())
            .endMetadata()
            .withInvolvedObject(
                new ObjectReferenceBuilder()
                    .withApiVersion(m.getApiVersion())
                    .withKind(m.getKind())
                    .withName(meta.getName())
                    .withNamespace(meta.getNamespace())
                    .withUid(meta.getUid())
                    .withResourceVersion(meta.getResourceVersion())
                    .build())
            .withType(event.warning() ? "Warning" : "Normal")
            .withReason(event.reason())
            .withMessage(event.message())
            .withFirstTimestamp(now)
            .withLastTimestamp(now)
            .withCount(1)
            .withNewSource()
            .withComponent(COMPONENT)
            .endSource()
            .withReportingComponent(COMPONENT)
            .build();
    try {
      client.v1().events().inNamespace(meta.getNamespace()).resource(e).create();
    } catch (KubernetesClientException ex) {
      log.warn(
          "could not record event {} on {}/{}: {}", event.reason(), meta.getNamespace(),
          meta.getName(), ex.getMessage());
    }
  }
}
