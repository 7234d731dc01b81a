package io.pgmigrate.operator.checks;

import java.util.Locale;

/** Human-readable byte counts, as pg_size_pretty prints them. */
public final class Bytes {

  private Bytes() {}

  public static String human(long bytes) {
    String[] units = {"bytes", "kB", "MB", "GB", "TB", "PB"};
    double v = bytes;
    int u = 0;
    while (Math.abs(v) >= 10 * 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return u == 0 ? bytes + " bytes" : String.format(Locale.ROOT, "%.0f %s", v, units[u]);
  }
}
