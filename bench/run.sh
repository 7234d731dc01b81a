#!/usr/bin/env bash
# The benchmark (not part of the tests): on this machine, one run, the same servers for all:
# the operator's dump method at jobs 1 and jobs N, pgcopydb clone, a plain pg_dump | pg_restore
# pipe, and the raw parallel-COPY bound; the same for a database that is one huge table, with
# and without splitting it (BENCH_HUGE_MB, default 1500; BENCH_SPLIT, default 256Mi);
# continuous replication (initial copy, lag p50/p99 under a pgbench load, cutover); and the
# operator's cost with many PgMigrations. BENCH_SCALE (default 30) sets the pgbench scale,
# BENCH_ROUNDS (default 3) how often each dump method runs (interleaved; the table shows
# medians). BENCH_PARTS (default huge,continuous,scale) picks what runs after the dump
# comparison. Prints a table; writes bench/results/latest.json. Needs root, like the tests.
# BENCH_MAIN=ContinuousLoad runs only continuous replication under pgbench at the highest rate the
# source sustains (ContinuousLoad's BENCH_* settings) and writes bench/results/continuous-latest.json.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-prerequisites.sh
# the peer a user would pick for a one-time copy: Debian's pgcopydb (0.10 in bookworm)
if ! command -v pgcopydb >/dev/null; then
  apt-get install -y -qq --no-install-recommends pgcopydb >/dev/null
fi
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
bash tools/kube-binaries/build.sh etcd kube-apiserver kubectl
mvn -B -q -pl operator -am -DskipTests -DskipITs install
mvn -B -q -e -pl operator exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=io.pgmigrate.operator.bench."${BENCH_MAIN:-Benchmark}" \
  -Dpgmigrate.repoRoot="$PWD" -Dpgmigrate.postgresBinaries="$PWD/operator/target/postgres-binaries" \
  -Dlogback.configurationFile="${BENCH_LOGBACK:-$PWD/demo/logback.xml}"
