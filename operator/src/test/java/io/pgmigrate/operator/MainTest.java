package io.pgmigrate.operator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {

  @Test
  void watchedNamespacesComeFromACommaSeparatedList() {
    assertThat(Main.parseNamespaces(null)).isEmpty();
    assertThat(Main.parseNamespaces(" ")).isEmpty();
    assertThat(Main.parseNamespaces("a, b,,c ")).containsExactlyInAnyOrder("a", "b", "c");
  }

  /**
   * The operator as its image starts it, with LOG_FORMAT=json and an API server it cannot reach:
   * it exits with 1 (a kubelet restarts it), and every line it writes, logback's own and the
   * failure's included, is one JSON object.
   */
  @Test
  void aJsonLogRunPrintsOnlyJsonLinesAndAFailedStartExits(@TempDir Path dir) throws Exception {
    var kubeconfig = dir.resolve("kubeconfig");
    Files.writeString(kubeconfig, """
        apiVersion: v1
        kind: Config
        clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
        contexts: [{name: c, context: {cluster: c, user: u}}]
        current-context: c
        users: [{name: u, user: {token: not-a-real-token}}]
        """);
    var output = dir.resolve("out.log");
    var java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    var pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        Main.class.getName())
        .redirectErrorStream(true).redirectOutput(output.toFile());
    pb.environment().put("LOG_FORMAT", "json");
    pb.environment().put("KUBECONFIG", kubeconfig.toString());
    pb.environment().put("WATCH_NAMESPACES", "nowhere");
    pb.environment().put("HTTP_PORT", "0");
    pb.environment().remove("JAVA_TOOL_OPTIONS");
    var process = pb.start();
    try {
      assertThat(process.waitFor(3, TimeUnit.MINUTES)).as("exits by itself").isTrue();
    } finally {
      process.destroyForcibly();
    }
    assertThat(process.exitValue()).isEqualTo(1);
    var lines = Files.readAllLines(output).stream().filter(l -> !l.isBlank()).toList();
    var json = new ObjectMapper();
    assertThat(lines).isNotEmpty().allSatisfy(line ->
        assertThat(json.readTree(line).isObject()).as(line).isTrue());
    assertThat(lines).anySatisfy(line -> {
      var event = json.readTree(line);
      assertThat(event.get("level").asText()).isEqualTo("ERROR");
      assertThat(event.get("formattedMessage").asText())
          .startsWith("pgmigrate-operator could not start");
    });
  }
}
