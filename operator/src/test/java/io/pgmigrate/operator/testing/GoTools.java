package io.pgmigrate.operator.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The project's Go tools under tools/ (gitops-check, prom-check), built into target/ with Go
 * (the module proxy supplies their modules on a fresh machine; GOTOOLCHAIN=auto fetches a newer
 * Go if go.mod asks for one); built again only when a source file is newer than the binary.
 */
public final class GoTools {

  static final Path REPO = Path.of(System.getProperty("pgmigrate.repoRoot", ".."));

  private GoTools() {}

  /** The tool's binary, built if missing or older than its sources. */
  public static synchronized Path build(String tool) throws IOException, InterruptedException {
    var source = REPO.resolve("tools").resolve(tool);
    var binary = Path.of("target").resolve(tool).toAbsolutePath();
    if (Files.exists(binary)) {
      var built = Files.getLastModifiedTime(binary);
      try (var files = Files.list(source)) {
        if (files.allMatch(f -> {
          try {
            return Files.getLastModifiedTime(f).compareTo(built) <= 0;
          } catch (IOException e) {
            return false;
          }
        })) {
          return binary;
        }
      }
    }
    var go = Files.isExecutable(Path.of("/usr/local/go/bin/go")) ? "/usr/local/go/bin/go" : "go";
    var build = new ProcessBuilder(go, "build", "-o", binary.toString(), ".")
        .directory(source.toFile()).redirectErrorStream(true);
    build.environment().putAll(Map.of("GOTOOLCHAIN", "auto", "GOFLAGS", "-buildvcs=false"));
    long start = System.nanoTime();
    var p = build.start();
    var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(15, TimeUnit.MINUTES)).as("go build of %s timed out", tool).isTrue();
    assertThat(p.exitValue()).as("go build in %s: %s", source, out).isZero();
    System.out.printf("built tools/%s in %d s%n", tool,
        (System.nanoTime() - start) / 1_000_000_000);
    return binary;
  }
}
