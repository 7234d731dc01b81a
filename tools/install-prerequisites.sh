#!/usr/bin/env bash
# Installs, from Debian's packages, whatever the tests, the demo and the benchmark need and the
# machine lacks: PostgreSQL's server binaries, openssl, Maven, a JDK, Go and git.
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
