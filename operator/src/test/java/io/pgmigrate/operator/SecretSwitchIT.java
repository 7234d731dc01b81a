package io.pgmigrate.operator;

import static io.pgmigrate.operator.ContinuousMigrationIT.deleteAndWait;
import static io.pgmigrate.operator.ContinuousMigrationIT.migration;
import static io.pgmigrate.operator.ContinuousMigrationIT.seed;
import static io.pgmigrate.operator.ContinuousMigrationIT.source;
import static io.pgmigrate.operator.OperatorValidationIT.awaitPhase;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.pgmigrate.operator.api.CutoverSpec;
import io.pgmigrate.operator.api.Method;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.SwitchSecretSpec;
import io.pgmigrate.operator.reconciler.Conditions;
import io.pgmigrate.operator.testing.Contents;
import io.pgmigrate.operator.testing.Crashes;
import io.pgmigrate.operator.testing.OperatorExtension;
import io.pgmigrate.operator.testing.PostgresPair;
import io.pgmigrate.operator.testing.PostgresServer;
import java.nio.charset.StandardCharsets;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** cutover.switchSecret: after Ready the application's Secret leads to the target. */
@ExtendWith({PostgresPair.class, OperatorExtension.class})
class SecretSwitchIT {

  @AfterEach
  void noMoreCrashes() {
    Crashes.none();
  }

  /** An application Secret as CloudNativePG writes them, pointing at {@code server}. */
  static Secret appSecret(String namespace, String name, PostgresServer server, String db) {
    var host = PostgresServer.address();
    var port = server.port();
    return new SecretBuilder()
        .withMetadata(new ObjectMetaBuilder().withName(name).withNamespace(namespace).build())
        .withStringData(Map.of(
            "host", host, "port", Integer.toString(port), "dbname", db, "user", "app",
            "password", "app-pw",
            "uri", "postgresql://app:app-pw@" + host + ":" + port + "/" + db + "?sslmode=disable",
            "jdbc-uri", "jdbc:postgresql://" + host + ":" + port + "/" + db
                + "?password=app-pw&user=app&sslmode=disable"))
        .build();
  }

  static Map<String, String> decoded(Secret s) {
    var out = new LinkedHashMap<String, String>();
    s.getData().forEach((k, v) -> out.put(k,
        new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
    return out;
  }

  /**
   * Both methods; the switch is done once also when the operator is "killed" right after
   * writing the rollback copy or right after rewriting the Secret. With credentials the
   * application gets the target's login; without, it keeps its own role (copied to the target
   * with its password hash).
   */
  @ParameterizedTest
  @CsvSource({"DUMP, true, none", "CONTINUOUS, false, none",
      "DUMP, false, switch.rollbackCopied", "DUMP, true, switch.switched"})
  void theSwitchedSecretLeadsTheApplicationToTheTarget(Method method, boolean credentials,
      String crashAt, OperatorExtension.Env env, PostgresPair.Servers pg) throws Exception {
    var name = ("switch-" + method + "-" + credentials + "-" + crashAt).toLowerCase()
        .replace('.', '-');
    var db = name.replace('-', '_');
    var crashed = crashAt.equals("none") ? null : Crashes.onceAt(crashAt);
    try (var src = source(name + "-src")) {
      seed(src, db);
      src.execute(db, "do $$ begin if not exists (select from pg_roles where rolname = 'app')"
              + " then create role app login password 'app-pw'; end if; end $$",
          "grant select, insert, update, delete on all tables in schema public to app",
          "grant usage on all sequences in schema public to app");
      var secrets = env.client().secrets().inNamespace(env.namespace());
      secrets.resource(appSecret(env.namespace(), name + "-app", src, db)).create();
      var before = decoded(secrets.withName(name + "-app").get());
      var m = migration(env, name, src, pg.target(), List.of(db));
      m.getSpec().setMethod(method);
      m.getSpec().setKeepReplicating(false);
      m.getSpec().setCutover(new CutoverSpec());
      m.getSpec().getCutover().setSwitchSecret(new SwitchSecretSpec());
      m.getSpec().getCutover().getSwitchSecret().setName(name + "-app");
      m.getSpec().getCutover().getSwitchSecret().setCredentials(credentials);
      env.client().resource(m).create();
      awaitPhase(env, name, Phase.Ready);
      var switched = await().atMost(Duration.ofSeconds(30)).until(
          () -> OperatorValidationIT.get(env, name),
          x -> Conditions.get(x.getStatus().getConditions(), "SecretSwitched") != null
              && "True".equals(Conditions.get(x.getStatus().getConditions(), "SecretSwitched")
                  .getStatus()));
      if (crashed != null) {
        assertThat(crashed).as("the crash at " + crashAt + " happened").isTrue();
      }
      var secret = secrets.withName(name + "-app").get();
      var data = decoded(secret);
      var target = m.getSpec().getTarget();
      assertThat(data.get("host")).isEqualTo(target.getHost());
      assertThat(data.get("port")).isEqualTo(Integer.toString(target.portOrDefault()));
      assertThat(data.get("dbname")).isEqualTo(db);
      assertThat(data.get("user")).isEqualTo(credentials ? PostgresServer.SUPERUSER : "app");

      // the application's own connection string reaches the target: a real JDBC connection
      try (var c = DriverManager.getConnection(data.get("jdbc-uri"));
          var st = c.createStatement();
          var rs = st.executeQuery("select inet_server_port(), current_user,"
              + " (select count(*) from items)")) {
        rs.next();
        assertThat(rs.getInt(1)).isEqualTo(pg.target().port()).isNotEqualTo(src.port());
        assertThat(rs.getString(2)).isEqualTo(credentials ? PostgresServer.SUPERUSER : "app");
        assertThat(rs.getLong(3)).isEqualTo(2000);
      }
      assertThat(data.get("uri")).isEqualTo("postgresql://"
          + (credentials ? PostgresServer.SUPERUSER + ":" + PostgresServer.SUPERUSER_PASSWORD
              : "app:app-pw")
          + "@" + target.getHost() + ":" + target.portOrDefault() + "/" + db
          + "?sslmode=disable");

      // the way back: old values in a Secret of their own, no credential in an annotation
      var annotations = secret.getMetadata().getAnnotations();
      assertThat(annotations).containsEntry("pgmigrate.io/rollback-secret",
              name + "-app-pgmigrate-rollback")
          .containsEntry("pgmigrate.io/switched-from",
              PostgresServer.address() + ":" + src.port());
      assertThat(annotations.values()).noneMatch(v -> v.contains("app-pw")
          || v.contains(PostgresServer.SUPERUSER_PASSWORD));
      var rollback = decoded(secrets.withName(name + "-app-pgmigrate-rollback").get());
      assertThat(rollback).containsEntry("host", before.get("host"))
          .containsEntry("port", before.get("port"))
          .containsEntry("uri", before.get("uri"))
          .containsEntry("jdbc-uri", before.get("jdbc-uri"));
      if (credentials) {
        assertThat(rollback).containsEntry("user", "app").containsEntry("password", "app-pw");
      }
      var events = OperatorValidationIT.events(env, name).stream()
          .filter(e -> "SecretSwitched".equals(e.getReason())).toList();
      assertThat(events).singleElement().satisfies(e -> assertThat(e.getMessage())
          .contains("rewrote host, port, uri, jdbc-uri")
          .doesNotContain("app-pw").doesNotContain(PostgresServer.SUPERUSER_PASSWORD));

      // a restarted operator does not switch again
      var version = secret.getMetadata().getResourceVersion();
      env.stopOperator();
      env.startOperator();
      await().during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(7)).until(() ->
          version.equals(secrets.withName(name + "-app").get().getMetadata()
              .getResourceVersion()));
      System.out.printf("switch (%s, credentials %s, crash at %s): %s; Secret: %s%n", method,
          credentials, crashAt, Conditions.get(switched.getStatus().getConditions(),
              "SecretSwitched").getMessage(), annotations);
      deleteAndWait(env, name);
      assertThat(Contents.databases(pg.target())).contains(db);
    }
  }
}
