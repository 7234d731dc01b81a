package io.pgmigrate.operator.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;
import io.fabric8.kubernetes.api.model.ResourceRequirements;

/** Settings of the Pods that run pg_dump and pg_restore. */
public class DumpSpec {

  @Size(max = 512)
  @JsonPropertyDescription(
      "Container image with pg_dump and pg_restore; empty means postgres:<target major>.")
  private String image = "";

  @Default("4")
  @Min(1)
  @Max(64)
  @JsonPropertyDescription(
      "Parallel jobs of pg_dump and pg_restore (default 4). 1 streams through a pipe and needs"
          + " no scratch space; more uses the directory format on scratch space.")
  private Integer jobs = 4;

  @JsonPropertyDescription("Resources of the dump containers.")
  private ResourceRequirements resources;

  @Size(max = 64)
  @JsonPropertyDescription(
      "Size limit of the scratch volume for jobs > 1 (a quantity such as 20Gi); empty means no"
          + " limit.")
  private String scratchSize = "";

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
