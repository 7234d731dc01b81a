package io.pgmigrate.operator.build;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The CRD committed in crds/ and in the Helm chart must be what the build generates from the
 * Java classes. Compares against the committed version (git HEAD) where there is one, so a
 * build that rewrote the working copy cannot hide a stale commit.
 */
class CrdUpToDateTest {

  static Path repoRoot() {
    return Path.of(System.getProperty("pgmigrate.repoRoot", ".."));
  }

  @Test
  void committedCopiesMatchTheGeneratedCrd() throws Exception {
    var generated =
        Path.of("target/classes/META-INF/fabric8").resolve(CrdPublisher.FILE);
    assertThat(generated).as("run the build first: the crd-generator writes it").exists();
    var expected = CrdPublisher.render(Files.readString(generated));
    for (var copy : CrdPublisher.copies(repoRoot())) {
      var relative = repoRoot().toAbsolutePath().normalize()
          .relativize(copy.toAbsolutePath().normalize()).toString();
      var committed = gitShowHead(relative);
      var actual = committed != null ? committed : Files.readString(copy);
      assertThat(actual)
          .as("%s differs from the CRD generated from the Java classes: build and commit it",
              relative)
          .isEqualTo(expected);
    }
  }

  @Test
  void printerColumnsFollowTheDeclaredOrder() throws IOException {
    var generated = Path.of("target/classes/META-INF/fabric8").resolve(CrdPublisher.FILE);
    var text = CrdPublisher.render(Files.readString(generated));
    var phase = text.indexOf("name: \"Phase\"");
    var method = text.indexOf("name: \"Method\"");
    var databases = text.indexOf("name: \"Databases\"");
    var lag = text.indexOf("name: \"Lag\"");
    var age = text.indexOf("name: \"Age\"");
    assertThat(phase).isPositive().isLessThan(method);
    assertThat(method).isLessThan(databases);
    assertThat(databases).isLessThan(lag);
    assertThat(lag).isLessThan(age);
  }

  /** The file's content at HEAD, or null outside a git checkout or for an untracked file. */
  private static String gitShowHead(String relative) throws Exception {
    try {
      var p = new ProcessBuilder("git", "show", "HEAD:" + relative)
          .directory(repoRoot().toFile())
          .redirectError(ProcessBuilder.Redirect.DISCARD)
          .start();
      var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0 ? out : null;
    } catch (IOException noGit) {
      return null;
    }
  }
}
