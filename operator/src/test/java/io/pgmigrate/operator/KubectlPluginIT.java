package io.pgmigrate.operator;

import static io.pgmigrate.operator.OperatorValidationIT.awaitPhase;
import static io.pgmigrate.operator.OperatorValidationIT.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import io.pgmigrate.operator.api.CheckOutcome;
import io.pgmigrate.operator.api.Method;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.checks.Bytes;
import io.pgmigrate.operator.dump.DumpPods;
import io.pgmigrate.operator.testing.Fixtures;
import io.pgmigrate.operator.testing.KubeApi;
import io.pgmigrate.operator.testing.OperatorExtension;
import io.pgmigrate.operator.testing.PostgresPair;
import io.pgmigrate.operator.testing.PostgresServer;
import io.pgmigrate.operator.testing.Writer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The kubectl plugin (tools/kubectl-pgmigrate, built by the pom's kubectl-pgmigrate execution)
 * against the real API server: status, checks and logs of a live continuous migration while
 * an application writes to the source, its cutover to Ready, refusals that change nothing, the
 * restart of a Failed migration, and the plugin run by the real kubectl from PATH.
 */
@ExtendWith({PostgresPair.class, OperatorExtension.class})
class KubectlPluginIT {

  static final Path PLUGIN = Path.of(
      System.getProperty("pgmigrate.kubectlPlugin", "target/kubectl-pgmigrate")).toAbsolutePath();
  static final ObjectMapper JSON = new ObjectMapper();

  /** Every output of the plugin in this class, to look for a password in. */
  final List<String> outputs = new ArrayList<>();

  @Test
  void statusChecksLogsAndCutoverOfALiveContinuousMigrationWhileTheApplicationWrites(
      OperatorExtension.Env env, PostgresPair.Servers pg) throws Exception {
    var dbs = List.of("plugin_a", "plugin_b");
    try (var src = ContinuousMigrationIT.source("plugin-src")) {
      try {
        liveMigration(env, pg, src, dbs);
      } finally {
        // while the source still runs, so that the finalizer can drop the slots
        if (get(env, "live") != null) {
          ContinuousMigrationIT.deleteAndWait(env, "live");
        }
      }
    }
    assertNoPassword();
  }

  void liveMigration(OperatorExtension.Env env, PostgresPair.Servers pg, PostgresServer src,
      List<String> dbs) throws Exception {
    dbs.forEach(db -> ContinuousMigrationIT.seed(src, db));
    // a table without key: source.replicaIdentity warns (replicaIdentityFull lets it through)
    src.execute("plugin_a", "create table audit (at timestamptz not null default now(), what"
        + " text)", "insert into audit (what) values ('created'), ('seeded')");
    try (var writerA = new Writer(src, "plugin_a", Duration.ofMinutes(3));
        var writerB = new Writer(src, "plugin_b", Duration.ofMinutes(3))) {
      var m = ContinuousMigrationIT.migration(env, "live", src, pg.target(), dbs);
      m.getSpec().getReplication().setReplicaIdentityFull(true);
      env.client().resource(m).create();

      // before Syncing the cutover and a restart are refused, and change nothing
      var early = plugin(env, "cutover", "live");
      assertThat(early.exitCode()).as(early.toString()).isEqualTo(2);
      assertThat(early.stderr()).contains("pgmigration/live is ").contains(", not Syncing")
          .contains("--force");
      var notFailed = plugin(env, "restart", "live");
      assertThat(notFailed.exitCode()).as(notFailed.toString()).isEqualTo(2);
      assertThat(notFailed.stderr()).contains(", not Failed");
      var untouched = get(env, "live");
      assertThat(untouched.getSpec().isKeepReplicating()).isTrue();
      assertThat(untouched.restartToken()).isNull();

      awaitPhase(env, "live", Phase.Syncing);
      assertStatusPrintsWhatTheObjectSays(env, "live");
      assertStatusJsonIsTheObjectsStatus(env, "live");

      // checks: by default those that did not pass, with their remedy; --all every one
      var status = raw(env, "live").path("status");
      var checks = plugin(env, "checks", "live");
      assertThat(checks.exitCode()).as(checks.toString()).isZero();
      var listed = checkRows(checks.stdout());
      var notPassed = new LinkedHashMap<String, List<String>>();
      for (var c : status.path("checks")) {
        if (!c.path("result").asText().equals(CheckOutcome.Passed.name())) {
          notPassed.put(c.path("name").asText(), List.of(c.path("result").asText(),
              c.path("message").asText(), c.path("remedy").asText()));
        }
      }
      assertThat(notPassed).containsKey("source.replicaIdentity");
      assertThat(notPassed.get("source.replicaIdentity").get(0)).isEqualTo("Warning");
      assertThat(notPassed.get("source.replicaIdentity").get(1)).contains("public.audit");
      assertThat(listed).isEqualTo(notPassed);
      var all = plugin(env, "checks", "live", "--all");
      assertThat(all.exitCode()).as(all.toString()).isZero();
      var names = new ArrayList<String>();
      status.path("checks").forEach(c -> names.add(c.path("name").asText()));
      assertThat(checkRows(all.stdout()).keySet()).containsExactlyElementsOf(names);
      long warnings = notPassed.values().stream().filter(c -> c.get(0).equals("Warning")).count();
      assertThat(all.stdout()).startsWith((names.size() - notPassed.size()) + " passed, "
          + warnings + (warnings == 1 ? " warning, " : " warnings, ")
          + (notPassed.size() - warnings) + " failed\n");

      // logs: every line of every Pod of the migration, after its Pod's name
      var pods = pods(env, "live");
      assertThat(pods).hasSizeGreaterThanOrEqualTo(2 * dbs.size()); // schema + index Pods
      var logs = plugin(env, "logs", "live");
      assertThat(logs.exitCode()).as(logs.toString()).isZero();
      for (var pod : pods) {
        var name = pod.getMetadata().getName();
        var lines = env.podLog(name).strip().lines().toList();
        assertThat(lines).as(name).isNotEmpty();
        assertThat(logs.stdout()).as(name).contains(
            String.join("\n", lines.stream().map(l -> "[" + name + "] " + l).toList()));
      }
      assertThat(logs.stdout()).containsPattern(
          "(?m)^\\[live-[0-9a-f]{6}-schema-[^ ]+\\] copying the schema before the initial copy");
      var onlyB = plugin(env, "logs", "live", "--database", "plugin_b");
      assertThat(onlyB.exitCode()).as(onlyB.toString()).isZero();
      for (var pod : pods) {
        var db = pod.getMetadata().getAnnotations().get(DumpPods.DATABASE);
        var prefix = "[" + pod.getMetadata().getName() + "] ";
        if (db.equals("plugin_b")) {
          assertThat(onlyB.stdout()).contains(prefix);
        } else {
          assertThat(onlyB.stdout()).doesNotContain(prefix);
        }
      }
      var noSuchDb = plugin(env, "logs", "live", "--database", "nope");
      assertThat(noSuchDb.exitCode()).as(noSuchDb.toString()).isEqualTo(1);
      assertThat(noSuchDb.stderr()).contains("does not migrate database \"nope\"");

      // installed the kubectl way: on PATH as kubectl-pgmigrate, run by the real kubectl
      var viaKubectl = kubectl(env, "pgmigrate", "status", "live", "-n", env.namespace());
      assertThat(viaKubectl.exitCode()).as(viaKubectl.toString()).isZero();
      assertThat(viaKubectl.stdout()).containsPattern("(?m)^Name:\\s+live$")
          .containsPattern("(?m)^Phase:\\s+Syncing$").contains("DATABASE").contains("plugin_b");
      var pluginList = kubectl(env, "plugin", "list");
      assertThat(pluginList.stdout()).contains("kubectl-pgmigrate");

      writerA.stop();
      writerB.stop();
      assertThat(writerA.statements() + writerB.statements()).isGreaterThan(100);
    }

    // the cutover: a merge patch by the plugin, then it waits for Ready
    var cutover = plugin(env, "cutover", "live", "--wait", "--timeout", "2m");
    assertThat(cutover.exitCode()).as(cutover.toString()).isZero();
    assertThat(cutover.stdout())
        .contains("pgmigration/live: cutover asked for (spec.keepReplicating: false)")
        .contains("kubectl wait --for=condition=Ready pgmigration/live -n " + env.namespace())
        .contains("pgmigration/live is Ready");
    var ready = get(env, "live");
    assertThat(ready.getStatus().getPhase()).isEqualTo(Phase.Ready);
    assertThat(ready.getSpec().isKeepReplicating()).isFalse();
    assertThat(ready.getMetadata().getManagedFields())
        .anyMatch(f -> f.getManager().equals("kubectl-pgmigrate"));
    for (var db : dbs) {
      ContinuousMigrationIT.assertSameData(src, pg.target(), db);
    }
    var again = plugin(env, "cutover", "live");
    assertThat(again.exitCode()).as(again.toString()).isEqualTo(2);
    assertThat(again.stderr()).contains("pgmigration/live is already Ready");

    // -f on a finished migration prints every Pod's log and ends by itself
    var followed = plugin(env, "logs", "live", "-f");
    assertThat(followed.exitCode()).as(followed.toString()).isZero();
    var everything = plugin(env, "logs", "live");
    assertThat(followed.stdout().lines().sorted().toList())
        .isEqualTo(everything.stdout().lines().sorted().toList());
  }

  @Test
  void restartStartsAFailedMigrationOverAndCutoverRefusesFailedAndDumpMigrations(
      OperatorExtension.Env env, PostgresPair.Servers pg) throws Exception {
    // a dump, copying while the rest runs
    pg.source().execute("postgres", "create database plugin_dump");
    pg.source().execute("plugin_dump", "create table t (id int primary key)",
        "insert into t select generate_series(1, 100)");
    var dump = Fixtures.migration(env.client(), env.namespace(), "copy", pg.source(),
        pg.target());
    dump.getSpec().setMethod(Method.DUMP);
    dump.getSpec().getDump().setJobs(1);
    dump.getSpec().setDatabases(List.of("plugin_dump"));
    env.client().resource(dump).create();

    var m = Fixtures.migration(env.client(), env.namespace(), "broken", pg.source(), pg.target());
    m.getSpec().setValidateOnly(true);
    m.getSpec().setDatabases(List.of("postgres"));
    m.getSpec().getTarget().getCredentialsSecret().setName("broken-login");
    env.client().resource(m).create();
    var failed = awaitPhase(env, "broken", Phase.Failed);

    var checks = plugin(env, "checks", "broken");
    assertThat(checks.exitCode()).as(checks.toString()).isZero();
    var credentials = OperatorValidationIT.check(failed, "target.credentials");
    assertThat(checkRows(checks.stdout())).containsEntry("target.credentials",
        List.of("Failed", credentials.getMessage(), credentials.getRemedy()));

    // a spec change would start a Failed migration over: cutover refuses, even with --force
    var cutover = plugin(env, "cutover", "broken", "--force");
    assertThat(cutover.exitCode()).as(cutover.toString()).isEqualTo(2);
    assertThat(cutover.stderr()).contains("pgmigration/broken is Failed, not Syncing")
        .contains("kubectl pgmigrate restart broken");
    var after = get(env, "broken");
    assertThat(after.getMetadata().getGeneration())
        .isEqualTo(failed.getMetadata().getGeneration());
    assertThat(after.getSpec().isKeepReplicating()).isTrue();

    // the missing login appears; the migration stays Failed until someone asks
    Fixtures.applySecret(env.client(), Fixtures.credentials(env.namespace(), "broken-login",
        PostgresServer.SUPERUSER, PostgresServer.SUPERUSER_PASSWORD));
    await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(4))
        .until(() -> get(env, "broken").getStatus().getPhase() == Phase.Failed);
    var restart = plugin(env, "restart", "broken", "--wait");
    assertThat(restart.exitCode()).as(restart.toString()).isZero();
    var token = find(restart.stdout(),
        "pgmigration/broken: restart asked for \\(pgmigrate\\.io/restart=(\\S+)\\)\\.");
    assertThat(restart.stdout()).contains("It had failed with: " + failed.getStatus().getMessage())
        .contains("pgmigration/broken started over: phase Validating");
    var restarted = get(env, "broken");
    assertThat(restarted.restartToken()).isEqualTo(token);
    assertThat(restarted.getStatus().getRestartToken()).isEqualTo(token);
    assertThat(restarted.getStatus().getPhase()).isNotEqualTo(Phase.Failed);
    // with its login the dry run passes: Ready True, reason ValidateOnly
    await().atMost(Duration.ofSeconds(60)).until(() -> GitOpsIT.readyIsTrue(env, "broken"));

    // not Failed any more: a second restart is refused and the annotation stays
    var second = plugin(env, "restart", "broken");
    assertThat(second.exitCode()).as(second.toString()).isEqualTo(2);
    assertThat(second.stderr()).contains("pgmigration/broken is Validating, not Failed");
    assertThat(get(env, "broken").restartToken()).isEqualTo(token);

    // the dump: its one Pod's log as it is (one Pod: no prefix); no cutover
    awaitPhase(env, "copy", Phase.Ready);
    var dumpPods = pods(env, "copy");
    assertThat(dumpPods).hasSize(1);
    var dumpLog = env.podLog(dumpPods.get(0).getMetadata().getName());
    assertThat(dumpLog).contains("copying database with 1 job").contains("verified: 1 table(s)");
    var logs = plugin(env, "logs", "copy");
    assertThat(logs.exitCode()).as(logs.toString()).isZero();
    assertThat(logs.stdout().strip()).isEqualTo(dumpLog.strip());
    var dumpStatus = plugin(env, "status", "copy");
    assertThat(dumpStatus.exitCode()).as(dumpStatus.toString()).isZero();
    assertThat(dumpStatus.stdout()).containsPattern("(?m)^Method:\\s+dump$")
        .containsPattern("(?m)^plugin_dump\\s+Done\\s").doesNotContain("Cutover:");
    var dumpCutover = plugin(env, "cutover", "copy", "--force");
    assertThat(dumpCutover.exitCode()).as(dumpCutover.toString()).isEqualTo(2);
    assertThat(dumpCutover.stderr()).contains("pgmigration/copy uses method dump, which has no"
        + " cutover");

    var missing = plugin(env, "status", "nosuch");
    assertThat(missing.exitCode()).as(missing.toString()).isEqualTo(1);
    assertThat(missing.stderr()).contains(
        "pgmigration \"nosuch\" not found in namespace \"" + env.namespace() + "\"");
    var usage = plugin(env, "status");
    assertThat(usage.exitCode()).as(usage.toString()).isEqualTo(1);
    assertThat(usage.stderr()).contains("accepts 1 arg(s), received 0");
    for (var command : List.of("status", "checks", "cutover", "restart", "logs")) {
      var help = plugin(env, command, "--help");
      assertThat(help.exitCode()).as(help.toString()).isZero();
      assertThat(help.stdout()).contains("kubectl pgmigrate " + command + " NAME");
    }
    assertNoPassword();
  }

  /**
   * `status` against the object as the API server has it at that moment: the object read
   * before and after the plugin ran, with the same resourceVersion (the operator writes
   * status every 10 s while Syncing; a run between two writes is compared).
   */
  void assertStatusPrintsWhatTheObjectSays(OperatorExtension.Env env, String name) {
    for (int attempt = 0; attempt < 10; attempt++) {
      var before = raw(env, name);
      var out = plugin(env, "status", name);
      var after = raw(env, name);
      assertThat(out.exitCode()).as(out.toString()).isZero();
      if (!version(before).equals(version(after))) {
        continue;
      }
      var status = before.path("status");
      var text = out.stdout();
      assertThat(find(text, "(?m)^Phase:\\s+(.+)$")).isEqualTo(status.path("phase").asText());
      assertThat(find(text, "(?m)^Method:\\s+(.+)$")).isEqualTo("continuous");
      assertThat(find(text, "(?m)^Message:\\s+(.+)$")).isEqualTo(status.path("message").asText());
      assertThat(find(text, "(?m)^Lag:\\s+(.+)$")).isEqualTo(status.path("lag").asText());
      assertThat(find(text, "(?m)^Cutover:\\s+(.+)$"))
          .isEqualTo("not asked for (keepReplicating: true)");
      assertThat(text).containsPattern("(?m)^  Ready\\s+True\\s+Replicating\\s");
      var rows = table(text, "DATABASE");
      var databases = status.path("databases");
      assertThat(rows).hasSize(databases.size());
      for (var d : databases) {
        var row = rows.get(d.path("name").asText());
        assertThat(row).as(d.toString()).isNotNull();
        assertThat(row.get("PHASE")).isEqualTo(d.path("phase").asText());
        assertThat(row.get("TABLES")).isEqualTo(
            d.path("tablesSynced").asLong() + "/" + d.path("tablesTotal").asLong());
        assertThat(d.path("lagBytes").isIntegralNumber()).as(d.toString()).isTrue();
        assertThat(row.get("LAG")).isEqualTo(Bytes.human(d.path("lagBytes").asLong()));
        assertThat(row.get("POD")).isEqualTo(d.path("pod").asText("-"));
        assertThat(row.get("MESSAGE")).isEqualTo(d.path("message").asText("-"));
      }
      // the checks that did not pass, with their remedy
      assertThat(text).containsPattern("(?m)^source\\.replicaIdentity\\s+Warning\\s+\\S");
      return;
    }
    throw new AssertionError("the status changed during every one of 10 runs");
  }

  void assertStatusJsonIsTheObjectsStatus(OperatorExtension.Env env, String name)
      throws IOException {
    for (int attempt = 0; attempt < 10; attempt++) {
      var before = raw(env, name);
      var out = plugin(env, "status", name, "-o", "json");
      var after = raw(env, name);
      assertThat(out.exitCode()).as(out.toString()).isZero();
      if (version(before).equals(version(after))) {
        var json = JSON.readTree(out.stdout());
        assertThat(json.path("name").asText()).isEqualTo(name);
        assertThat(json.path("namespace").asText()).isEqualTo(env.namespace());
        assertThat(json.path("generation").asLong())
            .isEqualTo(before.at("/metadata/generation").asLong());
        assertThat(json.get("status")).isEqualTo(before.get("status"));
        return;
      }
    }
    throw new AssertionError("the status changed during every one of 10 runs");
  }

  /** The rows of the table whose header starts with first, by their first cell. */
  static Map<String, Map<String, String>> table(String text, String first) {
    var lines = text.lines().toList();
    int h = 0;
    while (!lines.get(h).startsWith(first + " ")) {
      h++;
    }
    // columns are two or more spaces apart (tabwriter's padding); a header may hold one space
    var header = lines.get(h);
    var columns = new ArrayList<String>();
    var starts = new ArrayList<Integer>();
    var m = Pattern.compile("\\S+(?: \\S+)*").matcher(header);
    while (m.find()) {
      columns.add(m.group());
      starts.add(m.start());
    }
    var rows = new LinkedHashMap<String, Map<String, String>>();
    for (int i = h + 1; i < lines.size() && !lines.get(i).isBlank(); i++) {
      var line = lines.get(i);
      var row = new HashMap<String, String>();
      for (int c = 0; c < columns.size(); c++) {
        int from = Math.min(starts.get(c), line.length());
        int to = c + 1 < columns.size() ? Math.min(starts.get(c + 1), line.length())
            : line.length();
        row.put(columns.get(c), line.substring(from, to).strip());
      }
      rows.put(row.get(columns.get(0)), row);
    }
    return rows;
  }

  /** The check table: name to [result, message, remedy]. */
  static Map<String, List<String>> checkRows(String text) {
    var rows = new LinkedHashMap<String, List<String>>();
    var lines = text.lines().toList();
    int h = 0;
    while (!lines.get(h).startsWith("CHECK ")) {
      h++;
    }
    int resultAt = lines.get(h).indexOf("RESULT");
    int messageAt = lines.get(h).indexOf("MESSAGE");
    String last = null;
    for (int i = h + 1; i < lines.size() && !lines.get(i).isBlank(); i++) {
      var line = lines.get(i);
      if (line.startsWith(" ")) {
        var remedy = line.substring(messageAt);
        assertThat(remedy).startsWith("remedy: ");
        rows.get(last).set(2, remedy.substring("remedy: ".length()));
        continue;
      }
      last = line.substring(0, resultAt).strip();
      rows.put(last, new ArrayList<>(List.of(line.substring(resultAt, messageAt).strip(),
          line.substring(messageAt), "")));
    }
    return rows;
  }

  static String find(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertThat(m.find()).as("%s in:\n%s", regex, text).isTrue();
    return m.group(1);
  }

  static JsonNode raw(OperatorExtension.Env env, String name) {
    GenericKubernetesResource r = env.client().genericKubernetesResources(
            PgMigration.GROUP + "/" + PgMigration.VERSION, "PgMigration")
        .inNamespace(env.namespace()).withName(name).get();
    return JSON.valueToTree(r);
  }

  static String version(JsonNode object) {
    return object.at("/metadata/resourceVersion").asText();
  }

  static List<Pod> pods(OperatorExtension.Env env, String name) {
    var uid = get(env, name).getMetadata().getUid();
    return env.client().pods().inNamespace(env.namespace())
        .withLabel(DumpPods.MIGRATION_UID, uid).list().getItems();
  }

  void assertNoPassword() {
    assertThat(outputs).isNotEmpty()
        .allSatisfy(o -> assertThat(o).doesNotContain(PostgresServer.SUPERUSER_PASSWORD));
  }

  /** Exit code, standard output and standard error of one run. */
  record Run(int exitCode, String stdout, String stderr) {
    @Override
    public String toString() {
      return "exit " + exitCode + "\nstdout:\n" + stdout + "\nstderr:\n" + stderr;
    }
  }

  /** The plugin binary with the test kubeconfig and namespace flags. */
  Run plugin(OperatorExtension.Env env, String... args) {
    assertThat(PLUGIN).as("built by the pom's kubectl-pgmigrate execution (mvn verify)")
        .isExecutable();
    var command = new ArrayList<>(List.of(PLUGIN.toString()));
    command.addAll(List.of(args));
    command.addAll(List.of("--kubeconfig", env.api().kubeconfig().toString(), "-n",
        env.namespace()));
    return run(new ProcessBuilder(command));
  }

  /**
   * The real kubectl with the plugin on PATH as kubectl-pgmigrate (its own directory) and the
   * kubeconfig in KUBECONFIG: kubectl takes no flags of its own before a plugin's name.
   */
  Run kubectl(OperatorExtension.Env env, String... args) throws IOException {
    var bin = Files.createTempDirectory("kubectl-plugins");
    Files.createSymbolicLink(bin.resolve("kubectl-pgmigrate"), PLUGIN);
    var command = new ArrayList<>(List.of(KubeApi.kubectl().toString()));
    command.addAll(List.of(args));
    var pb = new ProcessBuilder(command);
    pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
    pb.environment().put("KUBECONFIG", env.api().kubeconfig().toString());
    try {
      return run(pb);
    } finally {
      Files.delete(bin.resolve("kubectl-pgmigrate"));
      Files.delete(bin);
    }
  }

  Run run(ProcessBuilder pb) {
    try {
      var p = pb.start();
      p.getOutputStream().close();
      var err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
      var out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
      if (!p.waitFor(150, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError(pb.command() + " did not end within 150 s");
      }
      var result = new Run(p.exitValue(), out.join(), err.join());
      outputs.add(result.stdout() + result.stderr());
      return result;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static String read(java.io.InputStream in) {
    try {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
