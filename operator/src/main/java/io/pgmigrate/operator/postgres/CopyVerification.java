package io.pgmigrate.operator.postgres;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/** Compares the exact row count of every table on source and target after a copy. */
public final class CopyVerification {

  /** The outcome for one database: tables compared, and each mismatch described. */
  public record Result(String database, int tables, List<String> mismatches) {}

  private final PgConnector connector;

  public CopyVerification(PgConnector connector) {
    this.connector = connector;
  }

  public Result verify(ConnectionSpec source, ConnectionSpec target, String database)
      throws SQLException {
    // both sides at once: the counts are full scans, and the servers are different machines
    var targetCounts = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try (var dst = connector.open(target.withDatabase(database))) {
        return Databases.rowCounts(dst);
      } catch (SQLException e) {
        throw new java.util.concurrent.CompletionException(e);
      }
    });
    Map<String, Long> expected;
    Map<String, Long> actual;
    try (var src = connector.open(source.withDatabase(database))) {
      expected = Databases.rowCounts(src);
    }
    try {
      actual = targetCounts.join();
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof SQLException sql) {
        throw sql;
      }
      throw e;
    }
    var mismatches = new ArrayList<String>();
    for (var table : new TreeSet<>(expected.keySet())) {
      var want = expected.get(table);
      var got = actual.get(table);
      if (got == null) {
        mismatches.add(table + ": missing on the target (" + want + " rows on the source)");
      } else if (!got.equals(want)) {
        mismatches.add(table + ": " + want + " rows on the source, " + got + " on the target");
      }
    }
    return new Result(database, expected.size(), mismatches);
  }
}
