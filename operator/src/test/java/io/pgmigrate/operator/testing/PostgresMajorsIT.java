package io.pgmigrate.operator.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The test harness's servers of every supported major start, report that major, and can do
 * what the migrations need of them (a pgoutput slot, a subscription worker's library); and the
 * client tools the test kubelet gives image postgres:17 are 17's.
 */
class PostgresMajorsIT {

  @ParameterizedTest(name = "PostgreSQL {0}")
  @ValueSource(ints = {13, 14, 15, 16, 17})
  void aServerOfEachMajorStartsWithLogicalReplication(int major) {
    try (var server = PostgresServer.builder().name("major-" + major).major(major).start()) {
      assertThat(server.major()).isEqualTo(major);
      assertThat(Contents.query(server, "postgres",
          "select current_setting('wal_level'), current_setting('max_slot_wal_keep_size')"))
          .containsEntry("logical", "-1");
      server.execute("postgres",
          "select pg_create_logical_replication_slot('harness_probe', 'pgoutput')",
          "select pg_drop_replication_slot('harness_probe')");
      assertThat(Contents.query(server, "postgres",
          "select count(*)::text, '' from pg_replication_slots")).containsKey("0");
    }
  }

  @ParameterizedTest(name = "postgres:{0}")
  @ValueSource(ints = {15, 16, 17})
  void theImagesClientToolsAreOfItsMajor(int major) throws Exception {
    var path = TestKubelet.imagePath("postgres:" + major);
    for (var tool : new String[] {"pg_dump", "pg_restore", "psql"}) {
      var pb = new ProcessBuilder("sh", "-c", tool + " --version").redirectErrorStream(true);
      pb.environment().put("PATH", path);
      var p = pb.start();
      var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(out).as(tool).contains("(PostgreSQL) " + major + ".");
    }
  }
}
