package io.pgmigrate.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;

/**
 * What the pre-flight checks measured of the cost of a migration before it starts: sizes, the
 * target's free disk, the source's WAL rate and the copy's duration, each with its basis. Every
 * part is optional: what could not be measured says why instead of a number.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Estimate {

  @JsonPropertyDescription("The databases to migrate: pg_database_size summed, human readable.")
  private String total;

  @JsonPropertyDescription("The databases to migrate: pg_database_size summed, in bytes.")
  private Long totalBytes;

  @JsonPropertyDescription("Per database to migrate: its size, tables and largest tables.")
  private List<Database> databases = new ArrayList<>();

  @JsonPropertyDescription(
      "Free disk on the target, with how it was read; or why this login cannot see it"
          + " (PostgreSQL has no SQL function for it).")
  private String targetFreeDisk;

  @JsonPropertyDescription("Free disk on the target in bytes, when it could be read.")
  private Long targetFreeDiskBytes;

  @JsonPropertyDescription(
      "WAL the source writes per minute (the whole server), how it was measured, and what a"
          + " stalled replication slot would keep per hour.")
  private String sourceWal;

  @JsonPropertyDescription("WAL the source writes per minute, in bytes.")
  private Long sourceWalBytesPerMinute;

  @JsonPropertyDescription("An estimate of how long the copy takes, e.g. ~4 min.")
  private String copyDuration;

  @JsonPropertyDescription("The estimated copy duration in seconds.")
  private Long copySeconds;

  @JsonPropertyDescription(
      "What the copy estimate rests on (an earlier migration between the same servers, or a"
          + " short COPY probe of the source), or why none could be made.")
  private String copyBasis;

  /** One database to migrate. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Database {
    @JsonPropertyDescription("Database name.")
    private String name;

    @JsonPropertyDescription("pg_database_size, human readable.")
    private String size;

    @JsonPropertyDescription("pg_database_size in bytes.")
    private Long sizeBytes;

    @JsonPropertyDescription(
        "User tables (ordinary and partitioned; not those of extensions or catalogs).")
    private Integer tables;

    @JsonPropertyDescription("The largest tables, by pg_total_relation_size (with indexes and"
        + " TOAST), largest first; at most five.")
    private List<Table> largestTables = new ArrayList<>();

    @JsonPropertyDescription("Why this database could not be measured.")
    private String message;

    public String getName() {
      return name;
    }

    public void setName(String name) {
      this.name = name;
    }

    public String getSize() {
      return size;
    }

    public void setSize(String size) {
      this.size = size;
    }

    public Long getSizeBytes() {
      return sizeBytes;
    }

    public void setSizeBytes(Long sizeBytes) {
      this.sizeBytes = sizeBytes;
    }

    public Integer getTables() {
      return tables;
    }

    public void setTables(Integer tables) {
      this.tables = tables;
    }

    public List<Table> getLargestTables() {
      return largestTables;
    }

    public void setLargestTables(List<Table> largestTables) {
      this.largestTables = largestTables == null ? new ArrayList<>() : largestTables;
    }

    public String getMessage() {
      return message;
    }

    public void setMessage(String message) {
      this.message = message;
    }
  }

  /** One table and its size. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Table {
    @JsonPropertyDescription("schema.table, quoted where needed.")
    private String name;

    @JsonPropertyDescription("pg_total_relation_size, human readable.")
    private String size;

    @JsonPropertyDescription("pg_total_relation_size in bytes.")
    private Long sizeBytes;

    public Table() {}

    public Table(String name, String size, Long sizeBytes) {
      this.name = name;
      this.size = size;
      this.sizeBytes = sizeBytes;
    }

    public String getName() {
      return name;
    }

    public void setName(String name) {
      this.name = name;
    }

    public String getSize() {
      return size;
    }

    public void setSize(String size) {
      this.size = size;
    }

    public Long getSizeBytes() {
      return sizeBytes;
    }

    public void setSizeBytes(Long sizeBytes) {
      this.sizeBytes = sizeBytes;
    }
  }

  public String getTotal() {
    return total;
  }

  public void setTotal(String total) {
    this.total = total;
  }

  public Long getTotalBytes() {
    return totalBytes;
  }

  public void setTotalBytes(Long totalBytes) {
    this.totalBytes = totalBytes;
  }

  public List<Database> getDatabases() {
    return databases;
  }

  public void setDatabases(List<Database> databases) {
    this.databases = databases == null ? new ArrayList<>() : databases;
  }

  public String getTargetFreeDisk() {
    return targetFreeDisk;
  }

  public void setTargetFreeDisk(String targetFreeDisk) {
    this.targetFreeDisk = targetFreeDisk;
  }

  public Long getTargetFreeDiskBytes() {
    return targetFreeDiskBytes;
  }

  public void setTargetFreeDiskBytes(Long targetFreeDiskBytes) {
    this.targetFreeDiskBytes = targetFreeDiskBytes;
  }

  public String getSourceWal() {
    return sourceWal;
  }

  public void setSourceWal(String sourceWal) {
    this.sourceWal = sourceWal;
  }

  public Long getSourceWalBytesPerMinute() {
    return sourceWalBytesPerMinute;
  }

  public void setSourceWalBytesPerMinute(Long sourceWalBytesPerMinute) {
    this.sourceWalBytesPerMinute = sourceWalBytesPerMinute;
  }

  public String getCopyDuration() {
    return copyDuration;
  }

  public void setCopyDuration(String copyDuration) {
    this.copyDuration = copyDuration;
  }

  public Long getCopySeconds() {
    return copySeconds;
  }

  public void setCopySeconds(Long copySeconds) {
    this.copySeconds = copySeconds;
  }

  public String getCopyBasis() {
    return copyBasis;
  }

  public void setCopyBasis(String copyBasis) {
    this.copyBasis = copyBasis;
  }
}
