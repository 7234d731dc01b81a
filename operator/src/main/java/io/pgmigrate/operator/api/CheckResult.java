package io.pgmigrate.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Objects;

/** One line of the pre-flight report. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CheckResult {

  @JsonPropertyDescription("Stable name of the check, e.g. source.walLevel.")
  private String name;

  @JsonPropertyDescription("Passed, Warning or Failed.")
  private CheckOutcome result;

  @JsonPropertyDescription("What was found.")
  private String message;

  @JsonPropertyDescription("What to do about it, when anything.")
  private String remedy;

  public CheckResult() {}

  public CheckResult(String name, CheckOutcome result, String message, String remedy) {
    this.name = name;
    this.result = result;
    this.message = message;
    this.remedy = remedy;
  }

  public static CheckResult passed(String name, String message) {
    return new CheckResult(name, CheckOutcome.Passed, message, null);
  }

  public static CheckResult warning(String name, String message, String remedy) {
    return new CheckResult(name, CheckOutcome.Warning, message, remedy);
  }

  public static CheckResult failed(String name, String message, String remedy) {
    return new CheckResult(name, CheckOutcome.Failed, message, remedy);
  }

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public CheckOutcome getResult() {
    return result;
  }

  public void setResult(CheckOutcome result) {
    this.result = result;
  }

  public String getMessage() {
    return message;
  }

  public void setMessage(String message) {
    this.message = message;
  }

  public String getRemedy() {
    return remedy;
  }

  public void setRemedy(String remedy) {
    this.remedy = remedy;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CheckResult c
        && Objects.equals(name, c.name)
        && result == c.result
        && Objects.equals(message, c.message)
        && Objects.equals(remedy, c.remedy);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, result, message, remedy);
  }

  @Override
  public String toString() {
    return name + "=" + result + " (" + message + ")";
  }
}
