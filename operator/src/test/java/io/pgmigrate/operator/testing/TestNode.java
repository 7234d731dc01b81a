package io.pgmigrate.operator.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Kubernetes node for the test API server: containerd, runc, the CNI bridge, kubelet,
 * kube-scheduler and kube-controller-manager, started by {@code tools/test-node/node-up.sh} and
 * removed by {@code node-down.sh} (processes, mounts, cgroups, addresses, kernel settings), also
 * when the JVM ends without closing it. One per test JVM; Pods run in real containers from the
 * images {@code tools/test-node/images.sh} built. Servers that Pods use listen on {@link #IP}
 * and allow clients from {@link #POD_CIDR}.
 */
public final class TestNode implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(TestNode.class);

  /** The node's address (on lo): Pods reach the host's servers here. */
  public static final String IP = env("PGMIGRATE_NODE_IP", "10.77.0.1");
  /** Where Pods' connections come from (no masquerading). */
  public static final String POD_CIDR = env("PGMIGRATE_POD_CIDR", "10.88.0.0/16");

  private final Path work;
  private final Thread shutdownHook;
  private boolean closed;

  private TestNode(Path work) {
    this.work = work;
    this.shutdownHook = new Thread(this::down, "test-node-down");
  }

  private static String env(String name, String fallback) {
    var v = System.getenv(name);
    return v == null || v.isBlank() ? fallback : v;
  }

  /**
   * True when Pods run on the real node: {@code -Dpgmigrate.node=real}, which the build gives
   * the integration tests ({@code host} asks for the host-side stand-in, as the demo and the
   * benchmark use).
   */
  public static boolean enabled() {
    return "real".equals(System.getProperty("pgmigrate.node"));
  }

  static Path scripts() {
    return Path.of(System.getProperty("pgmigrate.repoRoot", ".."), "tools", "test-node")
        .toAbsolutePath().normalize();
  }

  /** Starts the node against this API server and waits until it is Ready. */
  public static TestNode start(KubeApi api) {
    try {
      // a fixed place in the build directory: a run killed before its teardown is cleaned up by
      // the next one, and the node's logs stay there for a look after a failure
      var work = Path.of(System.getProperty("pgmigrate.nodeDir", "target/test-node"))
          .toAbsolutePath().normalize();
      Files.createDirectories(work.resolve("logs"));
      run(List.of("bash", scripts().resolve("node-down.sh").toString(), work.toString()),
          work.resolve("logs/node-down-before.out"), null);
      var node = new TestNode(work);
      Runtime.getRuntime().addShutdownHook(node.shutdownHook);
      var command = new ArrayList<>(List.of("bash", scripts().resolve("node-up.sh").toString(),
          api.kubeconfig().toString(), work.toString()));
      var started = System.nanoTime();
      int exit = run(command, work.resolve("logs/node-up.out"), api.serviceAccountKey());
      if (exit != 0) {
        node.close();
        throw new IllegalStateException("node-up.sh failed (exit " + exit + "); its output: "
            + tail(work.resolve("logs/node-up.out")));
      }
      log.info("test node {} Ready after {} s (work dir {})", IP,
          String.format("%.1f", (System.nanoTime() - started) / 1e9), work);
      return node;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static int run(List<String> command, Path output, Path serviceAccountKey)
      throws IOException {
    var pb = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(output.toFile());
    if (serviceAccountKey != null) {
      pb.environment().put("PGMIGRATE_SA_KEY", serviceAccountKey.toString());
    }
    var p = pb.start();
    try {
      if (!p.waitFor(20, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        return -1;
      }
      return p.exitValue();
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private static String tail(Path file) {
    try {
      var lines = Files.readAllLines(file);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(unreadable: " + e.getMessage() + ")";
    }
  }

  /**
   * Imports an image tar (docker-archive or OCI, e.g. Jib's) into the node's containerd, for Pods
   * that name it with pull policy IfNotPresent or Never.
   */
  public void importImage(Path tar) {
    try {
      var out = Files.createTempFile("pgmigrate-import", ".out");
      var started = System.nanoTime();
      int exit = run(List.of("ctr", "--address",
          work.resolve("containerd").resolve("containerd.sock").toString(), "-n", "k8s.io",
          "images", "import", "--snapshotter", "overlayfs", tar.toString()), out, null);
      if (exit != 0) {
        throw new IllegalStateException("importing " + tar + " failed: " + tail(out));
      }
      log.info("imported {} into the test node in {} s", tar,
          String.format("%.1f", (System.nanoTime() - started) / 1e9));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The node's log directory (containerd, kubelet, scheduler, controller manager). */
  public Path logs() {
    return work.resolve("logs");
  }

  private synchronized void down() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      int exit = run(List.of("bash", scripts().resolve("node-down.sh").toString(),
          work.toString()), work.resolve("logs/node-down.out"), null);
      if (exit != 0) {
        log.warn("node-down.sh {} exited {}", work, exit);
      }
    } catch (IOException e) {
      log.warn("node-down.sh {}: {}", work, e.getMessage());
    }
  }

  @Override
  public void close() {
    down();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException ignored) {
      // the JVM is shutting down: the hook runs (and finds it done)
    }
  }
}
