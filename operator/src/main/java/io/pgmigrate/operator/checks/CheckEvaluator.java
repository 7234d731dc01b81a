package io.pgmigrate.operator.checks;


import io.pgmigrate.operator.api.CheckOutcome;
import io.pgmigrate.operator.api.CheckResult;
import io.pgmigrate.operator.api.Method;
import io.pgmigrate.operator.api.PgMigrationSpec;
import io.pgmigrate.operator.api.SslMode;
import io.pgmigrate.operator.postgres.Conninfo;
import io.pgmigrate.operator.postgres.DatabaseContents;
import io.pgmigrate.operator.postgres.PgFeature;
import io.pgmigrate.operator.postgres.ServerInfo;
import io.pgmigrate.operator.postgres.Fence;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Turns what was observed of both servers into the pre-flight report. A pure function: no
 * client, no connection, so every rule is unit-tested.
 */
public final class CheckEvaluator {

  /** Check names that only matter to logical replication; fallbackToDump softens them. */
  static final List<String> CONTINUOUS_PREREQUISITES =
      List.of(
          CheckName.SOURCE_PRIVILEGES.id(),
          CheckName.SOURCE_WAL_LEVEL.id(),
          CheckName.SOURCE_OUTPUT_PLUGIN.id(),
          CheckName.SOURCE_REPLICATION_SLOTS.id(),
          CheckName.SOURCE_WAL_SENDERS.id(),
          CheckName.TARGET_SUBSCRIPTION_PRIVILEGES.id(),
          CheckName.TARGET_SUBSCRIPTION_TLS.id(),
          CheckName.TARGET_REPLICATION_WORKERS.id());

  private static final int MAX_LISTED = 20;

  private CheckEvaluator() {}

  public static ValidationReport evaluate(
      PgMigrationSpec spec, EndpointObservation source, EndpointObservation target) {
    var checks = new ArrayList<CheckResult>();
    checks.add(credentials(source));
    checks.add(credentials(target));
    checks.add(connection(source));
    checks.add(connection(target));
    if (!source.connected() || !target.connected()) {
      // nothing else can be known; the two connection checks say what to fix
      return new ValidationReport(List.copyOf(checks), spec.getMethod(), List.of());
    }
    var src = source.server();
    var dst = target.server();
    checks.add(tls(source));
    checks.add(tls(target));
    checks.add(sameServer(source, target));
    checks.add(versions(src, dst));
    checks.add(dumpImage(spec, src, dst));
    checks.add(targetWritable(dst));

    var selection =
        DatabaseSelection.of(spec.getDatabases(), spec.getExcludeDatabases(), source.databases());
    checks.add(databases(selection, source));
    var dbs = selection.selected();
    checks.add(databaseAccess(dbs, source));
    checks.add(targetCreateDatabases(dbs, target));

    var method = spec.getMethod();
    if (method == Method.CONTINUOUS) {
      var prerequisites = new ArrayList<CheckResult>();
      prerequisites.add(sourcePrivileges(src, dbs, source.contents()));
      prerequisites.add(walLevel(src));
      prerequisites.add(outputPlugin(src));
      prerequisites.add(replicationSlots(src, dst, dbs.size()));
      prerequisites.add(walSenders(src, dst, dbs.size()));
      prerequisites.add(subscriptionPrivileges(dst));
      prerequisites.add(subscriptionTls(spec, source, dst));
      prerequisites.add(replicationWorkers(dst, dbs.size()));
      boolean impossible = prerequisites.stream().anyMatch(c -> c.getResult() == CheckOutcome.Failed);
      if (impossible && spec.isFallbackToDump()) {
        method = Method.DUMP;
        for (var c : prerequisites) {
          if (c.getResult() == CheckOutcome.Failed) {
            c.setResult(CheckOutcome.Warning);
            c.setMessage(c.getMessage() + "; fallbackToDump is set, so the dump method is used");
          }
        }
        checks.addAll(prerequisites);
      } else {
        checks.addAll(prerequisites);
        checks.add(replicaIdentity(spec, source.contents()));
        checks.add(unloggedTables(source.contents()));
        checks.add(sequences(src, source.contents()));
        checks.add(walRetention(spec, src));
      }
    }
    checks.add(largeObjects(method, source.contents()));
    checks.add(extensions(source.contents(), target.availableExtensions()));
    checks.add(languages(source.contents(), target.availableExtensions()));
    checks.add(targetEmpty(dbs, target.contents()));
    checks.add(contentErrors(source.contentErrors(), target.contentErrors()));
    checks.removeIf(c -> c == null);
    return new ValidationReport(List.copyOf(checks), method, dbs, dst.major());
  }

  static CheckResult credentials(EndpointObservation o) {
    var name = CheckName.of(o.side(), "credentials");
    if (o.credentialsError() != null) {
      return failed(
          name,
          o.credentialsError(),
          "Create the Secret in the PgMigration's namespace with the user name and password keys"
              + " named in spec." + o.side() + ".credentialsSecret.");
    }
    return passed(name, "login read from Secret " + o.credentialsSecret());
  }

  static CheckResult connection(EndpointObservation o) {
    var name = CheckName.of(o.side(), "connection");
    if (o.credentialsError() != null) {
      return failed(name, "not attempted: no credentials", "Fix " + o.side() + ".credentials.");
    }
    var f = o.connectFailure();
    if (f != null) {
      var remedy =
          switch (f.kind()) {
            case AUTHENTICATION ->
                "Check the user name and password in Secret " + o.credentialsSecret()
                    + ", and that pg_hba.conf on " + o.address()
                    + " lets this user connect from the operator's network.";
            case UNREACHABLE ->
                "Check spec." + o.side() + ".host and port, that the server is running, and that"
                    + " firewalls and NetworkPolicies let the operator reach " + o.address() + ".";
            case TLS ->
                "Check spec." + o.side() + ".sslMode (" + o.sslMode() + ") against the server's"
                    + " ssl setting, and for verify-ca/verify-full that caSecret holds the CA"
                    + " that signed the server certificate (and, for verify-full, that the"
                    + " certificate names the host).";
            case DATABASE_MISSING ->
                "Set spec." + o.side() + ".database to a database that exists on "
                    + o.address() + " (it is used for discovery; default postgres).";
            case OTHER -> "Check the server's log on " + o.address() + " for the reason.";
          };
      return failed(name, "cannot connect to " + o.address() + ": " + f.message(), remedy);
    }
    var s = o.server();
    return passed(
        name,
        "connected to " + o.address() + " as " + s.currentUser() + " (PostgreSQL "
            + s.version() + ")");
  }

  static CheckResult tls(EndpointObservation o) {
    var name = CheckName.of(o.side(), "tls");
    var s = o.server();
    if (s.ssl()) {
      return passed(
          name,
          "encrypted with " + s.sslVersion() + " (" + s.sslCipher() + "), sslMode " + o.sslMode());
    }
    if ("disable".equals(o.sslMode())) {
      return warning(
          name,
          "not encrypted: sslMode is disable, so the password and data cross the network in"
              + " clear text",
          "Enable ssl on the server and set spec." + o.side() + ".sslMode to require or"
              + " verify-full.");
    }
    if ("allow".equals(o.sslMode()) || "prefer".equals(o.sslMode())) {
      return warning(
          name,
          "not encrypted: the server did not offer TLS and sslMode " + o.sslMode()
              + " accepted that",
          "Enable ssl on the server, then use sslMode require or verify-full.");
    }
    return failed(
        name,
        "sslMode " + o.sslMode() + " asks for TLS but the connection is not encrypted",
        "Enable ssl on the server.");
  }

  static CheckResult sameServer(EndpointObservation source, EndpointObservation target) {
    var src = source.server();
    var dst = target.server();
    if (src.systemIdentifier() != null
        && src.systemIdentifier().equals(dst.systemIdentifier())) {
      return failed(
          CheckName.SAME_SERVER,
          "source and target have the same system identifier " + src.systemIdentifier()
              + ": they are the same server, or one is a physical replica of the other",
          "Point spec.target at the server the data should move to.");
    }
    if (src.systemIdentifier() == null || dst.systemIdentifier() == null) {
      return passed(
          CheckName.SAME_SERVER,
          "source " + source.address() + " and target " + target.address()
              + " are different addresses (system identifiers not readable by these logins)");
    }
    return passed(CheckName.SAME_SERVER, "source and target are different servers");
  }

  static CheckResult versions(ServerInfo src, ServerInfo dst) {
    if (dst.major() < src.major()) {
      return failed(
          CheckName.VERSIONS,
          "target PostgreSQL " + dst.major() + " is older than source " + src.major(),
          "Use a target server of major version " + src.major() + " or newer.");
    }
    return passed(
        CheckName.VERSIONS, "source PostgreSQL " + src.major() + ", target " + dst.major());
  }

  private static final java.util.regex.Pattern POSTGRES_IMAGE =
      java.util.regex.Pattern.compile("(?:^|.*/)postgres:(\\d+)(?:[.\\-].*)?");

  /**
   * spec.dump.image, when set to a postgres:N image (the dump Pods, and the continuous method's
   * schema Pods, run its pg_dump and pg_restore): pg_dump reads servers up to its own major only,
   * and pg_restore writes for servers of its own major: 17's sets transaction_timeout, which an
   * older target refuses (seen with 17's tools and a 16 target). Null when the image is the
   * default (postgres:<target major>) or its tag names no major.
   */
  static CheckResult dumpImage(PgMigrationSpec spec, ServerInfo src, ServerInfo dst) {
    var image = spec.getDump() == null ? null : spec.getDump().getImage();
    var m = image == null ? null : POSTGRES_IMAGE.matcher(image.trim());
    if (m == null || !m.matches()) {
      return null;
    }
    int tools = Integer.parseInt(m.group(1));
    var remedy = "Set spec.dump.image to an image with the client tools of the target's major"
        + " (PostgreSQL " + dst.major() + "), or leave it empty for postgres:" + dst.major() + ".";
    if (tools < src.major()) {
      return failed(CheckName.DUMP_IMAGE, "dump.image " + image + " has pg_dump " + tools
          + ", which cannot read the source's PostgreSQL " + src.major(), remedy);
    }
    if (tools > dst.major() && PgFeature.TRANSACTION_TIMEOUT.on(tools)
        && !PgFeature.TRANSACTION_TIMEOUT.on(dst.major())) {
      return failed(CheckName.DUMP_IMAGE, "dump.image " + image + " has pg_restore " + tools
          + ", which sets transaction_timeout, a setting the target's PostgreSQL " + dst.major()
          + " does not know: every restore would fail", remedy);
    }
    if (tools > dst.major()) {
      return warning(CheckName.DUMP_IMAGE,
          "dump.image " + image + " restores with pg_restore " + tools
          + " into the target's older PostgreSQL " + dst.major() + ", which PostgreSQL does not"
          + " promise to work (tested here: 15's into 13 and 14)", remedy);
    }
    return passed(CheckName.DUMP_IMAGE, "dump.image " + image + ": pg_dump and pg_restore " + tools
        + " for source PostgreSQL " + src.major() + " and target " + dst.major());
  }

  static CheckResult targetWritable(ServerInfo dst) {
    if (dst.inRecovery()) {
      return failed(
          CheckName.TARGET_WRITABLE,
          "the target is in recovery (a read-only standby)",
          "Point spec.target at a primary server.");
    }
    return passed(CheckName.TARGET_WRITABLE, "the target accepts writes");
  }

  static CheckResult databases(DatabaseSelection sel, EndpointObservation source) {
    if (!sel.missing().isEmpty()) {
      return failed(
          CheckName.DATABASES,
          "not on the source: " + list(sel.missing()),
          "Remove them from spec.databases, or check their spelling (names are case-sensitive).");
    }
    if (!sel.templates().isEmpty()) {
      return failed(
          CheckName.DATABASES,
          "template databases are never migrated: " + list(sel.templates()),
          "Remove them from spec.databases.");
    }
    if (sel.selected().isEmpty()) {
      return failed(
          CheckName.DATABASES,
          "no database to migrate: the include and exclude lists leave nothing",
          "Check spec.databases and spec.excludeDatabases.");
    }
    long bytes =
        source.databases().stream()
            .filter(d -> sel.selected().contains(d.name()) && d.sizeBytes() > 0)
            .mapToLong(d -> d.sizeBytes())
            .sum();
    return passed(
        CheckName.DATABASES,
        sel.selected().size() + " to migrate (" + Bytes.human(bytes) + "): "
            + list(sel.selected()));
  }

  static CheckResult databaseAccess(List<String> dbs, EndpointObservation source) {
    var refused = new ArrayList<String>();
    for (var db : source.databases()) {
      if (dbs.contains(db.name()) && (!db.allowConnections() || !db.canConnect())) {
        refused.add(db.name());
      }
    }
    if (!refused.isEmpty()) {
      return failed(
          CheckName.SOURCE_DATABASE_ACCESS,
          "the login cannot connect to " + list(refused),
          "GRANT CONNECT ON DATABASE to " + source.server().currentUser()
              + " (and ALTER DATABASE ... ALLOW_CONNECTIONS true), or exclude them.");
    }
    return passed(CheckName.SOURCE_DATABASE_ACCESS, "every database to migrate accepts the login");
  }

  static CheckResult targetCreateDatabases(List<String> dbs, EndpointObservation target) {
    var existing = target.databases().stream().map(d -> d.name()).toList();
    var toCreate = dbs.stream().filter(d -> !existing.contains(d)).toList();
    var s = target.server();
    if (!toCreate.isEmpty() && !s.superuser() && !s.createDb()) {
      return failed(
          CheckName.TARGET_CREATE_DATABASE,
          s.currentUser() + " may not create databases, and the target lacks " + list(toCreate),
          "ALTER ROLE " + s.currentUser() + " CREATEDB on the target, or create the databases"
              + " beforehand.");
    }
    return passed(
        CheckName.TARGET_CREATE_DATABASE,
        toCreate.isEmpty()
            ? "every database already exists on the target"
            : toCreate.size() + " database(s) will be created on the target");
  }

  static CheckResult sourcePrivileges(
      ServerInfo src, List<String> dbs, Map<String, DatabaseContents> contents) {
    if (src.superuser()) {
      return passed(CheckName.SOURCE_PRIVILEGES,
          src.currentUser() + " is a superuser on the source");
    }
    var withoutAiven =
        dbs.stream()
            .filter(d -> contents.get(d) == null || !contents.get(d).aivenExtras())
            .toList();
    if (withoutAiven.isEmpty() && !dbs.isEmpty()) {
      if (!src.replicationRole()) {
        return failed(
            CheckName.SOURCE_PRIVILEGES,
            "aiven_extras is available, but " + src.currentUser() + " lacks the REPLICATION"
                + " attribute needed for a replication slot",
            "ALTER ROLE " + src.currentUser() + " REPLICATION on the source.");
      }
      return passed(
          CheckName.SOURCE_PRIVILEGES,
          "publications are created through aiven_extras, available in every database");
    }
    return failed(
        CheckName.SOURCE_PRIVILEGES,
        src.currentUser() + " is not a superuser and aiven_extras is missing in "
            + list(withoutAiven) + ": a FOR ALL TABLES publication cannot be created",
        "Log in as a superuser, install the aiven_extras extension in those databases, set"
            + " method: dump, or set fallbackToDump: true.");
  }

  static CheckResult walLevel(ServerInfo src) {
    if (!"logical".equals(src.walLevel())) {
      return failed(
          CheckName.SOURCE_WAL_LEVEL,
          "wal_level is " + src.walLevel() + "; logical replication needs logical",
          "On the source: ALTER SYSTEM SET wal_level = logical, then restart it (on a managed"
              + " service, its logical replication / wal_level parameter); or use method: dump.");
    }
    return passed(CheckName.SOURCE_WAL_LEVEL, "wal_level is logical");
  }

  /**
   * From PostgreSQL 15.19 on, a server lets replication use only the output
   * plugins its output_plugin_libraries lists; the subscription's walsender needs pgoutput.
   */
  static CheckResult outputPlugin(ServerInfo src) {
    var libraries = src.outputPluginLibraries();
    if (libraries == null && !src.readsAllSettings()) {
      // a superuser-only setting: reading it with current_setting() would fail the session
      return passed(CheckName.SOURCE_OUTPUT_PLUGIN,
          "this login may not read output_plugin_libraries (superuser or pg_read_all_settings"
              + " may): where the source has it (15.19 and later), it must list pgoutput");
    }
    if (libraries == null) {
      return passed(CheckName.SOURCE_OUTPUT_PLUGIN,
          "the source lets replication use any output plugin (no output_plugin_libraries)");
    }
    for (var entry : libraries.split(",")) {
      var name = entry.strip().replace("\"", "");
      name = name.substring(name.lastIndexOf('/') + 1);
      if (name.equals("pgoutput") || name.equals("pgoutput.so")) {
        return passed(CheckName.SOURCE_OUTPUT_PLUGIN,
            "output_plugin_libraries lets replication use pgoutput");
      }
    }
    return failed(
        CheckName.SOURCE_OUTPUT_PLUGIN,
        "output_plugin_libraries is '" + libraries + "': logical replication's pgoutput is not"
            + " allowed, so the subscription cannot start",
        "On the source: add pgoutput to output_plugin_libraries (ALTER SYSTEM SET"
            + " output_plugin_libraries = '" + (libraries.isBlank() ? "" : libraries + ", ")
            + "pgoutput', then SELECT pg_reload_conf()), or use method: dump.");
  }

  static CheckResult replicationSlots(ServerInfo src, ServerInfo dst, int databases) {
    int free = src.maxReplicationSlots() - src.usedReplicationSlots();
    // one slot per database for the subscription, plus one per table-sync worker during the copy
    int fast = databases * (1 + dst.maxSyncWorkersPerSubscription());
    var found =
        free + " of max_replication_slots=" + src.maxReplicationSlots() + " free, "
            + databases + " database(s)";
    if (free < databases) {
      return failed(
          CheckName.SOURCE_REPLICATION_SLOTS,
          found + " need at least " + databases,
          "Raise max_replication_slots on the source to at least "
              + (src.usedReplicationSlots() + fast) + " (restart needed), or drop unused slots.");
    }
    if (free < fast) {
      return warning(
          CheckName.SOURCE_REPLICATION_SLOTS,
          found + ": the initial copy runs with fewer parallel table-sync workers than it could"
              + " (" + fast + " slots for full speed)",
          "Raise max_replication_slots on the source to " + (src.usedReplicationSlots() + fast)
              + ".");
    }
    return passed(CheckName.SOURCE_REPLICATION_SLOTS, found);
  }

  static CheckResult walSenders(ServerInfo src, ServerInfo dst, int databases) {
    int free = src.maxWalSenders() - src.usedWalSenders();
    int fast = databases * (1 + dst.maxSyncWorkersPerSubscription());
    var found =
        free + " of max_wal_senders=" + src.maxWalSenders() + " free, " + databases
            + " database(s)";
    if (free < databases) {
      return failed(
          CheckName.SOURCE_WAL_SENDERS,
          found + " need at least " + databases,
          "Raise max_wal_senders on the source to at least " + (src.usedWalSenders() + fast)
              + " (restart needed).");
    }
    if (free < fast) {
      return warning(
          CheckName.SOURCE_WAL_SENDERS,
          found + ": the initial copy runs with fewer parallel table-sync workers than it could",
          "Raise max_wal_senders on the source to " + (src.usedWalSenders() + fast) + ".");
    }
    return passed(CheckName.SOURCE_WAL_SENDERS, found);
  }

  static CheckResult subscriptionPrivileges(ServerInfo dst) {
    if (dst.superuser()) {
      return passed(
          CheckName.TARGET_SUBSCRIPTION_PRIVILEGES,
          dst.currentUser() + " is a superuser on the target");
    }
    if (dst.createSubscriptionRole()) {
      return passed(
          CheckName.TARGET_SUBSCRIPTION_PRIVILEGES,
          dst.currentUser() + " is a member of pg_create_subscription");
    }
    return failed(
        CheckName.TARGET_SUBSCRIPTION_PRIVILEGES,
        dst.currentUser() + " may not create subscriptions on the target",
        PgFeature.CREATE_SUBSCRIPTION_ROLE.on(dst.major())
            ? "GRANT pg_create_subscription TO " + dst.currentUser() + " on the target, or log"
                + " in as a superuser."
            : "Log in to the target as a superuser (PostgreSQL " + dst.major() + " has no"
                + " pg_create_subscription role), or use method: dump.");
  }

  /**
   * The subscription connects from the target server to the source, so it cannot use caSecret
   * (the operator cannot place a file there): verification asked for is kept with the target's
   * system CA store from PostgreSQL 16, or given up only when the user says so.
   */
  static CheckResult subscriptionTls(
      PgMigrationSpec spec, EndpointObservation source, ServerInfo dst) {
    var name = CheckName.TARGET_SUBSCRIPTION_TLS;
    var mode = SslMode.ofLibpqName(source.sslMode());
    boolean allow = spec.getReplication().isAllowUnverifiedSubscription();
    return switch (Conninfo.subscriptionTls(mode, dst.major(), allow)) {
      case AS_REQUESTED ->
          passed(name, "the subscription connects from the target server to the source with"
              + " sslmode=" + mode.libpqName() + ", as spec.source.sslMode says");
      case SYSTEM_CA ->
          passed(name, "the subscription connects from the target server to the source with"
              + " sslmode=verify-full and sslrootcert=system: PostgreSQL " + dst.major()
              + " verifies the source's certificate against the target server's system CA"
              + " store"
              + (mode == SslMode.VERIFY_CA
                  ? " (verify-ca becomes verify-full: libpq allows no weaker mode with that"
                      + " store, so the certificate must also name spec.source.host)"
                  : "")
              + ". That works for certificates from public CAs; a private CA (caSecret) is not"
              + " in that store, and CREATE SUBSCRIPTION then fails with the connection error"
              + " (use method: dump, whose Pods verify with caSecret, or accept an unverified"
              + " subscription with replication.allowUnverifiedSubscription: true)");
      case UNVERIFIED ->
          warning(name, "the subscription connects from the target server to the source with"
              + " sslmode=require: encrypted, but the source's certificate is not verified"
              + " (replication.allowUnverifiedSubscription is set; the operator cannot place"
              + " caSecret's CA on the target server"
              + (PgFeature.SSLROOTCERT_SYSTEM.on(dst.major()) ? ")"
                  : ", and PostgreSQL " + dst.major()
                  + " cannot use its system CA store)"),
              "Use a PostgreSQL 16+ target whose system CA store trusts the source's"
                  + " certificate, or method: dump, whose Pods verify with caSecret.");
      case REFUSED ->
          failed(name, "spec.source.sslMode is " + mode.libpqName() + ", but the subscription,"
              + " which connects from the target server to the source, cannot verify the"
              + " source's certificate: the operator cannot place caSecret's CA on the target"
              + " server, and PostgreSQL " + dst.major() + " cannot use its system CA store"
              + " (sslrootcert=system needs 16)",
              "Use a PostgreSQL 16+ target whose system CA store trusts the source's"
                  + " certificate; or set replication.allowUnverifiedSubscription: true to accept"
                  + " sslmode=require (encrypted, certificate not verified) for the subscription;"
                  + " or use method: dump (or fallbackToDump: true), whose Pods verify with"
                  + " caSecret.");
    };
  }

  static CheckResult replicationWorkers(ServerInfo dst, int databases) {
    int workers = dst.maxLogicalReplicationWorkers();
    int fast = databases * (1 + dst.maxSyncWorkersPerSubscription());
    var found = "max_logical_replication_workers=" + workers + " for " + databases + " database(s)";
    if (workers < databases) {
      return failed(
          CheckName.TARGET_REPLICATION_WORKERS,
          found + ": each subscription needs an apply worker",
          "Raise max_logical_replication_workers (and max_worker_processes) on the target to at"
              + " least " + fast + " (restart needed).");
    }
    if (workers < fast) {
      return warning(
          CheckName.TARGET_REPLICATION_WORKERS,
          found + ": fewer table-sync workers than the copy could use",
          "Raise max_logical_replication_workers on the target to " + fast + ".");
    }
    return passed(CheckName.TARGET_REPLICATION_WORKERS, found);
  }

  static CheckResult replicaIdentity(PgMigrationSpec spec, Map<String, DatabaseContents> contents) {
    var tables = perDatabase(contents, DatabaseContents::tablesWithoutReplicaIdentity);
    if (tables.isEmpty()) {
      return passed(
          CheckName.SOURCE_REPLICA_IDENTITY, "every table has a primary key or a replica identity");
    }
    var found =
        tables.size() + " table(s) without primary key or replica identity: " + list(tables);
    if (spec.getReplication().isReplicaIdentityFull()) {
      return warning(
          CheckName.SOURCE_REPLICA_IDENTITY,
          found + "; REPLICA IDENTITY FULL will be set on them (replication.replicaIdentityFull)",
          "Add primary keys where you can: FULL sends whole rows for every UPDATE and DELETE.");
    }
    return failed(
        CheckName.SOURCE_REPLICA_IDENTITY,
        found + ": once published, UPDATE and DELETE on them fail on the source",
        "Add a primary key (or ALTER TABLE ... REPLICA IDENTITY USING INDEX a unique index), or"
            + " set replication.replicaIdentityFull: true, or use method: dump.");
  }

  static CheckResult unloggedTables(Map<String, DatabaseContents> contents) {
    var tables = perDatabase(contents, DatabaseContents::unloggedTables);
    if (tables.isEmpty()) {
      return passed(CheckName.SOURCE_UNLOGGED_TABLES, "no unlogged tables");
    }
    return passed(
        CheckName.SOURCE_UNLOGGED_TABLES,
        tables.size() + " unlogged table(s) are not carried by logical replication: the cutover"
            + " copies them once replication has ended (until then they are empty on the"
            + " target): " + list(tables));
  }

  /** The cutover copies every sequence's value; one the login may not read would be lost. */
  static CheckResult sequences(ServerInfo src, Map<String, DatabaseContents> contents) {
    var unreadable = perDatabase(contents, DatabaseContents::unreadableSequences);
    if (unreadable.isEmpty()) {
      return passed(CheckName.SOURCE_SEQUENCES,
          src.currentUser() + " may read every sequence, whose"
          + " values the cutover copies");
    }
    return failed(
        CheckName.SOURCE_SEQUENCES,
        src.currentUser() + " may not read " + unreadable.size() + " sequence(s) (neither"
            + " SELECT nor USAGE), so the cutover could not copy their values: "
            + list(unreadable),
        "On the source, in those databases: GRANT SELECT ON ALL SEQUENCES IN SCHEMA <each"
            + " schema named> TO " + src.currentUser() + "; or log in as a superuser.");
  }

  static CheckResult walRetention(PgMigrationSpec spec, ServerInfo src) {
    var keep = src.maxSlotWalKeepSize();
    if (spec.getReplication().maxRetainedWalBytesValue() > 0) {
      return passed(
          CheckName.SOURCE_WAL_RETENTION,
          "replication.maxRetainedWalBytes=" + spec.getReplication().getMaxRetainedWalBytes()
              + " guards the source's disk");
    }
    if (keep == null || keep.equals("-1")) {
      return warning(
          CheckName.SOURCE_WAL_RETENTION,
          "max_slot_wal_keep_size is unlimited"
              + (keep == null ? " (PostgreSQL " + src.major() + " has no such limit)" : "")
              + ": a stalled migration keeps WAL on the source until its disk fills",
          "Set replication.maxRetainedWalBytes (e.g. 20% of the source's free disk), or"
              + " max_slot_wal_keep_size on the source.");
    }
    return passed(CheckName.SOURCE_WAL_RETENTION, "max_slot_wal_keep_size is " + keep);
  }

  static CheckResult largeObjects(Method method, Map<String, DatabaseContents> contents) {
    var counts = new TreeMap<String, Long>();
    contents.forEach(
        (db, c) -> {
          if (c.largeObjects() > 0) {
            counts.put(db, c.largeObjects());
          }
        });
    if (counts.isEmpty()) {
      return passed(CheckName.SOURCE_LARGE_OBJECTS, "no large objects");
    }
    var found = new ArrayList<String>();
    counts.forEach((db, n) -> found.add(db + ": " + n));
    if (method == Method.DUMP) {
      return passed(
          CheckName.SOURCE_LARGE_OBJECTS,
          "large objects are copied by the dump (" + list(found) + ")");
    }
    return passed(
        CheckName.SOURCE_LARGE_OBJECTS,
        "large objects are not carried by logical replication: the cutover copies them once"
            + " replication has ended (until then the target has none) (" + list(found) + ")");
  }

  static CheckResult extensions(
      Map<String, DatabaseContents> contents, Map<String, List<String>> available) {
    var missing = new TreeMap<String, String>();
    var older = new TreeMap<String, String>();
    contents.forEach(
        (db, c) ->
            c.extensions()
                .forEach(
                    (ext, version) -> {
                      if (ext.equals("plpgsql") || ext.equals("aiven_extras")) {
                        return;
                      }
                      var versions = available.get(ext);
                      if (versions == null) {
                        missing.merge(ext, db, (a, b) -> a + ", " + b);
                      } else if (versions.stream()
                          .noneMatch(v -> Versions.compare(v, version) >= 0)) {
                        older.put(ext, version + " on the source, at most "
                            + versions.stream().max(Versions::compare).orElse("?") + " on the target");
                      }
                    }));
    if (!missing.isEmpty()) {
      var found = new ArrayList<String>();
      missing.forEach((ext, dbs) -> found.add(ext + " (in " + dbs + ")"));
      return failed(
          CheckName.TARGET_EXTENSIONS,
          "extensions used on the source are not available on the target: " + list(found),
          "Install them on the target server (or pick a target image or service plan that has"
              + " them).");
    }
    if (!older.isEmpty()) {
      var found = new ArrayList<String>();
      older.forEach((ext, v) -> found.add(ext + " " + v));
      return warning(
          CheckName.TARGET_EXTENSIONS,
          "the target only has older versions of: " + list(found),
          "Upgrade these extensions' packages on the target; objects that need the newer"
              + " version would fail to restore.");
    }
    return passed(CheckName.TARGET_EXTENSIONS, "every extension is available on the target");
  }

  static CheckResult languages(
      Map<String, DatabaseContents> contents, Map<String, List<String>> available) {
    var missing = new ArrayList<String>();
    for (var lang : perDatabase(contents, DatabaseContents::proceduralLanguages)) {
      var bare = lang.substring(lang.indexOf(": ") + 2);
      if (!available.containsKey(bare)) {
        missing.add(lang);
      }
    }
    if (!missing.isEmpty()) {
      return failed(
          CheckName.TARGET_LANGUAGES,
          "procedural languages used on the source are not available on the target: "
              + list(missing),
          "Install the language's package on the target server.");
    }
    return passed(CheckName.TARGET_LANGUAGES,
        "every procedural language is available on the target");
  }

  static CheckResult targetEmpty(List<String> dbs, Map<String, DatabaseContents> targetContents) {
    var nonEmpty = new ArrayList<String>();
    for (var db : dbs) {
      var c = targetContents.get(db);
      if (c != null && c.userTables() > 0) {
        nonEmpty.add(db + " (" + c.userTables() + " tables)");
      }
    }
    if (!nonEmpty.isEmpty()) {
      return warning(
          CheckName.TARGET_EMPTY_DATABASES,
          "target databases already hold tables: " + list(nonEmpty),
          "Drop or empty them first: rows of tables with keys collide, rows of tables without"
              + " keys are appended twice.");
    }
    return passed(CheckName.TARGET_EMPTY_DATABASES, "the target databases are new or empty");
  }

  static CheckResult contentErrors(Map<String, String> source, Map<String, String> target) {
    if (source.isEmpty() && target.isEmpty()) {
      return null;
    }
    var found = new ArrayList<String>();
    source.forEach((db, e) -> found.add("source " + db + ": " + e));
    target.forEach((db, e) -> found.add("target " + db + ": " + e));
    return failed(
        CheckName.DATABASE_INSPECTION,
        "could not read " + list(found),
        "Grant the login CONNECT on these databases and read access to their catalogs.");
  }

  /** Entries of every database, as "db: entry", in database order. */
  private static List<String> perDatabase(
      Map<String, DatabaseContents> contents, Function<DatabaseContents, List<String>> f) {
    var result = new ArrayList<String>();
    new TreeMap<>(contents).forEach((db, c) -> f.apply(c).forEach(t -> result.add(db + ": " + t)));
    return result;
  }

  static String list(List<String> items) {
    if (items.size() <= MAX_LISTED) {
      return String.join(", ", items);
    }
    return String.join(", ", items.subList(0, MAX_LISTED))
        + " and " + (items.size() - MAX_LISTED) + " more";
  }

  // ---- results named by CheckName, the one place check names are written ----

  /**
   * cutover.fenceSource: whether the login can make the databases read-only and end the
   * sessions that could still write; failed before anything starts when it cannot, since a
   * cutover that silently left the source writable is what the fence is asked to prevent.
   * {@code privileges} is null when they could not be read ({@code error} says why).
   */
  public static ValidationReport withFence(ValidationReport report, PgMigrationSpec spec,
      Fence.Privileges privileges, String error) {
    if (!spec.getCutover().isFenceSource()) {
      return report;
    }
    var checks = new ArrayList<>(report.checks());
    checks.add(fence(report.method(), privileges, error));
    return new ValidationReport(List.copyOf(checks), report.method(), report.databases(),
        report.targetMajor(), report.estimate());
  }

  static CheckResult fence(Method method, Fence.Privileges p, String error) {
    if (method != Method.CONTINUOUS) {
      return warning(CheckName.SOURCE_FENCE, "cutover.fenceSource applies to the continuous"
          + " method only: the dump method copies a snapshot and does not fence the source",
          "Stop the application's writes before the dump starts, or use method: continuous.");
    }
    if (p == null) {
      return failed(CheckName.SOURCE_FENCE, "could not read what the login may do to fence"
          + " the source: " + error, "Make the source reachable, then start over.");
    }
    if (p.superuser()) {
      return passed(CheckName.SOURCE_FENCE, p.user() + " is a superuser: it can make the"
          + " databases read-only and end every session at the cutover");
    }
    var missing = new ArrayList<String>();
    var remedies = new ArrayList<String>();
    if (!p.notOwned().isEmpty()) {
      missing.add("ALTER DATABASE ... SET default_transaction_read_only needs ownership of "
          + list(p.notOwned()) + ", which " + p.user() + " lacks");
      remedies.add("make " + p.user() + " the owner of those databases (ALTER DATABASE ..."
          + " OWNER TO " + p.user() + ") or a member of their owner role");
    }
    if (!p.signalBackend()) {
      missing.add(p.user() + " can end only the sessions of its own role, not the"
          + " application's (pg_terminate_backend needs pg_signal_backend)");
      remedies.add("GRANT pg_signal_backend TO " + p.user());
    }
    if (!missing.isEmpty()) {
      return failed(CheckName.SOURCE_FENCE, "the source cannot be fenced at the cutover: "
          + String.join("; ", missing),
          String.join("; ", remedies) + " on the source, or log in as a superuser, or set"
              + " cutover.fenceSource: false and stop the application's writes yourself"
              + " before the cutover.");
    }
    return passed(CheckName.SOURCE_FENCE, p.user() + " owns the databases and may end other"
        + " roles' sessions (pg_signal_backend); a superuser's session, if one is connected at"
        + " the cutover, cannot be ended by it and fails the cutover");
  }

  static CheckResult passed(CheckName name, String message) {
    return CheckResult.passed(name.id(), message);
  }

  static CheckResult warning(CheckName name, String message, String remedy) {
    return CheckResult.warning(name.id(), message, remedy);
  }

  static CheckResult failed(CheckName name, String message, String remedy) {
    return CheckResult.failed(name.id(), message, remedy);
  }
}
