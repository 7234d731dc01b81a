package io.pgmigrate.operator.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Golden cases for splitting stored settings the way pg_dump does. */
class ConfigSettingTest {

  @Test
  void aListSettingBecomesOneLiteralPerElement() {
    var s = ConfigSetting.parse("search_path=audit, public");
    assertThat(s.name()).isEqualTo("search_path");
    assertThat(s.values()).containsExactly("audit", "public");
    assertThat(s.setClause()).isEqualTo("SET %I TO %L, %L");
    assertThat(s.arguments()).containsExactly("search_path", "audit", "public");
  }

  @Test
  void quotedElementsLoseTheirQuotes() {
    assertThat(ConfigSetting.parse("search_path=\"$user\", public").values())
        .containsExactly("$user", "public");
    assertThat(ConfigSetting.parse("search_path=\"my schema\", \"a\"\"b\"").values())
        .containsExactly("my schema", "a\"b");
    // a comma inside quotes belongs to the element
    assertThat(ConfigSetting.splitList("\"a, b\",c")).containsExactly("a, b", "c");
    // what the server stores for SET search_path = '': one empty element
    assertThat(ConfigSetting.parse("search_path=\"\"").values()).containsExactly("");
  }

  @Test
  void emptyValues() {
    assertThat(ConfigSetting.splitList("")).isEmpty();
    assertThat(ConfigSetting.splitList("  ")).isEmpty();
    // SET x TO (nothing) is not SQL: an empty list is written as one empty literal
    var s = ConfigSetting.parse("search_path=");
    assertThat(s.values()).containsExactly("");
    assertThat(s.setClause()).isEqualTo("SET %I TO %L");
    assertThat(ConfigSetting.parse("work_mem=").values()).containsExactly("");
  }

  @Test
  void otherSettingsStayOneLiteralEvenWithCommas() {
    assertThat(ConfigSetting.parse("work_mem=64MB").values()).containsExactly("64MB");
    var dateStyle = ConfigSetting.parse("DateStyle=ISO, MDY");
    assertThat(dateStyle.name()).isEqualTo("DateStyle");
    assertThat(dateStyle.values()).containsExactly("ISO, MDY");
    assertThat(dateStyle.setClause()).isEqualTo("SET %I TO %L");
    // only the first = separates name and value
    assertThat(ConfigSetting.parse("app.expr=a=b").values()).containsExactly("a=b");
  }

  @Test
  void theListSettingsAreKnownByNameInAnyCase() {
    for (var name : List.of("search_path", "SEARCH_PATH", "temp_tablespaces",
        "local_preload_libraries", "session_preload_libraries", "shared_preload_libraries",
        "unix_socket_directories")) {
      assertThat(ConfigSetting.isListQuote(name)).as(name).isTrue();
    }
    assertThat(ConfigSetting.isListQuote("DateStyle")).isFalse();
    assertThat(ConfigSetting.parse("temp_tablespaces=fast,\"Slow One\"").values())
        .containsExactly("fast", "Slow One");
  }

  @Test
  void malformedListsAreRefused() {
    assertThatThrownBy(() -> ConfigSetting.splitList("\"open")).isInstanceOf(
        IllegalArgumentException.class);
    assertThatThrownBy(() -> ConfigSetting.splitList("a,,b")).isInstanceOf(
        IllegalArgumentException.class);
    assertThatThrownBy(() -> ConfigSetting.splitList("a b")).isInstanceOf(
        IllegalArgumentException.class);
    assertThatThrownBy(() -> ConfigSetting.splitList("a,")).isInstanceOf(
        IllegalArgumentException.class);
    assertThatThrownBy(() -> ConfigSetting.parse("novalue")).isInstanceOf(
        IllegalArgumentException.class);
  }
}
