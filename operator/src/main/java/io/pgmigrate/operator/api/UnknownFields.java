package io.pgmigrate.operator.api;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.DeserializationProblemHandler;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.util.ArrayDeque;

/**
 * Reads PgMigrations that carry fields these classes do not know, instead of failing. Such an
 * object comes from a newer CRD: a field a newer operator added, read by this one during a
 * rolling update or after {@code helm rollback}. Failing to read it would stop the informer
 * (every migration, and the cleanup that drops slots, with it); ignoring it could do something
 * other than the spec asks (a newer safety setting, silently not applied). So each unknown field
 * under {@code spec} is recorded on the object ({@link PgMigration#unknownSpecFields()}) and the
 * reconciler does nothing with such a migration but say so; unknown status fields are dropped
 * (the status is the operator's own, rewritten on its next pass).
 */
public final class UnknownFields extends DeserializationProblemHandler {

  /** The client's serialization with this handler: unknown fields no longer fail a read. */
  public static KubernetesSerialization serialization() {
    var mapper = new ObjectMapper();
    mapper.addHandler(new UnknownFields());
    return new KubernetesSerialization(mapper, true);
  }

  @Override
  public boolean handleUnknownProperty(DeserializationContext ctxt, JsonParser p,
      JsonDeserializer<?> deserializer, Object beanOrClass, String propertyName)
      throws IOException {
    JsonStreamContext context = p.getParsingContext();
    var token = p.currentToken();
    if (token == JsonToken.START_OBJECT || token == JsonToken.START_ARRAY) {
      // the parser stands on the unknown field's value, which opened a context of its own
      context = context.getParent();
    }
    var path = new ArrayDeque<String>();
    path.push(propertyName);
    PgMigration root = null;
    for (var c = context; c != null && !c.inRoot(); c = c.getParent()) {
      if (c.getCurrentValue() instanceof PgMigration migration) {
        root = migration;
      }
      var parent = c.getParent();
      if (parent == null || parent.inRoot()) {
        break;
      }
      path.push(parent.inArray() ? "[" + parent.getCurrentIndex() + "]"
          : parent.getCurrentName());
    }
    if (root != null && "spec".equals(path.peekFirst())) {
      root.unknownSpecFields().add(String.join(".", path).replace(".[", "["));
    }
    p.skipChildren();
    return true;
  }
}
