package io.pgmigrate.operator.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class RowDigestsTest {

  @Test
  void namesEachTableThatIsMissingHasOtherCountsOrOtherContents() {
    var source = Map.of("public.same", "10 123", "public.lost", "10 5", "public.edited", "7 99",
        "s.gone", "3 1");
    var target = Map.of("public.same", "10 123", "public.lost", "9 5", "public.edited", "7 98",
        "public.only_on_target", "1 1");
    assertThat(RowDigests.differences(source, target)).containsExactlyInAnyOrder(
        "public.lost: 10 row(s) on the source, 9 on the target",
        "public.edited: 7 row(s) on both sides, but their contents differ",
        "s.gone: 3 row(s) on the source, missing on the target");
  }

  @Test
  void countsAloneCompareOnlyCounts() {
    assertThat(RowDigests.differences(Map.of("t", "5"), Map.of("t", "5"))).isEmpty();
    assertThat(RowDigests.differences(Map.of("t", "5"), Map.of("t", "4")))
        .containsExactly("t: 5 row(s) on the source, 4 on the target");
  }
}
