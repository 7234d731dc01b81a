package io.pgmigrate.operator.checks;

import io.pgmigrate.operator.api.Endpoint;
import io.pgmigrate.operator.postgres.ConnectionSpec;

/** Resolves an Endpoint's login from its Secrets; a problem becomes a message, not an exception. */
public final class Logins {

  /** Either a usable connection spec or the reason there is none. */
  public record Login(ConnectionSpec spec, String error) {}

  private Logins() {}

  public static Login resolve(SecretLookup secrets, String namespace, Endpoint endpoint) {
    var ref = endpoint.getCredentialsSecret();
    if (ref == null || ref.getName() == null) {
      return new Login(null, "no credentialsSecret is set");
    }
    java.util.Optional<java.util.Map<String, String>> data;
    try {
      data = secrets.read(namespace, ref.getName());
    } catch (SecretLookup.Forbidden e) {
      return new Login(null, e.getMessage());
    }
    if (data.isEmpty()) {
      return new Login(null, "Secret " + ref.getName() + " not found in namespace " + namespace);
    }
    var user = data.get().get(ref.getUsernameKey());
    var password = data.get().get(ref.getPasswordKey());
    if (user == null || user.isBlank()) {
      return new Login(
          null, "Secret " + ref.getName() + " has no key " + ref.getUsernameKey() + " (user name)");
    }
    if (password == null) {
      return new Login(
          null, "Secret " + ref.getName() + " has no key " + ref.getPasswordKey() + " (password)");
    }
    String ca = null;
    if (endpoint.sslModeOrDefault().verifiesCertificate()) {
      var caRef = endpoint.getCaSecret();
      if (caRef == null) {
        return new Login(null, "sslMode " + endpoint.sslModeOrDefault().libpqName()
            + " needs caSecret");
      }
      java.util.Optional<java.util.Map<String, String>> caData;
      try {
        caData = secrets.read(namespace, caRef.getName());
      } catch (SecretLookup.Forbidden e) {
        return new Login(null, e.getMessage());
      }
      if (caData.isEmpty()) {
        return new Login(null, "CA Secret " + caRef.getName() + " not found in namespace "
            + namespace);
      }
      ca = caData.get().get(caRef.getKey());
      if (ca == null || ca.isBlank()) {
        return new Login(null, "CA Secret " + caRef.getName() + " has no key " + caRef.getKey());
      }
    }
    return new Login(
        new ConnectionSpec(
            endpoint.getHost(), endpoint.portOrDefault(), endpoint.databaseOrDefault(), user.strip(),
            password, endpoint.sslModeOrDefault(), ca),
        null);
  }
}
