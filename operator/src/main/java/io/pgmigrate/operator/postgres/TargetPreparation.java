package io.pgmigrate.operator.postgres;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** Readies the target before data arrives: roles first, then the databases. Safe to repeat. */
public final class TargetPreparation {

  private final PgConnector connector;

  public TargetPreparation(PgConnector connector) {
    this.connector = connector;
  }

  /** What preparing did: a summary for status, and the databases it created. */
  public record Result(String summary, Set<String> createdDatabases) {}

  /**
   * Copies roles (unless {@code migrateRoles} is false) and creates each missing database with
   * the source's encoding, locale, owner, settings, comment and privileges; then the copied
   * roles' settings in those databases.
   */
  public Result prepare(
      ConnectionSpec source, ConnectionSpec target, List<String> databases, boolean migrateRoles,
      Set<String> excludeRoles) throws SQLException {
    var summary = new ArrayList<String>();
    try (var src = connector.open(source);
        var dst = connector.open(target)) {
      List<String> copiedRoles = List.of();
      var sourceRoles = new HashSet<String>();
      if (migrateRoles) {
        // the source login is copied too: it often owns the objects being restored
        var roles = Roles.read(src, new HashSet<>(excludeRoles));
        var names = new HashSet<String>();
        roles.forEach(r -> names.add(r.name()));
        sourceRoles.addAll(names);
        var result = Roles.apply(dst, roles, Roles.memberships(src, names));
        copiedRoles = result.created();
        summary.add(result.summary());
      } else {
        summary.add("roles not copied (roles.migrate is false)");
      }
      var created = new TreeSet<String>();
      var missingGrantees = new ArrayList<String>();
      for (var db : databases) {
        var creation = Databases.createIfMissing(dst, Databases.definition(src, db));
        if (creation.created()) {
          created.add(db);
        }
        if (!creation.missingGrantees().isEmpty()) {
          missingGrantees.add(db + " (" + String.join(", ", creation.missingGrantees()) + ")");
        }
      }
      summary.add(created.size() + " database(s) created on the target");
      if (!missingGrantees.isEmpty()) {
        summary.add("database privileges not granted to roles missing on the target: "
            + String.join("; ", missingGrantees));
      }
      // for roles created here, and in databases created here (nobody on the target has set
      // anything in those yet); a role that already existed keeps what it has elsewhere
      var copied = new HashSet<>(copiedRoles);
      var settings = Roles.databaseSettings(src, databases).stream()
          .filter(s -> sourceRoles.contains(s.role())
              && (copied.contains(s.role()) || created.contains(s.database())))
          .toList();
      int applied = Roles.applyDatabaseSettings(dst, settings);
      if (applied > 0) {
        summary.add(applied + " role-in-database setting(s) set");
      }
      return new Result(String.join("; ", summary), created);
    }
  }

  /**
   * Drops a database the operator created, with whatever a failed attempt left in it, and
   * creates it again empty, so the next attempt starts clean: with the source's database
   * properties, and the role-in-database settings it had on the target (DROP DATABASE removes
   * them, and which roles were copied is known only to {@link #prepare}).
   */
  public void recreate(ConnectionSpec source, ConnectionSpec target, String database)
      throws SQLException {
    try (var src = connector.open(source);
        var dst = connector.open(target)) {
      var definition = Databases.definition(src, database);
      var roleSettings = Roles.databaseSettings(dst, List.of(database));
      Databases.drop(dst, database);
      Databases.createIfMissing(dst, definition);
      Roles.applyDatabaseSettings(dst, roleSettings);
    }
  }

  /** The databases of the list that do not exist on the target. */
  public List<String> missingDatabases(ConnectionSpec target, List<String> databases)
      throws SQLException {
    var missing = new ArrayList<String>();
    try (var dst = connector.open(target);
        var ps = dst.prepareStatement("select 1 from pg_catalog.pg_database where datname = ?")) {
      for (var db : databases) {
        ps.setString(1, db);
        try (var rs = ps.executeQuery()) {
          if (!rs.next()) {
            missing.add(db);
          }
        }
      }
    }
    return missing;
  }

  /** Connects to both servers, to learn that they answer before a Pod is started. */
  public void probe(ConnectionSpec source, ConnectionSpec target, String database)
      throws SQLException {
    try (var src = connector.open(source.withDatabase(database));
        var dst = connector.open(target)) {
      src.isValid(5);
      dst.isValid(5);
    }
  }
}
