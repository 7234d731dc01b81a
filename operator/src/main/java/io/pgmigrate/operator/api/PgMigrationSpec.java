package io.pgmigrate.operator.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;

/** What to migrate, from where, to where, and how. */
@ValidationRule(
    value =
        "!(self.source.host == self.target.host"
            + " && (has(self.source.port) ? self.source.port : 5432)"
            + " == (has(self.target.port) ? self.target.port : 5432))",
    message = "source and target must be different servers (host and port are the same)")
@ValidationRule(
    value =
        "!has(self.databases) || !has(self.excludeDatabases)"
            + " || self.databases.all(d, !(d in self.excludeDatabases))",
    message = "a database cannot be both in databases and in excludeDatabases")
@ValidationRule(
    value = "self.verify != 'digests' || self.method == 'dump'"
        + " || (has(self.cutover) && has(self.cutover.fenceSource) && self.cutover.fenceSource)",
    message = "verify: digests with method continuous needs cutover.fenceSource: true (without a"
        + " fence the source moves on after the cutover position, and no moment of it matches"
        + " the target); or use method dump")
public class PgMigrationSpec {

  @Required
  @JsonPropertyDescription("The server the databases are copied from.")
  private Endpoint source;

  @Required
  @JsonPropertyDescription("The server the databases are copied to.")
  private Endpoint target;

  @Default("continuous")
  @JsonPropertyDescription(
      "continuous (default): logical replication, kept in sync until the cutover; dump: a"
          + " one-time snapshot with pg_dump and pg_restore.")
  private Method method = Method.CONTINUOUS;

  @Default("false")
  @JsonPropertyDescription(
      "When continuous is impossible (privileges, wal_level): true uses the dump method instead;"
          + " false fails with the reason.")
  private Boolean fallbackToDump = false;

  @Size(max = 256)
  @JsonPropertyDescription(
      "Only these databases. Empty means every non-template database of the source that accepts"
          + " connections.")
  private List<@Size(min = 1, max = 63) String> databases = new ArrayList<>();

  @Size(max = 256)
  @JsonPropertyDescription("Never these databases.")
  private List<@Size(min = 1, max = 63) String> excludeDatabases = new ArrayList<>();

  @Default("false")
  @JsonPropertyDescription(
      "Run the checks, report them in status, and change nothing (a dry run). Set it to false to"
          + " start the migration.")
  private Boolean validateOnly = false;

  @Default("true")
  @JsonPropertyDescription(
      "continuous: after catching up, keep replicating (phase Syncing). Set to false to cut over:"
          + " the operator waits until the target has every change, copies sequence values,"
          + " removes its replication objects and finishes (phase Ready).")
  private Boolean keepReplicating = true;

  @Default("counts")
  @JsonPropertyDescription(
      "How the copy is checked. counts (default): every table's row count on the target equals"
          + " the source's in the snapshot the copy read. digests: also an order-independent"
          + " digest of every table's rows, compared the same way, which catches changed values;"
          + " it reads every row once more on both servers. dump: in the Pod, against the"
          + " snapshot it copied; continuous: at a fenced cutover (cutover.fenceSource: true),"
          + " where counts are compared too.")
  private Verify verify = Verify.COUNTS;

  @Default("{}")
  @JsonPropertyDescription("Which roles are copied to the target.")
  private RolesSpec roles = new RolesSpec();

  @Default("{}")
  @JsonPropertyDescription("Settings of the dump Pods.")
  private DumpSpec dump = new DumpSpec();

  @Default("{}")
  @JsonPropertyDescription("Settings of logical replication (method continuous).")
  private ReplicationSpec replication = new ReplicationSpec();

  @JsonPropertyDescription(
      "What happens around the cutover: fencing the source, switching the application's"
          + " Secret.")
  private CutoverSpec cutover;

  public Endpoint getSource() {
    return source;
  }

  public void setSource(Endpoint source) {
    this.source = source;
  }

  public Endpoint getTarget() {
    return target;
  }

  public void setTarget(Endpoint target) {
    this.target = target;
  }

  public Method getMethod() {
    return method == null ? Method.CONTINUOUS : method;
  }

  public void setMethod(Method method) {
    this.method = method;
  }

  public boolean isFallbackToDump() {
    return Boolean.TRUE.equals(fallbackToDump);
  }

  public Boolean getFallbackToDump() {
    return fallbackToDump;
  }

  public void setFallbackToDump(Boolean fallbackToDump) {
    this.fallbackToDump = fallbackToDump;
  }

  public List<String> getDatabases() {
    return databases == null ? List.of() : databases;
  }

  public void setDatabases(List<String> databases) {
    this.databases = databases;
  }

  public List<String> getExcludeDatabases() {
    return excludeDatabases == null ? List.of() : excludeDatabases;
  }

  public void setExcludeDatabases(List<String> excludeDatabases) {
    this.excludeDatabases = excludeDatabases;
  }

  public boolean isValidateOnly() {
    return Boolean.TRUE.equals(validateOnly);
  }

  public Boolean getValidateOnly() {
    return validateOnly;
  }

  public void setValidateOnly(Boolean validateOnly) {
    this.validateOnly = validateOnly;
  }

  public boolean isKeepReplicating() {
    return !Boolean.FALSE.equals(keepReplicating);
  }

  public Boolean getKeepReplicating() {
    return keepReplicating;
  }

  public void setKeepReplicating(Boolean keepReplicating) {
    this.keepReplicating = keepReplicating;
  }

  public Verify getVerify() {
    return verify == null ? Verify.COUNTS : verify;
  }

  public void setVerify(Verify verify) {
    this.verify = verify;
  }

  public RolesSpec getRoles() {
    return roles == null ? new RolesSpec() : roles;
  }

  public void setRoles(RolesSpec roles) {
    this.roles = roles;
  }

  public DumpSpec getDump() {
    return dump == null ? new DumpSpec() : dump;
  }

  public void setDump(DumpSpec dump) {
    this.dump = dump;
  }

  public ReplicationSpec getReplication() {
    return replication == null ? new ReplicationSpec() : replication;
  }

  public void setReplication(ReplicationSpec replication) {
    this.replication = replication;
  }

  public CutoverSpec getCutover() {
    return cutover == null ? new CutoverSpec() : cutover;
  }

  public void setCutover(CutoverSpec cutover) {
    this.cutover = cutover;
  }
}
