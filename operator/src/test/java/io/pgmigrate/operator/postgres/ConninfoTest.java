package io.pgmigrate.operator.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgmigrate.operator.api.SslMode;
import io.pgmigrate.operator.postgres.Conninfo.SubscriptionTls;
import org.junit.jupiter.api.Test;

class ConninfoTest {

  static ConnectionSpec source(SslMode mode) {
    return new ConnectionSpec("db.example.com", 5433, "postgres", "mig'rator", "p\\a'ss", mode,
        "---CA---");
  }

  @Test
  void valuesAreQuotedAndTheCaNeverTravels() {
    var conninfo = Conninfo.forSubscription(source(SslMode.REQUIRE), "my db", 15, false);
    assertThat(conninfo).contains("host='db.example.com' port=5433 dbname='my db'")
        .contains("user='mig\\'rator'").contains("password='p\\\\a\\'ss'")
        .contains("sslmode=require").doesNotContain("---CA---").doesNotContain("sslrootcert");
  }

  @Test
  void modesThatVerifyNothingAreKeptAsTheyAre() {
    for (var mode : new SslMode[] {SslMode.DISABLE, SslMode.PREFER, SslMode.REQUIRE}) {
      assertThat(Conninfo.subscriptionTls(mode, 15, false)).isEqualTo(SubscriptionTls.AS_REQUESTED);
      assertThat(Conninfo.forSubscription(source(mode), "db", 17, false))
          .contains("sslmode=" + mode.libpqName() + " ").doesNotContain("sslrootcert");
    }
  }

  @Test
  void from16VerificationUsesTheTargetServersSystemCaStore() {
    assertThat(Conninfo.subscriptionTls(SslMode.VERIFY_FULL, 16, false))
        .isEqualTo(SubscriptionTls.SYSTEM_CA);
    // the user's explicit acceptance wins: a private CA is in no system store
    assertThat(Conninfo.subscriptionTls(SslMode.VERIFY_FULL, 17, true))
        .isEqualTo(SubscriptionTls.UNVERIFIED);
    assertThat(Conninfo.forSubscription(source(SslMode.VERIFY_FULL), "db", 16, false))
        .contains("sslmode=verify-full sslrootcert=system").doesNotContain("---CA---");
    // libpq refuses verify-ca with sslrootcert=system
    assertThat(Conninfo.forSubscription(source(SslMode.VERIFY_CA), "db", 16, false))
        .contains("sslmode=verify-full sslrootcert=system").doesNotContain("verify-ca");
  }

  @Test
  void before16VerificationIsRefusedUnlessTheUserAcceptsRequire() {
    assertThat(Conninfo.subscriptionTls(SslMode.VERIFY_FULL, 15, false))
        .isEqualTo(SubscriptionTls.REFUSED);
    assertThat(Conninfo.subscriptionTls(SslMode.VERIFY_CA, 13, false))
        .isEqualTo(SubscriptionTls.REFUSED);
    assertThatThrownBy(() -> Conninfo.forSubscription(source(SslMode.VERIFY_FULL), "db", 15,
        false)).isInstanceOf(IllegalStateException.class).hasMessageNotContaining("p\\a'ss");
    assertThat(Conninfo.subscriptionTls(SslMode.VERIFY_FULL, 15, true))
        .isEqualTo(SubscriptionTls.UNVERIFIED);
    assertThat(Conninfo.forSubscription(source(SslMode.VERIFY_FULL), "db", 15, true))
        .contains("sslmode=require ").doesNotContain("verify").doesNotContain("sslrootcert");
  }
}
