package io.pgmigrate.operator.testing;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real kube-apiserver with etcd, started by {@code tools/test-node/test-apiserver.sh} from the
 * binaries that tools/kube-binaries/build.sh builds (never downloaded), with the operator's CRD
 * installed. Configured as a cluster's own, so that a Pod on the {@link TestNode} can use it
 * with in-cluster configuration: ServiceAccount tokens, a CA the kubeconfig trusts, a serving
 * certificate for 127.0.0.1, the node IP and the {@code kubernetes} Service's ClusterIP.
 */
public final class KubeApi implements AutoCloseable {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(KubeApi.class);

  private final Path dir;
  private final KubernetesClient client;
  private final Thread shutdownHook;
  private boolean stopped;

  private KubeApi(Path dir, KubernetesClient client) {
    this.dir = dir;
    this.client = client;
    this.shutdownHook = new Thread(this::stop, "test-apiserver-down");
  }

  /** The directory holding k8s/&lt;version&gt;-linux-amd64/{etcd,kube-apiserver,kubectl}. */
  public static Path binaryRoot() {
    var env = System.getenv("KUBE_API_TEST_DIR");
    return env == null || env.isBlank()
        ? Path.of(System.getProperty("user.home"), ".kubeapitest")
        : Path.of(env);
  }

  public static KubeApi start() {
    return start(true);
  }

  /** An API server of its own without the CRD, for a test that installs it the way users do. */
  public static KubeApi startWithoutCrd() {
    return start(false);
  }

  private static KubeApi start(boolean withCrd) {
    var root = binaryRoot();
    if (!Files.isDirectory(root.resolve("k8s"))) {
      throw new IllegalStateException(
          "no kube-apiserver binaries under " + root + "/k8s: run tools/kube-binaries/build.sh");
    }
    try {
      var dir = Files.createTempDirectory("pgmigrate-apiserver-");
      var started = System.nanoTime();
      var out = script(dir, "up");
      if (out.exitCode() != 0) {
        script(dir, "down");
        throw new IllegalStateException("test-apiserver.sh up failed: " + out.output()
            + tail(dir.resolve("kube-apiserver.log")));
      }
      var yaml = Files.readString(dir.resolve("kubeconfig"));
      var client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(yaml)).build();
      var api = new KubeApi(dir, client);
      Runtime.getRuntime().addShutdownHook(api.shutdownHook);
      log.info("test API server up in {} s ({})",
          String.format("%.1f", (System.nanoTime() - started) / 1e9), dir);
      if (withCrd) {
        api.installCrd();
      }
      return api;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Kubectl.Result script(Path dir, String command) throws IOException {
    var pb = new ProcessBuilder("bash", TestNode.scripts().resolve("test-apiserver.sh").toString(),
        command, dir.toString()).redirectErrorStream(true);
    pb.environment().put("KUBE_API_TEST_DIR", binaryRoot().toString());
    var p = pb.start();
    p.getOutputStream().close();
    var output = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(3, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        return new Kubectl.Result(-1, output);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Kubectl.Result(-1, output);
    }
    return new Kubectl.Result(p.exitValue(), output);
  }

  private static String tail(Path file) {
    try {
      var lines = Files.readAllLines(file);
      return "\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException e) {
      return "";
    }
  }

  /** The CRD exactly as the build generated it from the Java classes (on the classpath). */
  static final String GENERATED_CRD = "META-INF/fabric8/pgmigrations.pgmigrate.io-v1.yml";

  private void installCrd() throws IOException {
    try (var in = KubeApi.class.getClassLoader().getResourceAsStream(GENERATED_CRD)) {
      if (in == null) {
        throw new IOException(GENERATED_CRD + " is not on the classpath: build the operator first");
      }
      var crd = client.getKubernetesSerialization().unmarshal(in, CustomResourceDefinition.class);
      client.resource(crd).serverSideApply();
      client
          .apiextensions()
          .v1()
          .customResourceDefinitions()
          .withName(crd.getMetadata().getName())
          .waitUntilCondition(
              c ->
                  c != null && c.getStatus() != null && c.getStatus().getConditions() != null
                      && c.getStatus().getConditions().stream()
                          .anyMatch(
                              x -> "Established".equals(x.getType()) && "True".equals(x.getStatus())),
              60,
              TimeUnit.SECONDS);
    }
  }

  public KubernetesClient client() {
    return client;
  }

  /** The admin kubeconfig (certificates inline). */
  public Path kubeconfig() {
    return dir.resolve("kubeconfig");
  }

  /** The key the API server signs ServiceAccount tokens with (the node's controller manager
   * gets it too). */
  public Path serviceAccountKey() {
    return dir.resolve("certs").resolve("sa.key");
  }

  /** The kubectl built with the API server. */
  public static Path kubectl() {
    try (var dirs = Files.list(binaryRoot().resolve("k8s"))) {
      return dirs.filter(d -> Files.isExecutable(d.resolve("kubectl")))
          .max(Path::compareTo)
          .map(d -> d.resolve("kubectl"))
          .orElseThrow();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private synchronized void stop() {
    if (stopped) {
      return;
    }
    stopped = true;
    try {
      script(dir, "down");
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    } catch (IOException e) {
      log.warn("test-apiserver.sh down {}: {}", dir, e.getMessage());
    }
  }

  @Override
  public void close() {
    client.close();
    stop();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException ignored) {
      // the JVM is shutting down: the hook runs (and finds it done)
    }
  }
}
