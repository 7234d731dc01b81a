package io.pgmigrate.operator.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Status as data: deep copies and equality through its JSON form, so a new field can never be
 * forgotten by a hand-written copy or comparison, and a new status never shares an object with
 * the informer's cached one (mutating a shared object made "changed?" answer no).
 */
final class StatusJson {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private StatusJson() {}

  static <T> T copy(T value, Class<T> type) {
    if (value == null) {
      return null;
    }
    try {
      return MAPPER.readValue(MAPPER.writeValueAsBytes(value), type);
    } catch (IOException e) {
      throw new UncheckedIOException("copying " + type.getSimpleName(), e);
    }
  }

  static JsonNode tree(Object value) {
    return MAPPER.valueToTree(value);
  }
}
