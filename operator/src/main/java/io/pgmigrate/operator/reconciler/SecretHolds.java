package io.pgmigrate.operator.reconciler;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.pgmigrate.operator.api.PgMigration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Keeps the Secrets that a migration's cleanup needs (the logins and CAs of both servers) from
 * going away while replication objects of ours exist: deleting a namespace deletes its Secrets
 * and its PgMigrations in no particular order, and a cleanup without logins would leave a slot
 * filling the source's disk. One finalizer per migration on each Secret, released once nothing
 * of ours is left on the servers.
 */
class SecretHolds {

  private final KubernetesClient client;

  SecretHolds(KubernetesClient client) {
    this.client = client;
  }

  /** The finalizer this migration puts on its Secrets. */
  static String finalizer(PgMigration m) {
    return "pgmigrate.io/cleanup-" + m.getMetadata().getUid();
  }

  /** The Secrets the migration reads: credentials and CAs of source and target. */
  static Set<String> secrets(PgMigration m) {
    var names = new LinkedHashSet<String>();
    for (var e : List.of(m.getSpec().getSource(), m.getSpec().getTarget())) {
      if (e.getCredentialsSecret() != null && e.getCredentialsSecret().getName() != null) {
        names.add(e.getCredentialsSecret().getName());
      }
      if (e.getCaSecret() != null && e.getCaSecret().getName() != null) {
        names.add(e.getCaSecret().getName());
      }
    }
    return names;
  }

  /** Puts our finalizer on each Secret that exists and is not being deleted. */
  void hold(PgMigration m) {
    var finalizer = finalizer(m);
    for (var name : secrets(m)) {
      var secret = client.secrets().inNamespace(m.getMetadata().getNamespace()).withName(name);
      var current = secret.get();
      if (current == null || current.getMetadata().getDeletionTimestamp() != null
          || current.getMetadata().getFinalizers().contains(finalizer)) {
        continue;
      }
      secret.edit(s -> {
        s.getMetadata().getFinalizers().add(finalizer);
        return s;
      });
    }
  }

  /** Takes our finalizer off each Secret; returns the ones it could not release. */
  List<String> release(PgMigration m) {
    var finalizer = finalizer(m);
    var failed = new ArrayList<String>();
    for (var name : secrets(m)) {
      try {
        var secret = client.secrets().inNamespace(m.getMetadata().getNamespace()).withName(name);
        var current = secret.get();
        if (current == null || !current.getMetadata().getFinalizers().contains(finalizer)) {
          continue;
        }
        secret.edit(s -> {
          s.getMetadata().getFinalizers().remove(finalizer);
          return s;
        });
      } catch (KubernetesClientException e) {
        failed.add(name + ": " + e.getMessage());
      }
    }
    return failed;
  }
}
