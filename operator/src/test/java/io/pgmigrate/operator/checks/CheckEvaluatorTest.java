package io.pgmigrate.operator.checks;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgmigrate.operator.api.CheckOutcome;
import io.pgmigrate.operator.api.CheckResult;
import io.pgmigrate.operator.api.Method;
import io.pgmigrate.operator.api.PgMigrationSpec;
import io.pgmigrate.operator.postgres.DatabaseContents;
import io.pgmigrate.operator.postgres.DatabaseInfo;
import io.pgmigrate.operator.postgres.ServerInfo;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CheckEvaluatorTest {

  /** A healthy server; tests change one field at a time through the builder. */
  static final class Server {
    int versionNum = 150004;
    boolean superuser = true;
    boolean createDb = true;
    boolean createSubscription = false;
    String walLevel = "logical";
    int maxSlots = 10;
    int usedSlots = 0;
    int maxSenders = 10;
    int usedSenders = 0;
    String keepSize = "10240";
    boolean inRecovery = false;
    int workers = 8;
    int syncWorkers = 2;
    String sysid = "111";
    boolean ssl = true;
    boolean replication = false;
    String outputPluginLibraries = null;

    ServerInfo build() {
      return new ServerInfo(versionNum, "15.4", "migrator", superuser, replication, createDb, false,
          createSubscription, walLevel, maxSlots, usedSlots, maxSenders, usedSenders, keepSize,
          inRecovery, workers, 16, syncWorkers, sysid, ssl, "TLSv1.3", "TLS_AES_256_GCM_SHA384",
          outputPluginLibraries, superuser);
    }
  }

  static DatabaseInfo db(String name) {
    return new DatabaseInfo(name, false, true, true, "UTF8", "C", "C", 1024);
  }

  static DatabaseContents contents() {
    return new DatabaseContents(Map.of("plpgsql", "1.0"), List.of(), List.of(), List.of(), 0, 0);
  }

  Server src = new Server();
  Server dst = new Server();
  PgMigrationSpec spec = new PgMigrationSpec();
  List<DatabaseInfo> sourceDatabases =
      new ArrayList<>(List.of(db("postgres"), db("app"),
          new DatabaseInfo("template1", true, true, true, "UTF8", "C", "C", 1)));
  Map<String, DatabaseContents> sourceContents = new LinkedHashMap<>(
      Map.of("postgres", contents(), "app", contents()));
  Map<String, DatabaseContents> targetContents = new LinkedHashMap<>();
  Map<String, List<String>> available = Map.of("plpgsql", List.of("1.0"), "hstore", List.of("1.8"));

  String sourceSslMode = "require";

  ValidationReport evaluate() {
    dst.sysid = "222";
    var source = new EndpointObservation("source", "src:5432", sourceSslMode, "s", null, null,
        src.build(), sourceDatabases, sourceContents, Map.of(), Map.of());
    var target = new EndpointObservation("target", "dst:5432", "require", "t", null, null,
        dst.build(), List.of(db("postgres")), targetContents, Map.of(), available);
    return CheckEvaluator.evaluate(spec, source, target);
  }

  static CheckResult check(ValidationReport r, String name) {
    return r.checks().stream().filter(c -> c.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no " + name + " in " + r.checks()));
  }

  @Test
  void healthyServersPassEverything() {
    var r = evaluate();
    assertThat(r.checks()).allSatisfy(c ->
        assertThat(c.getResult()).as(c.toString()).isEqualTo(CheckOutcome.Passed));
    assertThat(r.databases()).containsExactly("postgres", "app");
    assertThat(r.method()).isEqualTo(Method.CONTINUOUS);
  }

  @Test
  void walLevelReplicaFailsWithRemedy() {
    src.walLevel = "replica";
    var c = check(evaluate(), "source.walLevel");
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Failed);
    assertThat(c.getMessage()).contains("replica");
    assertThat(c.getRemedy()).contains("wal_level = logical");
  }

  @Test
  void outputPluginLibrariesWithoutPgoutputFailWithRemedyAndWithItPass() {
    src.outputPluginLibraries = "test_decoding, wal2json";
    var c = check(evaluate(), "source.outputPlugin");
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Failed);
    assertThat(c.getMessage()).contains("'test_decoding, wal2json'").contains("pgoutput");
    assertThat(c.getRemedy())
        .contains("output_plugin_libraries = 'test_decoding, wal2json, pgoutput'");
    src.outputPluginLibraries = "";
    assertThat(check(evaluate(), "source.outputPlugin").getResult())
        .isEqualTo(CheckOutcome.Failed);
    for (var allowed : List.of("pgoutput, test_decoding", "test_decoding,pgoutput",
        "\"$libdir/pgoutput\"")) {
      src.outputPluginLibraries = allowed;
      assertThat(check(evaluate(), "source.outputPlugin").getResult()).as(allowed)
          .isEqualTo(CheckOutcome.Passed);
    }
    src.outputPluginLibraries = null; // a server without the setting
    assertThat(check(evaluate(), "source.outputPlugin").getMessage())
        .contains("any output plugin");
    src.superuser = false; // or one whose login may not read it
    assertThat(check(evaluate(), "source.outputPlugin").getMessage())
        .contains("may not read output_plugin_libraries");
    src.superuser = true;
    spec.setMethod(Method.DUMP);
    src.outputPluginLibraries = "test_decoding";
    assertThat(evaluate().checks()).extracting(CheckResult::getName)
        .doesNotContain("source.outputPlugin");
  }

  @Test
  void walLevelDoesNotMatterForDump() {
    src.walLevel = "replica";
    spec.setMethod(Method.DUMP);
    var r = evaluate();
    assertThat(r.passed()).isTrue();
    assertThat(r.checks()).extracting(CheckResult::getName).doesNotContain("source.walLevel");
  }

  @Test
  void fallbackToDumpTurnsContinuousBlockersIntoWarnings() {
    src.superuser = false;
    spec.setFallbackToDump(true);
    var r = evaluate();
    assertThat(r.method()).isEqualTo(Method.DUMP);
    assertThat(r.passed()).isTrue();
    assertThat(check(r, "source.privileges").getResult()).isEqualTo(CheckOutcome.Warning);
    assertThat(check(r, "source.privileges").getMessage()).contains("fallbackToDump");
  }

  @Test
  void nonSuperuserWithoutAivenExtrasFails() {
    src.superuser = false;
    var c = check(evaluate(), "source.privileges");
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Failed);
    assertThat(c.getRemedy()).contains("aiven_extras").contains("fallbackToDump");
  }

  @Test
  void aivenExtrasInEveryDatabaseIsEnough() {
    src.superuser = false;
    var withAiven = new DatabaseContents(Map.of("aiven_extras", "1.1.9"), List.of(), List.of(),
        List.of(), 0, 0);
    sourceContents.put("postgres", withAiven);
    sourceContents.put("app", withAiven);
    var noReplication = check(evaluate(), "source.privileges");
    assertThat(noReplication.getResult()).isEqualTo(CheckOutcome.Failed);
    assertThat(noReplication.getRemedy()).contains("REPLICATION");
    src.replication = true;
    assertThat(check(evaluate(), "source.privileges").getResult()).isEqualTo(CheckOutcome.Passed);
  }

  @Test
  void slotsFailBelowOnePerDatabaseAndWarnBelowFullSpeed() {
    src.maxSlots = 3;
    src.usedSlots = 2;
    assertThat(check(evaluate(), "source.replicationSlots").getResult()).isEqualTo(CheckOutcome.Failed);
    src.usedSlots = 0;
    var c = check(evaluate(), "source.replicationSlots");
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Warning);
    assertThat(c.getRemedy()).contains("6");
  }

  @Test
  void walSendersAndWorkersAreCounted() {
    src.maxSenders = 1;
    assertThat(check(evaluate(), "source.walSenders").getResult()).isEqualTo(CheckOutcome.Failed);
    dst.workers = 1;
    assertThat(check(evaluate(), "target.replicationWorkers").getResult()).isEqualTo(CheckOutcome.Failed);
  }

  @Test
  void tablesWithoutIdentityAreNamedAndRefusedUnlessFullIsAllowed() {
    sourceContents.put("app", new DatabaseContents(Map.of(), List.of(), List.of("public.log"),
        List.of(), 0, 1));
    var c = check(evaluate(), "source.replicaIdentity");
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Failed);
    assertThat(c.getMessage()).contains("app: public.log");
    spec.getReplication().setReplicaIdentityFull(true);
    assertThat(check(evaluate(), "source.replicaIdentity").getResult()).isEqualTo(CheckOutcome.Warning);
  }

  @Test
  void verifyFullSourceIsRefusedForASubscriptionOnATargetBefore16() {
    sourceSslMode = "verify-full";
    var r = evaluate();
    var c = check(r, "target.subscriptionTls");
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Failed);
    assertThat(c.getMessage()).contains("verify-full").contains("PostgreSQL 15")
        .contains("cannot verify");
    assertThat(c.getRemedy()).contains("PostgreSQL 16+")
        .contains("replication.allowUnverifiedSubscription: true").contains("method: dump");
    assertThat(r.passed()).isFalse();
    assertThat(CheckEvaluator.CONTINUOUS_PREREQUISITES).contains("target.subscriptionTls");
  }

  @Test
  void verifyCaIsRefusedToo() {
    sourceSslMode = "verify-ca";
    assertThat(check(evaluate(), "target.subscriptionTls").getResult())
        .isEqualTo(CheckOutcome.Failed);
  }

  @Test
  void allowUnverifiedSubscriptionTurnsTheRefusalIntoAWarningSayingRequire() {
    sourceSslMode = "verify-full";
    spec.getReplication().setAllowUnverifiedSubscription(true);
    var r = evaluate();
    var c = check(r, "target.subscriptionTls");
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Warning);
    assertThat(c.getMessage()).contains("sslmode=require").contains("not verified");
    assertThat(r.passed()).isTrue();
    assertThat(r.method()).isEqualTo(Method.CONTINUOUS);
  }

  @Test
  void targetFrom16VerifiesWithItsSystemCaStore() {
    sourceSslMode = "verify-full";
    dst.versionNum = 160002;
    var c = check(evaluate(), "target.subscriptionTls");
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Passed);
    assertThat(c.getMessage()).contains("sslrootcert=system").contains("system CA store")
        .contains("private CA (caSecret) is not in that store")
        .contains("CREATE SUBSCRIPTION then fails");
    sourceSslMode = "verify-ca";
    assertThat(check(evaluate(), "target.subscriptionTls").getMessage())
        .contains("verify-ca becomes verify-full");
  }

  @Test
  void subscriptionTlsRefusalFallsBackToDumpWhenAllowed() {
    sourceSslMode = "verify-full";
    spec.setFallbackToDump(true);
    var r = evaluate();
    assertThat(r.method()).isEqualTo(Method.DUMP);
    assertThat(r.passed()).isTrue();
    var c = check(r, "target.subscriptionTls");
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Warning);
    assertThat(c.getMessage()).contains("fallbackToDump");
  }

  @Test
  void subscriptionTlsIsNotADumpCheck() {
    sourceSslMode = "verify-full";
    spec.setMethod(Method.DUMP);
    var r = evaluate();
    assertThat(r.passed()).isTrue();
    assertThat(r.checks()).extracting(CheckResult::getName)
        .doesNotContain("target.subscriptionTls");
  }

  static DatabaseContents unreadable(List<String> sequences) {
    return new DatabaseContents(Map.of(), List.of(), List.of(), List.of(), 0, 1, false,
        sequences);
  }

  @Test
  void sequencesTheSourceLoginCannotReadAreNamedAndFail() {
    sourceContents.put("app", unreadable(List.of("public.orders_id_seq", "billing.\"Inv\"")));
    var c = check(evaluate(), "source.sequences");
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Failed);
    assertThat(c.getMessage()).contains("2 sequence(s)")
        .contains("app: public.orders_id_seq, app: billing.\"Inv\"");
    assertThat(c.getRemedy()).contains("GRANT SELECT ON ALL SEQUENCES IN SCHEMA")
        .contains("TO migrator").contains("superuser");
  }

  @Test
  void manyUnreadableSequencesAreCutAfterTwenty() {
    var names = new ArrayList<String>();
    for (int i = 0; i < 25; i++) {
      names.add("public.s" + i);
    }
    sourceContents.put("app", unreadable(names));
    var c = check(evaluate(), "source.sequences");
    assertThat(c.getMessage()).contains("25 sequence(s)").contains("app: public.s19")
        .doesNotContain("public.s20").endsWith(" and 5 more");
  }

  @Test
  void unreadableSequencesDoNotMatterForDump() {
    sourceContents.put("app", unreadable(List.of("public.orders_id_seq")));
    spec.setMethod(Method.DUMP);
    var r = evaluate();
    assertThat(r.passed()).isTrue();
    assertThat(r.checks()).extracting(CheckResult::getName).doesNotContain("source.sequences");
  }

  @Test
  void largeObjectsAreCopiedByEitherMethod() {
    sourceContents.put("app", new DatabaseContents(Map.of(), List.of(), List.of(), List.of(), 3, 1));
    assertThat(check(evaluate(), "source.largeObjects").getResult()).isEqualTo(CheckOutcome.Passed);
    assertThat(check(evaluate(), "source.largeObjects").getMessage()).contains("the cutover copies");
    spec.setMethod(Method.DUMP);
    assertThat(check(evaluate(), "source.largeObjects").getResult()).isEqualTo(CheckOutcome.Passed);
  }

  @Test
  void extensionsMissingFailAndOlderWarn() {
    sourceContents.put("app", new DatabaseContents(Map.of("postgis", "3.3.2"), List.of(),
        List.of(), List.of(), 0, 1));
    var c = check(evaluate(), "target.extensions");
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Failed);
    assertThat(c.getMessage()).contains("postgis (in app)");
    sourceContents.put("app", new DatabaseContents(Map.of("hstore", "1.10"), List.of(),
        List.of(), List.of(), 0, 1));
    assertThat(check(evaluate(), "target.extensions").getResult()).isEqualTo(CheckOutcome.Warning);
    sourceContents.put("app", new DatabaseContents(Map.of("hstore", "1.8"), List.of(),
        List.of(), List.of(), 0, 1));
    assertThat(check(evaluate(), "target.extensions").getResult()).isEqualTo(CheckOutcome.Passed);
  }

  @Test
  void languagesOutsideExtensionsMustExistOnTarget() {
    sourceContents.put("app", new DatabaseContents(Map.of(), List.of("plsample"), List.of(),
        List.of(), 0, 1));
    var c = check(evaluate(), "target.languages");
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Failed);
    assertThat(c.getMessage()).contains("plsample");
  }

  @Test
  void unlimitedWalRetentionWarnsUnlessTheOperatorGuardsIt() {
    src.keepSize = "-1";
    assertThat(check(evaluate(), "source.walRetention").getResult()).isEqualTo(CheckOutcome.Warning);
    spec.getReplication().setMaxRetainedWalBytes("20Gi");
    assertThat(check(evaluate(), "source.walRetention").getResult()).isEqualTo(CheckOutcome.Passed);
  }

  @Test
  void nonEmptyTargetDatabasesWarn() {
    targetContents.put("app", new DatabaseContents(Map.of(), List.of(), List.of(), List.of(), 0, 4));
    var c = check(evaluate(), "target.emptyDatabases");
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Warning);
    assertThat(c.getMessage()).contains("app (4 tables)");
  }

  @Test
  void versionsAndSameServerAndStandbyTarget() {
    dst.versionNum = 140010;
    assertThat(check(evaluate(), "versions").getResult()).isEqualTo(CheckOutcome.Failed);
    dst.versionNum = 160001;
    assertThat(check(evaluate(), "versions").getResult()).isEqualTo(CheckOutcome.Passed);
    dst.inRecovery = true;
    assertThat(check(evaluate(), "target.writable").getResult()).isEqualTo(CheckOutcome.Failed);
  }

  @Test
  void aDumpImageIsCheckedAgainstBothMajors() {
    assertThat(evaluate().checks()).extracting(CheckResult::getName)
        .doesNotContain("dump.image");
    src.versionNum = 160004;
    dst.versionNum = 160004;
    spec.getDump().setImage("registry.example.com/library/postgres:17.6-bookworm");
    var tooNew = check(evaluate(), "dump.image");
    assertThat(tooNew.getResult()).isEqualTo(CheckOutcome.Failed);
    assertThat(tooNew.getMessage()).contains("transaction_timeout").contains("PostgreSQL 16");
    assertThat(tooNew.getRemedy()).contains("postgres:16");
    spec.getDump().setImage("postgres:15");
    assertThat(check(evaluate(), "dump.image").getMessage())
        .contains("cannot read the source's PostgreSQL 16");
    src.versionNum = 130018;
    dst.versionNum = 140018;
    assertThat(check(evaluate(), "dump.image").getResult()).isEqualTo(CheckOutcome.Warning);
    spec.getDump().setImage("postgres:14");
    assertThat(check(evaluate(), "dump.image").getResult()).isEqualTo(CheckOutcome.Passed);
    spec.getDump().setImage("my-tools:latest");
    assertThat(evaluate().checks()).extracting(CheckResult::getName)
        .doesNotContain("dump.image");
  }

  @Test
  void sameSystemIdentifierFails() {
    var source = new EndpointObservation("source", "a:5432", "require", "s", null, null,
        src.build(), sourceDatabases, sourceContents, Map.of(), Map.of());
    var target = new EndpointObservation("target", "b:5432", "require", "t", null, null,
        src.build(), List.of(), Map.of(), Map.of(), available);
    var r = CheckEvaluator.evaluate(spec, source, target);
    assertThat(check(r, "sameServer").getResult()).isEqualTo(CheckOutcome.Failed);
  }

  @Test
  void tlsRequiredButNotEncryptedFails() {
    src.ssl = false;
    assertThat(check(evaluate(), "source.tls").getResult()).isEqualTo(CheckOutcome.Failed);
  }

  @Test
  void databaseSelectionHonoursIncludeExcludeAndTemplates() {
    spec.setExcludeDatabases(List.of("postgres"));
    assertThat(evaluate().databases()).containsExactly("app");
    spec.setDatabases(List.of("app", "nope", "template1"));
    spec.setExcludeDatabases(List.of());
    var c = check(evaluate(), "databases");
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Failed);
    assertThat(c.getMessage()).contains("nope");
    spec.setDatabases(List.of("app", "template1"));
    assertThat(check(evaluate(), "databases").getMessage()).contains("template1");
  }

  @Test
  void unreachableSourceStopsAfterTheConnectionChecks() {
    var failure = ConnectFailure.of(new SQLException("password authentication failed", "28P01"));
    var source = EndpointObservation.unreachable("source", "a:5432", "require", "s", failure);
    var target = new EndpointObservation("target", "b:5432", "require", "t", null, null,
        dst.build(), List.of(), Map.of(), Map.of(), available);
    var r = CheckEvaluator.evaluate(spec, source, target);
    assertThat(r.checks()).extracting(CheckResult::getName).containsExactly(
        "source.credentials", "target.credentials", "source.connection", "target.connection");
    var c = check(r, "source.connection");
    assertThat(c.getResult()).isEqualTo(CheckOutcome.Failed);
    assertThat(c.getRemedy()).contains("password").contains("pg_hba.conf");
  }

  @Test
  void connectFailuresAreClassified() {
    assertThat(ConnectFailure.of(new SQLException("x", "28P01")).kind())
        .isEqualTo(ConnectFailure.Kind.AUTHENTICATION);
    assertThat(ConnectFailure.of(new SQLException("Connection refused", "08001")).kind())
        .isEqualTo(ConnectFailure.Kind.UNREACHABLE);
    assertThat(ConnectFailure.of(new SQLException("The server does not support SSL.", "08004")).kind())
        .isEqualTo(ConnectFailure.Kind.TLS);
    assertThat(ConnectFailure.of(new SQLException("database \"x\" does not exist", "3D000")).kind())
        .isEqualTo(ConnectFailure.Kind.DATABASE_MISSING);
  }

  @Test
  void versionStringsCompareBySegments() {
    assertThat(Versions.compare("1.10", "1.8")).isPositive();
    assertThat(Versions.compare("3.3.2", "3.3")).isPositive();
    assertThat(Versions.compare("1.0", "1")).isZero();
  }

  @Test
  void bytesArePrintedLikePgSizePretty() {
    assertThat(Bytes.human(512)).isEqualTo("512 bytes");
    assertThat(Bytes.human(7_472_000)).isEqualTo("7297 kB");
    assertThat(Bytes.human(20L * 1024 * 1024 * 1024)).isEqualTo("20 GB");
  }
}
