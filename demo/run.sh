#!/usr/bin/env bash
# One-command demo on this machine (no cluster, no Docker): a local kube-apiserver + etcd built
# from the Kubernetes Go modules, two local PostgreSQL servers with sample data, the operator,
# and the test kubelet that runs the schema-copy Pods' commands locally. Applies a continuous
# PgMigration, shows `kubectl get pgmigrations` moving to Syncing, cuts over to Ready, compares
# the data, and cleans up. Needs root (initdb runs as the postgres user; the kubelet mounts
# volumes); it installs Java, Maven, Go and Debian's PostgreSQL when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
t=$SECONDS
bash tools/install-prerequisites.sh
echo "== prerequisites: $((SECONDS - t)) s"; t=$SECONDS
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
bash tools/kube-binaries/build.sh etcd kube-apiserver kubectl
echo "== kube binaries: $((SECONDS - t)) s"; t=$SECONDS
mvn -B -q -pl operator -am -DskipTests -DskipITs install
echo "== operator build: $((SECONDS - t)) s"; t=$SECONDS
mvn -B -q -pl operator exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=io.pgmigrate.operator.demo.Demo -Dpgmigrate.repoRoot="$PWD" \
  -Dlogback.configurationFile="$PWD/demo/logback.xml"
echo "== demo: $((SECONDS - t)) s"
