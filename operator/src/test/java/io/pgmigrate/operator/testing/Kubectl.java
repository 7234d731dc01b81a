package io.pgmigrate.operator.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the real kubectl (built with the API server) against the test API server. */
public final class Kubectl {

  /** Exit code and combined output. */
  public record Result(int exitCode, String output) {}

  private Kubectl() {}

  public static Result run(KubeApi api, String stdin, String... args) {
    var command = new ArrayList<>(List.of(KubeApi.kubectl().toString(),
        "--kubeconfig", api.kubeconfig().toString()));
    command.addAll(List.of(args));
    try {
      var p = new ProcessBuilder(command).redirectErrorStream(true).start();
      if (stdin != null) {
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
      }
      p.getOutputStream().close();
      var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("kubectl timed out: " + command);
      }
      return new Result(p.exitValue(), out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
