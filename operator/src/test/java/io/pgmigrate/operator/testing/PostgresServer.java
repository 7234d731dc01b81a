package io.pgmigrate.operator.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * A real PostgreSQL server for tests, made with initdb and pg_ctl on a free loopback port in a
 * temporary directory (fsync off): Debian's PostgreSQL by default, another major with {@link
 * Builder#major(int)} ({@link PostgresBinaries} says where each comes from). Runs as the OS user
 * postgres when the tests run as root, since initdb refuses root.
 */
public final class PostgresServer implements AutoCloseable {

  public static final String SUPERUSER = "postgres";
  public static final String SUPERUSER_PASSWORD = "test-superuser-secret";

  private final Path dir;
  private final Path data;
  private final int port;
  private final String bin;

  private PostgresServer(Path dir, int port, String bin) {
    this.dir = dir;
    this.data = dir.resolve("data");
    this.port = port;
    this.bin = bin;
  }

  /** Settings for a new server. */
  public static final class Builder {
    private final Map<String, String> settings = new LinkedHashMap<>();
    private String name = "pg";
    private Path sslCert;
    private Path sslKey;
    private Integer major;

    private Builder() {
      // loopback for the tests and the operator; the test node's address for Pods (every
      // address: the node may come up after the server)
      settings.put("listen_addresses", TestNode.enabled() ? "'*'" : "'127.0.0.1'");
      settings.put("fsync", "off");
      settings.put("synchronous_commit", "off");
      settings.put("full_page_writes", "off");
      settings.put("shared_buffers", "'32MB'");
      settings.put("max_connections", "50");
      settings.put("wal_level", "logical");
      settings.put("max_replication_slots", "10");
      settings.put("max_wal_senders", "10");
      settings.put("max_logical_replication_workers", "8");
      settings.put("max_worker_processes", "16");
      settings.put("log_min_messages", "warning");
      settings.put("password_encryption", "'scram-sha-256'");
    }

    public Builder name(String name) {
      this.name = name;
      return this;
    }

    /**
     * The server's major version (13 to 17); unset: Debian's ({@link PostgresServer#binDir()}, 15 here). Every
     * default setting above exists from 13 on (max_slot_wal_keep_size too).
     */
    public Builder major(int major) {
      if (!PostgresBinaries.SERVER_MAJORS.contains(major)) {
        throw new IllegalArgumentException("no PostgreSQL " + major + " server for the tests: "
            + PostgresBinaries.SERVER_MAJORS);
      }
      this.major = major;
      return this;
    }

    public Builder set(String key, String value) {
      settings.put(key, value);
      return this;
    }

    /** Enables TLS with the given PEM certificate and key. */
    public Builder ssl(Path cert, Path key) {
      this.sslCert = cert;
      this.sslKey = key;
      return this;
    }

    public PostgresServer start() {
      return PostgresServer.start(this);
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The PostgreSQL bin directory: $PG_BIN, or Debian's newest installed version. */
  public static String binDir() {
    var env = System.getenv("PG_BIN");
    if (env != null && !env.isBlank()) {
      return env;
    }
    try (var versions = Files.list(Path.of("/usr/lib/postgresql"))) {
      return versions
          .filter(p -> Files.isExecutable(p.resolve("bin/initdb")))
          .max(Comparator.comparingInt(p -> Integer.parseInt(p.getFileName().toString())))
          .map(p -> p.resolve("bin").toString())
          .orElseThrow(() -> new IllegalStateException("no PostgreSQL under /usr/lib/postgresql"));
    } catch (IOException e) {
      throw new UncheckedIOException("PostgreSQL server binaries not found: install postgresql", e);
    }
  }

  private static PostgresServer start(Builder b) {
    try {
      var dir = Files.createTempDirectory("pgmigrate-" + b.name + "-");
      var bin = b.major == null ? binDir() : PostgresBinaries.serverBin(b.major).toString();
      var server = new PostgresServer(dir, freePort(), bin);
      server.init(b);
      return server;
    } catch (IOException e) {
      throw new UncheckedIOException("starting PostgreSQL " + b.name, e);
    }
  }

  private void init(Builder b) throws IOException {
    var pwfile = dir.resolve("pwfile");
    Files.writeString(pwfile, SUPERUSER_PASSWORD + "\n");
    chownToPostgres(dir);
    run(List.of(
        bin + "/initdb", "-D", data.toString(), "-U", SUPERUSER, "--pwfile=" + pwfile,
        "-A", "scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"));
    var conf = new StringBuilder("\n# pgmigrate test settings\n");
    conf.append("port = ").append(port).append('\n');
    conf.append("unix_socket_directories = '").append(dir).append("'\n");
    b.settings.forEach((k, v) -> conf.append(k).append(" = ").append(v).append('\n'));
    if (b.sslCert != null) {
      Files.copy(b.sslCert, data.resolve("server.crt"));
      Files.copy(b.sslKey, data.resolve("server.key"));
      conf.append("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
    }
    Files.writeString(
        data.resolve("postgresql.conf"), conf.toString(), StandardCharsets.UTF_8,
        java.nio.file.StandardOpenOption.APPEND);
    // password logins from loopback, over TLS or not, for every user and database; replication
    // connections too (logical replication uses normal database connections)
    Files.writeString(
        data.resolve("pg_hba.conf"),
        "local all all scram-sha-256\n"
            + "host all all 127.0.0.1/32 scram-sha-256\n"
            + "host replication all 127.0.0.1/32 scram-sha-256\n"
            + (TestNode.enabled()
                ? "host all all " + TestNode.IP + "/32 scram-sha-256\n"
                    + "host all all " + TestNode.POD_CIDR + " scram-sha-256\n"
                    + "host replication all " + TestNode.POD_CIDR + " scram-sha-256\n"
                : ""));
    chownToPostgres(dir);
    if (b.sslKey != null) {
      run(List.of("chmod", "600", data.resolve("server.key").toString()), false);
    }
    run(List.of(
        bin + "/pg_ctl", "-D", data.toString(), "-l", dir.resolve("server.log").toString(),
        "-w", "-t", "60", "start"));
  }

  public int port() {
    return port;
  }

  /** The running server's major version, as it reports it. */
  public int major() {
    try (var c = connect("postgres")) {
      return c.getMetaData().getDatabaseMajorVersion();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The bin directory of this server's programs. */
  public String bin() {
    return bin;
  }

  /** The address Pods, the operator and the servers themselves use to reach this server. */
  public String host() {
    return address();
  }

  /** The test servers' address: the test node's when Pods run there, else loopback. */
  public static String address() {
    return TestNode.enabled() ? TestNode.IP : "127.0.0.1";
  }

  public Path logFile() {
    return dir.resolve("server.log");
  }

  public String jdbcUrl(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
  }

  /** A superuser connection to a database; the caller closes it. */
  public Connection connect(String database) throws SQLException {
    return connect(database, SUPERUSER, SUPERUSER_PASSWORD);
  }

  public Connection connect(String database, String user, String password) throws SQLException {
    var p = new Properties();
    p.setProperty("user", user);
    p.setProperty("password", password);
    p.setProperty("sslmode", "disable");
    return DriverManager.getConnection(jdbcUrl(database), p);
  }

  /** Runs statements as the superuser in a database. */
  public void execute(String database, String... statements) {
    try (var c = connect(database);
        var st = c.createStatement()) {
      for (var s : statements) {
        st.execute(s);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("on " + database + ": " + e.getMessage(), e);
    }
  }

  /**
   * Lets one role log in to one database from loopback without a password (for test code
   * running inside the server, such as dblink, that should not carry a password).
   */
  public void trust(String role, String database) {
    try {
      var hba = data.resolve("pg_hba.conf");
      Files.writeString(hba, "host " + database + " " + role + " 127.0.0.1/32 trust\n"
          + Files.readString(hba));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    execute("postgres", "select pg_reload_conf()");
  }

  /** Stops the server (an outage); {@link #start()} brings it back on the same port. */
  public void stop() {
    run(List.of(bin + "/pg_ctl", "-D", data.toString(), "-m", "fast", "-w", "-t", "60", "stop"));
  }

  /** Starts a stopped server again. */
  public void start() {
    run(List.of(bin + "/pg_ctl", "-D", data.toString(), "-l", logFile().toString(), "-w", "-t",
        "60", "start"));
  }

  /** Restarts the server (for settings that need it). */
  public void restart() {
    run(List.of(
        bin + "/pg_ctl", "-D", data.toString(), "-l", logFile().toString(), "-w", "-t", "60",
        "-m", "fast", "restart"));
  }

  @Override
  public void close() {
    try {
      // as the server's user: pg_ctl refuses to run as root
      run(asServerUser(List.of(bin + "/pg_ctl", "-D", data.toString(), "-m", "immediate", "-w",
          "stop")), false);
    } finally {
      deleteTree(dir);
    }
  }

  private static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  private static void chownToPostgres(Path dir) {
    if (isRoot()) {
      run(List.of("chown", "-R", "postgres:postgres", dir.toString()), true);
      run(List.of("chmod", "700", dir.toString()), true);
    }
  }

  private static void run(List<String> command) {
    run(asServerUser(command), true);
  }

  private static List<String> asServerUser(List<String> command) {
    if (!isRoot()) {
      return command;
    }
    var wrapped = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
    wrapped.addAll(command);
    return wrapped;
  }

  private static void run(List<String> command, boolean check) {
    try {
      var p = new ProcessBuilder(command).redirectErrorStream(true).start();
      var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("timed out: " + command);
      }
      if (check && p.exitValue() != 0) {
        throw new IllegalStateException(
            "failed (" + p.exitValue() + "): " + String.join(" ", command) + "\n" + out);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static int freePort() throws IOException {
    try (var s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static void deleteTree(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // best effort: a leftover temp dir is harmless
    }
  }
}
