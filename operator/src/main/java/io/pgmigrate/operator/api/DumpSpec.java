package io.pgmigrate.operator.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;

/** Settings of the Pods that run pg_dump and pg_restore. */
public class DumpSpec {

  @Size(max = 512)
  @JsonPropertyDescription(
      "Container image with pg_dump and pg_restore; empty means postgres:<target major>. A"
          + " postgres:<N> image is checked against both servers (check dump.image): pg_dump N"
          + " must read the source's major, and pg_restore 17 cannot restore into an older target.")
  private String image = "";

  @Default("4")
  @Min(1)
  @Max(64)
  @JsonPropertyDescription(
      "Parallel jobs (default 4). 1 streams pg_dump into pg_restore; more streams the tables of"
          + " 1 MiB or more with that many parallel COPY streams in one snapshot and builds"
          + " indexes with that many jobs. Neither writes table data to disk.")
  private Integer jobs = 4;

  @JsonPropertyDescription("Resources of the dump containers.")
  private ResourceRequirements resources;

  @Size(max = 64)
  @JsonPropertyDescription(
      "Size limit of the scratch volume for jobs > 1 (a quantity such as 20Gi), which holds the"
          + " schema, the tables under 1 MiB and the large objects; empty means no limit.")
  private String scratchSize = "";

  @Default("true")
  @JsonPropertyDescription(
      "Whether the dump Pods gather the target's planner statistics (ANALYZE; a streamed table"
          + " as soon as its rows are in). false shortens the copy and leaves them to"
          + " autovacuum, which analyzes the loaded tables within minutes, or to you (vacuumdb"
          + " --analyze-in-stages): queries planned before then have none.")
  private Boolean analyze = true;

  @Pattern("^$|" + ReplicationSpec.QUANTITY)
  @JsonPropertyDescription(
      "With jobs > 1, a table larger than this (a quantity such as 1Gi) is copied by several"
          + " parallel COPY streams over ranges of its pages, each about this size, in the same"
          + " snapshot; needs a source of PostgreSQL 14 or later (a TID range scan), older"
          + " sources copy such a table in one stream. Empty (the default) turns it off: on 2"
          + " cores it gained nothing (README, Benchmark).")
  private String splitTablesLargerThan = "";

  public Boolean getAnalyze() {
    return analyze;
  }

  public void setAnalyze(Boolean analyze) {
    this.analyze = analyze;
  }

  /** Whether the dump Pods analyze the target's tables (default true). */
  public boolean analyzeOrDefault() {
    return analyze == null || analyze;
  }

  public String getSplitTablesLargerThan() {
    return splitTablesLargerThan;
  }

  public void setSplitTablesLargerThan(String splitTablesLargerThan) {
    this.splitTablesLargerThan = splitTablesLargerThan;
  }

  /** The split threshold in bytes; 0 when off. */
  public long splitTablesLargerThanBytes() {
    return splitTablesLargerThan == null || splitTablesLargerThan.isBlank() ? 0
        : Quantity.getAmountInBytes(new Quantity(splitTablesLargerThan)).longValue();
  }

  public String getImage() {
    return image;
  }

  public void setImage(String image) {
    this.image = image;
  }

  public int jobsOrDefault() {
    return jobs == null ? 4 : jobs;
  }

  public Integer getJobs() {
    return jobs;
  }

  public void setJobs(Integer jobs) {
    this.jobs = jobs;
  }

  public ResourceRequirements getResources() {
    return resources;
  }

  public void setResources(ResourceRequirements resources) {
    this.resources = resources;
  }

  public String getScratchSize() {
    return scratchSize;
  }

  public void setScratchSize(String scratchSize) {
    this.scratchSize = scratchSize;
  }
}
