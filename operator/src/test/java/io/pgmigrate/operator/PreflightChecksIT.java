package io.pgmigrate.operator;

import static io.pgmigrate.operator.OperatorValidationIT.awaitPhase;
import static io.pgmigrate.operator.OperatorValidationIT.check;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.pgmigrate.operator.api.CheckOutcome;
import io.pgmigrate.operator.api.Method;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.SslMode;
import io.pgmigrate.operator.postgres.Replication;
import io.pgmigrate.operator.reconciler.Conditions;
import io.pgmigrate.operator.testing.Fixtures;
import io.pgmigrate.operator.testing.OperatorExtension;
import io.pgmigrate.operator.testing.PostgresPair;
import io.pgmigrate.operator.testing.PostgresServer;
import io.pgmigrate.operator.testing.TestCertificates;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The pre-flight checks against real servers set up to trip each one, through the operator. */
@ExtendWith({PostgresPair.class, OperatorExtension.class})
class PreflightChecksIT {

  @Test
  void requireTlsAgainstAServerWithoutTlsFailsTheConnectionWithATlsRemedy(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    try (var plain = PostgresServer.builder().name("plain").start()) {
      var m = Fixtures.migration(env.client(), env.namespace(), "notls", plain, pg.target());
      m.getSpec().getSource().setHost("127.0.0.1");
      m.getSpec().getSource().setSslMode(SslMode.REQUIRE);
      m.getSpec().getSource().setCaSecret(null);
      env.client().resource(m).create();
      var c = check(awaitPhase(env, "notls", Phase.Failed), "source.connection");
      assertThat(c.getResult()).isEqualTo(CheckOutcome.Failed);
      assertThat(c.getMessage()).contains("does not support SSL");
      assertThat(c.getRemedy()).contains("sslMode (require)");
    }
  }

  @Test
  void verifyFullWithAnotherCaFailsTheConnection(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    var foreign = createForeignCa();
    env.client().resource(new SecretBuilder()
        .withMetadata(new ObjectMetaBuilder().withName("foreign-ca").withNamespace(env.namespace()).build())
        .withStringData(Map.of("ca.crt", foreign)).build()).serverSideApply();
    var m = Fixtures.migration(env.client(), env.namespace(), "wrongca", pg.source(), pg.target());
    m.getSpec().getTarget().getCaSecret().setName("foreign-ca");
    env.client().resource(m).create();
    var failed = awaitPhase(env, "wrongca", Phase.Failed);
    var c = check(failed, "target.connection");
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Failed);
    assertThat(c.getRemedy()).contains("caSecret");
    assertThat(check(failed, "source.connection").getResult()).isEqualTo(CheckOutcome.Passed);
  }

  @Test
  void nonSuperuserSourceFailsContinuousAndFallsBackToDumpWhenAllowed(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    pg.source().execute("postgres",
        "create role app_reader login password 'reader-pw-123'",
        "create role fallback_clerk login password 'clerk-pw'",
        "create database plain_app owner app_reader");
    pg.source().execute("plain_app", "set role app_reader",
        "create table notes (id int primary key, body text)",
        "insert into notes values (1, 'kept')");
    var m = Fixtures.migration(env.client(), env.namespace(), "nosuper", pg.source(), pg.target());
    Fixtures.applySecret(env.client(),
        Fixtures.credentials(env.namespace(), "nosuper-source", "app_reader", "reader-pw-123"));
    m.getSpec().setDatabases(List.of("plain_app"));
    env.client().resource(m).create();
    var failed = awaitPhase(env, "nosuper", Phase.Failed);
    var c = check(failed, "source.privileges");
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Failed);
    assertThat(c.getMessage()).contains("app_reader is not a superuser");
    // output_plugin_libraries is superuser-only on 15.19+: this login cannot read it, and the
    // check says so instead of failing the connection
    assertThat(check(failed, "source.outputPlugin").getMessage())
        .contains("may not read output_plugin_libraries");

    var fallback = Fixtures.migration(env.client(), env.namespace(), "fallback", pg.source(),
        pg.target());
    Fixtures.applySecret(env.client(),
        Fixtures.credentials(env.namespace(), "fallback-source", "app_reader", "reader-pw-123"));
    fallback.getSpec().setDatabases(List.of("plain_app"));
    fallback.getSpec().setFallbackToDump(true);
    env.client().resource(fallback).create();
    var ready = awaitPhase(env, "fallback", Phase.Ready);
    assertThat(ready.getStatus().getMethod()).isEqualTo(Method.DUMP);
    assertThat(check(ready, "source.privileges").getResult()).isEqualTo(CheckOutcome.Warning);
    // the dump ran with the non-superuser login, which cannot read password hashes
    var prepared = io.pgmigrate.operator.reconciler.Conditions.get(
        ready.getStatus().getConditions(), io.pgmigrate.operator.reconciler.Conditions.TARGET_PREPARED);
    assertThat(prepared.getMessage()).contains("created without password").contains("fallback_clerk");
    assertThat(io.pgmigrate.operator.testing.Contents.tables(pg.target(), "plain_app"))
        .isEqualTo(io.pgmigrate.operator.testing.Contents.tables(pg.source(), "plain_app"));
  }

  @Test
  void theSameServerUnderTwoNamesIsRefused(OperatorExtension.Env env, PostgresPair.Servers pg) {
    var m = Fixtures.migration(env.client(), env.namespace(), "twice", pg.source(), pg.source());
    m.getSpec().getTarget().setHost("127.0.0.1");
    m.getSpec().getTarget().setSslMode(SslMode.REQUIRE);
    m.getSpec().getTarget().setCaSecret(null);
    env.client().resource(m).create();
    var c = check(awaitPhase(env, "twice", Phase.Failed), "sameServer");
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Failed);
    assertThat(c.getMessage()).contains("same system identifier");
  }

  @Test
  void exhaustedReplicationSlotsFail(OperatorExtension.Env env, PostgresPair.Servers pg) {
    try (var small = PostgresServer.builder().name("oneslot")
        .set("max_replication_slots", "1").start()) {
      small.execute("postgres",
          "select pg_create_logical_replication_slot('someone_elses', 'pgoutput')");
      var m = Fixtures.migration(env.client(), env.namespace(), "slots", small, pg.target());
      OperatorValidationIT.plaintext(m);
      m.getSpec().setDatabases(List.of("postgres"));
      env.client().resource(m).create();
      var c = check(awaitPhase(env, "slots", Phase.Failed), "source.replicationSlots");
      assertThat(c.getResult()).isEqualTo(CheckOutcome.Failed);
      assertThat(c.getMessage()).contains("0 of max_replication_slots=1 free");
    }
  }

  @Test
  void namedDatabaseMissingOnTheSourceFails(OperatorExtension.Env env, PostgresPair.Servers pg) {
    var m = Fixtures.migration(env.client(), env.namespace(), "missing", pg.source(), pg.target());
    m.getSpec().setDatabases(List.of("postgres", "no_such_db"));
    env.client().resource(m).create();
    var c = check(awaitPhase(env, "missing", Phase.Failed), "databases");
    assertThat(c.getMessage()).isEqualTo("not on the source: no_such_db");
  }

  @Test
  void warningsForLargeObjectsUnloggedTablesAndANonEmptyTargetDoNotStopTheMigration(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    var db = "Quoted \"Db\"; drop";
    var quoted = io.pgmigrate.operator.postgres.Sql.ident(db);
    pg.source().execute("postgres", "create database " + quoted);
    pg.source().execute(db,
        "create extension hstore",
        "create table kv (id int primary key, h hstore)",
        "create unlogged table scratch (id int primary key)",
        "select lo_from_bytea(0, 'blob')");
    pg.target().execute("postgres", "create database " + quoted);
    pg.target().execute(db, "create table leftover (id int primary key)");
    var m = Fixtures.migration(env.client(), env.namespace(), "warnings", pg.source(), pg.target());
    m.getSpec().setDatabases(List.of(db));
    env.client().resource(m).create();
    var migrating = awaitPhase(env, "warnings", Phase.Migrating);
    assertThat(check(migrating, "source.largeObjects").getMessage()).contains("the cutover copies");
    assertThat(check(migrating, "source.unloggedTables").getMessage()).contains("public.scratch");
    assertThat(check(migrating, "target.emptyDatabases").getMessage()).contains("(1 tables)");
    assertThat(check(migrating, "target.extensions").getResult()).isEqualTo(CheckOutcome.Passed);
    assertThat(migrating.getStatus().getDatabases()).extracting(d -> d.getName())
        .containsExactly(db);
  }

  @Test
  void verifyFullSourceIsRefusedForTheSubscriptionOfAPostgres15TargetUntilAccepted(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    pg.source().execute("postgres", "create database subtls_app");
    var m = Fixtures.migration(env.client(), env.namespace(), "subtls", pg.source(), pg.target());
    m.getSpec().getReplication().setAllowUnverifiedSubscription(false);
    m.getSpec().setDatabases(List.of("subtls_app"));
    env.client().resource(m).create();
    var failed = awaitPhase(env, "subtls", Phase.Failed);
    var c = check(failed, "target.subscriptionTls");
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Failed);
    assertThat(c.getMessage()).contains("sslMode is verify-full")
        .contains("cannot verify the source's certificate");
    assertThat(c.getRemedy()).contains("PostgreSQL 16+")
        .contains("replication.allowUnverifiedSubscription: true").contains("method: dump");
    // the operator's own connections verify with the CA: only the subscription cannot
    assertThat(check(failed, "source.connection").getResult()).isEqualTo(CheckOutcome.Passed);
    assertThat(failed.getStatus().getChecks()).filteredOn(x -> x.getResult() == CheckOutcome.Failed)
        .extracting(x -> x.getName()).containsExactly("target.subscriptionTls");
    assertThat(failed.getStatus().getMessage()).contains("target.subscriptionTls");

    // the user accepts an unverified subscription; a dry run is enough to see it pass
    Fixtures.mergePatch(env.client(), env.namespace(), "subtls", "{\"spec\":{\"validateOnly\":true,"
        + "\"replication\":{\"allowUnverifiedSubscription\":true}}}");
    var validated = await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(300))
        .until(() -> OperatorValidationIT.get(env, "subtls"),
            x -> Long.valueOf(2).equals(x.getStatus().getValidatedGeneration()));
    assertThat(validated.getStatus().getPhase()).isEqualTo(Phase.Validating);
    assertThat(Conditions.get(validated.getStatus().getConditions(), Conditions.VALIDATED)
        .getStatus()).isEqualTo("True");
    var accepted = check(validated, "target.subscriptionTls");
    assertThat(accepted.getResult()).isEqualTo(CheckOutcome.Warning);
    assertThat(accepted.getMessage()).contains("sslmode=require").contains("not verified");
    assertThat(validated.getStatus().getMethod()).isEqualTo(Method.CONTINUOUS);
  }

  @Test
  void sequencesTheSourceLoginMayNotReadAreNamedAndTheCutoverNeverSkipsThem(
      OperatorExtension.Env env, PostgresPair.Servers pg) throws SQLException {
    pg.source().execute("postgres",
        "create role seq_login login password 'seq-pw-123'",
        "create database seq_app");
    pg.source().execute("seq_app",
        "create schema shop",
        "create table shop.orders (id serial primary key)",
        "insert into shop.orders default values",
        "create sequence public.\"Granted Seq\"",
        "select nextval('public.\"Granted Seq\"')",
        "create sequence public.usage_only",
        "create sequence public.never_called",
        "grant usage on schema shop to seq_login",
        "grant select on sequence public.\"Granted Seq\", public.never_called to seq_login",
        "grant usage on sequence public.usage_only to seq_login");
    var m = Fixtures.migration(env.client(), env.namespace(), "seqs", pg.source(), pg.target());
    Fixtures.applySecret(env.client(),
        Fixtures.credentials(env.namespace(), "seqs-source", "seq_login", "seq-pw-123"));
    m.getSpec().setDatabases(List.of("seq_app"));
    env.client().resource(m).create();
    var c = check(awaitPhase(env, "seqs", Phase.Failed), "source.sequences");
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Failed);
    assertThat(c.getMessage()).contains("seq_login may not read 1 sequence(s)")
        .contains("seq_app: shop.orders_id_seq").doesNotContain("Granted")
        .doesNotContain("usage_only");
    assertThat(c.getRemedy()).contains("GRANT SELECT ON ALL SEQUENCES IN SCHEMA")
        .contains("TO seq_login");

    // the cutover's read: an unreadable sequence is an error naming it, not a skipped row
    try (var login = pg.source().connect("seq_app", "seq_login", "seq-pw-123")) {
      assertThatThrownBy(() -> Replication.sequences(login))
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("shop.orders_id_seq").hasMessageContaining("seq_login")
          .hasMessageContaining("seq_app").hasMessageNotContaining("Granted");
    }
    // readable ones: called ones with their value, a sequence never called left out
    try (var superuser = pg.source().connect("seq_app")) {
      assertThat(Replication.sequences(superuser))
          .extracting(row -> row[0] + "=" + row[1])
          .containsExactly("public.\"Granted Seq\"=1", "shop.orders_id_seq=1");
    }
  }

  private static String createForeignCa() {
    return TestCertificates.createOther().caPem();
  }
}
