package io.pgmigrate.operator.testing;

import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
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
 * A real kube-apiserver with etcd, run by fabric8's kube-api-test from the binaries that
 * tools/kube-binaries/build.sh builds (never downloaded), with the operator's CRD installed.
 */
public final class KubeApi implements AutoCloseable {

  private final KubeAPIServer server;
  private final KubernetesClient client;
  private final Path kubeconfig;

  private KubeApi(KubeAPIServer server, KubernetesClient client, Path kubeconfig) {
    this.server = server;
    this.client = client;
    this.kubeconfig = kubeconfig;
  }

  /** The directory holding k8s/&lt;version&gt;-linux-amd64/{etcd,kube-apiserver,kubectl}. */
  public static Path binaryRoot() {
    var env = System.getenv("KUBE_API_TEST_DIR");
    return env == null || env.isBlank()
        ? Path.of(System.getProperty("user.home"), ".kubeapitest")
        : Path.of(env);
  }

  public static KubeApi start() {
    var root = binaryRoot();
    if (!Files.isDirectory(root.resolve("k8s"))) {
      throw new IllegalStateException(
          "no kube-apiserver binaries under " + root + "/k8s: run tools/kube-binaries/build.sh");
    }
    var server =
        new KubeAPIServer(
            KubeAPIServerConfigBuilder.anAPIServerConfig()
                .withTestDir(root.toString())
                .withOfflineMode(true)
                .withUpdateKubeConfig(false)
                .withStartupTimeout(120_000)
                .build());
    server.start();
    try {
      var yaml = server.getKubeConfigYaml();
      var kubeconfig = Files.createTempFile("pgmigrate-kubeconfig", ".yaml");
      Files.writeString(kubeconfig, yaml);
      var client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(yaml)).build();
      var api = new KubeApi(server, client, kubeconfig);
      api.installCrd();
      return api;
    } catch (IOException e) {
      server.stop();
      throw new UncheckedIOException(e);
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

  public Path kubeconfig() {
    return kubeconfig;
  }

  /** The key kube-api-test's API server signs ServiceAccount tokens with (the node's
   * controller manager signs with it too). */
  public Path serviceAccountKey() {
    return binaryRoot().resolve("apiserver.key");
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

  @Override
  public void close() {
    client.close();
    server.stop();
    try {
      Files.deleteIfExists(kubeconfig);
    } catch (IOException ignored) {
      // temp file
    }
  }
}
