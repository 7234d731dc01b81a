package io.pgmigrate.operator.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/**
 * The application's connection Secret to point at the target after Ready. Keys as
 * CloudNativePG's application Secrets name them: host, port, user, password, uri, jdbc-uri.
 */
public class SwitchSecretSpec {

  @Required
  // 253 less the rollback copy's suffix -pgmigrate-rollback
  @Size(min = 1, max = 234)
  @JsonPropertyDescription(
      "Name of the Secret, in the PgMigration's namespace. Of its keys host, port, uri and"
          + " jdbc-uri (the names CloudNativePG's application Secrets use), those present are"
          + " rewritten to spec.target's host and port; dbname and every other key stay. The"
          + " old values go to the Secret <name>-pgmigrate-rollback; an annotation on this"
          + " Secret names it and the old host and port.")
  private String name;

  @Default("false")
  @JsonPropertyDescription(
      "true: also rewrite the keys user and password (and the credentials inside uri and"
          + " jdbc-uri) with the login of spec.target.credentialsSecret; false (default): keep"
          + " the application's own credentials, for a role that exists on the target too.")
  private Boolean credentials = false;

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public boolean isCredentials() {
    return Boolean.TRUE.equals(credentials);
  }

  public Boolean getCredentials() {
    return credentials;
  }

  public void setCredentials(Boolean credentials) {
    this.credentials = credentials;
  }
}
