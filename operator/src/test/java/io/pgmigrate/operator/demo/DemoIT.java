package io.pgmigrate.operator.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The README's demo runs end to end and shows what the README says it shows. */
class DemoIT {

  @Test
  void theDemoMigratesAndCutsOver() throws Exception {
    var buffer = new ByteArrayOutputStream();
    try (var out = new PrintStream(buffer, true, StandardCharsets.UTF_8)) {
      Demo.run(out);
    }
    var text = buffer.toString(StandardCharsets.UTF_8);
    System.out.println(text);
    assertThat(text)
        .contains("pgmigration.pgmigrate.io/shop created")
        .containsPattern("NAME\\s+PHASE\\s+METHOD\\s+DATABASES\\s+LAG\\s+AGE")
        .containsPattern("shop\\s+Syncing\\s+continuous\\s+2/2")
        .containsPattern("shop\\s+Ready\\s+continuous\\s+2/2")
        .contains("replication slots left on the source: [0]")
        .contains("== done");
    // the target has what the source has, table by table
    for (var db : new String[] {"shop", "billing"}) {
      var source = line(text, "== " + db + ": source ");
      var target = line(text, "== " + db + ": target ");
      assertThat(target).isEqualTo(source).contains("public.");
    }
  }

  static String line(String text, String prefix) {
    return text.lines().filter(l -> l.startsWith(prefix)).findFirst().orElseThrow()
        .substring(prefix.length());
  }
}
