package io.pgmigrate.operator.checks;

/** Compares extension version strings such as "1.4", "3.3.2" or "1.0beta1" segment by segment. */
final class Versions {

  private Versions() {}

  static int compare(String a, String b) {
    var x = a.split("[^0-9]+");
    var y = b.split("[^0-9]+");
    for (int i = 0; i < Math.max(x.length, y.length); i++) {
      long p = i < x.length && !x[i].isEmpty() ? Long.parseLong(x[i]) : 0;
      long q = i < y.length && !y[i].isEmpty() ? Long.parseLong(y[i]) : 0;
      if (p != q) {
        return Long.compare(p, q);
      }
    }
    return 0;
  }
}
