package io.pgmigrate.operator.checks;

import java.util.Map;
import java.util.Optional;

/** Reads a Secret's decoded data; empty when the Secret does not exist. */
@FunctionalInterface
public interface SecretLookup {
  Optional<Map<String, String>> read(String namespace, String name);

  /** The operator's own permissions do not let it read the Secret. */
  final class Forbidden extends RuntimeException {
    public Forbidden(String message) {
      super(message);
    }
  }
}
