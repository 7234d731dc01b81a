package io.pgmigrate.operator.dump;

import io.fabric8.kubernetes.api.model.Capabilities;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.pgmigrate.operator.api.Endpoint;
import io.pgmigrate.operator.api.PgMigration;
import io.pgmigrate.operator.postgres.DatabaseHash;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Builds the Pod that copies one database with pg_dump and pg_restore. Pure: the same input
 * gives the same Pod. Connection settings come through environment variables, the user names
 * and passwords through Secret references; the command is a fixed script that names no
 * database, host or credential.
 */
public final class DumpPods {

  public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String OPERATOR = "pgmigrate-operator";
  public static final String MIGRATION_UID = "pgmigrate.io/migration-uid";
  public static final String DATABASE_HASH = "pgmigrate.io/database-hash";
  public static final String DATABASE = "pgmigrate.io/database";
  public static final String ATTEMPT = "pgmigrate.io/attempt";
  /** The {@link Kind}: "data", "schema" (before the initial copy) or "postdata" (after it). */
  public static final String KIND = "pgmigrate.io/kind";
  public static final String CONTAINER = "dump";
  /** UID and GID of the postgres user in the official postgres images. */
  static final long POSTGRES_UID = 999;

  /**
   * The fixed script every dump Pod runs (resource {@code copy-database.sh}): with JOBS = 1 it
   * streams pg_dump's custom format into pg_restore; with JOBS > 1 it streams the larger tables
   * with parallel COPY and leaves the rest to pg_dump; both read one exported snapshot, and
   * neither writes table data to disk. A data copy then compares every table's row count on
   * the target with the source's in that snapshot.
   */
  static final String SCRIPT = script();

  /**
   * The script's exit code when the target's row counts differ from the source's snapshot
   * ({@code VERIFICATION_FAILED} in the script): a new attempt would copy the same way.
   */
  public static final int VERIFICATION_FAILED_EXIT_CODE = 4;

  /** How the script starts each line naming a table whose row counts differ. */
  public static final String COUNT_DIFFERS = "row count differs: ";

  /** How the script begins a line about a table whose rows' digests differ (verify digests). */
  public static final String DIGEST_DIFFERS = "row digest differs: ";

  /** How the script starts its last line when the row counts differ. */
  public static final String VERIFICATION_FAILED = "verification failed: ";

  /** Tables of at least this size (heap and TOAST) get their own COPY stream with JOBS > 1. */
  static final long PARALLEL_MIN_BYTES = 1 << 20;

  private DumpPods() {}

  /**
   * What a Pod copies: a database's data (the dump method), or, for the continuous method, the
   * schema in two passes around the subscription's initial copy: what the rows need first
   * (pre-data, primary keys and replica identity indexes, which replication uses to find rows),
   * then the rest (indexes, constraints that the source's own rows may violate such as NOT
   * VALID ones, triggers) once every table is synchronised.
   */
  public enum Kind {
    DATA("data", "dump", ""),
    SCHEMA("schema", "schema", "pre"),
    POST_DATA("postdata", "index", "post"),
    /** continuous, at the cutover: unlogged tables and large objects, which WAL does not carry. */
    CUTOVER("cutover", "cutover", "cutover");

    /** The value of the {@link #KIND} label. */
    public final String label;
    private final String nameInfix;
    private final String schemaPass;

    Kind(String label, String nameInfix, String schemaPass) {
      this.label = label;
      this.nameInfix = nameInfix;
      this.schemaPass = schemaPass;
    }

    /** The kind a Pod's label names; Pods of older operators carry no label: data. */
    public static Kind ofLabel(String label) {
      for (var k : values()) {
        if (k.label.equals(label)) {
          return k;
        }
      }
      return DATA;
    }
  }

  /** What one dump Pod copies. */
  public record Request(
      PgMigration migration, String database, int attempt, String image, int jobs,
      boolean withOwners, Kind kind) {

    public Request(PgMigration migration, String database, int attempt, String image, int jobs,
        boolean withOwners) {
      this(migration, database, attempt, image, jobs, withOwners, Kind.DATA);
    }

    public boolean schemaOnly() {
      return kind != Kind.DATA;
    }
  }

  public static Pod build(Request r) {
    var m = r.migration();
    var spec = m.getSpec();
    var dump = spec.getDump();
    var env = new ArrayList<EnvVar>();
    env.add(value("DATABASE", r.database()));
    env.add(value("DST_DBNAME", conninfoDbname(r.database())));
    // a schema copy is small: one job, streamed, no scratch space
    int jobs = r.schemaOnly() ? 1 : r.jobs();
    env.add(value("JOBS", Integer.toString(jobs)));
    env.add(value("DUMP_FLAGS", r.schemaOnly() ? "--schema-only" : ""));
    env.add(value("SCHEMA_PASS", r.kind().schemaPass));
    env.add(value("SCRATCH", "/scratch"));
    env.add(value("PARALLEL_MIN_BYTES", Long.toString(PARALLEL_MIN_BYTES)));
    env.add(value("SPLIT_MIN_BYTES", Long.toString(dump.splitTablesLargerThanBytes())));
    env.add(value("VERIFY", spec.getVerify().toString()));
    env.add(value("ANALYZE", Boolean.toString(dump.analyzeOrDefault())));
    env.add(value("RESTORE_FLAGS", r.withOwners() ? "" : "--no-owner --no-acl"));
    var volumes = new ArrayList<Volume>();
    var mounts = new ArrayList<VolumeMount>();
    volumes.add(new VolumeBuilder().withName("tmp").withNewEmptyDir().endEmptyDir().build());
    mounts.add(new VolumeMountBuilder().withName("tmp").withMountPath("/tmp").build());
    if (jobs > 1) {
      var scratch = new VolumeBuilder().withName("scratch").withNewEmptyDir();
      if (dump.getScratchSize() != null && !dump.getScratchSize().isBlank()) {
        scratch.withSizeLimit(new Quantity(dump.getScratchSize()));
      }
      volumes.add(scratch.endEmptyDir().build());
      mounts.add(new VolumeMountBuilder().withName("scratch").withMountPath("/scratch").build());
    }
    endpoint("SRC", "source", spec.getSource(), env, volumes, mounts);
    endpoint("DST", "target", spec.getTarget(), env, volumes, mounts);

    var container =
        new ContainerBuilder()
            .withName(CONTAINER)
            .withImage(r.image())
            .withCommand("bash", "-c", SCRIPT)
            .withEnv(env)
            .withVolumeMounts(mounts)
            .withTerminationMessagePolicy("FallbackToLogsOnError")
            .withSecurityContext(
                new SecurityContextBuilder()
                    .withAllowPrivilegeEscalation(false)
                    .withReadOnlyRootFilesystem(true)
                    .withRunAsNonRoot(true)
                    .withCapabilities(new Capabilities(null, List.of("ALL")))
                    .build());
    if (dump.getResources() != null) {
      container.withResources(dump.getResources());
    }
    var meta = m.getMetadata();
    return new PodBuilder()
        .withNewMetadata()
        .withName(podName(m, r.kind(), r.database(), r.attempt()))
        .withNamespace(meta.getNamespace())
        .withLabels(Map.of(
            MANAGED_BY, OPERATOR,
            MIGRATION_UID, meta.getUid(),
            DATABASE_HASH, hash(r.database()),
            KIND, r.kind().label,
            ATTEMPT, Integer.toString(r.attempt())))
        .withAnnotations(Map.of(DATABASE, r.database()))
        .withOwnerReferences(
            new OwnerReferenceBuilder()
                .withApiVersion(m.getApiVersion())
                .withKind(m.getKind())
                .withName(meta.getName())
                .withUid(meta.getUid())
                .withController(true)
                .withBlockOwnerDeletion(true)
                .build())
        .endMetadata()
        .withNewSpec()
        .withRestartPolicy("Never")
        .withAutomountServiceAccountToken(false)
        .withEnableServiceLinks(false)
        .withNewSecurityContext()
        .withRunAsNonRoot(true)
        .withRunAsUser(POSTGRES_UID)
        .withRunAsGroup(POSTGRES_UID)
        .withFsGroup(POSTGRES_UID)
        .withNewSeccompProfile()
        .withType("RuntimeDefault")
        .endSeccompProfile()
        .endSecurityContext()
        .withContainers(container.build())
        .withVolumes(volumes)
        .endSpec()
        .build();
  }

  private static void endpoint(
      String prefix, String side, Endpoint e, List<EnvVar> env, List<Volume> volumes,
      List<VolumeMount> mounts) {
    var creds = e.getCredentialsSecret();
    env.add(value(prefix + "_HOST", e.getHost()));
    env.add(value(prefix + "_PORT", Integer.toString(e.portOrDefault())));
    env.add(secret(prefix + "_USER", creds.getName(), creds.getUsernameKey()));
    env.add(secret(prefix + "_PASSWORD", creds.getName(), creds.getPasswordKey()));
    env.add(value(prefix + "_SSLMODE", e.sslModeOrDefault().libpqName()));
    if (e.sslModeOrDefault().verifiesCertificate() && e.getCaSecret() != null) {
      var volume = side + "-ca";
      volumes.add(new VolumeBuilder().withName(volume).withNewSecret()
          .withSecretName(e.getCaSecret().getName())
          .addNewItem().withKey(e.getCaSecret().getKey()).withPath("ca.crt").endItem()
          .withDefaultMode(0444)
          .endSecret().build());
      mounts.add(new VolumeMountBuilder().withName(volume).withMountPath("/certs/" + side)
          .withReadOnly(true).build());
      env.add(value(prefix + "_SSLROOTCERT", "/certs/" + side + "/ca.crt"));
    }
  }

  private static String script() {
    try (var in = DumpPods.class.getResourceAsStream("copy-database.sh")) {
      if (in == null) {
        throw new IllegalStateException("copy-database.sh is missing from the operator's jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * pg_restore takes the target database as a connection string; a name such as {@code a=b}
   * would otherwise be read as one. Quoted as libpq wants: dbname='...' with \ and ' escaped.
   */
  static String conninfoDbname(String database) {
    return "dbname='" + database.replace("\\", "\\\\").replace("'", "\\'") + "'";
  }

  private static EnvVar value(String name, String value) {
    return new EnvVarBuilder().withName(name).withValue(value).build();
  }

  private static EnvVar secret(String name, String secret, String key) {
    return new EnvVarBuilder().withName(name).withNewValueFrom().withNewSecretKeyRef()
        .withName(secret).withKey(key).endSecretKeyRef().endValueFrom().build();
  }

  /** The name of a data copy Pod. */
  public static String podName(PgMigration m, String database, int attempt) {
    return podName(m, Kind.DATA, database, attempt);
  }

  /**
   * A DNS-1123 Pod name: the migration's name (shortened), the start of its UID (two migrations
   * whose names share their first 30 characters get Pods of their own), the kind ("dump" for
   * data, "schema", "index" for the post-data pass, "cutover"), the database's hash, the attempt.
   */
  public static String podName(PgMigration m, Kind kind, String database, int attempt) {
    var base = m.getMetadata().getName().toLowerCase(Locale.ROOT);
    if (base.length() > 30) {
      base = base.substring(0, 30).replaceAll("[-.]+$", "");
    }
    var uid = m.getMetadata().getUid() == null ? "" : m.getMetadata().getUid();
    var owner = uid.replace("-", "");
    owner = owner.substring(0, Math.min(6, owner.length()));
    return base + "-" + owner + "-" + kind.nameInfix + "-" + hash(database) + "-" + attempt;
  }

  /** A short, stable, label-safe hash of a database name (names may hold any character). */
  public static String hash(String database) {
    return DatabaseHash.of(database);
  }
}
