package io.pgmigrate.operator;

import static io.pgmigrate.operator.OperatorValidationIT.awaitPhase;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.pgmigrate.operator.api.Method;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.testing.Fixtures;
import io.pgmigrate.operator.testing.GoTools;
import io.pgmigrate.operator.testing.OperatorExtension;
import io.pgmigrate.operator.testing.PostgresPair;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What GitOps tools make of real PgMigrations: every version of each object the API server
 * sends a watch (validate-only, a failing validation, a dump to Ready, a continuous migration
 * through Migrating, Syncing and its cutover) goes through tools/gitops-check, which computes
 * kstatus's status (Flux) and runs the chart's Argo CD health check in gopher-lua.
 */
@ExtendWith({PostgresPair.class, OperatorExtension.class})
class GitOpsIT {

  static final Path REPO = Path.of(System.getProperty("pgmigrate.repoRoot", ".."));
  static final Path HEALTH_LUA = REPO.resolve("helm/pgmigrate-operator/argocd/health.lua");
  static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void kstatusAndTheArgoCdHealthCheckReadEveryPhaseAsTheReadmeSays(
      OperatorExtension.Env env, PostgresPair.Servers pg) throws Exception {
    var checker = checker();
    var seen = new ConcurrentLinkedQueue<GenericKubernetesResource>();
    try (var watch = env.client().genericKubernetesResources(
            PgMigration.GROUP + "/" + PgMigration.VERSION, "PgMigration")
        .inNamespace(env.namespace()).watch(new Watcher<>() {
          @Override
          public void eventReceived(Action action, GenericKubernetesResource resource) {
            if (action != Action.DELETED) {
              seen.add(resource);
            }
          }

          @Override
          public void onClose(WatcherException cause) {}
        })) {
      // a dry run that passes
      var dry = Fixtures.migration(env.client(), env.namespace(), "dry", pg.source(), pg.target());
      dry.getSpec().setValidateOnly(true);
      dry.getSpec().setDatabases(List.of("postgres"));
      env.client().resource(dry).create();
      // a validation that fails: the target's Secret is missing
      var bad = Fixtures.migration(env.client(), env.namespace(), "bad", pg.source(), pg.target());
      bad.getSpec().getTarget().getCredentialsSecret().setName("missing");
      bad.getSpec().setDatabases(List.of("postgres"));
      env.client().resource(bad).create();
      // a dump to Ready
      pg.source().execute("postgres", "create database gitops_dump");
      pg.source().execute("gitops_dump", "create table t (id int primary key)",
          "insert into t select generate_series(1, 100)");
      var dump = Fixtures.migration(env.client(), env.namespace(), "dump", pg.source(),
          pg.target());
      dump.getSpec().setMethod(Method.DUMP);
      dump.getSpec().getDump().setJobs(1);
      dump.getSpec().setDatabases(List.of("gitops_dump"));
      env.client().resource(dump).create();

      awaitPhase(env, "bad", Phase.Failed);
      awaitPhase(env, "dump", Phase.Ready);
      await().atMost(Duration.ofSeconds(60)).until(() -> readyIsTrue(env, "dry"));

      try (var src = ContinuousMigrationIT.source("gitops-src")) {
        ContinuousMigrationIT.seed(src, "gitops_cont");
        env.client().resource(ContinuousMigrationIT.migration(env, "cont", src, pg.target(),
            List.of("gitops_cont"))).create();
        awaitPhase(env, "cont", Phase.Syncing);
        // Syncing is the steady state while keepReplicating: the next pass refreshes the lag
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5))
            .until(() -> OperatorValidationIT.get(env, "cont").getStatus().getPhase()
                == Phase.Syncing);
        ContinuousMigrationIT.setKeepReplicating(env, "cont", false);
        awaitPhase(env, "cont", Phase.Ready);
        ContinuousMigrationIT.deleteAndWait(env, "cont");
      }
    }

    var results = check(checker, new ArrayList<>(seen));
    var byPhase = new TreeMap<String, Set<String>>();
    for (var r : results) {
      var object = r.object();
      var status = object.get("status");
      if (status == null || status.isNull()) {
        // before the operator's first write: kstatus has nothing to go on (README)
        continue;
      }
      var phase = status.path("phase").asText();
      var name = object.at("/metadata/name").asText();
      var expected = expected(object);
      var got = r.kstatus() + "/" + r.health();
      assertThat(got).as("%s in %s: kstatus %s, Lua %s; status %s", name, phase,
          r.kstatusMessage(), r.healthMessage(), status).isEqualTo(expected);
      byPhase.computeIfAbsent(name + " " + phase + " " + expected, k -> new TreeSet<>())
          .add(r.healthMessage());
    }
    // every case the README promises was seen at least once, as the API server returned it
    assertThat(byPhase.keySet()).contains(
        "dry Validating InProgress/Progressing", "dry Validating Current/Healthy",
        "bad Failed Failed/Degraded",
        "dump Migrating InProgress/Progressing", "dump Ready Current/Healthy",
        "cont Migrating InProgress/Progressing", "cont Syncing Current/Healthy",
        "cont Syncing InProgress/Progressing", "cont Ready Current/Healthy",
        "cont Ready Terminating/Progressing");
    assertThat(byPhase.get("bad Failed Failed/Degraded")).allSatisfy(m ->
        assertThat(m).startsWith("Failed (ValidationFailed): ").contains("target.credentials"));
    assertThat(byPhase.get("cont Syncing Current/Healthy")).allSatisfy(m ->
        assertThat(m).startsWith("Syncing (Replicating): ").contains("keepReplicating: false"));
  }

  static boolean readyIsTrue(OperatorExtension.Env env, String name) {
    var m = OperatorValidationIT.get(env, name);
    return m.getStatus() != null && m.getStatus().getConditions().stream()
        .anyMatch(c -> c.getType().equals("Ready") && c.getStatus().equals("True"));
  }

  /**
   * What the README says each state reads as: Failed is Failed/Degraded; the goal reached
   * (Ready; a passed dry run; Syncing while keepReplicating) is Current/Healthy; everything else,
   * and any status of an older generation than the spec's, InProgress/Progressing; a deletion
   * Terminating/Progressing.
   */
  static String expected(JsonNode object) {
    if (object.at("/metadata/deletionTimestamp").isTextual()) {
      return "Terminating/Progressing";
    }
    var status = object.get("status");
    var generation = object.at("/metadata/generation").asLong();
    if (status.path("observedGeneration").asLong(-1) != generation) {
      return "InProgress/Progressing";
    }
    var phase = status.path("phase").asText();
    var spec = object.get("spec");
    boolean validated = status.path("validatedGeneration").asLong(-1) == generation
        && status.path("checks").size() > 0;
    boolean cutover = !spec.path("keepReplicating").asBoolean(true)
        || status.path("databases").findValues("cutoverLsn").size() > 0;
    return switch (phase) {
      case "Failed" -> "Failed/Degraded";
      case "Ready" -> "Current/Healthy";
      case "Validating" -> spec.path("validateOnly").asBoolean(false) && validated
          ? "Current/Healthy" : "InProgress/Progressing";
      case "Syncing" -> cutover ? "InProgress/Progressing" : "Current/Healthy";
      default -> "InProgress/Progressing";
    };
  }

  /** One line of the checker's output, with the object it describes. */
  record Result(JsonNode object, String kstatus, String kstatusMessage, String health,
      String healthMessage) {}

  static List<Result> check(Path checker, List<GenericKubernetesResource> objects)
      throws IOException, InterruptedException {
    var items = JSON.createArrayNode();
    for (var o : objects) {
      items.add(JSON.readTree(JSON.writeValueAsString(o)));
    }
    var list = JSON.createObjectNode().put("apiVersion", "v1").put("kind", "List");
    list.set("items", items);
    var p = new ProcessBuilder(checker.toString(), "-health-lua", HEALTH_LUA.toString())
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try (var in = p.getOutputStream()) {
      in.write(JSON.writeValueAsBytes(list));
    }
    var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    var lines = out.strip().lines().toList();
    assertThat(lines).hasSameSizeAs(objects);
    var results = new ArrayList<Result>();
    for (int i = 0; i < lines.size(); i++) {
      var r = JSON.readTree(lines.get(i));
      results.add(new Result(items.get(i), r.get("kstatus").asText(),
          r.get("kstatusMessage").asText(), r.get("health").asText(),
          r.get("healthMessage").asText()));
    }
    return results;
  }

  /** tools/gitops-check, built into target/ (see {@link GoTools}). */
  static Path checker() throws IOException, InterruptedException {
    return GoTools.build("gitops-check");
  }
}
