package io.pgmigrate.operator.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** A Secret holding a user name and a password. */
public class CredentialsSecret {

  @Required
  @Size(min = 1, max = 253)
  @JsonPropertyDescription("Name of the Secret, in the PgMigration's namespace.")
  private String name;

  @Default("username")
  @JsonPropertyDescription("Key holding the user name (default username).")
  private String usernameKey = "username";

  @Default("password")
  @JsonPropertyDescription("Key holding the password (default password).")
  private String passwordKey = "password";

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public String getUsernameKey() {
    return usernameKey == null ? "username" : usernameKey;
  }

  public void setUsernameKey(String usernameKey) {
    this.usernameKey = usernameKey;
  }

  public String getPasswordKey() {
    return passwordKey == null ? "password" : passwordKey;
  }

  public void setPasswordKey(String passwordKey) {
    this.passwordKey = passwordKey;
  }
}
