package io.pgmigrate.operator.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What pg_dump and pg_dumpall print of a server, normalised for comparing a source with its
 * target: comments, blank lines and the random keys of psql's \restrict lines go; and the
 * column order of an inheritance child is ignored (pg_dump writes the child as CREATE TABLE ...
 * INHERITS, so the server puts the inherited columns first whatever order the source's child
 * had: a limitation of pg_dump itself, which both methods share; rows are copied by column name
 * and are equal).
 */
public final class Dumps {

  private Dumps() {}

  /** pg_dump --schema-only --create: the database's settings, comment and ACL included. */
  public static List<String> schema(PostgresServer server, String database) {
    return normalise(run(server, PostgresServer.binDir() + "/pg_dump", "--schema-only",
        "--create", "--dbname=" + database));
  }

  /** pg_dumpall --roles-only, only the lines that name a role with the prefix. */
  public static List<String> roles(PostgresServer server, String prefix) {
    return normalise(run(server, PostgresServer.binDir() + "/pg_dumpall", "--roles-only",
        "--database=postgres")).stream().filter(l -> l.contains(prefix)).toList();
  }

  static List<String> normalise(String dump) {
    var lines = new ArrayList<String>();
    for (var line : dump.split("\n")) {
      if (line.isBlank() || line.startsWith("--") || line.startsWith("\\restrict")
          || line.startsWith("\\unrestrict")) {
        continue;
      }
      lines.add(line);
    }
    return sortInheritedColumns(lines);
  }

  /** Sorts the column lines of each CREATE TABLE whose closing line is followed by INHERITS. */
  static List<String> sortInheritedColumns(List<String> lines) {
    var result = new ArrayList<String>();
    for (int i = 0; i < lines.size(); i++) {
      result.add(lines.get(i));
      if (!lines.get(i).startsWith("CREATE TABLE ") || !lines.get(i).endsWith("(")) {
        continue;
      }
      int close = i + 1;
      while (close < lines.size() && !lines.get(close).startsWith(")")) {
        close++;
      }
      if (close + 1 < lines.size() && lines.get(close + 1).startsWith("INHERITS")) {
        var columns = new ArrayList<String>();
        for (var c : lines.subList(i + 1, close)) {
          columns.add(c.endsWith(",") ? c.substring(0, c.length() - 1) : c);
        }
        columns.sort(null);
        result.addAll(columns);
        i = close - 1;
      }
    }
    return result;
  }

  private static String run(PostgresServer server, String... command) {
    var args = new ArrayList<>(List.of(command));
    args.addAll(List.of("--host=" + server.host(), "--port=" + server.port(),
        "--username=" + PostgresServer.SUPERUSER, "--no-password"));
    var pb = new ProcessBuilder(args).redirectError(ProcessBuilder.Redirect.INHERIT);
    pb.environment().put("PGPASSWORD", PostgresServer.SUPERUSER_PASSWORD);
    pb.environment().put("PGSSLMODE", "disable");
    try {
      var p = pb.start();
      var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(2, TimeUnit.MINUTES) || p.exitValue() != 0) {
        throw new IllegalStateException(String.join(" ", command) + " failed");
      }
      return out;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
