package io.pgmigrate.operator.reconciler;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.pgmigrate.operator.checks.SecretLookup;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Reads Secrets with a plain GET when they are needed. The operator neither lists nor watches
 * Secrets: RBAC needs {@code get} (and {@code patch}, for {@link SecretHolds}), and no Secret of
 * the cluster sits in its memory.
 */
public class KubernetesSecretLookup implements SecretLookup {

  private final KubernetesClient client;

  public KubernetesSecretLookup(KubernetesClient client) {
    this.client = client;
  }

  @Override
  public Optional<Map<String, String>> read(String namespace, String name) {
    Secret secret;
    try {
      secret = client.secrets().inNamespace(namespace).withName(name).get();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 403) {
        throw new SecretLookup.Forbidden("the operator may not read Secret " + name
            + " in namespace " + namespace + " (check the chart's RBAC)");
      }
      throw e;
    }
    if (secret == null) {
      return Optional.empty();
    }
    var result = new HashMap<String, String>();
    if (secret.getData() != null) {
      secret
          .getData()
          .forEach(
              (k, v) ->
                  result.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
    }
    if (secret.getStringData() != null) {
      result.putAll(secret.getStringData());
    }
    return Optional.of(result);
  }
}
