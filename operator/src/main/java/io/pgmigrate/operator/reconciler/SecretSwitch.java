package io.pgmigrate.operator.reconciler;

import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.api.PgMigrationStatus;
import io.pgmigrate.operator.reconciler.Decision.Event;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * cutover.switchSecret: once the migration is Ready, the application's connection Secret is
 * rewritten to point at the target. The old values of every rewritten key go first to a Secret
 * of their own (they may hold a password, which an annotation must not); the switched Secret's
 * annotations name that copy, the old host and port, and this migration, which is how a pass
 * after a restart knows the switch was done.
 */
final class SecretSwitch {

  /** True once the Secret points at the target; False with the reason while it cannot. */
  static final String CONDITION = "SecretSwitched";
  /** On the switched Secret: the uid of the migration that switched it. */
  static final String SWITCHED_BY = "pgmigrate.io/switched-by";
  /** On the switched Secret: host:port before the switch (never credentials). */
  static final String SWITCHED_FROM = "pgmigrate.io/switched-from";
  /** On the switched Secret: the Secret holding every rewritten key's old value. */
  static final String ROLLBACK_SECRET = "pgmigrate.io/rollback-secret";
  /** On the rollback copy: the Secret it is the copy of. */
  static final String ROLLBACK_OF = "pgmigrate.io/rollback-of";
  static final String ROLLBACK_SUFFIX = "-pgmigrate-rollback";

  /** The keys rewritten, as CloudNativePG's application Secrets name them. */
  static final List<String> ADDRESS_KEYS = List.of("host", "port", "uri", "jdbc-uri");
  static final List<String> CREDENTIAL_KEYS = List.of("user", "password");

  /** The order in which {@link #rewrite} writes them, for messages. */
  static final List<String> KEY_ORDER =
      List.of("host", "port", "uri", "jdbc-uri", "user", "username", "password");

  static final Duration RETRY = Duration.ofSeconds(30);

  private final KubernetesClient client;
  private final DumpStep logins;

  SecretSwitch(KubernetesClient client, DumpStep logins) {
    this.client = client;
    this.logins = logins;
  }

  /** Whether this migration asks for a switch that is not done yet. */
  static boolean pending(PgMigration m, PgMigrationStatus status) {
    if (m.getSpec().getCutover().getSwitchSecret() == null || status.getPhase() != Phase.Ready) {
      return false;
    }
    var done = Conditions.get(status.getConditions(), CONDITION);
    return done == null || !"True".equals(done.getStatus());
  }

  /** One attempt; returns when to try again, or null when done or only the user can help. */
  Duration run(PgMigration m, PgMigrationStatus status, Instant now, List<Event> events) {
    var spec = m.getSpec().getCutover().getSwitchSecret();
    var name = spec.getName();
    var namespace = m.getMetadata().getNamespace();
    var uid = m.getMetadata().getUid();
    var generation = m.getMetadata().getGeneration();
    try {
      var secrets = client.secrets().inNamespace(namespace);
      var current = secrets.withName(name).get();
      if (current == null) {
        return notYet(status, "SecretNotFound", "Secret " + name + " (cutover.switchSecret) does"
            + " not exist in namespace " + namespace + "; looking again every "
            + RETRY.toSeconds() + " s", generation, now, RETRY);
      }
      var annotations = current.getMetadata().getAnnotations();
      var target = m.getSpec().getTarget();
      if (annotations != null && uid.equals(annotations.get(SWITCHED_BY))) {
        // switched by an earlier pass whose status (and Event) was not written: the keys it
        // rewrote are those of the rollback copy
        var rollbackName = annotations.get(ROLLBACK_SECRET);
        var rollback = rollbackName == null ? null : secrets.withName(rollbackName).get();
        var keys = rollback == null || rollback.getData() == null ? List.<String>of()
            : KEY_ORDER.stream().filter(rollback.getData()::containsKey).toList();
        events.add(switchedEvent(name, target.getHost(), target.portOrDefault(), keys,
            rollbackName));
        Conditions.set(status.getConditions(), CONDITION, "True", "Switched",
            switchedMessage(name, rollbackName), generation, now);
        return null;
      }
      var old = decode(current.getData());
      String user = null;
      String password = null;
      if (spec.isCredentials()) {
        var login = logins.logins(m);
        if (login == null) {
          return notYet(status, "CredentialsMissing", "Secret " + name + " not switched: "
              + logins.loginError(m), generation, now, RETRY);
        }
        user = login[1].spec().user();
        password = login[1].spec().password();
      }
      var rewritten = rewrite(old, target.getHost(), target.portOrDefault(), user, password);
      if (rewritten.isEmpty()) {
        return notYet(status, "NothingToSwitch", "Secret " + name + " has none of the keys "
            + String.join(", ", ADDRESS_KEYS) + ": nothing points at a server to switch", generation,
            now, null);
      }
      var rollbackName = rollbackName(name);
      var rollback = secrets.withName(rollbackName).get();
      if (rollback == null) {
        var before = new LinkedHashMap<String, String>();
        rewritten.keySet().forEach(k -> before.put(k, current.getData().get(k)));
        secrets.resource(new SecretBuilder()
            .withNewMetadata().withName(rollbackName).withNamespace(namespace)
            .addToAnnotations(ROLLBACK_OF, name).addToAnnotations(SWITCHED_BY, uid)
            .endMetadata()
            .withType("Opaque")
            .withData(before)
            .build()).create();
        FaultPoints.reached("switch.rollbackCopied");
      } else if (rollback.getMetadata().getAnnotations() == null
          || !uid.equals(rollback.getMetadata().getAnnotations().get(SWITCHED_BY))) {
        // someone else's: its values are not ours to overwrite
        return notYet(status, "RollbackSecretExists", "Secret " + rollbackName + " exists and"
            + " was not made by this migration: the old values of " + name + " would have"
            + " nowhere to go. Remedy: delete or rename it", generation, now, RETRY);
      }
      var from = oldAddress(old);
      var encoded = new LinkedHashMap<String, String>();
      rewritten.forEach((k, v) -> encoded.put(k, Base64.getEncoder().encodeToString(
          v.getBytes(StandardCharsets.UTF_8))));
      secrets.withName(name).edit(s -> {
        if (s.getData() == null) {
          s.setData(new LinkedHashMap<>());
        }
        if (s.getMetadata().getAnnotations() == null) {
          s.getMetadata().setAnnotations(new LinkedHashMap<>());
        }
        s.getData().putAll(encoded);
        s.getMetadata().getAnnotations().put(SWITCHED_BY, uid);
        s.getMetadata().getAnnotations().put(ROLLBACK_SECRET, rollbackName);
        if (from != null) {
          s.getMetadata().getAnnotations().put(SWITCHED_FROM, from);
        }
        return s;
      });
      FaultPoints.reached("switch.switched");
      events.add(switchedEvent(name, target.getHost(), target.portOrDefault(),
          List.copyOf(rewritten.keySet()), rollbackName));
      Conditions.set(status.getConditions(), CONDITION, "True", "Switched",
          switchedMessage(name, rollbackName), generation, now);
      return null;
    } catch (KubernetesClientException e) {
      return notYet(status, "SwitchFailed", "switching Secret " + name + ": " + e.getMessage()
          + " (retrying)", generation, now, RETRY);
    }
  }

  /** Key names only: the values may be credentials. */
  private static Event switchedEvent(String name, String host, int port, List<String> keys,
      String rollback) {
    return new Event(false, "SecretSwitched", "Secret " + name + " points at the target " + host
        + ":" + port + (keys.isEmpty() ? "" : ": rewrote " + String.join(", ", keys))
        + "; the old values are in Secret " + rollback);
  }

  private static String switchedMessage(String name, String rollback) {
    return "Secret " + name + " points at the target; the old values are in Secret " + rollback
        + " (copy its keys back into " + name + " to roll back)";
  }

  private static Duration notYet(PgMigrationStatus status, String reason, String message,
      Long generation, Instant now, Duration retry) {
    Conditions.set(status.getConditions(), CONDITION, "False", reason, message, generation, now);
    return retry;
  }

  static String rollbackName(String name) {
    return name + ROLLBACK_SUFFIX;
  }

  /**
   * The new values of the keys to rewrite (only keys the Secret has): host and port, the
   * address inside uri and jdbc-uri, and with {@code user} non-null the credentials too.
   */
  static Map<String, String> rewrite(Map<String, String> old, String host, int port,
      String user, String password) {
    var out = new LinkedHashMap<String, String>();
    if (old.containsKey("host")) {
      out.put("host", host);
    }
    if (old.containsKey("port")) {
      out.put("port", Integer.toString(port));
    }
    if (old.containsKey("uri")) {
      out.put("uri", rewriteUri(old.get("uri"), host, port, user, password));
    }
    if (old.containsKey("jdbc-uri")) {
      var jdbc = old.get("jdbc-uri");
      var prefix = jdbc.startsWith("jdbc:") ? "jdbc:" : "";
      out.put("jdbc-uri", prefix + rewriteUri(jdbc.substring(prefix.length()), host, port, user,
          password));
    }
    if (out.isEmpty()) {
      return out;
    }
    if (user != null) {
      if (old.containsKey("user")) {
        out.put("user", user);
      }
      if (old.containsKey("username")) {
        out.put("username", user);
      }
      if (old.containsKey("password")) {
        out.put("password", password);
      }
    }
    return out;
  }

  /**
   * A URI {@code scheme://[userinfo@]hosts[/path][?query]} with the target's host and port
   * (every host of a multi-host URI replaced by the one target), and with {@code user} non-null
   * the target's credentials, in the userinfo and in user/password query parameters.
   */
  static String rewriteUri(String uri, String host, int port, String user, String password) {
    int scheme = uri.indexOf("://");
    if (scheme < 0) {
      return uri;
    }
    int start = scheme + 3;
    int end = start;
    while (end < uri.length() && uri.charAt(end) != '/' && uri.charAt(end) != '?') {
      end++;
    }
    var authority = uri.substring(start, end);
    int at = authority.lastIndexOf('@');
    var userinfo = at < 0 ? null : authority.substring(0, at);
    if (user != null && userinfo != null) {
      userinfo = encode(user) + (password == null ? "" : ":" + encode(password));
    }
    var address = (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    var rest = uri.substring(end);
    if (user != null) {
      rest = replaceQuery(rest, user, password);
    }
    return uri.substring(0, start) + (userinfo == null ? "" : userinfo + "@") + address + rest;
  }

  private static String replaceQuery(String rest, String user, String password) {
    int q = rest.indexOf('?');
    if (q < 0) {
      return rest;
    }
    var params = rest.substring(q + 1).split("&", -1);
    for (int i = 0; i < params.length; i++) {
      var key = params[i].contains("=") ? params[i].substring(0, params[i].indexOf('='))
          : params[i];
      if (key.equals("user")) {
        params[i] = "user=" + encode(user);
      } else if (key.equals("password") && password != null) {
        params[i] = "password=" + encode(password);
      }
    }
    return rest.substring(0, q + 1) + String.join("&", params);
  }

  /** Percent-encoding both libpq and pgjdbc decode (a space as %20, not +). */
  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** host:port the Secret pointed at, for the annotation; null when it cannot be told. */
  static String oldAddress(Map<String, String> old) {
    if (old.containsKey("host")) {
      return old.get("host") + (old.containsKey("port") ? ":" + old.get("port") : "");
    }
    var uri = old.containsKey("uri") ? old.get("uri") : old.get("jdbc-uri");
    if (uri == null || !uri.contains("://")) {
      return null;
    }
    int start = uri.indexOf("://") + 3;
    int end = start;
    while (end < uri.length() && uri.charAt(end) != '/' && uri.charAt(end) != '?') {
      end++;
    }
    var authority = uri.substring(start, end);
    return authority.substring(authority.lastIndexOf('@') + 1);
  }

  private static Map<String, String> decode(Map<String, String> data) {
    var out = new LinkedHashMap<String, String>();
    if (data != null) {
      data.forEach((k, v) -> out.put(k, new String(Base64.getDecoder().decode(v),
          StandardCharsets.UTF_8)));
    }
    return out;
  }
}
