package io.pgmigrate.operator.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SqlTest {

  @Test
  void quotesEveryIdentifierAndDoublesEmbeddedQuotes() {
    assertThat(Sql.ident("app")).isEqualTo("\"app\"");
    assertThat(Sql.ident("Order Items")).isEqualTo("\"Order Items\"");
    assertThat(Sql.ident("a\"b")).isEqualTo("\"a\"\"b\"");
    assertThat(Sql.ident("x\"; drop table t; --")).isEqualTo("\"x\"\"; drop table t; --\"");
    assertThat(Sql.qualified("public", "t")).isEqualTo("\"public\".\"t\"");
  }

  @Test
  void refusesEmptyAndNul() {
    assertThatThrownBy(() -> Sql.ident("")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Sql.ident("a\0b")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void connectionSpecNeverPrintsThePassword() {
    var spec = new ConnectionSpec("db", 5432, "postgres", "u", "s3cret-pw",
        io.pgmigrate.operator.api.SslMode.REQUIRE, null);
    assertThat(spec.toString()).doesNotContain("s3cret-pw").contains("u@db:5432");
  }
}
