package io.pgmigrate.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.pgmigrate.operator.api.CheckOutcome;
import io.pgmigrate.operator.api.CheckResult;
import io.pgmigrate.operator.api.Method;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.reconciler.Conditions;
import io.pgmigrate.operator.testing.Contents;
import io.pgmigrate.operator.testing.Fixtures;
import io.pgmigrate.operator.testing.LogCapture;
import io.pgmigrate.operator.testing.OperatorExtension;
import io.pgmigrate.operator.testing.PostgresPair;
import io.pgmigrate.operator.testing.PostgresServer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The operator, running against a real API server, validating real PostgreSQL servers: what a
 * user sees in status, conditions and Events.
 */
@ExtendWith({PostgresPair.class, OperatorExtension.class})
class OperatorValidationIT {

  @Test
  void healthyPairPassesEveryCheckAndMovesToMigrating(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    pg.source().execute("postgres", "create database healthy_app");
    pg.source().execute("healthy_app",
        "create table customers (id bigint primary key, name text)",
        "insert into customers select g, 'c' || g from generate_series(1, 100) g");
    var m = Fixtures.migration(env.client(), env.namespace(), "healthy", pg.source(), pg.target());
    m.getSpec().setDatabases(List.of("healthy_app"));
    env.client().resource(m).create();

    var done = awaitPhase(env, "healthy", Phase.Migrating);
    // every check passes but the subscription's TLS, which the fixture accepts unverified
    assertThat(done.getStatus().getChecks())
        .hasSizeGreaterThan(20)
        .filteredOn(c -> !c.getName().equals("target.subscriptionTls"))
        .allSatisfy(c -> assertThat(c.getResult()).as(c.toString()).isEqualTo(CheckOutcome.Passed));
    assertThat(check(done, "target.subscriptionTls").getResult()).isEqualTo(CheckOutcome.Warning);
    assertThat(check(done, "source.sequences").getResult()).isEqualTo(CheckOutcome.Passed);
    assertThat(check(done, "source.tls").getMessage()).contains("TLS").contains("verify-full");
    assertThat(done.getStatus().getMethod()).isEqualTo(Method.CONTINUOUS);
    assertThat(done.getStatus().getProgress()).isEqualTo("0/1");
    assertThat(done.getStatus().getObservedGeneration()).isEqualTo(1L);
    assertThat(done.getStatus().getStartedAt()).isNotBlank();
    var validated = Conditions.get(done.getStatus().getConditions(), Conditions.VALIDATED);
    assertThat(validated.getStatus()).isEqualTo("True");
    assertThat(validated.getObservedGeneration()).isEqualTo(1L);
    assertThat(done.getMetadata().getFinalizers()).isNotEmpty();
    assertThat(events(env, "healthy")).extracting(Event::getReason)
        .contains("Validating", "Migrating");
  }

  @Test
  void walLevelReplicaOnTheSourceFailsWithItsRemedy(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    try (var replicaOnly = PostgresServer.builder().name("replica-wal")
        .set("wal_level", "replica").start()) {
      var m = Fixtures.migration(env.client(), env.namespace(), "wal", replicaOnly, pg.target());
      plaintext(m);
      m.getSpec().setDatabases(List.of("postgres"));
      env.client().resource(m).create();

      var failed = awaitPhase(env, "wal", Phase.Failed);
      var c = check(failed, "source.walLevel");
      assertThat(c.getResult()).isEqualTo(CheckOutcome.Failed);
      assertThat(c.getMessage()).contains("wal_level is replica");
      assertThat(c.getRemedy()).contains("ALTER SYSTEM SET wal_level = logical");
      assertThat(failed.getStatus().getMessage()).contains("source.walLevel");
      var ready = Conditions.get(failed.getStatus().getConditions(), Conditions.READY);
      assertThat(ready.getReason()).isEqualTo("ValidationFailed");
      assertThat(events(env, "wal")).anySatisfy(e -> {
        assertThat(e.getType()).isEqualTo("Warning");
        assertThat(e.getReason()).isEqualTo("ValidationFailed");
      });
    }
  }

  @Test
  void aSourceThatAllowsNoPgoutputFailsWithItsRemedyBeforeAnySlotIsMade(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    // output_plugin_libraries exists from 15.19 (tools/install-prerequisites.sh installs
    // Debian's newest 15): there, replication may use only the plugins it lists
    try (var locked = PostgresServer.builder().name("no-pgoutput")
        .set("output_plugin_libraries", "test_decoding").start()) {
      assertThat(Contents.query(locked, "postgres", "select name, setting from pg_settings"
          + " where name = 'output_plugin_libraries'"))
          .containsExactly(Map.entry("output_plugin_libraries", "test_decoding"));
      var m = Fixtures.migration(env.client(), env.namespace(), "plugins", locked, pg.target());
      plaintext(m);
      m.getSpec().setDatabases(List.of("postgres"));
      env.client().resource(m).create();

      var failed = awaitPhase(env, "plugins", Phase.Failed);
      var c = check(failed, "source.outputPlugin");
      assertThat(c.getResult()).isEqualTo(CheckOutcome.Failed);
      assertThat(c.getMessage()).contains("'test_decoding'").contains("pgoutput");
      assertThat(c.getRemedy())
          .contains("output_plugin_libraries = 'test_decoding, pgoutput'");
      assertThat(failed.getStatus().getMessage()).contains("source.outputPlugin");
      assertThat(Contents.query(locked, "postgres",
          "select 'slots', count(*)::text from pg_replication_slots"))
          .containsExactly(Map.entry("slots", "0"));
      // what the check foresees: this server refuses the plugin a subscription needs
      assertThatThrownBy(() -> locked.execute("postgres",
          "select pg_create_logical_replication_slot('probe', 'pgoutput')"))
          .hasMessageContaining("pgoutput");
    }
  }

  @Test
  void wrongPasswordIsAFailedCheckWithoutRetryLoopOrLeakedPassword(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    var wrong = "Wr0ng-pa55word-" + System.nanoTime();
    var m = Fixtures.migration(env.client(), env.namespace(), "badpw", pg.source(), pg.target());
    Fixtures.applySecret(env.client(),
        Fixtures.credentials(env.namespace(), "badpw-source", PostgresServer.SUPERUSER, wrong));
    env.client().resource(m).create();

    var failed = awaitPhase(env, "badpw", Phase.Failed);
    var c = check(failed, "source.connection");
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Failed);
    assertThat(c.getMessage()).contains("password authentication failed");
    assertThat(c.getRemedy()).contains("badpw-source");

    // no crash loop: the resource and its events stay put
    var version = failed.getMetadata().getResourceVersion();
    var eventCount = events(env, "badpw").size();
    await().during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(8)).until(() -> true);
    var later = get(env, "badpw");
    assertThat(later.getMetadata().getResourceVersion()).isEqualTo(version);
    assertThat(events(env, "badpw")).hasSize(eventCount);

    var statusYaml = env.client().getKubernetesSerialization().asYaml(later.getStatus());
    assertThat(statusYaml).doesNotContain(wrong).doesNotContain(PostgresServer.SUPERUSER_PASSWORD);
    assertThat(events(env, "badpw")).extracting(Event::getMessage)
        .noneMatch(msg -> msg.contains(wrong) || msg.contains(PostgresServer.SUPERUSER_PASSWORD));
    // every log line of the test JVM: the operator's, its libraries' and the test helpers'
    assertThat(LogCapture.lines()).isNotEmpty()
        .noneMatch(l -> l.contains(wrong) || l.contains(PostgresServer.SUPERUSER_PASSWORD));
  }

  @Test
  void missingSecretIsAFailedCheckAndARestartAfterTheFixContinues(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    var m = Fixtures.migration(env.client(), env.namespace(), "nosecret", pg.source(), pg.target());
    m.getSpec().getTarget().getCredentialsSecret().setName("does-not-exist");
    m.getSpec().setDatabases(List.of("postgres"));
    env.client().resource(m).create();

    var failed = awaitPhase(env, "nosecret", Phase.Failed);
    var c = check(failed, "target.credentials");
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Failed);
    assertThat(c.getMessage()).isEqualTo(
        "Secret does-not-exist not found in namespace " + env.namespace());
    assertThat(c.getRemedy()).contains("Create the Secret");
    assertThat(check(failed, "target.connection").getMessage()).contains("no credentials");

    // the user creates the Secret, then asks for a restart with the annotation
    Fixtures.applySecret(env.client(), Fixtures.credentials(env.namespace(), "does-not-exist",
        PostgresServer.SUPERUSER, PostgresServer.SUPERUSER_PASSWORD));
    Fixtures.mergePatch(env.client(), env.namespace(), "nosecret",
        "{\"metadata\":{\"annotations\":{\"" + PgMigration.RESTART_ANNOTATION + "\":\"1\"}}}");
    var migrating = awaitPhase(env, "nosecret", Phase.Migrating);
    assertThat(migrating.getStatus().getRestartToken()).isEqualTo("1");
    assertThat(check(migrating, "target.credentials").getResult()).isEqualTo(CheckOutcome.Passed);
  }

  @Test
  void validateOnlyReportsAndStaysUntilFlipped(OperatorExtension.Env env, PostgresPair.Servers pg) {
    var m = Fixtures.migration(env.client(), env.namespace(), "dryrun", pg.source(), pg.target());
    m.getSpec().setValidateOnly(true);
    m.getSpec().setDatabases(List.of("postgres"));
    env.client().resource(m).create();

    var validated = await().atMost(Duration.ofSeconds(60)).until(() -> get(env, "dryrun"),
        x -> x.getStatus() != null && !x.getStatus().getChecks().isEmpty());
    assertThat(validated.getStatus().getPhase()).isEqualTo(Phase.Validating);
    assertThat(validated.getStatus().getMessage()).contains("validateOnly");
    assertThat(Conditions.get(validated.getStatus().getConditions(), Conditions.READY).getReason())
        .isEqualTo("ValidateOnly");
    await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5)).until(() -> true);
    assertThat(get(env, "dryrun").getStatus().getPhase()).isEqualTo(Phase.Validating);

    Fixtures.mergePatch(env.client(), env.namespace(), "dryrun",
        "{\"spec\":{\"validateOnly\":false}}");
    var started = awaitPhase(env, "dryrun", Phase.Migrating);
    assertThat(started.getStatus().getObservedGeneration()).isEqualTo(2L);
    assertThat(started.getStatus().getValidatedGeneration()).isEqualTo(2L);
  }

  @Test
  void tableWithoutPrimaryKeyIsNamedAndReplicaIdentityFullLetsItPass(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    pg.source().execute("postgres", "create database nopk_app");
    pg.source().execute("nopk_app",
        "create schema audit",
        "create table audit.\"Event Log\" (at timestamptz, what text)",
        "create table public.orders (id int primary key)");
    var m = Fixtures.migration(env.client(), env.namespace(), "nopk", pg.source(), pg.target());
    m.getSpec().setDatabases(List.of("nopk_app"));
    env.client().resource(m).create();

    var failed = awaitPhase(env, "nopk", Phase.Failed);
    var c = check(failed, "source.replicaIdentity");
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Failed);
    assertThat(c.getMessage()).contains("nopk_app: audit.\"Event Log\"").doesNotContain("orders");
    assertThat(c.getRemedy()).contains("replicaIdentityFull");

    Fixtures.mergePatch(env.client(), env.namespace(), "nopk",
        "{\"spec\":{\"replication\":{\"replicaIdentityFull\":true}}}");
    var migrating = awaitPhase(env, "nopk", Phase.Migrating);
    assertThat(check(migrating, "source.replicaIdentity").getResult())
        .isEqualTo(CheckOutcome.Warning);
  }

  /**
   * A server that accepts connections and never answers (a hung host behind a load balancer, a
   * stuck proxy) costs each login the connect timeout (5 s here). The checks run off the
   * reconcile thread: the migration fails with the reason once the login timed out, no pass of
   * it held a reconcile thread for that long (JOSDK's own timer of each pass, as /metrics shows
   * it), and a migration created beside it is validated meanwhile.
   */
  @Test
  void aServerThatAcceptsButNeverAnswersFailsItsCheckWithoutHoldingAReconcileThread(
      OperatorExtension.Env env, PostgresPair.Servers pg) throws Exception {
    try (var silent = new java.net.ServerSocket(0)) {
      var accepted = new java.util.concurrent.CopyOnWriteArrayList<java.net.Socket>();
      var acceptor = new Thread(() -> {
        try {
          while (true) {
            // accepted and kept open, never read from nor written to
            accepted.add(silent.accept());
          }
        } catch (java.io.IOException closed) {
          // the test is over
        }
      }, "silent-server");
      acceptor.setDaemon(true);
      acceptor.start();
      var m = Fixtures.migration(env.client(), env.namespace(), "silent", pg.source(),
          pg.target());
      plaintext(m);
      m.getSpec().getSource().setPort(silent.getLocalPort());
      m.getSpec().setDatabases(List.of("postgres"));
      var beside = Fixtures.migration(env.client(), env.namespace(), "beside", pg.source(),
          pg.target());
      beside.getSpec().setValidateOnly(true);
      beside.getSpec().setDatabases(List.of("postgres"));
      var created = System.nanoTime();
      env.client().resource(m).create();
      env.client().resource(beside).create();

      var seen = new java.util.concurrent.ConcurrentHashMap<String, Long>();
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
        for (var name : List.of("silent", "beside")) {
          var x = get(env, name);
          if (x.getStatus() != null && !x.getStatus().getChecks().isEmpty()) {
            seen.putIfAbsent(name, System.nanoTime());
          }
        }
        return seen.size() == 2;
      });
      assertThat(seen.get("beside")).as("the migration beside is validated first")
          .isLessThan(seen.get("silent"));
      // the login timeout, then the target's checks: well within two logins
      assertThat((seen.get("silent") - created) / 1e9).isLessThan(15);
      assertThat(accepted).isNotEmpty();

      var failed = awaitPhase(env, "silent", Phase.Failed);
      var c = check(failed, "source.connection");
      assertThat(c.getResult()).isEqualTo(CheckOutcome.Failed);
      assertThat(c.getMessage()).containsIgnoringCase("timed out");
      assertThat(failed.getStatus().getMessage()).contains("source.connection");
      assertThat(check(failed, "target.connection").getResult()).isEqualTo(CheckOutcome.Passed);

      var passes = MetricsIT.scrape(env).stream()
          .filter(x -> x.name().equals("operator_sdk_controllers_execution_reconcile_seconds_max")
              && "silent".equals(x.labels().get("resource_name")))
          .toList();
      assertThat(passes).as("JOSDK's timer of the passes of silent").isNotEmpty();
      assertThat(passes).allSatisfy(x -> assertThat(x.value())
          .as("the longest pass of silent, in seconds").isLessThan(2.5));
    }
  }

  static void plaintext(PgMigration m) {
    for (var e : List.of(m.getSpec().getSource(), m.getSpec().getTarget())) {
      e.setHost(io.pgmigrate.operator.testing.PostgresServer.address());
      e.setSslMode(io.pgmigrate.operator.api.SslMode.PREFER);
      e.setCaSecret(null);
    }
  }

  static PgMigration get(OperatorExtension.Env env, String name) {
    return env.client().resources(PgMigration.class).inNamespace(env.namespace())
        .withName(name).get();
  }

  static List<Event> events(OperatorExtension.Env env, String name) {
    return env.client().v1().events().inNamespace(env.namespace()).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName()))
        .toList();
  }

  /** Waits for the phase; gives up at once when the migration fails instead. */
  static PgMigration awaitPhase(OperatorExtension.Env env, String name, Phase phase) {
    var m = await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(300))
        .until(() -> get(env, name),
            x -> x != null && x.getStatus() != null
                && (x.getStatus().getPhase() == phase || x.getStatus().getPhase() == Phase.Failed));
    assertThat(m.getStatus().getPhase()).as(m.getStatus().getMessage()).isEqualTo(phase);
    return m;
  }

  static CheckResult check(PgMigration m, String name) {
    return m.getStatus().getChecks().stream()
        .filter(c -> c.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no check " + name + " in " + m.getStatus().getChecks()));
  }
}
