#!/usr/bin/env bash
# What the continuous method's two schema passes do to the initial copy and to catch-up apply:
# the same rows loaded and the same changes applied into a table with only its primary key
# (what the target has during the initial copy now) and into one with three more indexes (what
# it had before, when the whole schema came first). Runs against a server you give it, e.g.
#   PGHOST=/tmp/pg PGPORT=5432 PGUSER=postgres bash bench/schema-passes.sh
# It creates and drops the database bench_schema_passes. Prints seconds per step.
set -euo pipefail
ROWS=${ROWS:-1000000}
UPDATES=${UPDATES:-100000}
psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS bench_schema_passes" \
  -c "CREATE DATABASE bench_schema_passes"
run() { PGOPTIONS="-c client_min_messages=warning" psql -Xq -d bench_schema_passes -v ON_ERROR_STOP=1 "$@"; }
secs() { local t0=$EPOCHREALTIME; "$@" > /dev/null; awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }'; }
run -c "CREATE TABLE src AS SELECT g AS id, md5(g::text) AS a, g % 1000 AS b, now() AS c
         FROM generate_series(1, $ROWS) g"
run -c "\\copy src TO '/tmp/bench_schema_passes.copy'"
for shape in "primary key only" "primary key + 3 indexes"; do
  run -c "DROP TABLE IF EXISTS t" -c "CREATE TABLE t (id int PRIMARY KEY, a text, b int, c timestamptz)"
  if [ "$shape" != "primary key only" ]; then
    run -c "CREATE INDEX t_a ON t (a)" -c "CREATE INDEX t_b ON t (b)" -c "CREATE INDEX t_c ON t (c, b)"
  fi
  copy=$(secs run -c "\\copy t FROM '/tmp/bench_schema_passes.copy'")
  run -c "VACUUM ANALYZE t"
  # what an apply worker does during catch-up: one row at a time, found by primary key
  apply=$(secs run -c "DO \$\$ BEGIN FOR i IN 1..$UPDATES LOOP
      UPDATE t SET a = md5(a), b = b + 1 WHERE id = (i * 7919) % $ROWS + 1; END LOOP; END \$\$")
  printf '%-26s initial copy of %d rows: %6.2f s   %d single-row updates: %6.2f s\n' \
    "$shape" "$ROWS" "$copy" "$UPDATES" "$apply"
done
# the price of the second pass: the three indexes built once the copy is done
run -c "DROP INDEX t_a, t_b, t_c"
build=$(secs run -c "CREATE INDEX t_a ON t (a)" -c "CREATE INDEX t_b ON t (b)" -c "CREATE INDEX t_c ON t (c, b)")
printf '%-26s building the 3 indexes after the copy: %6.2f s\n' "post-data pass" "$build"
rm -f /tmp/bench_schema_passes.copy
psql -Xq -d postgres -c "DROP DATABASE bench_schema_passes"
