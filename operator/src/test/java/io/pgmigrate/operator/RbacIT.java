package io.pgmigrate.operator;

import static io.pgmigrate.operator.OperatorValidationIT.awaitPhase;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.pgmigrate.operator.api.Method;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.chart.HelmChartTest;
import io.pgmigrate.operator.postgres.Timeouts;
import io.pgmigrate.operator.reconciler.Conditions;
import io.pgmigrate.operator.testing.Contents;
import io.pgmigrate.operator.testing.Fixtures;
import io.pgmigrate.operator.testing.OperatorExtension;
import io.pgmigrate.operator.testing.PostgresPair;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The chart's RBAC is enough and no more: the operator runs against the real API server (RBAC
 * authorization) as the chart's ServiceAccount with only the chart's rules, and a dump
 * migration succeeds; without one of the rules it fails with a clear error.
 */
@ExtendWith({PostgresPair.class, OperatorExtension.class})
class RbacIT {

  @Test
  void theChartsRulesAreSufficientAndEachIsNeeded(OperatorExtension.Env env,
      PostgresPair.Servers pg) throws Exception {
    env.stopOperator(); // this test runs its own, with the ServiceAccount's rights only
    var admin = env.client();
    var release = "pgmigrate-system-" + UUID.randomUUID().toString().substring(0, 6);
    admin.resource(new NamespaceBuilder().withNewMetadata().withName(release).endMetadata()
        .build()).create();
    var objects = HelmChartTest.render(release, Map.of(),
        "watchNamespaces: [" + env.namespace() + "]\n");
    // nothing cluster-wide for the operator: the only ClusterRoles are the ones aggregated into
    // the built-in roles for the namespaces' users, and nothing binds one to the operator
    assertThat(objects).filteredOn(ClusterRole.class::isInstance).allSatisfy(r ->
        assertThat(r.getMetadata().getLabels().keySet())
            .anyMatch(k -> k.startsWith("rbac.authorization.k8s.io/aggregate-to-")));
    assertThat(objects).noneMatch(
        io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding.class::isInstance);
    var sa = objects.stream().filter(ServiceAccount.class::isInstance)
        .map(ServiceAccount.class::cast).findFirst().orElseThrow();
    for (var o : objects) {
      if (o instanceof ServiceAccount || o instanceof Role || o instanceof RoleBinding) {
        admin.resource(o).create();
      }
    }
    var token = admin.serviceAccounts().inNamespace(release).withName(sa.getMetadata().getName())
        .tokenRequest(new TokenRequestBuilder().withNewSpec().withExpirationSeconds(3600L)
            .endSpec().build())
        .getStatus().getToken();
    var config = new ConfigBuilder(Config.fromKubeconfig(Files.readString(env.api().kubeconfig())))
        .withClientCertData(null).withClientKeyData(null).withClientCertFile(null)
        .withClientKeyFile(null).withOauthToken(token).build();
    try (var client = new KubernetesClientBuilder().withConfig(config).build()) {
      // the token really is the ServiceAccount's, and it is bound by RBAC
      assertThatThrownBy(() -> client.secrets().inNamespace("default").list())
          .isInstanceOf(KubernetesClientException.class)
          .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(403));

      var operator = PgMigrateOperator.create(client, Set.of(env.namespace()),
          new Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofSeconds(20)));
      operator.start();
      try {
        pg.source().execute("postgres", "create database rbac_db");
        pg.source().execute("rbac_db", "create table t (id int primary key)",
            "insert into t select generate_series(1, 100)");
        var m = Fixtures.migration(admin, env.namespace(), "rbac-ok", pg.source(), pg.target());
        m.getSpec().setMethod(Method.DUMP);
        m.getSpec().setDatabases(List.of("rbac_db"));
        // the chart's rules suffice to switch an application's Secret (patch, and create for
        // the rollback copy)
        admin.resource(SecretSwitchIT.appSecret(env.namespace(), "rbac-app", pg.source(),
            "rbac_db")).create();
        m.getSpec().setCutover(new io.pgmigrate.operator.api.CutoverSpec());
        m.getSpec().getCutover().setSwitchSecret(new io.pgmigrate.operator.api.SwitchSecretSpec());
        m.getSpec().getCutover().getSwitchSecret().setName("rbac-app");
        admin.resource(m).create();
        awaitPhase(env, "rbac-ok", Phase.Ready);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
          var c = Conditions.get(OperatorValidationIT.get(env, "rbac-ok").getStatus()
              .getConditions(), "SecretSwitched");
          return c != null && "True".equals(c.getStatus());
        });
        assertThat(admin.secrets().inNamespace(env.namespace())
            .withName("rbac-app-pgmigrate-rollback").get()).isNotNull();
        assertThat(Contents.tables(pg.target(), "rbac_db"))
            .isEqualTo(Contents.tables(pg.source(), "rbac_db"));

        // one rule less: no creating Pods
        admin.rbac().roles().inNamespace(env.namespace()).withName("pgm-pgmigrate-operator")
            .edit(r -> {
              r.getRules().stream().filter(x -> x.getResources().contains("pods"))
                  .forEach(x -> x.setVerbs(x.getVerbs().stream().filter(v -> !v.equals("create"))
                      .toList()));
              return r;
            });
        pg.source().execute("postgres", "create database rbac_db2");
        var broken = Fixtures.migration(admin, env.namespace(), "rbac-less", pg.source(),
            pg.target());
        broken.getSpec().setMethod(Method.DUMP);
        broken.getSpec().setDatabases(List.of("rbac_db2"));
        admin.resource(broken).create();
        var failed = awaitPhase(env, "rbac-less", Phase.Failed);
        assertThat(failed.getStatus().getMessage())
            .contains("the operator may not create Pods in namespace " + env.namespace())
            .contains("forbidden");
        assertThat(Conditions.get(failed.getStatus().getConditions(), Conditions.READY).getReason())
            .isEqualTo("Forbidden");
        ContinuousMigrationIT.deleteAndWait(env, "rbac-less");

        // another rule less: no reading Secrets (Pods allowed again)
        admin.rbac().roles().inNamespace(env.namespace()).withName("pgm-pgmigrate-operator")
            .edit(r -> {
              for (var x : r.getRules()) {
                if (x.getResources().contains("pods") && !x.getVerbs().contains("create")) {
                  var verbs = new java.util.ArrayList<>(x.getVerbs());
                  verbs.add("create");
                  x.setVerbs(verbs);
                }
              }
              r.getRules().removeIf(x -> x.getResources().contains("secrets"));
              return r;
            });
        var blind = Fixtures.migration(admin, env.namespace(), "rbac-blind", pg.source(),
            pg.target());
        blind.getSpec().setMethod(Method.DUMP);
        blind.getSpec().setDatabases(List.of("rbac_db2"));
        admin.resource(blind).create();
        var noSecrets = awaitPhase(env, "rbac-blind", Phase.Failed);
        assertThat(OperatorValidationIT.check(noSecrets, "source.credentials").getMessage())
            .isEqualTo("the operator may not read Secret rbac-blind-source in namespace "
                + env.namespace() + " (check the chart's RBAC)");
        ContinuousMigrationIT.deleteAndWait(env, "rbac-blind");
        ContinuousMigrationIT.deleteAndWait(env, "rbac-ok");
      } finally {
        operator.stop();
      }
    }
  }
}
