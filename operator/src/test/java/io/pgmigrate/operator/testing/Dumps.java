package io.pgmigrate.operator.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What pg_dump and pg_dumpall print of a server, normalised for comparing a source with its
 * target: comments, blank lines and the random keys of psql's \restrict lines go, nothing else.
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
        "--dbname=postgres")).stream().filter(l -> l.contains(prefix)).toList();
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
    return lines;
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
