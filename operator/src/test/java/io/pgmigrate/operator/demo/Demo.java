package io.pgmigrate.operator.demo;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.pgmigrate.operator.PgMigrateOperator;
import io.pgmigrate.operator.postgres.Timeouts;
import io.pgmigrate.operator.testing.Contents;
import io.pgmigrate.operator.testing.Fixtures;
import io.pgmigrate.operator.testing.KubeApi;
import io.pgmigrate.operator.testing.Kubectl;
import io.pgmigrate.operator.testing.PostgresServer;
import io.pgmigrate.operator.testing.TestKubelet;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Set;

/**
 * The one-command demo (demo/run.sh): a local kube-apiserver and etcd (the test binaries), two
 * local PostgreSQL servers with sample data, the operator, and the test kubelet running the
 * schema-copy Pods. Applies a continuous PgMigration with kubectl, shows `kubectl get
 * pgmigrations` through Validating, Migrating and Syncing, writes on the source, cuts over,
 * shows Ready and the row counts on both sides, and cleans everything up.
 */
public final class Demo {

  private Demo() {}

  public static void main(String[] args) throws Exception {
    run(System.out);
    System.exit(0);
  }

  public static void run(PrintStream out) throws Exception {
    out.println("== starting a local kube-apiserver + etcd and two PostgreSQL servers");
    try (var api = KubeApi.start();
        var source = PostgresServer.builder().name("demo-source").start();
        var target = PostgresServer.builder().name("demo-target").start()) {
      source.execute("postgres", "create database shop", "create database billing");
      source.execute("shop",
          "create table customers (id bigserial primary key, name text)",
          "create table orders (id bigserial primary key, customer_id bigint references customers,"
              + " amount numeric(10,2))",
          "insert into customers (name) select 'customer ' || g from generate_series(1, 1000) g",
          "insert into orders (customer_id, amount) select 1 + g % 1000, g % 97"
              + " from generate_series(1, 20000) g");
      source.execute("billing",
          "create table invoices (id bigserial primary key, total numeric(10,2))",
          "insert into invoices (total) select g from generate_series(1, 5000) g");
      var client = api.client();
      var ns = "demo";
      client.resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
          .create();
      Fixtures.applySecret(client, Fixtures.credentials(ns, "legacy-db-credentials",
          PostgresServer.SUPERUSER, PostgresServer.SUPERUSER_PASSWORD));
      Fixtures.applySecret(client, Fixtures.credentials(ns, "new-db-credentials",
          PostgresServer.SUPERUSER, PostgresServer.SUPERUSER_PASSWORD));
      try (var kubelet = new TestKubelet(client, ns).start()) {
        var operator = PgMigrateOperator.create(client, Set.of(ns), Timeouts.DEFAULT);
        operator.start();
        try {
          var yaml = """
              apiVersion: pgmigrate.io/v1alpha1
              kind: PgMigration
              metadata:
                name: shop
              spec:
                source:
                  host: 127.0.0.1
                  port: %d
                  sslMode: disable
                  credentialsSecret: {name: legacy-db-credentials}
                target:
                  host: 127.0.0.1
                  port: %d
                  sslMode: disable
                  credentialsSecret: {name: new-db-credentials}
                databases: [shop, billing]
                replication:
                  maxRetainedWalBytes: 1Gi
              """.formatted(source.port(), target.port());
          out.println("== kubectl apply -f - (a continuous PgMigration)");
          out.print(Kubectl.run(api, yaml, "apply", "-n", ns, "-f", "-").output());
          watch(out, api, ns, "Syncing", Duration.ofMinutes(3));
          out.println("== the application keeps writing on the source");
          source.execute("shop", "insert into orders (customer_id, amount) select 1, 1"
              + " from generate_series(1, 500)");
          out.println("== cutover: kubectl patch pgm shop -p '{\"spec\":{\"keepReplicating\":false}}'");
          out.print(Kubectl.run(api, null, "patch", "pgm", "shop", "-n", ns, "--type", "merge",
              "-p", "{\"spec\":{\"keepReplicating\":false}}").output());
          watch(out, api, ns, "Ready", Duration.ofMinutes(2));
          for (var db : new String[] {"shop", "billing"}) {
            out.println("== " + db + ": source " + Contents.tables(source, db) + "\n== " + db
                + ": target " + Contents.tables(target, db));
          }
          out.println("== replication slots left on the source: " + Contents.query(source,
              "postgres", "select count(*)::text, '' from pg_replication_slots").keySet());
          Kubectl.run(api, null, "delete", "pgm", "shop", "-n", ns);
        } finally {
          operator.stop();
        }
      }
      out.println("== done; stopping everything");
    }
  }

  /** Prints `kubectl get pgmigrations` whenever it changes, until the phase shows up. */
  private static void watch(PrintStream out, KubeApi api, String ns, String phase,
      Duration limit) {
    var last = new String[] {""};
    org.awaitility.Awaitility.await().atMost(limit).pollInterval(Duration.ofMillis(500))
        .until(() -> {
          var now = Kubectl.run(api, null, "get", "pgmigrations", "-n", ns).output();
          var withoutAge = now.replaceAll("\\s+\\S+\\s*$", "");
          if (!withoutAge.equals(last[0])) {
            out.println("$ kubectl get pgmigrations");
            out.print(now);
            last[0] = withoutAge;
          }
          if (now.contains(" Failed ")) {
            out.print(Kubectl.run(api, null, "get", "pgm", "-n", ns, "-o", "yaml").output());
            throw new IllegalStateException("the migration failed");
          }
          return now.contains(" " + phase + " ");
        });
  }
}
