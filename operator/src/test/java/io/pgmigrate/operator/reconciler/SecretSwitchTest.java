package io.pgmigrate.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Rewriting an application Secret's keys to the target (cutover.switchSecret). */
class SecretSwitchTest {

  /** The keys of a CloudNativePG application Secret. */
  static final Map<String, String> CNPG = Map.of(
      "host", "old-db.example.com",
      "port", "5432",
      "dbname", "shop",
      "user", "app",
      "password", "s3cret",
      "uri", "postgresql://app:s3cret@old-db.example.com:5432/shop?sslmode=require",
      "jdbc-uri", "jdbc:postgresql://old-db.example.com:5432/shop?password=s3cret&user=app");

  @Test
  void addressKeysPointAtTheTargetAndCredentialsStay() {
    var out = SecretSwitch.rewrite(CNPG, "new-db", 6543, null, null);
    assertThat(out).containsOnlyKeys("host", "port", "uri", "jdbc-uri");
    assertThat(out.get("host")).isEqualTo("new-db");
    assertThat(out.get("port")).isEqualTo("6543");
    assertThat(out.get("uri"))
        .isEqualTo("postgresql://app:s3cret@new-db:6543/shop?sslmode=require");
    assertThat(out.get("jdbc-uri"))
        .isEqualTo("jdbc:postgresql://new-db:6543/shop?password=s3cret&user=app");
  }

  @Test
  void credentialsAreRewrittenPercentEncodedWhenAsked() {
    var out = SecretSwitch.rewrite(CNPG, "new-db", 5432, "mig rator", "p@ss:w/rd&x");
    assertThat(out.get("user")).isEqualTo("mig rator");
    assertThat(out.get("password")).isEqualTo("p@ss:w/rd&x");
    assertThat(out.get("uri")).isEqualTo(
        "postgresql://mig%20rator:p%40ss%3Aw%2Frd%26x@new-db:5432/shop?sslmode=require");
    assertThat(out.get("jdbc-uri")).isEqualTo("jdbc:postgresql://new-db:5432/shop"
        + "?password=p%40ss%3Aw%2Frd%26x&user=mig%20rator");
  }

  @Test
  void aMultiHostUriBecomesTheOneTargetAndAnIpv6HostIsBracketed() {
    assertThat(SecretSwitch.rewriteUri("postgres://a:1,b:2/db", "::1", 5433, null, null))
        .isEqualTo("postgres://[::1]:5433/db");
  }

  @Test
  void onlyKeysTheSecretHasAreWritten() {
    var out = SecretSwitch.rewrite(Map.of("host", "old", "password", "x"), "new", 5432, "u", "p");
    assertThat(out).containsOnlyKeys("host", "password");
    assertThat(SecretSwitch.rewrite(Map.of("password", "x"), "new", 5432, "u", "p")).isEmpty();
  }

  @Test
  void theOldAddressForTheAnnotationHoldsNoCredentials() {
    assertThat(SecretSwitch.oldAddress(CNPG)).isEqualTo("old-db.example.com:5432");
    assertThat(SecretSwitch.oldAddress(Map.of("uri", "postgresql://app:s3cret@old:5433/shop")))
        .isEqualTo("old:5433");
  }
}
