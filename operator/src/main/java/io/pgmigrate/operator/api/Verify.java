package io.pgmigrate.operator.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/** How the copy is checked against the source. */
public enum Verify {
  /** Every table's row count, on both sides, in the source's snapshot of the copy. */
  @JsonProperty("counts")
  COUNTS,
  /**
   * Row counts and, per table, an order-independent digest of its rows' text (the sum of a
   * 64-bit hash of each row), on both sides in the same snapshot: catches changed values, not
   * only lost or extra rows, at the cost of reading every row once more on each side.
   */
  @JsonProperty("digests")
  DIGESTS;

  @Override
  public String toString() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
