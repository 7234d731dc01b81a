package io.pgmigrate.operator.checks;

import io.pgmigrate.operator.api.CheckOutcome;
import io.pgmigrate.operator.api.CheckResult;
import io.pgmigrate.operator.api.Estimate;
import io.pgmigrate.operator.api.Method;
import java.util.List;

/**
 * The outcome of the pre-flight checks: the report, the method to use, the databases, the
 * target's major version (null when the target was not reached) and what the migration would
 * cost ({@link Estimates}; null when nothing could be measured).
 */
public record ValidationReport(
    List<CheckResult> checks, Method method, List<String> databases, Integer targetMajor,
    Estimate estimate) {

  public ValidationReport(
      List<CheckResult> checks, Method method, List<String> databases, Integer targetMajor) {
    this(checks, method, databases, targetMajor, null);
  }

  public ValidationReport(List<CheckResult> checks, Method method, List<String> databases) {
    this(checks, method, databases, null);
  }

  public List<CheckResult> failed() {
    return checks.stream().filter(c -> c.getResult() == CheckOutcome.Failed).toList();
  }

  public List<CheckResult> warnings() {
    return checks.stream().filter(c -> c.getResult() == CheckOutcome.Warning).toList();
  }

  public boolean passed() {
    return failed().isEmpty();
  }
}
