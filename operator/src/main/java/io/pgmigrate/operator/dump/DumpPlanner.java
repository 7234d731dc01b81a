package io.pgmigrate.operator.dump;

import io.pgmigrate.operator.api.DatabasePhase;
import io.fabric8.kubernetes.api.model.Pod;
import io.pgmigrate.operator.api.DatabaseStatus;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Decides, from the dump Pods that exist, what each database's state is and which Pods to
 * create next. Pure: Pods in, plan out. A failed Pod is never restarted or updated; the retry is
 * a new Pod with the next attempt number, until {@code maxAttempts}.
 */
public final class DumpPlanner {

  /**
   * What the reconciler sees of one dump Pod: phase, and for a failed container its exit code
   * and a message made of its termination message (the last lines of its log).
   */
  public record PodView(String name, int attempt, String phase, String message, Integer exitCode) {

    public PodView(String name, int attempt, String phase, String message) {
      this(name, attempt, phase, message, null);
    }

    public static PodView of(Pod pod) {
      var labels = pod.getMetadata().getLabels();
      int attempt = Integer.parseInt(labels.getOrDefault(DumpPods.ATTEMPT, "1"));
      var status = pod.getStatus();
      var phase = status == null || status.getPhase() == null ? "Pending" : status.getPhase();
      String message = null;
      Integer exitCode = null;
      if (status != null && status.getContainerStatuses() != null) {
        for (var cs : status.getContainerStatuses()) {
          var terminated = cs.getState() == null ? null : cs.getState().getTerminated();
          if (terminated != null && terminated.getExitCode() != null && terminated.getExitCode() != 0) {
            exitCode = terminated.getExitCode();
            var text = terminated.getMessage() == null ? "" : terminated.getMessage().strip();
            message = exitCode == DumpPods.VERIFICATION_FAILED_EXIT_CODE
                ? countsDiffer(text)
                : "exit code " + exitCode + (text.isEmpty() ? "" : ": " + lastLines(text, 6));
          }
        }
      }
      if (message == null && status != null && status.getMessage() != null) {
        message = status.getMessage();
      }
      return new PodView(pod.getMetadata().getName(), attempt, phase, message, exitCode);
    }

    /** True when the copy succeeded but its row counts differ from the source's snapshot. */
    public boolean verificationFailed() {
      return "Failed".equals(phase) && exitCode != null
          && exitCode == DumpPods.VERIFICATION_FAILED_EXIT_CODE;
    }
  }

  /**
   * What to do next. {@code failure} ends the migration; {@code verificationFailed} when it is
   * a copy whose row counts differ from the source's snapshot.
   */
  public record Plan(
      List<DatabaseStatus> databases, List<Create> create, int done, String failure,
      boolean verificationFailed) {

    public boolean allDone() {
      return failure == null && done == databases.size();
    }
  }

  /** A Pod to create: database and attempt. */
  public record Create(String database, int attempt) {}

  private DumpPlanner() {}

  public static Plan plan(
      List<DatabaseStatus> current, Map<String, List<PodView>> podsByDatabase, int maxAttempts) {
    var databases = new ArrayList<DatabaseStatus>();
    var create = new ArrayList<Create>();
    int done = 0;
    String failure = null;
    boolean verificationFailed = false;
    for (var db : current) {
      if (db.getPhase() == DatabasePhase.Done) {
        // copied and verified: never copied again, whatever became of its Pod
        databases.add(db.copy());
        done++;
        continue;
      }
      // everything recorded so far carries over; what the Pods say is set below
      var next = db.copy();
      next.setPod(null);
      next.setMessage(null);
      var pods = podsByDatabase.getOrDefault(db.getName(), List.of());
      var latest = pods.stream().max(Comparator.comparingInt(PodView::attempt));
      if (latest.isEmpty()) {
        next.setPhase(DatabasePhase.Copying);
        next.setMessage("starting attempt 1 of " + maxAttempts);
        create.add(new Create(db.getName(), 1));
      } else {
        var pod = latest.get();
        next.setPod(pod.name());
        switch (pod.phase()) {
          case "Succeeded" -> {
            next.setPhase(DatabasePhase.Done);
            next.setMessage("copied" + (pod.attempt() > 1 ? " on attempt " + pod.attempt() : ""));
            done++;
          }
          case "Failed" -> {
            if (pod.verificationFailed()) {
              // the copy itself worked and a new one would copy the same way: no retry
              next.setPhase(DatabasePhase.Failed);
              next.setMessage("verification failed: " + pod.message());
              if (failure == null) {
                failure = "verification failed: database " + db.getName() + ": "
                    + pod.message();
                verificationFailed = true;
              }
            } else if (pod.attempt() < maxAttempts) {
              next.setPhase(DatabasePhase.Copying);
              next.setMessage("attempt " + pod.attempt() + " failed (" + pod.message()
                  + "); retrying, attempt " + (pod.attempt() + 1) + " of " + maxAttempts);
              create.add(new Create(db.getName(), pod.attempt() + 1));
              next.setPod(null);
            } else {
              next.setPhase(DatabasePhase.Failed);
              next.setMessage("failed " + maxAttempts + " times; last error: " + pod.message());
              if (failure == null) {
                failure = "copying database " + db.getName() + " failed " + maxAttempts
                    + " times; last error: " + pod.message();
              }
            }
          }
          default -> {
            next.setPhase(DatabasePhase.Copying);
            next.setMessage("attempt " + pod.attempt() + " of " + maxAttempts + ": pod "
                + pod.phase());
          }
        }
      }
      databases.add(next);
    }
    return new Plan(databases, create, done, failure, verificationFailed);
  }

  /**
   * The script's own account of differing row counts: its summary, then each table with both
   * counts (those the termination message kept, which holds the end of the log).
   */
  static String countsDiffer(String text) {
    var lines = text.lines().toList();
    var summary = lines.stream().filter(l -> l.startsWith(DumpPods.VERIFICATION_FAILED))
        .reduce((a, b) -> b).map(l -> l.substring(DumpPods.VERIFICATION_FAILED.length()))
        .orElse("row counts differ from the source's snapshot");
    var tables = String.join("; ", lines.stream()
        .filter(l -> l.startsWith(DumpPods.COUNT_DIFFERS) || l.startsWith(DumpPods.DIGEST_DIFFERS))
        .map(l -> l.startsWith(DumpPods.COUNT_DIFFERS)
            ? l.substring(DumpPods.COUNT_DIFFERS.length())
            : l.substring(DumpPods.DIGEST_DIFFERS.length()))
        .toList());
    if (tables.length() > 800) {
      tables = tables.substring(0, 797) + "...";
    }
    return tables.isEmpty() ? summary : summary + ": " + tables;
  }

  static String lastLines(String text, int n) {
    var lines = text.lines().toList();
    var tail = lines.subList(Math.max(0, lines.size() - n), lines.size());
    var joined = String.join(" | ", tail);
    return joined.length() > 600 ? joined.substring(joined.length() - 600) : joined;
  }
}
