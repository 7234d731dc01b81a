package io.pgmigrate.operator;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MainTest {

  @Test
  void watchedNamespacesComeFromACommaSeparatedList() {
    assertThat(Main.parseNamespaces(null)).isEmpty();
    assertThat(Main.parseNamespaces(" ")).isEmpty();
    assertThat(Main.parseNamespaces("a, b,,c ")).containsExactlyInAnyOrder("a", "b", "c");
  }
}
