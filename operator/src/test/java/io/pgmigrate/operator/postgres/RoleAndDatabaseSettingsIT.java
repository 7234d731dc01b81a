package io.pgmigrate.operator.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgmigrate.operator.api.SslMode;
import io.pgmigrate.operator.testing.PostgresServer;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Role settings (list values, per database), database settings, comment and privileges survive
 * preparing the target, and re-creating a database for a retry, on real servers.
 */
class RoleAndDatabaseSettingsIT {

  // servers of its own: preparing copies every role of the source, which must not leak into
  // the shared pair other tests use
  private static PostgresServer source;
  private static PostgresServer target;

  private static final String SETTINGS =
      """
      select coalesce(r.rolname, '-'), coalesce(d.datname, '-'), s.setconfig::text
      from pg_catalog.pg_db_role_setting s
      left join pg_catalog.pg_roles r on r.oid = s.setrole
      left join pg_catalog.pg_database d on d.oid = s.setdatabase
      where r.rolname like 'rs\\_%' or d.datname like 'rs\\_%'
      order by 1, 2
      """;

  private static final String ACL =
      """
      select case when a.grantee = 0 then 'PUBLIC' else pg_catalog.pg_get_userbyid(a.grantee) end,
             pg_catalog.pg_get_userbyid(a.grantor), a.privilege_type, a.is_grantable::text
      from pg_catalog.pg_database d, pg_catalog.aclexplode(d.datacl) a
      where d.datname = 'rs_db'
      order by 1, 2, 3, 4
      """;

  private static final String COMMENT =
      "select pg_catalog.shobj_description(oid, 'pg_database') from pg_catalog.pg_database"
          + " where datname = 'rs_db'";

  @BeforeAll
  static void start() {
    source = PostgresServer.builder().name("settings-source").start();
    target = PostgresServer.builder().name("settings-target").start();
    source.execute("postgres",
        "create role rs_owner nologin",
        "create role rs_app login",
        "create role rs_other nologin",
        "create role rs_quoted nologin",
        "create role rs_excluded nologin",
        "create role rs_existing nologin",
        "alter role rs_app set search_path = audit, public",
        "alter role rs_app set work_mem = '64MB'",
        "alter role rs_app set DateStyle = 'ISO, MDY'",
        "alter role rs_quoted set search_path = \"$user\", \"my schema\"",
        "create database rs_db owner rs_owner",
        "alter role rs_app in database rs_db set search_path = \"my schema\", audit",
        "alter role rs_app in database rs_db set statement_timeout = '42s'",
        "alter role rs_existing in database rs_db set work_mem = '1MB'",
        "alter database rs_db set search_path = audit, public",
        "alter database rs_db set work_mem = '8MB'",
        "comment on database rs_db is 'the auditors'' ledger'",
        "revoke connect on database rs_db from public",
        "grant connect on database rs_db to rs_app",
        "grant create on database rs_db to rs_other with grant option",
        "grant temporary on database rs_db to rs_excluded",
        "create database rs_theirs",
        "alter database rs_theirs set work_mem = '2MB'",
        "comment on database rs_theirs is 'source only'");
    // on the target already: these belong to the target's users and are left alone
    target.execute("postgres", "create role rs_existing nologin", "create database rs_theirs");
  }

  @AfterAll
  static void stop() {
    try {
      if (source != null) {
        source.close();
      }
    } finally {
      if (target != null) {
        target.close();
      }
    }
  }

  @Test
  void settingsCommentAndPrivilegesArriveAndSurviveARecreate() throws Exception {
    var preparation = new TargetPreparation(new PgConnector(Timeouts.DEFAULT));
    var result = preparation.prepare(spec(source), spec(target), List.of("rs_db", "rs_theirs"),
        true, Set.of("rs_excluded"));

    assertThat(result.createdDatabases()).containsExactly("rs_db");
    assertSameProperties();
    assertSessionsGetTheLists();
    assertThat(result.summary())
        .contains("database privileges not granted to roles missing on the target: "
            + "rs_db (rs_excluded)")
        .contains("3 role-in-database setting(s) set");
    // a database that already existed on the target keeps its own properties
    assertThat(rows(target, "select pg_catalog.shobj_description(oid, 'pg_database')"
        + " from pg_catalog.pg_database where datname = 'rs_theirs'")).containsExactly("null");

    // preparing again (a retry of the step) changes nothing
    preparation.prepare(spec(source), spec(target), List.of("rs_db", "rs_theirs"), true,
        Set.of("rs_excluded"));
    assertSameProperties();

    // a retry re-creates the database empty: DROP DATABASE took its settings along
    target.execute("rs_db", "create table leftover (id int)");
    preparation.recreate(spec(source), spec(target), "rs_db");
    assertThat(rows(target, "rs_db", "select count(*) from pg_catalog.pg_class"
        + " where relname = 'leftover'")).containsExactly("0");
    assertSameProperties();
    assertSessionsGetTheLists();
  }

  private static void assertSameProperties() throws SQLException {
    var sourceSettings = rows(source, SETTINGS);
    // the excluded role was not copied; the existing one belongs to the target's users, but
    // its settings in a database the operator created are part of that database
    var expected = sourceSettings.stream()
        .filter(r -> !r.startsWith("rs_existing|-|") && !r.startsWith("rs_excluded|")
            && !r.startsWith("-|rs_theirs|"))
        .toList();
    assertThat(sourceSettings).contains(
        "rs_app|-|{\"search_path=audit, public\",work_mem=64MB,\"DateStyle=ISO, MDY\"}",
        "rs_quoted|-|{\"search_path=\\\"$user\\\", \\\"my schema\\\"\"}",
        "rs_app|rs_db|{\"search_path=\\\"my schema\\\", audit\",statement_timeout=42s}",
        "-|rs_db|{\"search_path=audit, public\",work_mem=8MB}");
    assertThat(rows(target, SETTINGS)).containsExactlyElementsOf(expected);

    assertThat(rows(target, COMMENT)).containsExactly("the auditors' ledger")
        .isEqualTo(rows(source, COMMENT));

    var sourceAcl = rows(source, ACL);
    assertThat(sourceAcl).contains("rs_other|rs_owner|CREATE|true", "rs_app|rs_owner|CONNECT|false",
        "PUBLIC|rs_owner|TEMPORARY|false");
    assertThat(rows(target, ACL))
        .containsExactlyElementsOf(sourceAcl.stream().filter(r -> !r.startsWith("rs_excluded|"))
            .toList());
  }

  /** What a session of the role actually gets: the lists, not one odd schema name. */
  private static void assertSessionsGetTheLists() throws SQLException {
    // current_schemas lists only the schemas that exist and the role may use
    target.execute("rs_db", "create schema if not exists audit authorization rs_app",
        "create schema if not exists \"my schema\" authorization rs_app");
    target.trust("rs_app", "rs_db");
    target.trust("rs_app", "postgres");
    try (var c = target.connect("rs_db", "rs_app", "")) {
      // the role's setting in this database wins over the database's and the role's own
      assertThat(rows(c, "show search_path")).containsExactly("\"my schema\", audit");
      assertThat(rows(c, "select pg_catalog.current_schemas(false)::text"))
          .containsExactly("{\"my schema\",audit}");
      assertThat(rows(c, "show statement_timeout")).containsExactly("42s");
      assertThat(rows(c, "show DateStyle")).containsExactly("ISO, MDY");
      // the role's own work_mem wins over the database's
      assertThat(rows(c, "show work_mem")).containsExactly("64MB");
    }
    try (var c = target.connect("postgres", "rs_app", "")) {
      assertThat(rows(c, "show search_path")).containsExactly("audit, public");
    }
  }

  private static ConnectionSpec spec(PostgresServer s) {
    return new ConnectionSpec(s.host(), s.port(), "postgres", PostgresServer.SUPERUSER,
        PostgresServer.SUPERUSER_PASSWORD, SslMode.DISABLE, null);
  }

  private static List<String> rows(PostgresServer s, String query) throws SQLException {
    return rows(s, "postgres", query);
  }

  private static List<String> rows(PostgresServer s, String database, String query)
      throws SQLException {
    try (var c = s.connect(database)) {
      return rows(c, query);
    }
  }

  /** Each row's columns joined by |, null as "null". */
  private static List<String> rows(Connection c, String query) throws SQLException {
    try (var st = c.createStatement();
        var rs = st.executeQuery(query)) {
      var result = new ArrayList<String>();
      int n = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        var columns = new ArrayList<String>();
        for (int i = 1; i <= n; i++) {
          columns.add(String.valueOf(rs.getString(i)));
        }
        result.add(String.join("|", columns));
      }
      return result;
    }
  }
}
