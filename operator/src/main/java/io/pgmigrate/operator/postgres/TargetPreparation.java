package io.pgmigrate.operator.postgres;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Readies the target before data arrives: roles first, then the databases. Safe to repeat. */
public final class TargetPreparation {

  private final PgConnector connector;

  public TargetPreparation(PgConnector connector) {
    this.connector = connector;
  }

  /** What preparing did: a summary for status, and the databases it created. */
  public record Result(String summary, java.util.Set<String> createdDatabases) {}

  /**
   * Copies roles (unless {@code migrateRoles} is false) and creates each missing database with
   * the source's encoding, locale and owner.
   */
  public Result prepare(
      ConnectionSpec source, ConnectionSpec target, List<String> databases, boolean migrateRoles,
      Set<String> excludeRoles) throws SQLException {
    var summary = new ArrayList<String>();
    try (var src = connector.open(source);
        var dst = connector.open(target)) {
      if (migrateRoles) {
        // the source login is copied too: it often owns the objects being restored
        var roles = Roles.read(src, new HashSet<>(excludeRoles));
        var names = new HashSet<String>();
        roles.forEach(r -> names.add(r.name()));
        var result = Roles.apply(dst, roles, Roles.memberships(src, names));
        summary.add(result.summary());
      } else {
        summary.add("roles not copied (roles.migrate is false)");
      }
      var created = new java.util.TreeSet<String>();
      for (var db : databases) {
        if (Databases.createIfMissing(dst, Databases.definition(src, db))) {
          created.add(db);
        }
      }
      summary.add(created.size() + " database(s) created on the target");
      return new Result(String.join("; ", summary), created);
    }
  }

  /**
   * Drops a database the operator created, with whatever a failed attempt left in it, and
   * creates it again empty, so the next attempt starts clean.
   */
  public void recreate(ConnectionSpec source, ConnectionSpec target, String database)
      throws SQLException {
    try (var src = connector.open(source);
        var dst = connector.open(target)) {
      var definition = Databases.definition(src, database);
      Databases.drop(dst, database);
      Databases.createIfMissing(dst, definition);
    }
  }
}
