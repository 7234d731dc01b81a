package io.pgmigrate.operator.checks;

import java.util.Map;
import java.util.Optional;

/** Reads a Secret's decoded data; empty when the Secret does not exist. */
@FunctionalInterface
public interface SecretLookup {
  Optional<Map<String, String>> read(String namespace, String name);
}
