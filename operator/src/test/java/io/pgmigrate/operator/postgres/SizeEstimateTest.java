package io.pgmigrate.operator.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SizeEstimateTest {

  @Test
  void dfOutputGivesTheAvailableBytesAndTheMountPoint() {
    var free = SizeEstimate.parseDf(List.of(
        "Filesystem     1024-blocks      Used Available Capacity Mounted on",
        "/dev/sda1        103081248  52428800  45400000      54% /var/lib/postgresql data"));
    assertThat(free).contains(
        new SizeEstimate.FreeDisk(45_400_000L * 1024, "/var/lib/postgresql data"));
    assertThat(SizeEstimate.parseDf(List.of("Filesystem 1024-blocks"))).isEmpty();
    assertThat(SizeEstimate.parseDf(List.of("h", "a b c d e"))).isEmpty();
  }

  @Test
  void lsnsAreBytePositions() {
    assertThat(SizeEstimate.lsnBytes("0/0")).isZero();
    assertThat(SizeEstimate.lsnBytes("16/B374D848")).isEqualTo(0x16B374D848L);
  }

  @Test
  void tableNamesAreQuotedOnlyWhereNeeded() {
    assertThat(new SizeEstimate.Table("public", "orders", 1).display()).isEqualTo("public.orders");
    assertThat(new SizeEstimate.Table("Shop", "big \"one\"", 1).display())
        .isEqualTo("\"Shop\".\"big \"\"one\"\"\"");
  }
}
