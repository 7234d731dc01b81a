package io.pgmigrate.operator.checks;

import io.pgmigrate.operator.api.Endpoint;
import io.pgmigrate.operator.api.PgMigrationSpec;
import io.pgmigrate.operator.postgres.Fence;
import io.pgmigrate.operator.postgres.Interrupts;
import io.pgmigrate.operator.postgres.Catalog;
import io.pgmigrate.operator.postgres.ConnectionSpec;
import io.pgmigrate.operator.postgres.DatabaseContents;
import io.pgmigrate.operator.postgres.PgConnector;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Observes both servers (Secrets, connections, catalogs) and evaluates the pre-flight checks.
 * Every call is bounded by the connector's timeouts.
 */
public class Validator {

  private final SecretLookup secrets;
  private final PgConnector connector;
  /** What the migration would cost; null: not measured. */
  private final Estimates estimates;

  public Validator(SecretLookup secrets, PgConnector connector) {
    this(secrets, connector, null);
  }

  public Validator(SecretLookup secrets, PgConnector connector, Estimates estimates) {
    this.secrets = secrets;
    this.connector = connector;
    this.estimates = estimates;
  }

  public ValidationReport validate(String namespace, PgMigrationSpec spec) {
    var sourceLogin = Logins.resolve(secrets, namespace, spec.getSource());
    var targetLogin = Logins.resolve(secrets, namespace, spec.getTarget());
    var source = observeServer("source", spec.getSource(), sourceLogin, null);
    var wal = estimates != null && source.connected() ? estimates.markWal(sourceLogin.spec())
        : null;
    List<String> selected =
        source.connected()
            ? DatabaseSelection.of(
                    spec.getDatabases(), spec.getExcludeDatabases(), source.databases())
                .selected()
            : List.of();
    if (source.connected()) {
      source = withContents(source, sourceLogin.spec(), selected);
    }
    var target = observeServer("target", spec.getTarget(), targetLogin, selected);
    var report =
        CheckEvaluator.evaluate(spec, scrub(source, sourceLogin), scrub(target, targetLogin));
    if (estimates != null && source.connected() && target.connected()) {
      report = estimates.addTo(report, namespace, spec, sourceLogin.spec(), targetLogin.spec(),
          wal);
    }
    if (!spec.getCutover().isFenceSource() || !source.connected()) {
      return report;
    }
    try (var c = connector.open(sourceLogin.spec())) {
      return CheckEvaluator.withFence(report, spec,
          Fence.privileges(c, report.databases()), null);
    } catch (SQLException e) {
      Interrupts.rethrowIfInterrupted(e);
      var message = e.getMessage() == null ? e.toString() : e.getMessage();
      var password = sourceLogin.spec().password();
      return CheckEvaluator.withFence(report, spec, null,
          password == null || password.isEmpty() ? message : message.replace(password, "***"));
    }
  }

  private EndpointObservation observeServer(
      String side, Endpoint endpoint, Logins.Login login, List<String> databasesToInspect) {
    var address = endpoint.getHost() + ":" + endpoint.portOrDefault();
    var mode = endpoint.sslModeOrDefault().libpqName();
    var secretName =
        endpoint.getCredentialsSecret() == null ? null : endpoint.getCredentialsSecret().getName();
    if (login.error() != null) {
      return EndpointObservation.credentialsMissing(side, address, mode, secretName, login.error());
    }
    try (var c = connector.open(login.spec())) {
      var server = Catalog.server(c);
      var databases = Catalog.databases(c);
      Map<String, List<String>> available =
          databasesToInspect == null ? Map.of() : Catalog.availableExtensions(c);
      var observation =
          new EndpointObservation(
              side, address, mode, secretName, null, null, server, databases, Map.of(), Map.of(),
              available);
      if (databasesToInspect != null) {
        var existing =
            databases.stream()
                .map(d -> d.name())
                .filter(databasesToInspect::contains)
                .toList();
        observation = withContents(observation, login.spec(), existing);
      }
      return observation;
    } catch (SQLException e) {
      Interrupts.rethrowIfInterrupted(e);
      return EndpointObservation.unreachable(
          side, address, mode, secretName, ConnectFailure.of(e));
    }
  }

  private EndpointObservation withContents(
      EndpointObservation o, ConnectionSpec login, List<String> databases) {
    var contents = new LinkedHashMap<String, DatabaseContents>();
    var errors = new LinkedHashMap<String, String>();
    for (var db : databases) {
      try (var c = connector.open(login.withDatabase(db))) {
        contents.put(db, Catalog.contents(c));
      } catch (SQLException e) {
        Interrupts.rethrowIfInterrupted(e);
        errors.put(db, e.getMessage());
      }
    }
    return new EndpointObservation(
        o.side(), o.address(), o.sslMode(), o.credentialsSecret(), o.credentialsError(),
        o.connectFailure(), o.server(), o.databases(), Map.copyOf(contents), Map.copyOf(errors),
        o.availableExtensions());
  }

  /** Defence in depth: no message that reaches status may repeat the password. */
  private static EndpointObservation scrub(EndpointObservation o, Logins.Login login) {
    if (login.spec() == null || login.spec().password() == null || login.spec().password().isEmpty()) {
      return o;
    }
    var password = login.spec().password();
    var failure = o.connectFailure();
    if (failure != null && failure.message().contains(password)) {
      failure = new ConnectFailure(failure.kind(), failure.message().replace(password, "***"));
    }
    var errors = new LinkedHashMap<String, String>();
    o.contentErrors().forEach((db, e) -> errors.put(db, e.replace(password, "***")));
    return new EndpointObservation(
        o.side(), o.address(), o.sslMode(), o.credentialsSecret(), o.credentialsError(), failure,
        o.server(), o.databases(), o.contents(), Map.copyOf(errors), o.availableExtensions());
  }
}
