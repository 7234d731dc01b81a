package io.pgmigrate.operator.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** Where a PostgreSQL server is and how to log in to it. */
@ValidationRule(
    value = "!(self.sslMode in ['verify-ca', 'verify-full']) || has(self.caSecret)",
    message = "caSecret is required when sslMode is verify-ca or verify-full")
public class Endpoint {

  @Required
  @Size(min = 1, max = 253)
  @Pattern("^[A-Za-z0-9.:_-]+$")
  @JsonPropertyDescription("Host name or IP address of the PostgreSQL server.")
  private String host;

  @Default("5432")
  @Min(1)
  @Max(65535)
  @JsonPropertyDescription("TCP port of the PostgreSQL server (default 5432).")
  private Integer port = 5432;

  @Default("postgres")
  @Size(min = 1, max = 63)
  @JsonPropertyDescription(
      "Database used for discovery and checks; it must exist and accept connections (default"
          + " postgres).")
  private String database = "postgres";

  @Required
  @JsonPropertyDescription(
      "Secret in the same namespace holding the login; keys default to username and password.")
  private CredentialsSecret credentialsSecret;

  @Default("require")
  @JsonPropertyDescription(
      "TLS mode, as libpq defines it (default require). verify-ca and verify-full need"
          + " caSecret.")
  private SslMode sslMode = SslMode.REQUIRE;

  @JsonPropertyDescription(
      "Secret key holding the PEM CA certificate that signs the server's certificate.")
  private SecretKeyRef caSecret;

  public String getHost() {
    return host;
  }

  public void setHost(String host) {
    this.host = host;
  }

  public Integer getPort() {
    return port;
  }

  public void setPort(Integer port) {
    this.port = port;
  }

  public String getDatabase() {
    return database;
  }

  public void setDatabase(String database) {
    this.database = database;
  }

  public CredentialsSecret getCredentialsSecret() {
    return credentialsSecret;
  }

  public void setCredentialsSecret(CredentialsSecret credentialsSecret) {
    this.credentialsSecret = credentialsSecret;
  }

  public SslMode getSslMode() {
    return sslMode;
  }

  public void setSslMode(SslMode sslMode) {
    this.sslMode = sslMode;
  }

  public SecretKeyRef getCaSecret() {
    return caSecret;
  }

  public void setCaSecret(SecretKeyRef caSecret) {
    this.caSecret = caSecret;
  }

  /** The port, with the default applied when the field was left out. */
  public int portOrDefault() {
    return port == null ? 5432 : port;
  }

  /** The discovery database, with the default applied when the field was left out. */
  public String databaseOrDefault() {
    return database == null || database.isEmpty() ? "postgres" : database;
  }

  public SslMode sslModeOrDefault() {
    return sslMode == null ? SslMode.REQUIRE : sslMode;
  }
}
