package io.pgmigrate.operator.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/** How the data is carried over. */
public enum Method {
  /** Logical replication: initial copy, then streaming changes until the cutover. */
  @JsonProperty("continuous")
  CONTINUOUS,
  /** A one-time snapshot with pg_dump and pg_restore, run in Pods. */
  @JsonProperty("dump")
  DUMP;

  @Override
  public String toString() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
