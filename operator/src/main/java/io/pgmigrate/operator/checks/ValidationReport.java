package io.pgmigrate.operator.checks;

import io.pgmigrate.operator.api.CheckOutcome;
import io.pgmigrate.operator.api.CheckResult;
import io.pgmigrate.operator.api.Method;
import java.util.List;

/** The outcome of the pre-flight checks: the report, the method to use and the databases. */
public record ValidationReport(List<CheckResult> checks, Method method, List<String> databases) {

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
