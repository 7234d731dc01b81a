package io.pgmigrate.operator;

import io.pgmigrate.operator.api.DatabasePhase;
import static io.pgmigrate.operator.OperatorValidationIT.awaitPhase;
import static io.pgmigrate.operator.OperatorValidationIT.check;
import static io.pgmigrate.operator.OperatorValidationIT.events;
import static io.pgmigrate.operator.OperatorValidationIT.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.pgmigrate.operator.api.CheckOutcome;
import io.pgmigrate.operator.api.Method;
import io.pgmigrate.operator.api.Phase;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.api.Verify;
import io.pgmigrate.operator.dump.DumpPods;
import io.pgmigrate.operator.postgres.Sql;
import io.pgmigrate.operator.reconciler.Conditions;
import io.pgmigrate.operator.testing.Contents;
import io.pgmigrate.operator.testing.Fixtures;
import io.pgmigrate.operator.testing.OperatorExtension;
import io.pgmigrate.operator.testing.PostgresPair;
import io.pgmigrate.operator.testing.PostgresServer;
import io.pgmigrate.operator.testing.Writer;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The dump method end to end: the operator on a real API server, dump Pods run by the test
 * kubelet with Debian's pg_dump and pg_restore, real PostgreSQL on both sides.
 */
@ExtendWith({PostgresPair.class, OperatorExtension.class})
class DumpMigrationIT {

  static final String QUOTED_DB = "Weird \"db\"; drop database x; --";
  static final String ODD_SCHEMA = "Odd \"Schema\".*";
  static final String BIG_TABLE = Sql.ident(ODD_SCHEMA) + "." + Sql.ident("Big \"T\" ?$");

  /** A dump migration of these databases with this many jobs, for the test to adjust and create. */
  static PgMigration dump(OperatorExtension.Env env, PostgresServer source, PostgresServer target,
      String name, int jobs, String... databases) {
    var m = Fixtures.migration(env.client(), env.namespace(), name, source, target);
    m.getSpec().setMethod(Method.DUMP);
    m.getSpec().getDump().setJobs(jobs);
    m.getSpec().setDatabases(List.of(databases));
    return m;
  }

  static void richSource(PostgresServer src) {
    src.execute("postgres",
        "create role dump_owner nologin",
        "create role dump_app login password 'app-pw-4711' connection limit 7",
        "grant dump_owner to dump_app",
        "alter role dump_app set statement_timeout = '5s'",
        "create database dump_shop owner dump_owner",
        "create database " + Sql.ident(QUOTED_DB),
        "create database dump_excluded");
    src.execute("dump_shop",
        "create schema sales authorization dump_owner",
        "create schema audit",
        "create type sales.status as enum ('new', 'paid', 'shipped')",
        "create table sales.customers (id bigserial primary key, name text not null,"
            + " profile jsonb)",
        "create table sales.\"Order Items\" (id bigserial primary key,"
            + " customer_id bigint references sales.customers(id), state sales.status,"
            + " amount numeric(12,2))",
        "alter table sales.\"Order Items\" owner to dump_owner",
        "create table audit.log (at timestamptz default now(), what text)",
        "create sequence sales.invoice_no start 1000",
        "select nextval('sales.invoice_no') from generate_series(1, 42)",
        "create view sales.big_orders as select * from sales.\"Order Items\" where amount > 100",
        "create function audit.note() returns trigger language plpgsql as $$"
            + " begin insert into audit.log(what) values (tg_op || ' ' || new.id); return new; end $$",
        "create trigger order_audit after insert on sales.\"Order Items\""
            + " for each row execute function audit.note()",
        "insert into sales.customers (name, profile) select 'c' || g,"
            + " jsonb_build_object('tier', g % 3, 'tags', jsonb_build_array('a', g))"
            + " from generate_series(1, 500) g",
        "insert into sales.\"Order Items\" (customer_id, state, amount) select 1 + g % 500,"
            + " (array['new','paid','shipped'])[1 + g % 3]::sales.status, g * 1.5"
            + " from generate_series(1, 2000) g",
        "select lo_from_bytea(0, 'a large object''s bytes')",
        "create materialized view sales.totals as select state, sum(amount) from"
            + " sales.\"Order Items\" group by state");
    // tables over the parallel streams' 1 MiB threshold: names that need quoting (and would be
    // patterns if unquoted), dropped and generated columns, a partition whose columns are in
    // another order than its parent's, inheritance (a parent's copy must not empty its child),
    // and a type with no binary form (streamed as text instead)
    src.execute("dump_shop",
        "create schema " + Sql.ident(ODD_SCHEMA),
        "create table " + BIG_TABLE + " (id bigint primary key, gone text, body text,"
            + " twice bigint generated always as (id * 2) stored, day date)",
        "alter table " + BIG_TABLE + " drop column gone",
        "insert into " + BIG_TABLE + " (id, body, day) select g, repeat(md5(g::text), 3),"
            + " date '2026-01-01' + g % 365 from generate_series(1, 20000) g",
        "create table sales.events (at int not null, body text) partition by range (at)",
        "create table sales.events_early (body text, at int not null)",
        "alter table sales.events attach partition sales.events_early for values from (0) to (1000000)",
        "insert into sales.events select g, repeat('e', 100) from generate_series(1, 20000) g",
        "create table audit.archive (id int, note text)",
        "create table audit.archive_2025 () inherits (audit.archive)",
        "insert into audit.archive select g, repeat('a', 100) from generate_series(1, 20000) g",
        "insert into audit.archive_2025 select g, repeat('b', 100) from generate_series(1, 20000) g",
        "create table public.log (x int)",
        "create table audit.grants (id int primary key, acl aclitem, note text, day date,"
            + " span interval, ratio float8, rel regclass)",
        "insert into audit.grants select g, makeaclitem('dump_owner'::regrole,"
            + " 'dump_owner'::regrole, 'SELECT', g % 2 = 0), repeat('g', 100),"
            + " date '2026-01-01' + g % 365, g * interval '1 minute 1.5 seconds', g / 7.0::float8,"
            + " 'audit.log'::regclass from generate_series(1, 20000) g",
        // object references: binary COPY would carry the source's OIDs
        "create table audit.refs (id int, rel regclass, typ regtype[], note text)",
        "insert into audit.refs select g, 'sales.customers'::regclass,"
            + " array['sales.status'::regtype], repeat('r', 100) from generate_series(1, 20000) g",
        // a hash partition key on an enum: its values hash differently on the target
        "create table sales.by_state (state sales.status not null, body text)"
            + " partition by hash (state)",
        "create table sales.by_state_0 partition of sales.by_state for values with (modulus 4, remainder 0)",
        "create table sales.by_state_1 partition of sales.by_state for values with (modulus 4, remainder 1)",
        "create table sales.by_state_2 partition of sales.by_state for values with (modulus 4, remainder 2)",
        "create table sales.by_state_3 partition of sales.by_state for values with (modulus 4, remainder 3)",
        "insert into sales.by_state select (array['new','paid','shipped'])[1 + g % 3]::sales.status,"
            + " repeat('s', 100) from generate_series(1, 40000) g",
        "vacuum analyze",
        // what sessions on the source get unless the copy sets its own: the transaction that
        // holds the snapshot idles longer than this, and day-first dates read back month-first
        "alter database dump_shop set idle_in_transaction_session_timeout = '300ms'",
        "alter database dump_shop set datestyle = 'SQL, DMY'",
        // and references to audit.log written as plain "log", which the target reads as public.log
        "alter database dump_shop set search_path = audit, public");
    src.execute(QUOTED_DB,
        "create table \"Mixed Case\" (\"Key\" int primary key, \"va'lue\" text)",
        "insert into \"Mixed Case\" select g, 'v' || g from generate_series(1, 50) g");
    src.execute("dump_excluded", "create table t (id int)");
  }

  @Test
  void copiesIncludedDatabasesRolesAndEverythingInThemThenVerifiesAndIsReady(
      OperatorExtension.Env env, PostgresPair.Servers pg) throws Exception {
    try (var source = PostgresServer.builder().name("rich").start()) {
      copyEverything(env, source, pg.target());
    }
  }

  void copyEverything(OperatorExtension.Env env, PostgresServer source, PostgresServer target)
      throws Exception {
    richSource(source);
    // while the streams run, the session holding the snapshot also holds a lock on the tables
    // to stream, so that no TRUNCATE or column drop on the source can empty or reshape them
    // before their stream reads them (pg_dump's own locks end when pg_dump does)
    var lockSeen = new AtomicBoolean();
    var sampler = Executors.newSingleThreadScheduledExecutor();
    var lockQuery = "select count(*) from pg_locks l join pg_stat_activity a on a.pid = l.pid"
        + " where a.application_name = 'pgmigrate-snapshot' and l.granted"
        + " and l.mode = 'AccessShareLock' and l.relation = '" + BIG_TABLE.replace("'", "''")
        + "'::regclass";
    try (var c = source.connect("dump_shop")) {
      sampler.scheduleWithFixedDelay(() -> {
        try (var st = c.createStatement(); var rs = st.executeQuery(lockQuery)) {
          rs.next();
          if (rs.getInt(1) > 0) {
            lockSeen.set(true);
          }
        } catch (SQLException e) {
          throw new IllegalStateException(e);
        }
      }, 0, 20, TimeUnit.MILLISECONDS);
      copyAndCheck(env, source, target);
    } finally {
      sampler.shutdownNow();
    }
    assertThat(lockSeen).as("the snapshot's session held a lock on " + BIG_TABLE).isTrue();
  }

  void copyAndCheck(OperatorExtension.Env env, PostgresServer source, PostgresServer target)
      throws Exception {
    var m = Fixtures.migration(env.client(), env.namespace(), "dump-all", source, target);
    OperatorValidationIT.plaintext(m);
    m.getSpec().setMethod(Method.DUMP);
    m.getSpec().getDump().setJobs(2);
    // every database of the source but one
    m.getSpec().setExcludeDatabases(List.of("dump_excluded", "postgres"));
    env.client().resource(m).create();

    var ready = await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500))
        .until(() -> get(env, "dump-all"), x -> x.getStatus() != null
            && (x.getStatus().getPhase() == Phase.Ready || x.getStatus().getPhase() == Phase.Failed));
    assertThat(ready.getStatus().getPhase()).as(ready.getStatus().getMessage()).isEqualTo(Phase.Ready);
    assertThat(ready.getStatus().getProgress()).isEqualTo("2/2");
    assertThat(ready.getStatus().getCompletedAt()).isNotBlank();
    assertThat(ready.getStatus().getMessage()).contains("2 database(s) copied and verified");
    assertThat(ready.getStatus().getDatabases()).allSatisfy(d -> {
      assertThat(d.getPhase()).isEqualTo(DatabasePhase.Done);
      assertThat(d.getPod()).startsWith("dump-all-").contains("-dump-");
      assertThat(d.getMessage()).contains("row counts");
    });
    assertThat(check(ready, "source.largeObjects").getResult()).isEqualTo(CheckOutcome.Passed);

    for (var db : List.of("dump_shop", QUOTED_DB)) {
      // rows of the enum-keyed hash partitions land in other partitions, so they are compared
      // through their partitioned table (sales.by_state) only
      assertThat(withoutHashPartitions(Contents.tables(target, db))).as(db)
          .isNotEmpty().isEqualTo(withoutHashPartitions(Contents.tables(source, db)));
      assertThat(Contents.sequences(target, db)).as(db)
          .isEqualTo(Contents.sequences(source, db));
      assertThat(Contents.objects(target, db)).as(db)
          .isEqualTo(Contents.objects(source, db));
    }
    assertThat(Contents.sequences(target, "dump_shop")).containsEntry("sales.invoice_no", "1041");
    assertThat(Contents.query(target, "dump_shop", "select state::text, sum::text from sales.totals"))
        .isEqualTo(Contents.query(source, "dump_shop",
            "select state::text, sum::text from sales.totals")).hasSize(3);
    // the tables over 1 MiB came through the parallel COPY streams, which freeze what they
    // write; the smaller ones came through pg_restore, which does not
    target.execute("dump_shop", "create extension pg_visibility");
    var frozen = Contents.query(target, "dump_shop",
        "select t, (select all_frozen > 0 from pg_visibility_map_summary(t::regclass))::text"
            + " from unnest(array['" + BIG_TABLE.replace("'", "''") + "', 'sales.events_early',"
            + " 'audit.archive', 'audit.archive_2025', 'audit.grants', 'audit.refs',"
            + " 'sales.customers']) t");
    assertThat(frozen).containsEntry(BIG_TABLE, "true").containsEntry("sales.events_early", "true")
        .containsEntry("audit.archive", "true").containsEntry("audit.archive_2025", "true")
        .containsEntry("audit.grants", "true").containsEntry("audit.refs", "true")
        .containsEntry("sales.customers", "false");
    assertThat(Contents.query(target, "dump_shop",
        "select rel::text || ' ' || typ::text, '' from audit.refs limit 1"))
        .containsKey("sales.customers {sales.status}");
    assertThat(Contents.databases(target)).doesNotContain("dump_excluded");
    // roles: attributes, settings, membership, and the password hash (the app can log in)
    assertThat(Contents.query(target, "postgres",
        "select r.rolname, r.rolconnlimit || ' ' || r.rolcanlogin || ' '"
            + " || coalesce(array_to_string(s.setconfig, ','), '') from pg_roles r"
            + " left join pg_db_role_setting s on s.setrole = r.oid and s.setdatabase = 0"
            + " where rolname like 'dump\\_%'"))
        .containsEntry("dump_app", "7 true statement_timeout=5s")
        .containsEntry("dump_owner", "-1 false ");
    assertThat(Contents.query(target, "postgres",
        "select pg_has_role('dump_app', 'dump_owner', 'member')::text, ''")).containsKey("true");
    var props = new Properties();
    props.setProperty("user", "dump_app");
    props.setProperty("password", "app-pw-4711");
    try (var c = DriverManager.getConnection(target.jdbcUrl("dump_shop"), props)) {
      assertThat(c.isValid(5)).isTrue();
    }
    assertThat(Contents.query(target, "dump_shop",
        "select tableowner, '' from pg_tables where tablename = 'Order Items'")).containsKey("dump_owner");
    assertThat(events(env, "dump-all")).extracting(Event::getReason)
        .contains("Validating", "Migrating", "TargetPrepared", "Ready");
  }

  static Map<String, String> withoutHashPartitions(Map<String, String> tables) {
    var result = new TreeMap<>(tables);
    result.keySet().removeIf(t -> t.startsWith("sales.by_state_"));
    return result;
  }

  @Test
  void streamsWithOneJobAndTheDumpPodIsRestrictedAndHoldsNoPassword(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    pg.source().execute("postgres", "create database dump_pipe");
    pg.source().execute("dump_pipe", "create table t (id int primary key, v text)",
        "insert into t select g, md5(g::text) from generate_series(1, 1000) g");
    var m = dump(env, pg.source(), pg.target(), "pipe", 1, "dump_pipe");
    env.client().resource(m).create();
    var ready = awaitPhase(env, "pipe", Phase.Ready);
    assertThat(Contents.tables(pg.target(), "dump_pipe")).isEqualTo(Contents.tables(pg.source(), "dump_pipe"));

    Pod pod = env.client().pods().inNamespace(env.namespace())
        .withName(ready.getStatus().getDatabases().get(0).getPod()).get();
    var text = env.client().getKubernetesSerialization().asYaml(pod.getSpec());
    assertThat(text).doesNotContain(PostgresServer.SUPERUSER_PASSWORD);
    var container = pod.getSpec().getContainers().get(0);
    assertThat(container.getImage()).isEqualTo("postgres:15");
    assertThat(String.join(" ", container.getCommand())).doesNotContain("dump_pipe")
        .doesNotContain(pg.source().host() + ":" + pg.source().port());
    assertThat(container.getEnv()).filteredOn(e -> e.getName().endsWith("_PASSWORD"))
        .hasSize(2).allSatisfy(e -> {
          assertThat(e.getValue()).isNull();
          assertThat(e.getValueFrom().getSecretKeyRef().getName()).startsWith("pipe-");
        });
    assertThat(pod.getSpec().getVolumes()).extracting(v -> v.getName()).doesNotContain("scratch");
    assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(container.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(container.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(pod.getSpec().getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSpec().getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    assertThat(pod.getSpec().getAutomountServiceAccountToken()).isFalse();
    assertThat(pod.getMetadata().getOwnerReferences()).singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo(ready.getMetadata().getUid()));
  }

  @ParameterizedTest(name = "jobs {0}, tables split above {1}, verify {2}")
  @CsvSource({"1, '', counts", "2, '', counts", "2, 256Ki, counts", "1, '', digests",
      "2, 256Ki, digests"})
  void aSourceWrittenToThroughoutTheCopyIsVerifiedAgainstTheDumpsSnapshot(
      int jobs, String split, String verify, OperatorExtension.Env env, PostgresPair.Servers pg)
      throws Exception {
    var digests = verify.equals("digests");
    var name = "live-" + jobs + (split.isEmpty() ? "" : "-split") + (digests ? "-digests" : "");
    var db = name.replace('-', '_').replace("live", "dump_live");
    var source = pg.source();
    source.execute("postgres", "create database " + db);
    source.execute(db, Writer.TABLE,
        // over the 1 MiB threshold: with 2 jobs a parallel COPY stream reads it
        "insert into items (v) select repeat(md5(g::text), 2) from generate_series(1, 20000) g",
        "create table quiet (id int primary key, body text)",
        "insert into quiet select g, md5(g::text) from generate_series(1, 500) g");
    var m = dump(env, source, pg.target(), name, jobs, db);
    // items (about 2.4 MB) in parts of 256 KiB, several streams writing it at once
    m.getSpec().getDump().setSplitTablesLargerThan(split);
    // digests of a live source's rows match the target's only in the snapshot the copy read
    m.getSpec().setVerify(digests ? Verify.DIGESTS : Verify.COUNTS);
    PgMigration done;
    // inserts, updates and deletes before, during and after the copy, until the verdict: the
    // source's row counts of items never hold still long enough for a comparison after the copy
    try (var writer = new Writer(source, db, Duration.ofMinutes(3))) {
      await().atMost(Duration.ofSeconds(20)).until(() -> writer.statements() > 100);
      env.client().resource(m).create();
      done = await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(300))
          .until(() -> get(env, name), x -> x.getStatus() != null
              && (x.getStatus().getPhase() == Phase.Ready
                  || x.getStatus().getPhase() == Phase.Failed));
    }
    assertThat(done.getStatus().getPhase()).as(done.getStatus().getMessage())
        .isEqualTo(Phase.Ready);
    assertThat(done.getStatus().getMessage()).contains("1 database(s) copied and verified")
        .contains("in the dump's snapshot");
    assertThat(done.getStatus().getDatabases().get(0).getMessage())
        .contains((digests ? "row counts and row digests" : "row counts")
            + " of every table equal to the source's in the dump's snapshot");
    // the untouched table is equal; items on the target is the source's at one moment: its ids
    // form one run (the writer deletes the lowest, inserts above the highest), which ends
    // before the source's now does
    var items = "select 'items', count(*) || ' ' || (max(id) - min(id) + 1) || ' ' || max(id)"
        + " from items";
    var copied = Contents.query(pg.target(), db, items).get("items").split(" ");
    var now = Contents.query(source, db, items).get("items").split(" ");
    assertThat(copied[0]).as("rows of items on the target, and the length of their id run")
        .isEqualTo(copied[1]);
    assertThat(Long.parseLong(copied[2])).as("highest id of items on the target, and now")
        .isLessThan(Long.parseLong(now[2]));
    var withoutItems = new TreeMap<>(Contents.tables(pg.target(), db));
    withoutItems.remove("public.items");
    assertThat(withoutItems).isNotEmpty().isEqualTo(Map.of("public.quiet",
        Contents.tables(source, db).get("public.quiet")));
    assertThat(env.client().pods().inNamespace(env.namespace())
        .withLabel(DumpPods.MIGRATION_UID, done.getMetadata().getUid()).list().getItems())
        .singleElement().satisfies(p -> assertThat(p.getMetadata().getName()).endsWith("-1"));
    var log = env.podLog(done.getStatus().getDatabases().get(0).getPod());
    assertThat(log).contains("analyzed the target's tables").contains(digests
        ? "verified: 2 table(s), row counts and row digests equal to the source's snapshot"
        : "verified: 2 table(s), row counts equal to the source's snapshot");
    if (!split.isEmpty()) {
      assertThat(log).containsPattern("1 split into [0-9]{1,2} part\\(s\\) in all")
          .contains("copied public.items pages 0-32 (binary)")
          .containsPattern("copied public.items pages [0-9]+-end \\(binary\\)");
    } else if (jobs > 1) {
      assertThat(log).contains("(0 split into 1 part(s) in all)")
          .contains("copied public.items (binary)");
    }
    // planner statistics on the target, as on an analyzed source (tables that autovacuum
    // analyzed meanwhile are not analyzed again)
    assertThat(Contents.query(pg.target(), db, "select relname, n_live_tup::text"
        + " from pg_stat_user_tables where relname = 'quiet'"
        + " and coalesce(last_analyze, last_autoanalyze) is not null"))
        .containsEntry("quiet", "500");
  }

  /**
   * The verification reads a streamed table once on the source, by its COPY: the rows that COPY
   * read (the source's own tag) equal those the target's COPY wrote, so it is not counted
   * again; a table pg_dump carried is read by pg_dump and counted in the snapshot. (The rows a
   * target loses or gains are shown by the tests around this one.)
   */
  @Test
  void aStreamedTableIsReadOnceOnTheSource(OperatorExtension.Env env, PostgresPair.Servers pg) {
    var db = "dump_read_once";
    pg.source().execute("postgres", "create database " + db);
    pg.source().execute(db,
        // over the 1 MiB threshold: a stream copies it; carried is pg_dump's
        "create table streamed (id int primary key, v text)",
        "insert into streamed select g, repeat(md5(g::text), 2) from generate_series(1, 20000) g",
        "create table carried (id int)",
        "insert into carried select generate_series(1, 10)");
    var scans = "select relname, seq_scan::text from pg_stat_user_tables";
    var before = Contents.query(pg.source(), db, scans);
    var m = dump(env, pg.source(), pg.target(), "read-once", 2, db);
    env.client().resource(m).create();

    var ready = awaitPhase(env, "read-once", Phase.Ready);
    assertThat(env.podLog(ready.getStatus().getDatabases().get(0).getPod()))
        .contains("copied public.streamed (binary)")
        .contains("verified: 2 table(s), row counts equal to the source's snapshot");
    // a session's scans reach the statistics as it ends: the snapshot's session, which
    // counted carried, ends last
    var after = await().atMost(Duration.ofSeconds(10)).until(
        () -> Contents.query(pg.source(), db, scans),
        x -> Long.parseLong(x.get("carried")) - Long.parseLong(before.get("carried")) >= 2);
    assertThat(Long.parseLong(after.get("carried")) - Long.parseLong(before.get("carried")))
        .as("scans of carried: pg_dump's COPY and the count").isEqualTo(2);
    assertThat(Long.parseLong(after.get("streamed")) - Long.parseLong(before.get("streamed")))
        .as("scans of streamed: its COPY only").isEqualTo(1);
    assertThat(Contents.tables(pg.target(), db)).isEqualTo(Contents.tables(pg.source(), db));
  }

  /**
   * The partitions of a table hash-partitioned on an integer are streamed, each whole, and
   * counted as the whole table: also when an event trigger on the target has every table
   * counted with count(*) there.
   */
  @Test
  void streamedHashPartitionsAreCountedAsTheirWholeTableAlsoWithATargetEventTrigger(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    var db = "dump_hash_trigger";
    pg.source().execute("postgres", "create database " + db);
    pg.source().execute(db,
        "create table h (id int, v text) partition by hash (id)",
        "create table h0 partition of h for values with (modulus 2, remainder 0)",
        "create table h1 partition of h for values with (modulus 2, remainder 1)",
        // about 2.6 MB a partition: each over the 1 MiB threshold, so streamed
        "insert into h select g, repeat(md5(g::text), 2) from generate_series(1, 40000) g");
    pg.target().execute("postgres", "create database " + db);
    pg.target().execute(db,
        "create function public.noop() returns event_trigger language plpgsql as $$"
            + " begin end $$",
        "create event trigger noop on ddl_command_end execute function public.noop()");
    var m = dump(env, pg.source(), pg.target(), "hash-trigger", 2, db);
    env.client().resource(m).create();

    var done = await().atMost(Duration.ofMinutes(2)).until(() -> get(env, "hash-trigger"),
        x -> x.getStatus() != null && (x.getStatus().getPhase() == Phase.Ready
            || x.getStatus().getPhase() == Phase.Failed));
    assertThat(done.getStatus().getPhase()).as(done.getStatus().getMessage())
        .isEqualTo(Phase.Ready);
    assertThat(env.podLog(done.getStatus().getDatabases().get(0).getPod()))
        .contains("copied public.h0 (binary)").contains("copied public.h1 (binary)")
        .contains("verified: 1 table(s), row counts equal to the source's snapshot");
    assertThat(Contents.tables(pg.target(), db)).isEqualTo(Contents.tables(pg.source(), db));
  }

  /**
   * The dump Pods analyze every table they copied (a streamed one by its stream, one pg_dump
   * carried while the streams copy, one with an expression index after the index builds, whose
   * statistics need the index), unless dump.analyze is false.
   */
  @ParameterizedTest(name = "jobs {0}, analyze {1}")
  @CsvSource({"1, true", "1, false", "2, true", "2, false"})
  void theTargetsTablesAreAnalyzedUnlessDumpAnalyzeIsFalse(int jobs, boolean analyze,
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    var name = "analyze-" + jobs + "-" + analyze;
    var db = name.replace('-', '_');
    pg.source().execute("postgres", "create database " + db);
    pg.source().execute(db,
        // over the 1 MiB threshold: with 2 jobs a stream copies it
        "create table streamed (id int primary key, v text)",
        "insert into streamed select g, repeat(md5(g::text), 2) from generate_series(1, 20000) g",
        "create table carried (id int)",
        "insert into carried select generate_series(1, 10)",
        "create table by_expression (id int, v text)",
        "insert into by_expression select g, md5(g::text) from generate_series(1, 100) g",
        "create index on by_expression (lower(v))");
    var m = dump(env, pg.source(), pg.target(), name, jobs, db);
    m.getSpec().getDump().setAnalyze(analyze);
    env.client().resource(m).create();

    var ready = awaitPhase(env, name, Phase.Ready);
    // last_analyze is a manual ANALYZE's (autovacuum's is last_autoanalyze)
    assertThat(Contents.query(pg.target(), db, "select relname,"
        + " (last_analyze is not null)::text from pg_stat_user_tables"))
        .isEqualTo(Map.of("streamed", "" + analyze, "carried", "" + analyze,
            "by_expression", "" + analyze));
    // the expression index's statistics exist only when it was analyzed after it was built:
    // by the Pod; with analyze false, only by autovacuum (it may analyze a table of 100 new
    // rows within the test, and reports that in last_autoanalyze before it commits them)
    var expression = Contents.query(pg.target(), db, "select 'expression', case"
        + " when (select count(*) from pg_stats where tablename = 'by_expression_lower_idx') = 0"
        + " then 'none' when (select last_autoanalyze is not null from pg_stat_user_tables"
        + " where relname = 'by_expression') then 'autovacuum' else 'analyzed' end")
        .get("expression");
    if (analyze) {
      assertThat(expression).isIn("analyzed", "autovacuum");
    } else {
      assertThat(expression).as("the expression index's statistics").isIn("none", "autovacuum");
    }
    assertThat(env.podLog(ready.getStatus().getDatabases().get(0).getPod())).contains(analyze
        ? "analyzed the target's tables"
        : "left the target's planner statistics to autovacuum or ANALYZE (dump.analyze: false)");
    assertThat(Contents.tables(pg.target(), db)).isEqualTo(Contents.tables(pg.source(), db));
  }

  /**
   * Each streamed table is analyzed in the background while its stream copies on, but at most
   * one ANALYZE per stream at a time: however much slower the ANALYZEs are than the COPYs, the
   * target sees no more of them at once than the migration has jobs (and its connections are
   * not used up). Here none can end while every table is copied: a session holds a lock on the
   * target's pg_statistic, which an ANALYZE writes last.
   */
  @Test
  void streamedTablesAreAnalyzedAtMostOnePerStreamAtATime(OperatorExtension.Env env,
      PostgresPair.Servers pg) throws Exception {
    var db = "dump_analyze_bound";
    int tables = 6;
    int jobs = 2;
    pg.source().execute("postgres", "create database " + db);
    var setup = new ArrayList<String>();
    for (int i = 1; i <= tables; i++) {
      // over the 1 MiB threshold: each streamed
      setup.add("create table t" + i + " (id int, v text)");
      setup.add("insert into t" + i + " select g, repeat(md5(g::text), 2)"
          + " from generate_series(1, 20000) g");
    }
    pg.source().execute(db, setup.toArray(String[]::new));
    env.client().resource(dump(env, pg.source(), pg.target(), "analyze-bound", jobs, db))
        .create();

    // held from the moment the operator created the database, before the Pod starts
    await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(10)).until(() ->
        Contents.query(pg.target(), "postgres", "select datname, '' from pg_database")
            .containsKey(db));
    var analyzing = "select 'n', count(*)::text from pg_stat_activity"
        + " where datname = current_database() and application_name = 'pgmigrate-restore'"
        + " and state = 'active' and query ilike 'analyze %'";
    var most = new AtomicInteger();
    try (var holder = pg.target().connect(db)) {
      holder.setAutoCommit(false);
      try (var st = holder.createStatement()) {
        st.execute("lock table pg_catalog.pg_statistic in share mode");
      }
      IntSupplier sessions = () -> {
        int n = Integer.parseInt(Contents.query(pg.target(), db, analyzing).get("n"));
        most.accumulateAndGet(n, Math::max);
        return n;
      };
      await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(20)).until(() -> {
        sessions.getAsInt();
        return everyRowCopied(pg.target(), db, tables, 20000);
      });
      // every COPY is done and every ANALYZE waits: one per stream, the others not connected
      await("an ANALYZE waiting in each stream").atMost(Duration.ofSeconds(20))
          .until(() -> sessions.getAsInt() >= jobs);
      await("no more than " + jobs + " ANALYZE sessions at once").during(Duration.ofSeconds(2))
          .atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20))
          .until(() -> sessions.getAsInt() <= jobs);
      assertThat(most.get()).as("ANALYZE sessions at once on the target").isEqualTo(jobs);
      holder.rollback();
    }

    var ready = awaitPhase(env, "analyze-bound", Phase.Ready);
    assertThat(Contents.query(pg.target(), db, "select relname,"
        + " (last_analyze is not null)::text from pg_stat_user_tables").values())
        .hasSize(tables).containsOnly("true");
    assertThat(env.podLog(ready.getStatus().getDatabases().get(0).getPod()))
        .contains("analyzed the target's tables").doesNotContain("could not analyze");
    assertThat(Contents.tables(pg.target(), db)).isEqualTo(Contents.tables(pg.source(), db));
  }

  /**
   * An inheritance parent's statistics cover its children's rows too, so its stream does not
   * analyze it: a child may still be waiting for its stream (here the child, the smallest
   * table, is copied after two others that follow the parent in the same stream, while the
   * largest table keeps the other stream busy). It is analyzed at the end, with every child's
   * rows. (A child being copied would hold its ANALYZE back: the stream's TRUNCATE locks it.)
   */
  @Test
  void anInheritanceParentIsAnalyzedOnlyOnceItsChildrenAreCopied(OperatorExtension.Env env,
      PostgresPair.Servers pg) {
    var db = "dump_analyze_parent";
    pg.source().execute("postgres", "create database " + db);
    pg.source().execute(db,
        // all over the 1 MiB threshold, so streamed, largest first: big alone in one stream,
        // then parent, m1, m2 and child in the other
        "create table big (id int, v text)",
        "insert into big select g, repeat(md5(g::text), 2) from generate_series(1, 600000) g",
        "create table parent (id int, kind text, v text)",
        "create table child () inherits (parent)",
        "insert into parent select g, 'parent', repeat(md5(g::text), 2)"
            + " from generate_series(1, 36000) g",
        "create table m1 (id int, v text)",
        "insert into m1 select g, repeat(md5(g::text), 2) from generate_series(1, 32000) g",
        "create table m2 (id int, v text)",
        "insert into m2 select g, repeat(md5(g::text), 2) from generate_series(1, 28000) g",
        "insert into child select g, 'child', repeat(md5(g::text), 2)"
            + " from generate_series(1, 14000) g");
    env.client().resource(dump(env, pg.source(), pg.target(), "analyze-parent", 2, db)).create();

    var ready = awaitPhase(env, "analyze-parent", Phase.Ready);
    assertThat(env.podLog(ready.getStatus().getDatabases().get(0).getPod()))
        .contains("copied public.parent (binary)").contains("copied public.child (binary)");
    // the statistics of parent and its child together: both kinds of rows
    assertThat(Contents.query(pg.target(), db, "select 'kind', most_common_vals::text"
        + " from pg_stats where tablename = 'parent' and attname = 'kind' and inherited"))
        .containsEntry("kind", "{parent,child}");
    assertThat(Contents.tables(pg.target(), db)).isEqualTo(Contents.tables(pg.source(), db));
  }

  /** Whether tables t1 to tN hold their rows on the target; false while a stream writes one. */
  private static boolean everyRowCopied(PostgresServer target, String db, int tables, int rows) {
    try (var c = target.connect(db); var st = c.createStatement()) {
      st.execute("set lock_timeout = '100ms'");
      for (int i = 1; i <= tables; i++) {
        try (var rs = st.executeQuery("select count(*) from t" + i)) {
          rs.next();
          if (rs.getLong(1) != rows) {
            return false;
          }
        }
      }
      return true;
    } catch (SQLException e) {
      // not created yet, or held by the stream that fills it
      return false;
    }
  }

  /**
   * A streamed table's target count is the rows its COPY wrote; a trigger on the target (which
   * only an event trigger can give a table the copy just created) may add rows the COPY does
   * not count, so then every table is counted with count(*).
   */
  @Test
  void rowsATargetTriggerAddsToAStreamedTableFailVerification(OperatorExtension.Env env,
      PostgresPair.Servers pg) {
    var db = "dump_extra";
    pg.source().execute("postgres", "create database " + db);
    pg.source().execute(db,
        "create table grown (id int primary key, v text)",
        "insert into grown select g, repeat(md5(g::text), 2) from generate_series(1, 20000) g");
    pg.target().execute("postgres", "create database " + db);
    pg.target().execute(db,
        "create function public.add_one() returns trigger language plpgsql as $$"
            + " begin if new.id = 1 then insert into public.grown values (-1, 'extra'); end if;"
            + " return new; end $$",
        "create function public.grow() returns event_trigger language plpgsql as $$"
            + " declare r record; begin"
            + "  for r in select * from pg_catalog.pg_event_trigger_ddl_commands()"
            + "   where object_identity = 'public.grown' loop"
            + "    execute 'create trigger add_one after insert on public.grown for each row"
            + " execute function public.add_one()';"
            + "  end loop;"
            + " end $$",
        "create event trigger grow on ddl_command_end when tag in ('CREATE TABLE')"
            + " execute function public.grow()");
    var m = dump(env, pg.source(), pg.target(), "extra", 2, db);
    env.client().resource(m).create();

    var failed = await().atMost(Duration.ofMinutes(2)).until(() -> get(env, "extra"),
        x -> x.getStatus() != null && x.getStatus().getPhase() == Phase.Failed);
    assertThat(Conditions.get(failed.getStatus().getConditions(), Conditions.READY).getReason())
        .isEqualTo("VerificationFailed");
    assertThat(failed.getStatus().getMessage()).contains("\"public\".\"grown\": 20000 row(s)"
        + " in the source's snapshot, 20001 on the target");
    assertThat(env.podLog(failed.getStatus().getDatabases().get(0).getPod()))
        .contains("copied public.grown (binary)");
  }

  @ParameterizedTest(name = "jobs {0}")
  @ValueSource(ints = {1, 2})
  void rowsTheTargetLosesFailVerificationAtOnceNamingTheTableAndBothCounts(
      int jobs, OperatorExtension.Env env, PostgresPair.Servers pg) {
    var db = "dump_lossy_" + jobs;
    pg.source().execute("postgres", "create database " + db);
    pg.source().execute(db,
        // over the 1 MiB threshold: with 2 jobs a parallel COPY stream writes it
        "create table lossy (id int primary key, v text)",
        "insert into lossy select g, repeat(md5(g::text), 2) from generate_series(1, 20000) g",
        "create table kept (id int)",
        "insert into kept select generate_series(1, 10)");
    // the target database exists, with an event trigger that gives the table lossy, once the
    // restore creates it, a trigger dropping every tenth row written to it: the copy works,
    // and the target holds fewer rows than the snapshot did
    pg.target().execute("postgres", "create database " + db);
    pg.target().execute(db,
        "create function public.drop_tenth() returns trigger language plpgsql as $$"
            + " begin if new.id % 10 = 0 then return null; end if; return new; end $$",
        "create function public.lose_rows() returns event_trigger language plpgsql as $$"
            + " declare r record; begin"
            + "  for r in select * from pg_catalog.pg_event_trigger_ddl_commands()"
            + "   where object_identity = 'public.lossy' loop"
            + "    execute 'create trigger drop_tenth before insert on public.lossy for each row"
            + " execute function public.drop_tenth()';"
            + "  end loop;"
            + " end $$",
        "create event trigger lose_rows on ddl_command_end when tag in ('CREATE TABLE')"
            + " execute function public.lose_rows()");
    var name = "lossy-" + jobs;
    var m = dump(env, pg.source(), pg.target(), name, jobs, db);
    env.client().resource(m).create();

    var failed = await().atMost(Duration.ofMinutes(2)).until(() -> get(env, name),
        x -> x.getStatus() != null && x.getStatus().getPhase() == Phase.Failed);
    var ready = Conditions.get(failed.getStatus().getConditions(), Conditions.READY);
    assertThat(ready.getReason()).isEqualTo("VerificationFailed");
    var differs = "\"public\".\"lossy\": 20000 row(s) in the source's snapshot, 18000 on the"
        + " target";
    assertThat(failed.getStatus().getMessage())
        .startsWith("verification failed: database " + db + ": 1 of 2 table(s) differ")
        .contains(differs).doesNotContain("kept");
    var status = failed.getStatus().getDatabases().get(0);
    assertThat(status.getPhase()).isEqualTo(DatabasePhase.Failed);
    assertThat(status.getMessage()).contains(differs);
    assertThat(status.getPod()).endsWith("-1");
    // a new attempt would lose the same rows: there is none
    await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5)).until(() -> true);
    assertThat(env.client().pods().inNamespace(env.namespace())
        .withLabel(DumpPods.MIGRATION_UID, failed.getMetadata().getUid()).list().getItems())
        .singleElement().satisfies(p -> assertThat(p.getStatus().getPhase()).isEqualTo("Failed"));
    assertThat(events(env, name)).anySatisfy(e -> {
      assertThat(e.getReason()).isEqualTo("VerificationFailed");
      assertThat(e.getType()).isEqualTo("Warning");
    });
  }

  /**
   * The target changes values as the copy writes them (a trigger an event trigger adds to the
   * table once the restore creates it): every row arrives, so the row counts agree, and only
   * the digests see it.
   */
  @ParameterizedTest(name = "jobs {0}, verify {1}")
  @CsvSource({"1, digests", "2, digests", "2, counts"})
  void valuesTheTargetChangesFailDigestVerificationNamingTheTableWhileCountsMissThem(
      int jobs, String verify, OperatorExtension.Env env, PostgresPair.Servers pg) {
    var digests = verify.equals("digests");
    var db = "dump_altered_" + jobs + "_" + verify;
    pg.source().execute("postgres", "create database " + db);
    pg.source().execute(db,
        // over the 1 MiB threshold: with 2 jobs a parallel COPY stream writes it
        "create table altered (id int primary key, v text, at timestamptz, f float8)",
        "insert into altered select g, repeat(md5(g::text), 2), timestamptz '2026-01-01 00:00+00'"
            + " + g * interval '1 second', g / 3.0 from generate_series(1, 20000) g",
        "create table kept (id int, v numeric)",
        "insert into kept select g, g / 7.0 from generate_series(1, 10) g");
    pg.target().execute("postgres", "create database " + db);
    // a time zone other than the source's: the digests must not see that
    pg.target().execute("postgres", "alter database " + db + " set timezone = 'Asia/Tokyo'");
    pg.target().execute(db,
        "create function public.alter_some() returns trigger language plpgsql as $$"
            + " begin if new.id = 4321 then new.v := upper(new.v); end if; return new; end $$",
        "create function public.add_trigger() returns event_trigger language plpgsql as $$"
            + " declare r record; begin"
            + "  for r in select * from pg_catalog.pg_event_trigger_ddl_commands()"
            + "   where object_identity = 'public.altered' loop"
            + "    execute 'create trigger alter_some before insert on public.altered for each"
            + " row execute function public.alter_some()';"
            + "  end loop;"
            + " end $$",
        "create event trigger add_trigger on ddl_command_end when tag in ('CREATE TABLE')"
            + " execute function public.add_trigger()");
    var name = "altered-" + jobs + "-" + verify;
    var m = dump(env, pg.source(), pg.target(), name, jobs, db);
    m.getSpec().setVerify(digests ? Verify.DIGESTS : Verify.COUNTS);
    env.client().resource(m).create();

    var end = await().atMost(Duration.ofMinutes(2)).until(() -> get(env, name),
        x -> x.getStatus() != null && (x.getStatus().getPhase() == Phase.Failed
            || x.getStatus().getPhase() == Phase.Ready));
    assertThat(Contents.query(pg.target(), db, "select 'rows', count(*)::text from altered"))
        .containsEntry("rows", "20000");
    if (!digests) {
      assertThat(end.getStatus().getPhase()).as("counts cannot see changed values")
          .isEqualTo(Phase.Ready);
      return;
    }
    assertThat(end.getStatus().getPhase()).as(end.getStatus().getMessage())
        .isEqualTo(Phase.Failed);
    assertThat(Conditions.get(end.getStatus().getConditions(), Conditions.READY).getReason())
        .isEqualTo("VerificationFailed");
    assertThat(end.getStatus().getMessage())
        .startsWith("verification failed: database " + db + ": 1 of 2 table(s) differ")
        .contains("\"public\".\"altered\": 20000 row(s) on both sides, but their contents"
            + " differ from the source's snapshot")
        .doesNotContain("kept");
    assertThat(end.getStatus().getDatabases().get(0).getPhase()).isEqualTo(DatabasePhase.Failed);
  }

  @Test
  void aRestoreTheTargetRefusesIsRetriedThenFailsWithPgRestoresError(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    pg.source().execute("postgres", "create database dump_conflict");
    pg.source().execute("dump_conflict", "create table items (id int primary key)");
    pg.target().execute("postgres", "create database dump_conflict");
    pg.target().execute("dump_conflict", "create table items (other text)");
    var m = Fixtures.migration(env.client(), env.namespace(), "conflict", pg.source(), pg.target());
    m.getSpec().setMethod(Method.DUMP);
    m.getSpec().setDatabases(List.of("dump_conflict"));
    env.client().resource(m).create();

    var failed = await().atMost(Duration.ofMinutes(2)).until(() -> get(env, "conflict"),
        x -> x.getStatus() != null && x.getStatus().getPhase() == Phase.Failed);
    assertThat(check(failed, "target.emptyDatabases").getResult()).isEqualTo(CheckOutcome.Warning);
    var db = failed.getStatus().getDatabases().get(0);
    assertThat(db.getPhase()).isEqualTo(DatabasePhase.Failed);
    assertThat(db.getPod()).endsWith("-3");
    assertThat(failed.getStatus().getMessage())
        .contains("failed 3 times")
        .contains("relation \"items\" already exists");
    assertThat(env.client().pods().inNamespace(env.namespace())
        .withLabel(DumpPods.MIGRATION_UID, failed.getMetadata().getUid()).list().getItems())
        .hasSize(3)
        .allSatisfy(p -> assertThat(p.getStatus().getPhase()).isEqualTo("Failed"));
    assertThat(events(env, "conflict")).anySatisfy(e -> {
      assertThat(e.getReason()).isEqualTo("DumpFailed");
      assertThat(e.getType()).isEqualTo("Warning");
    });
  }

  @Test
  void aRetryStartsFromAnEmptyDatabaseWhenTheOperatorCreatedIt(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    // the first restore fails half way, after tables exist on the target: a check constraint
    // calls a function that, only on the target server, fails the first time it runs there (a
    // sequence in the target's postgres database counts the calls, through dblink, outside
    // the restore's transaction)
    var target = pg.target();
    target.execute("postgres", "create sequence if not exists dump_retry_calls",
        "do $$ begin create role dump_retry_counter login; exception when duplicate_object"
            + " then null; end $$",
        "grant usage on sequence dump_retry_calls to dump_retry_counter");
    // the counting connection needs no password: none ends up in the function's text
    target.trust("dump_retry_counter", "postgres");
    pg.source().execute("postgres", "create database dump_retry");
    pg.source().execute("dump_retry",
        "create extension dblink",
        "create function first_time_fails(v int) returns boolean language plpgsql as $$"
            + " begin"
            + "  if current_setting('port')::int = " + target.port() + " and (select n from"
            + "   public.dblink('host=127.0.0.1 port=" + target.port()
            + " dbname=postgres user=dump_retry_counter',"
            + "   'select nextval(''dump_retry_calls'')') as t(n bigint)) = 1 then"
            + "   raise exception 'planned failure of the first restore';"
            + "  end if;"
            + "  return true;"
            + " end $$",
        "create table first (id int primary key)",
        "insert into first select generate_series(1, 10)",
        "create table second (id int primary key check (first_time_fails(id)))",
        "insert into second select generate_series(1, 10)");
    var m = dump(env, pg.source(), target, "retry", 1, "dump_retry");
    env.client().resource(m).create();

    var ready = await().atMost(Duration.ofMinutes(2)).until(() -> get(env, "retry"),
        x -> x.getStatus() != null
            && (x.getStatus().getPhase() == Phase.Ready || x.getStatus().getPhase() == Phase.Failed));
    assertThat(ready.getStatus().getPhase()).as(ready.getStatus().getMessage()).isEqualTo(Phase.Ready);
    var db = ready.getStatus().getDatabases().get(0);
    assertThat(db.getPod()).endsWith("-2");
    assertThat(db.getMessage()).contains("row counts");
    assertThat(db.getCreatedOnTarget()).isTrue();
    assertThat(Contents.tables(target, "dump_retry")).isEqualTo(Contents.tables(pg.source(), "dump_retry"));
    // one call failed the first attempt; the second attempt checked all 10 rows
    assertThat(Contents.query(target, "postgres", "select last_value::text, '' from dump_retry_calls"))
        .containsKey("11");
  }

  @Test
  void aDatabaseMissingOnTheSourceCreatesNothing(OperatorExtension.Env env, PostgresPair.Servers pg) {
    var m = Fixtures.migration(env.client(), env.namespace(), "nodb", pg.source(), pg.target());
    m.getSpec().setMethod(Method.DUMP);
    m.getSpec().setDatabases(List.of("dump_nowhere", "postgres"));
    env.client().resource(m).create();
    var failed = awaitPhase(env, "nodb", Phase.Failed);
    assertThat(check(failed, "databases").getMessage()).contains("dump_nowhere");
    await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(4)).until(() -> true);
    assertThat(env.client().pods().inNamespace(env.namespace())
        .withLabel(DumpPods.MIGRATION_UID, failed.getMetadata().getUid()).list().getItems()).isEmpty();
    assertThat(Contents.databases(pg.target())).doesNotContain("dump_nowhere");
  }

  @Test
  void aDeletedDumpPodStopsItsCopyAtOnceAndEndsItsSessionsOnBothServers(
      OperatorExtension.Env env, PostgresPair.Servers pg) {
    pg.source().execute("postgres", "create database dump_sigterm");
    pg.source().execute("dump_sigterm", Writer.TABLE,
        "insert into items (v) select repeat(md5(g::text), 8) from generate_series(1, 1000000) g");
    var m = dump(env, pg.source(), pg.target(), "sigterm", 1, "dump_sigterm");
    env.client().resource(m).create();
    var ours = "select count(*)::text, '' from pg_stat_activity"
        + " where application_name like 'pgmigrate-%' and datname = 'dump_sigterm'";
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> !Contents.query(pg.target(), "postgres", ours).containsKey("0"));
    // deleting the migration deletes its Pod; a kubelet sends SIGTERM, then SIGKILL only after
    // the grace period (30 s): the script must stop its children itself
    var deleted = System.nanoTime();
    env.client().resources(PgMigration.class).inNamespace(env.namespace()).withName("sigterm")
        .delete();
    await().atMost(Duration.ofSeconds(10)).until(() ->
        Contents.query(pg.source(), "postgres", ours).containsKey("0")
            && Contents.query(pg.target(), "postgres", ours).containsKey("0"));
    System.out.printf("dump Pod deleted mid-copy: no session of ours left after %.1f s%n",
        (System.nanoTime() - deleted) / 1e9);
    await().atMost(Duration.ofSeconds(30)).until(() -> get(env, "sigterm") == null);
  }

  @Test
  void deletingTheMigrationDuringADumpDeletesItsPods(
      OperatorExtension.Env env, PostgresPair.Servers pg) throws Exception {
    pg.source().execute("postgres", "create database dump_blocked");
    pg.source().execute("dump_blocked", "create table held (id int primary key)");
    // an open transaction holds an exclusive lock, so pg_dump waits inside the Pod
    try (var lock = pg.source().connect("dump_blocked")) {
      lock.setAutoCommit(false);
      lock.createStatement().execute("lock table held in access exclusive mode");
      var m = Fixtures.migration(env.client(), env.namespace(), "stopme", pg.source(), pg.target());
      m.getSpec().setMethod(Method.DUMP);
      m.getSpec().setDatabases(List.of("dump_blocked"));
      env.client().resource(m).create();
      var pod = await().atMost(Duration.ofSeconds(60)).until(() -> {
        var pods = env.client().pods().inNamespace(env.namespace())
            .withLabel(DumpPods.MANAGED_BY, DumpPods.OPERATOR).list().getItems().stream()
            .filter(p -> p.getMetadata().getName().startsWith("stopme-")
                && p.getStatus() != null && "Running".equals(p.getStatus().getPhase()))
            .toList();
        return pods.isEmpty() ? null : pods.get(0);
      }, x -> x != null);
      var uid = pod.getMetadata().getLabels().get(DumpPods.MIGRATION_UID);
      // the Pod is connected and waiting for the lock (the session holding the snapshot, which
      // reads table sizes, when jobs > 1; pg_dump with one job)
      await().atMost(Duration.ofSeconds(20)).until(() -> Contents.query(pg.source(), "postgres",
          "select count(*)::text, '' from pg_stat_activity where application_name in"
              + " ('pgmigrate-dump', 'pgmigrate-snapshot') and wait_event_type = 'Lock'")
          .containsKey("1"));
      env.client().resources(PgMigration.class).inNamespace(env.namespace()).withName("stopme").delete();
      await().atMost(Duration.ofSeconds(30)).until(() ->
          env.client().pods().inNamespace(env.namespace()).withLabel(DumpPods.MIGRATION_UID, uid)
              .list().getItems().isEmpty()
              && get(env, "stopme") == null);
      // the container of the deleted Pod stopped
      await().atMost(Duration.ofSeconds(10)).until(() -> env.containersStopped(pod));
      lock.rollback();
      // the dump's session ends on the source once the lock is released (a backend waiting on a
      // lock does not notice its client went away before that)
      await().atMost(Duration.ofSeconds(20)).until(() -> Contents.query(pg.source(), "postgres",
          "select count(*)::text, '' from pg_stat_activity where application_name = 'pgmigrate-dump'")
          .containsKey("0"));
      assertThat(Contents.tables(pg.target(), "dump_blocked")).isEmpty();
    }
  }
}
