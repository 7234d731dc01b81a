package io.pgmigrate.operator.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/** TLS modes, named and behaving as in libpq. */
public enum SslMode {
  @JsonProperty("disable")
  DISABLE("disable"),
  @JsonProperty("allow")
  ALLOW("allow"),
  @JsonProperty("prefer")
  PREFER("prefer"),
  @JsonProperty("require")
  REQUIRE("require"),
  @JsonProperty("verify-ca")
  VERIFY_CA("verify-ca"),
  @JsonProperty("verify-full")
  VERIFY_FULL("verify-full");

  private final String libpqName;

  SslMode(String libpqName) {
    this.libpqName = libpqName;
  }

  /** The value libpq and pgjdbc use for this mode. */
  public String libpqName() {
    return libpqName;
  }

  /** The mode of a libpq name; IllegalArgumentException for an unknown one. */
  public static SslMode ofLibpqName(String name) {
    for (var mode : values()) {
      if (mode.libpqName.equals(name)) {
        return mode;
      }
    }
    throw new IllegalArgumentException("unknown sslmode " + name);
  }

  /** True when the connection must be encrypted. */
  public boolean requiresEncryption() {
    return this == REQUIRE || this == VERIFY_CA || this == VERIFY_FULL;
  }

  /** True when the server's certificate must be checked against a CA. */
  public boolean verifiesCertificate() {
    return this == VERIFY_CA || this == VERIFY_FULL;
  }
}
