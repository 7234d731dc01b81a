# The script every dump Pod runs (bash -c). It names no database, host or credential: those come
# from the environment (passwords from Secret references). SQL gets values only as psql variables
# (:'name' quotes them) and identifiers only as the server's format('%I') made them.
#
# A data copy reads in one snapshot that a session on the source exports and holds.
# JOBS = 1 streams pg_dump's custom format, in that snapshot, into pg_restore.
# JOBS > 1 copies the tables of PARALLEL_MIN_BYTES or more with JOBS parallel COPY streams
# (source to target, nothing on disk), all reading the snapshot, so the copy is as consistent
# as a single pg_dump; a table larger than SPLIT_MIN_BYTES (when set) goes in parts, ranges of
# its pages, over several streams; pg_dump, in the same snapshot, carries the schema, the
# smaller tables, sequences and large objects; indexes and constraints are built afterwards
# with JOBS parallel jobs, and the target's tables analyzed.
# Then it counts every table's rows on the source in the snapshot and on the target (a
# streamed table there by what its COPY wrote; with VERIFY=digests every table is read, for a
# digest of its rows too), and exits with VERIFICATION_FAILED when they differ: the counts of
# a live source match only there.
# The continuous method's schema copies (SCHEMA_PASS pre, post, cutover) are described below.
set -euo pipefail
# PID 1 of its container ignores SIGTERM unless it handles it: a deleted or evicted Pod would
# copy on until its grace period ends. So the work runs again as a job of its own (a process
# group), and SIGTERM stops that whole group: every psql and pg_dump, whose sessions then end
# on both servers. The job's exit code is the Pod's.
if [ -z "${PGMIGRATE_JOB:-}" ]; then
  set -m
  PGMIGRATE_JOB=1 bash -c "$BASH_EXECUTION_STRING" bash &
  job=$!
  set +m
  trap 'kill -TERM -- "-$job" 2>/dev/null; wait "$job"; exit 143' TERM INT
  wait "$job"
  exit $?
fi
src() {
  PGHOST="$SRC_HOST" PGPORT="$SRC_PORT" PGUSER="$SRC_USER" PGPASSWORD="$SRC_PASSWORD" \
  PGSSLMODE="$SRC_SSLMODE" PGSSLROOTCERT="${SRC_SSLROOTCERT:-}" PGDATABASE="$DATABASE" \
  PGAPPNAME="${APPNAME:-pgmigrate-dump}" "$@"
}
dst() {
  PGHOST="$DST_HOST" PGPORT="$DST_PORT" PGUSER="$DST_USER" PGPASSWORD="$DST_PASSWORD" \
  PGSSLMODE="$DST_SSLMODE" PGSSLROOTCERT="${DST_SSLROOTCERT:-}" \
  PGOPTIONS="-c maintenance_work_mem=${RESTORE_MAINTENANCE_WORK_MEM:-256MB} $DST_SESSION" \
  PGAPPNAME=pgmigrate-restore "$@"
}
# on the target (a current version): no timeouts, writes not waiting for the WAL flush, and
# values read as the source's sessions write them (dates, intervals, qualified object
# references, XML content as pg_restore reads it)
DST_SESSION="-c synchronous_commit=off -c statement_timeout=0 -c lock_timeout=0"
DST_SESSION+=" -c idle_in_transaction_session_timeout=0 -c datestyle=ISO -c intervalstyle=postgres"
DST_SESSION+=" -c search_path=pg_catalog -c xmloption=content"
export DST_SESSION
read -r -a restore_flags <<< "${RESTORE_FLAGS:-}"
read -r -a dump_flags <<< "${DUMP_FLAGS:-}"
# the exit status when the row counts differ (no tool this script runs exits with it): the
# operator fails the migration instead of retrying (DumpPods.VERIFICATION_FAILED_EXIT_CODE)
VERIFICATION_FAILED=4

# restore_pre_data ARCHIVE [PG_RESTORE_ARGS...]: the archive's pre-data section (ARCHIVE - is
# standard input), restored on the target through its SQL text, without the column option
# that servers manage themselves: from PostgreSQL 15.20 on every column carries pg_attver,
# which the server sets and ignores when a user sets it; pg_dump 15.20 leaves it out, other
# versions write ALTER TABLE ... ALTER COLUMN ... SET (pg_attver=N), which older servers
# reject. Every other column option is kept.
restore_pre_data() {
  local archive=()
  [ "$1" = - ] || archive=("$1")
  shift
  pg_restore "${restore_flags[@]}" --section=pre-data "$@" --file=- "${archive[@]}" \
    | LC_ALL=C sed -E '/^ALTER [A-Z ]+ .+ ALTER COLUMN .+ SET \(.*\);$/ {
        s/ SET \(pg_attver=[0-9]+, / SET (/
        s/, pg_attver=[0-9]+([,)])/\1/
        / SET \(pg_attver=[0-9]+\);$/d
      }' \
    | dst psql -Xq -v ON_ERROR_STOP=1 --dbname="$DST_DBNAME" > /dev/null
}

# analyze_target: planner statistics for the copied tables, so that the first queries on the
# target after the cutover are planned on them rather than on none (pg_restore and logical
# replication leave none; autovacuum gathers them only later). Statistics only: a failure is
# reported and changes nothing of the copy. Not for the continuous method: there the apply
# writes on meanwhile (an ANALYZE then miscounts the rows the statistics hold, which status
# reports), and autovacuum analyzes the tables the initial copy filled long before a cutover.
# With JOBS > 1 each streamed table was analyzed right after its COPY, in the background
# (while the streams copy on: the benchmark's one ANALYZE at the end took 1.3 to 2.4 s of a
# 12 s copy of 700 MB; see copy_table), and rest_data analyzed the tables pg_dump carried;
# this analyzes, JOBS at a time, the tables never analyzed that have no statistics (split and
# partitioned tables, inheritance parents, materialized views) and those with an expression
# index, whose statistics exist only once the index does.
# ANALYZE=false (dump.analyze) gathers none: the user's choice, to shorten the copy; autovacuum
# analyzes the loaded tables later.
analyzing() { [ "${ANALYZE:-true}" != false ]; }
# analyze_sql KINDS CONDITION: a query whose rows are the ANALYZE statements of the target's
# tables of those relkinds (a SQL list), not temporary, not in a system schema, that meet
# CONDITION (SQL on n and c)
analyze_sql() {
  printf '%s\n' "SELECT pg_catalog.format('ANALYZE %I.%I', n.nspname, c.relname)
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ($1) AND c.relpersistence <> 't'
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
   AND $2"
}
analyze_target() {
  local analyzed=false
  if ! analyzing; then
    echo "left the target's planner statistics to autovacuum or ANALYZE (dump.analyze: false)"
    return
  elif [ "$JOBS" -gt 1 ]; then
    if printf '%s;\n' "$(analyze_sql "'r', 'm', 'p'" "((NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stats s
                      WHERE s.schemaname = n.nspname AND s.tablename = c.relname)
         AND pg_catalog.pg_stat_get_last_analyze_time(c.oid) IS NULL)
        OR EXISTS (SELECT 1 FROM pg_catalog.pg_index i
                    WHERE i.indrelid = c.oid AND i.indexprs IS NOT NULL))")" \
        | dst psql -XAtq -z -0 -v ON_ERROR_STOP=1 --dbname="$DST_DBNAME" > "$work/analyze" \
        && xargs -0 -r -n 1 -P "$JOBS" bash -c 'set -euo pipefail; dst psql -XAtq -v ON_ERROR_STOP=1 --dbname="$DST_DBNAME" -c "$0"' < "$work/analyze" 2>&1; then
      analyzed=true
    fi
  elif dst psql -XAtq -v ON_ERROR_STOP=1 --dbname="$DST_DBNAME" -c "ANALYZE" 2>&1; then
    analyzed=true
  fi
  if [ "$analyzed" = true ]; then
    echo "analyzed the target's tables"
  else
    echo "could not analyze the target's tables (the copy is complete; run ANALYZE there)"
  fi
}

# SCHEMA_PASS=cutover (the continuous method, once the target confirmed the cutover position
# and replication is removed): what logical replication does not carry. Unlogged tables are
# emptied and copied; large objects (with their comments and privileges) are dropped where a
# previous attempt left them and restored. Repeatable.
if [ "${SCHEMA_PASS:-}" = cutover ]; then
  work=$(mktemp -d /tmp/cutover.XXXXXX)
  PGCLIENTENCODING=$(src psql -XAtq -c "SHOW server_encoding")
  export PGCLIENTENCODING
  generated=""
  if [ "$(src psql -XAtq -c "SHOW server_version_num")" -ge 120000 ]; then
    generated="AND a.attgenerated = ''"
  fi
  # name and columns (stored ones only) of each unlogged table, NUL-separated
  readarray -d '' -t unlogged < <(src psql -XAtq -v ON_ERROR_STOP=1 -z -0 -v generated="$generated" <<'SQL'
SELECT pg_catalog.format('%I.%I', n.nspname, c.relname),
       pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum)
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
 WHERE c.relkind = 'r' AND c.relpersistence = 'u'
   AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
   AND a.attnum > 0 AND NOT a.attisdropped :generated
 GROUP BY n.nspname, c.relname;
SQL
  )
  for ((i = 0; i + 1 < ${#unlogged[@]}; i += 2)); do
    table="${unlogged[i]}"
    columns="${unlogged[i + 1]}"
    src psql -XAtq -v ON_ERROR_STOP=1 -c "COPY $table ($columns) TO STDOUT" \
      | dst psql -XAtq -v ON_ERROR_STOP=1 --dbname="$DST_DBNAME" -c "BEGIN" \
          -c "TRUNCATE ONLY $table" -c "COPY $table ($columns) FROM STDIN" -c "COMMIT"
    echo "copied unlogged table $table"
  done
  if [ "$(src psql -XAtq -c "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_largeobject_metadata)")" = t ]; then
    src pg_dump --format=custom --compress=0 --data-only --blobs --exclude-table-data='*.*' \
      --file="$work/lo.dump"
    # the archive holds sequence values too: the cutover sets those itself
    pg_restore --list "$work/lo.dump" | grep -v ' SEQUENCE SET ' > "$work/lo.list" || true
    dst pg_restore --exit-on-error "${restore_flags[@]}" --clean --if-exists \
      --use-list="$work/lo.list" --dbname="$DST_DBNAME" "$work/lo.dump"
    echo "copied large objects"
  fi
  rm -rf "$work"
  echo "done"
  exit 0
fi

# SCHEMA_PASS (the continuous method's schema, around the subscription's initial copy):
#   pre:  pre-data (types, tables, functions, ...) and what replication needs to find rows on the
#         target: primary keys and replica identity indexes;
#   post: the rest of post-data once every table is synchronised (other indexes, constraints
#         that the source's own rows may violate, such as NOT VALID ones, foreign keys,
#         triggers, rules, materialized views' contents); repeatable (--clean --if-exists).
# Large objects are not part of either: the cutover copies them.
if [ -n "${SCHEMA_PASS:-}" ]; then
  work=$(mktemp -d /tmp/schema.XXXXXX)
  src pg_dump --format=custom --compress=0 --section=pre-data --section=post-data --no-blobs \
    --file="$work/schema.dump"
  # the publications of continuous migrations (ours included, once it exists) stay behind: on
  # the target, a FOR ALL TABLES publication makes UPDATE and DELETE fail on tables without key
  pg_restore --list "$work/schema.dump" \
    | awk '!($4 == "PUBLICATION" && $6 ~ /^pgmigrate_/)' > "$work/all.list"
  # "catalog oid" of the identity constraints and indexes, as the archive's list names them
  src psql -XAtq -v ON_ERROR_STOP=1 > "$work/identity" <<'SQL'
SELECT '2606 ' || c.oid FROM pg_catalog.pg_constraint c
  JOIN pg_catalog.pg_index i ON i.indexrelid = c.conindid
 WHERE c.contype = 'p' OR i.indisreplident
UNION ALL
SELECT '1259 ' || i.indexrelid FROM pg_catalog.pg_index i WHERE i.indisreplident;
SQL
  # list lines: "dumpId; catalog oid TYPE schema name owner"; ';' starts a comment
  awk 'NR == FNR { ids[$0] = 1; next } /^[^;]/ && (($2 " " $3) in ids)' \
    "$work/identity" "$work/all.list" > "$work/identity.list"
  if [ "$SCHEMA_PASS" = pre ]; then
    echo "copying the schema before the initial copy: pre-data, $(wc -l < "$work/identity.list") primary key(s) and replica identity index(es)"
    restore_pre_data "$work/schema.dump" --use-list="$work/all.list"
    dst pg_restore --exit-on-error "${restore_flags[@]}" --use-list="$work/identity.list" \
      --dbname="$DST_DBNAME" "$work/schema.dump"
  else
    awk 'NR == FNR { ids[$0] = 1; next } /^[^;]/ && (($2 " " $3) in ids) { next } { print }' \
      "$work/identity" "$work/all.list" > "$work/rest.list"
    echo "copying the rest of the schema after the initial copy: indexes, constraints, triggers"
    dst pg_restore --exit-on-error "${restore_flags[@]}" --section=post-data --clean --if-exists \
      --use-list="$work/rest.list" --dbname="$DST_DBNAME" "$work/schema.dump"
  fi
  rm -rf "$work"
  echo "done"
  exit 0
fi

# What pg_dump sets in its own sessions, set in ours on the source (where each exists: any
# version): no timeout may end a long COPY or the idle transaction that holds the snapshot;
# row security must fail loudly rather than silently filter rows; text output must be exact
# (floats) and read back the same on the target (dates, intervals, and object references,
# which an empty search_path writes schema-qualified).
SESSION_SQL="SELECT pg_catalog.count(pg_catalog.set_config(name, setting, false)) AS settings
  FROM (VALUES ('statement_timeout', '0'), ('lock_timeout', '0'),
               ('idle_in_transaction_session_timeout', '0'), ('row_security', 'off'),
               ('transaction_timeout', '0'), ('extra_float_digits', '3'), ('datestyle', 'ISO'),
               ('intervalstyle', 'postgres'), ('search_path', ''))
       AS v (name, setting)
 WHERE name IN (SELECT pg_catalog.lower(name) FROM pg_catalog.pg_settings) \\gset"
export SESSION_SQL

# copy_table OID[:FIRST:END]: copies one table's rows, reading in the exported snapshot, into
# the target table, emptied and filled in one transaction (frozen, so the target needs no
# vacuum to set hint bits or freeze). The TRUNCATE only ever empties what this script wrote:
# the table was created moments before by the pre-data restore, which stops at any table that
# already existed on the target; within the script it lets the text retry start clean.
# With FIRST:END, only the rows in pages FIRST to END - 1 (END empty: to the last page), one
# part of a table split across streams (SPLIT_MIN_BYTES): appended in a transaction of its
# own, neither emptied nor frozen, since the other parts write the same table meanwhile; a
# part the target failed committed nothing, so the text retry needs no emptying. When the
# source's side fails instead, the target may have committed the rows that arrived before (a
# COPY stream may end after any row): a retry would append them twice, so the Pod fails, and
# the operator starts it over on an empty database.
# The rows the target's COPY reports it wrote are recorded (copied/ITEM: the table's name as
# count_sql prints it, a tab, the rows), the target's side of the verification for this table
# (see count_target).
# Binary when both servers are of one major version, unless a column holds (directly, in an
# array, domain or composite) an object reference such as regclass: binary carries those as
# the source's OIDs, which mean other objects or none on the target. Text otherwise, and when
# a column's type has no binary form.
copy_table() {
  local parts format oid first="" end="" what copied rc=0
  IFS=: read -r oid first end <<< "$1"
  readarray -d '' -t parts < <(src psql -XAtq -z -v ON_ERROR_STOP=1 -v oid="$oid" -v generated="$GENERATED" -v table_key="$TABLE_KEY" <<'SQL'
WITH RECURSIVE types (oid) AS (
  SELECT a.atttypid FROM pg_catalog.pg_attribute a
   WHERE a.attrelid = :'oid' AND a.attnum > 0 AND NOT a.attisdropped
  UNION
  SELECT u.oid FROM types s JOIN pg_catalog.pg_type t ON t.oid = s.oid,
         LATERAL (SELECT t.typbasetype UNION ALL SELECT t.typelem
                  UNION ALL SELECT m.atttypid FROM pg_catalog.pg_attribute m
                             WHERE m.attrelid = t.typrelid AND m.attnum > 0) AS u (oid)
   WHERE u.oid <> 0)
SELECT pg_catalog.format('%I.%I', n.nspname, c.relname),
       pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum),
       (SELECT pg_catalog.count(*) FROM types s JOIN pg_catalog.pg_type t ON t.oid = s.oid
         WHERE t.typname LIKE 'reg%' AND t.typnamespace =
               (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'pg_catalog')),
       :table_key, c.relhassubclass
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
 WHERE c.oid = :'oid' AND a.attnum > 0 AND NOT a.attisdropped :generated
 GROUP BY n.nspname, c.relname, c.relhassubclass;
SQL
  )
  if [ "${#parts[@]}" -ne 5 ]; then
    echo "could not read the columns of table $oid on the source" >&2
    exit 255
  fi
  format="$COPY_FORMAT"
  if [ "${parts[2]}" != 0 ]; then
    format=text
  fi
  what="${parts[0]}"
  if [ -n "$first" ]; then
    what+=" pages $first-${end:-end}"
  fi
  copied=$(copy_rows "${parts[0]}" "${parts[1]}" "$format" "$first" "$end" "${1//:/-}") || rc=$?
  if [ "$rc" = 3 ] && [ -n "$first" ]; then
    echo "copying $what: the source's side failed after the target committed rows of this part" >&2
    exit 255
  fi
  if [ "$rc" != 0 ]; then
    # exit 255 stops xargs
    [ "$format" = binary ] || exit 255
    format="text: binary copy failed"
    copied=$(copy_rows "${parts[0]}" "${parts[1]}" text "$first" "$end" "${1//:/-}") || exit 255
  fi
  printf '%s\t%s\n' "${parts[3]%$'\n'}" "$copied" > "$WORK/copied/${1//:/-}"
  echo "copied $what ($format)"
  # its statistics now, in the background: this stream goes on to its next table meanwhile,
  # and the last tables' ANALYZE overlaps the index builds rather than delaying them (see
  # analyze_target; an index build on the table waits for its ANALYZE). One ANALYZE per
  # stream at a time (xargs' slot SLOT): the next waits for its lock before it connects, so
  # the target sees at most JOBS of them however fast the COPYs end. The shared lock on
  # analyzing.lock, held until the ANALYZE ends, is what the script waits for before
  # analyze_target. A split table's parts end at different times, and an inheritance
  # parent's statistics cover its children, which other streams may still fill:
  # analyze_target does those.
  if [ -z "$first" ] && [ "${parts[4]%$'\n'}" = f ] && analyzing; then
    local lock
    exec {lock}<"$WORK/analyzing.lock"
    flock -s "$lock"
    (
      exec {slot}>"$WORK/analyzing.${SLOT:-0}"
      flock "$slot"
      dst psql -XAtq --dbname="$DST_DBNAME" -c "ANALYZE ${parts[0]}" 2>&1 \
        || echo "could not analyze ${parts[0]} (analyzed again at the end)"
    ) &
  fi
}
# copy_rows TABLE COLUMNS FORMAT FIRST END ITEM: see copy_table; prints the rows the target's
# COPY wrote (psql's ROW_COUNT, the count in the COPY command's tag), once they are committed.
# A whole table's source side records the rows its COPY read in the snapshot (its tag) in
# sent/ITEM: where the two agree, count_source need not count that table again. (psql sets
# ROW_COUNT after a COPY TO STDOUT only when \g names where its rows go; any other value it
# might record only costs that table's count(*) on the source.) Exits with 3 when the source's
# side failed and the target's committed. Called only where a failure does not end the script
# (a condition, or ||), so each side's exit status can be read.
copy_rows() {
  local select="COPY :table (:columns) TO STDOUT (FORMAT :format) \\g /dev/stdout"
  local into=(-c "TRUNCATE ONLY $1" -c "COPY $1 ($2) FROM STDIN (FORMAT $3, FREEZE)"
    -c '\set copied :ROW_COUNT')
  if [ -n "${4:-}" ]; then
    select="COPY (SELECT :columns FROM ONLY :table WHERE ctid >= :'first'::pg_catalog.tid"
    if [ -n "${5:-}" ]; then
      select+=" AND ctid < :'end'::pg_catalog.tid"
    fi
    select+=") TO STDOUT (FORMAT :format);"
    into=(-c "COPY $1 ($2) FROM STDIN (FORMAT $3)" -c '\set copied :ROW_COUNT')
  else
    # run in sent/, so the file's name is a plain word whatever the scratch path holds
    select+=$'\n\\o '"$6"$'\n\\qecho :ROW_COUNT\n\\o'
  fi
  # -q matters on the source: with \g, psql would print the COPY's status line to stdout, into
  # the target's input
  { printf '%s\n' "$SESSION_SQL"; cat; printf '%s\n' "$select" "COMMIT;"; } <<'SQL' \
    | (cd "$WORK/sent" && src psql -XAtq -v ON_ERROR_STOP=1 -v snapshot="$SNAPSHOT" -v table="$1" \
      -v columns="$2" -v format="$3" -v first="(${4:-0},0)" -v end="(${5:-0},0)") \
    | dst psql -XAtq -v ON_ERROR_STOP=1 --dbname="$DST_DBNAME" -c "BEGIN" "${into[@]}" -c "COMMIT" \
      -c '\echo :copied'
BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;
SET TRANSACTION SNAPSHOT :'snapshot';
SQL
  local sides=("${PIPESTATUS[@]}")
  if [ "${sides[2]}" = 0 ] && { [ "${sides[0]}" != 0 ] || [ "${sides[1]}" != 0 ]; }; then
    echo "the source's side of the COPY of $1 failed after the target committed what arrived" >&2
    return 3
  fi
  [ "${sides[2]}" = 0 ]
}
export -f src dst copy_table copy_rows analyzing

# a table's name as the counts print it (in SQL on n, its pg_namespace row, and c, its pg_class
# row): schema and name as JSON strings, which hold no tab or newline whatever the name holds
export TABLE_KEY="pg_catalog.to_json(n.nspname)::text || '.' || pg_catalog.to_json(c.relname)::text"
# under_hash VERSION: whether the table c lies under a hash-partitioned table (SQL)
under_hash() {
  if [ "$1" -ge 110000 ]; then
    printf '%s\n' "EXISTS (
      WITH RECURSIVE up (relid) AS (
        SELECT i.inhparent FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid
        UNION
        SELECT i.inhparent FROM pg_catalog.pg_inherits i JOIN up ON i.inhrelid = up.relid)
      SELECT 1 FROM up JOIN pg_catalog.pg_partitioned_table p ON p.partrelid = up.relid
       WHERE p.partstrat = 'h')"
  else
    printf '%s\n' false
  fi
}
# counted_tables VERSION: FROM and WHERE of the tables whose rows are counted on a server of
# that version: plain tables, each without its inheritance children, and a hash-partitioned
# table whole instead of by partition (rows keyed on an enum, whose values hash by OID, land
# in other partitions on the target, correctly, since pg_dump loads them through the
# partitioned table); no temporary tables, no system schemas
counted_tables() {
  local hash_root=false under_hash
  under_hash=$(under_hash "$1")
  if [ "$1" -ge 110000 ]; then
    hash_root="(c.relkind = 'p' AND EXISTS (SELECT 1 FROM pg_catalog.pg_partitioned_table p
                 WHERE p.partrelid = c.oid AND p.partstrat = 'h'))"
  fi
  cat <<SQL
FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE (c.relkind = 'r' OR $hash_root) AND c.relpersistence <> 't'
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\\_toast%'
   AND NOT $under_hash
SQL
}
# count_sql VERSION [CONDITION]: psql input printing one line per counted table: its TABLE_KEY,
# a tab, the exact row count; CONDITION (AND ..., on n and c) leaves tables out
count_sql() {
  printf '%s\n' "SELECT pg_catalog.format('SELECT %L || %L || pg_catalog.count(*) FROM %s%I.%I',
         $TABLE_KEY,
         E'\\t', CASE c.relkind WHEN 'p' THEN '' ELSE 'ONLY ' END, n.nspname, c.relname)
  $(counted_tables "$1")
  ${2:-} \\gexec"
}
# VERIFY=digests: besides its row count, each counted table gets a digest of its rows: the sum
# of a 64-bit hash of each row's text, which no row order changes, computed on both sides by
# JOBS sessions at a time (on the source in the snapshot). hashtextextended is the function
# hash partitioning relies on, so it hashes the same bytes alike on every major version; the
# settings make a row's text the same bytes on both servers whatever their own defaults are.
digests() { [ "${VERIFY:-counts}" = digests ]; }
DIGEST_SQL="SELECT pg_catalog.count(pg_catalog.set_config(name, setting, false)) AS settings
  FROM (VALUES ('statement_timeout', '0'), ('lock_timeout', '0'),
               ('idle_in_transaction_session_timeout', '0'), ('transaction_timeout', '0'),
               ('row_security', 'off'), ('extra_float_digits', '3'), ('datestyle', 'ISO'),
               ('intervalstyle', 'postgres'), ('timezone', 'UTC'), ('bytea_output', 'hex'),
               ('lc_monetary', 'C'), ('search_path', ''))
       AS v (name, setting)
 WHERE name IN (SELECT pg_catalog.lower(name) FROM pg_catalog.pg_settings) \\gset"
export DIGEST_SQL
# digest_queries VERSION: psql input printing, NUL-separated, one query per counted table whose
# result is the line count_sql prints, with the digest after the count
digest_queries() {
  printf '%s\n' "\\pset recordsep_zero" \
    "SELECT pg_catalog.format('SELECT %L || %L || pg_catalog.count(*) || '' '' || COALESCE(pg_catalog.sum(pg_catalog.hashtextextended(ROW(pgmigrate_row.*)::pg_catalog.text, 0)), 0) FROM %s%I.%I AS pgmigrate_row',
         $TABLE_KEY,
         E'\\t', CASE c.relkind WHEN 'p' THEN '' ELSE 'ONLY ' END, n.nspname, c.relname)
  $(counted_tables "$1");"
}
# digest_table SIDE QUERY: runs one of digest_queries' queries on the source (src, in the
# snapshot) or the target (dst)
digest_table() {
  local in=(-c "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
  if [ "$1" = src ]; then
    in+=(-c "SET TRANSACTION SNAPSHOT '$SNAPSHOT'")
    printf '%s\n%s;\n' "$DIGEST_SQL" "$2" | src psql -XAtq -v ON_ERROR_STOP=1 "${in[@]}" -f -
  else
    printf '%s\n%s;\n' "$DIGEST_SQL" "$2" | dst psql -XAtq -v ON_ERROR_STOP=1 --dbname="$DST_DBNAME" -f -
  fi
}
export -f digest_table
# digest_side SIDE VERSION OUT: every table's line of SIDE into OUT, JOBS at a time
digest_side() {
  local queries="$work/$1.queries"
  if [ "$1" = src ]; then
    { printf '%s\n' "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;" \
        "SET TRANSACTION SNAPSHOT :'snapshot';"; digest_queries "$2"; } \
      | src psql -XAtq -v ON_ERROR_STOP=1 -v snapshot="$SNAPSHOT" > "$queries"
  else
    digest_queries "$2" | dst psql -XAtq -v ON_ERROR_STOP=1 --dbname="$DST_DBNAME" > "$queries"
  fi
  : > "$3"
  xargs -0 -r -n 1 -P "$JOBS" bash -c 'set -euo pipefail; digest_table "$0" "$1"' "$1" \
    < "$queries" >> "$3"
}
# hold_snapshot: starts the session on the source (pgmigrate-snapshot in pg_stat_activity)
# whose transaction exports the snapshot, SNAPSHOT, and holds it until the source's rows are
# counted. It locks the tables to count, as pg_dump locks what it dumps: a TRUNCATE or a
# table rewrite is not MVCC-safe, and the snapshot would see such a table empty afterwards.
# Its pipes are copied to to_holder and from_holder, which stay open when it exits.
hold_snapshot() {
  coproc holder {
    APPNAME=pgmigrate-snapshot src psql -XAtq -v ON_ERROR_STOP=1 \
      -v min_bytes="${PARALLEL_MIN_BYTES:-1048576}" -v tables_file="$work/tables" \
      -v counts_file="$work/source.counts"
  }
  holder_pid=$holder_PID
  exec {to_holder}>&"${holder[1]}" {from_holder}<&"${holder[0]}"
  printf '%s\n' "$SESSION_SQL" \
    "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;" \
    "SELECT pg_catalog.pg_export_snapshot();" \
    "SELECT pg_catalog.format('LOCK TABLE %I.%I IN ACCESS SHARE MODE', n.nspname, c.relname)" \
    "$(counted_tables "$source_version") \\gexec" "\\echo locked" >&"$to_holder"
  if ! IFS= read -r -t 300 SNAPSHOT <&"$from_holder"; then
    echo "could not export a snapshot on the source" >&2
    exit 1
  fi
  export SNAPSHOT
  # waits, as pg_dump does, while another session holds an exclusive lock on one of the tables
  if ! IFS= read -r locked <&"$from_holder" || [ "$locked" != locked ]; then
    echo "could not lock the tables to copy on the source" >&2
    exit 1
  fi
}
# count_source: the holder counts the source's rows in its snapshot, into source.counts, then
# ends the snapshot (the source's vacuum is held back no longer), while the script goes on.
# A streamed table (whole, not split) whose COPY read on the source as many rows as the
# target's COPY wrote, both by their servers' own tags, is not read again: its source line
# (in sent.counts) is that number. The parts of a split table are counted whole, so a page
# range no part covered would show.
count_source() {
  if digests; then
    digest_side src "$source_version" "$work/source.counts" &
    source_digests=$!
    return
  fi
  local item name n sent skip=""
  : > "$work/sent.counts"
  for item in "${items[@]}"; do
    [[ "$item" =~ ^[0-9]+$ ]] && [ "${listed[$item]:-}" = t ] && [ -s "$work/sent/$item" ] \
      || continue
    IFS=$'\t' read -r name n < "$work/copied/$item"
    IFS= read -r sent < "$work/sent/$item"
    if [ "$sent" = "$n" ]; then
      printf '%s\t%s\n' "$name" "$n" >> "$work/sent.counts"
      skip+="${skip:+, }$item"
    fi
  done
  printf '%s\n' "\\pset recordsep '\\n'" "\\o :counts_file" \
    "$(count_sql "$source_version" "${skip:+AND c.oid NOT IN ($skip)}")" \
    "\\o" "COMMIT;" "\\echo counted" >&"$to_holder"
}
# rest_data (JOBS > 1, while the streams copy): restores the rows of the tables pg_dump
# carried, which are then all there: it counts them (with VERIFY=counts; rest.counts) and
# analyzes them now, in one session, rather than after the index builds. It also records
# whether the target database has an enabled event trigger (triggers) and how many
# hash-partitioned tables are counted whole (roots): see count_target. Inheritance parents
# are left to analyze_target: their statistics cover their children's rows.
rest_data() {
  dst pg_restore --exit-on-error "${restore_flags[@]}" --section=data --dbname="$DST_DBNAME" \
    "$work/rest.dump"
  local name streamed_table="NOT EXISTS (SELECT 1 FROM pg_temp.pgmigrate_streamed s
      WHERE s.name = $TABLE_KEY)"
  {
    # the streamed tables' names, given to the session as COPY data (any number of them;
    # text format: a name's backslashes doubled)
    printf '%s\n' "CREATE TEMPORARY TABLE pgmigrate_streamed (name text);" \
      "COPY pg_temp.pgmigrate_streamed FROM STDIN;"
    for name in "${streamed[@]}"; do
      printf '%s\n' "${name//\\/\\\\}"
    done
    printf '%s\n' '\.' '\o triggers' \
      "SELECT pg_catalog.count(*) FROM pg_catalog.pg_event_trigger WHERE evtenabled <> 'D';" \
      '\o roots' "SELECT pg_catalog.count(*) $(counted_tables "$target_version") AND c.relkind = 'p';"
    if ! digests; then
      printf '%s\n' '\o rest.counts'
      count_sql "$target_version" "AND c.relkind = 'r' AND $streamed_table"
    fi
    printf '%s\n' '\o'
    if analyzing; then
      # statistics only: a failed ANALYZE is reported and changes nothing of the copy
      printf '%s\n' '\set ON_ERROR_STOP off' \
        "$(analyze_sql "'r'" "NOT c.relhassubclass AND $streamed_table") \\gexec"
    fi
  } | (cd "$work" && dst psql -XAtq -v ON_ERROR_STOP=1 --dbname="$DST_DBNAME")
}
count_target() {
  if digests; then
    digest_side dst "$target_version" "$work/target.counts"
    return
  fi
  # with JOBS > 1, a streamed table's count is the rows its COPY commands wrote on the target
  # (each in the transaction that committed them; a split table's parts summed), which the
  # source's count in the snapshot is compared with: counting them again would read every
  # streamed row once more. The tables pg_dump carried were counted by rest_data, and a
  # hash-partitioned table, counted whole, is counted here. Every table is counted here when
  # the target database has an enabled event trigger: the only way a table the pre-data
  # restore just created can have a trigger during the copy (triggers are post-data), and a
  # trigger may add rows to it that its COPY does not count.
  local -A rows=()
  local name n file
  if [ "$JOBS" -le 1 ] || [ "$(< "$work/triggers")" != 0 ]; then
    count_sql "$target_version" \
      | dst psql -XAtq -v ON_ERROR_STOP=1 --dbname="$DST_DBNAME" > "$work/target.counts"
    return
  fi
  for file in "$work"/copied/*; do
    [ -e "$file" ] || continue
    IFS=$'\t' read -r name n < "$file"
    rows[$name]=$(( ${rows[$name]:-0} + n ))
  done
  for name in "${!rows[@]}"; do
    printf '%s\t%s\n' "$name" "${rows[$name]}"
  done > "$work/target.counts"
  cat "$work/rest.counts" >> "$work/target.counts"
  if [ "$(< "$work/roots")" != 0 ]; then
    count_sql "$target_version" "AND c.relkind = 'p'" \
      | dst psql -XAtq -v ON_ERROR_STOP=1 --dbname="$DST_DBNAME" >> "$work/target.counts"
  fi
}
# verify_counts: waits for the source's counts, then compares each table's with the target's
verify_counts() {
  if digests; then
    if ! wait "$source_digests"; then
      echo "could not compute the digests of the source's tables in the snapshot" >&2
      exit 1
    fi
    printf '%s\n' "COMMIT;" >&"$to_holder"
  elif ! IFS= read -r counted <&"$from_holder" || [ "$counted" != counted ]; then
    echo "could not count the rows of the source's tables in the snapshot" >&2
    exit 1
  fi
  printf '\\q\n' >&"$to_holder"
  wait "$holder_pid" || true
  if [ -e "$work/sent.counts" ]; then
    cat "$work/sent.counts" >> "$work/source.counts"
  fi
  local side
  for side in source target; do
    LC_ALL=C sort -t $'\t' -k 1,1 -o "$work/$side.sorted" "$work/$side.counts"
  done
  LC_ALL=C join -t $'\t' -a 1 -e missing -o 0,1.2,2.2 "$work/source.sorted" \
    "$work/target.sorted" > "$work/counts"
  compare_counts < "$work/counts"
}
# compare_counts: reads lines of table, source count, target count; prints each difference
compare_counts() {
  local name want got tables=0 differ=0
  # with digests, a count is "ROWS DIGEST"
  while IFS=$'\t' read -r name want got; do
    tables=$((tables + 1))
    if [ "$got" = missing ]; then
      echo "row count differs: $name: ${want%% *} row(s) in the source's snapshot, missing on the target"
    elif [ "${got%% *}" != "${want%% *}" ]; then
      echo "row count differs: $name: ${want%% *} row(s) in the source's snapshot, ${got%% *} on the target"
    elif [ "$got" != "$want" ]; then
      echo "row digest differs: $name: ${want%% *} row(s) on both sides, but their contents differ from the source's snapshot"
    else
      continue
    fi
    differ=$((differ + 1))
  done
  if [ "$differ" -gt 0 ]; then
    echo "verification failed: $differ of $tables table(s) differ from the source's snapshot"
    exit "$VERIFICATION_FAILED"
  fi
  if digests; then
    echo "verified: $tables table(s), row counts and row digests equal to the source's snapshot"
  else
    echo "verified: $tables table(s), row counts equal to the source's snapshot"
  fi
}

# took NAME: adds how long the step that just ended took to TIMINGS, printed at the end (where
# a copy's time goes, in its log)
TIMINGS=""
mark=$EPOCHREALTIME
took() {
  local now=$EPOCHREALTIME
  TIMINGS+="${TIMINGS:+, }$1 $(awk -v a="$mark" -v b="$now" 'BEGIN { printf "%.1f", b - a }') s"
  mark=$now
}

# the scratch volume is there only for JOBS > 1; the row counts fit in /tmp
scratch=/tmp
if [ "$JOBS" -gt 1 ]; then
  scratch=${SCRATCH:-/tmp}
fi
work=$(mktemp -d "$scratch/copy.XXXXXX")
mkdir "$work/copied" "$work/sent"
: > "$work/analyzing.lock"
export WORK="$work"
# both sides of every COPY speak the source database's encoding: no conversion on the way
# (one session for the three settings: each connection costs the Pod time)
read -r source_version PGCLIENTENCODING block_size < <(src psql -XAtq -F ' ' -c \
  "SELECT pg_catalog.current_setting('server_version_num'), pg_catalog.current_setting('server_encoding'), pg_catalog.current_setting('block_size')")
export PGCLIENTENCODING
target_version=$(dst psql -XAtq --dbname="$DST_DBNAME" -c "SHOW server_version_num")
if [ "$target_version" -ge 170000 ]; then
  DST_SESSION+=" -c transaction_timeout=0"
fi
export GENERATED=""
if [ "$source_version" -ge 120000 ]; then
  GENERATED="AND a.attgenerated = ''"
fi
# a partition of a table hash-partitioned on an enum (or an expression) is left to pg_dump,
# which loads it through the partitioned table: enum values hash differently on the target
HASH_PARTITIONS=""
if [ "$source_version" -ge 110000 ]; then
  HASH_PARTITIONS="AND NOT EXISTS (
    WITH RECURSIVE up (relid) AS (
      SELECT i.inhparent FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid
      UNION
      SELECT i.inhparent FROM pg_catalog.pg_inherits i JOIN up ON i.inhrelid = up.relid)
    SELECT 1 FROM up JOIN pg_catalog.pg_partitioned_table p ON p.partrelid = up.relid
     WHERE p.partstrat = 'h' AND (0 = ANY (p.partattrs::pg_catalog.int2[]) OR EXISTS (
           SELECT 1 FROM pg_catalog.pg_attribute k JOIN pg_catalog.pg_type t ON t.oid = k.atttypid
            WHERE k.attrelid = p.partrelid AND k.attnum = ANY (p.partattrs::pg_catalog.int2[])
              AND t.typtype IN ('e', 'd'))))"
fi
export COPY_FORMAT=text
if [ "$source_version" -ge 100000 ] && [ $((source_version / 10000)) -eq $((target_version / 10000)) ]; then
  COPY_FORMAT=binary
fi

# JOBS > 1: the streams' work items (below), and per streamed table's OID, t when the counts
# list it (count_source)
items=()
declare -A listed=()
hold_snapshot
took "snapshot"
if [ "$JOBS" -le 1 ]; then
  echo "copying database with 1 job: pg_dump | pg_restore in the exported snapshot"
  # no compression: the archive only crosses a pipe, and compressing it halves the throughput
  src pg_dump --format=custom --compress=0 --snapshot="$SNAPSHOT" --section=pre-data \
    | restore_pre_data -
  took "pre-data"
  src pg_dump --format=custom --compress=0 --snapshot="$SNAPSHOT" "${dump_flags[@]}" \
      --section=data --section=post-data \
    | dst pg_restore --exit-on-error "${restore_flags[@]}" --dbname="$DST_DBNAME"
  took "data and post-data"
  count_source
  count_target
  took "target's counts"
  analyze_target
  took "analyze"
  verify_counts
  took "source's counts"
  rm -rf "$work"
  echo "timings: $TIMINGS"
  echo "done"
  exit 0
fi

echo "copying database with $JOBS jobs"
# The snapshot's transaction also holds ACCESS SHARE locks on the tables to stream, as
# pg_dump holds on what it dumps: no TRUNCATE, column drop or rewrite can empty or reshape
# them before their stream reads them. It also lists them, largest first, with their
# patterns for pg_dump's --exclude-table-data (double-quoted: matched literally), sizes in
# pages, names as the counts print them (TABLE_KEY) and whether the counts list them (not
# under a hash-partitioned table, counted whole), NUL-separated since names may hold any
# character.
TABLES="FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND c.relpersistence IN ('p', 'u')
   AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                    WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                      AND d.objid = c.oid AND d.deptype = 'e')
   AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped $GENERATED)
   AND pg_catalog.pg_table_size(c.oid) >= :'min_bytes'::bigint
   $HASH_PARTITIONS"
printf '%s\n' \
  "SELECT pg_catalog.format('LOCK TABLE %I.%I IN ACCESS SHARE MODE', n.nspname, c.relname)" \
  "$TABLES \\gexec" \
  "\\pset fieldsep_zero" "\\pset recordsep_zero" "\\o :tables_file" \
  "SELECT c.oid, '\"' || pg_catalog.replace(n.nspname, '\"', '\"\"') || '\".\"'" \
  "       || pg_catalog.replace(c.relname, '\"', '\"\"') || '\"'," \
  "       pg_catalog.pg_relation_size(c.oid) / pg_catalog.current_setting('block_size')::int," \
  "       $TABLE_KEY, NOT $(under_hash "$source_version")" \
  "$TABLES ORDER BY pg_catalog.pg_table_size(c.oid) DESC;" \
  "\\o" "\\echo listed" >&"$to_holder"
if ! IFS= read -r listed <&"$from_holder" || [ "$listed" != listed ]; then
  echo "could not lock the tables to copy on the source" >&2
  exit 1
fi
readarray -d '' -t fields < "$work/tables"
# work items, largest table first: OID, or OID:FIRST:END for each part of a table larger than
# SPLIT_MIN_BYTES (parts of about that size, the last one open-ended: rows in pages added
# since the snapshot was taken are invisible to it anyway), from PostgreSQL 14, whose TID
# range scan reads only a part's pages (older servers would read the whole table per part)
excludes=()
streamed=()
split=0
part_blocks=$(( ${SPLIT_MIN_BYTES:-0} / block_size ))
for ((i = 0; i + 4 < ${#fields[@]}; i += 5)); do
  oid="${fields[i]}"
  blocks="${fields[i + 2]}"
  excludes+=("--exclude-table-data=${fields[i + 1]}")
  streamed+=("${fields[i + 3]}")
  listed[$oid]="${fields[i + 4]%$'\n'}"
  if [ "$part_blocks" -gt 0 ] && [ "$source_version" -ge 140000 ] && [ "$blocks" -gt "$part_blocks" ]; then
    split=$((split + 1))
    for ((first = 0; first < blocks; first += part_blocks)); do
      end=$((first + part_blocks))
      if [ "$end" -ge "$blocks" ]; then
        end=""
      fi
      items+=("$oid:$first:$end")
    done
  else
    items+=("$oid")
  fi
done
echo "streaming ${#streamed[@]} table(s) of ${PARALLEL_MIN_BYTES:-1048576} bytes or more in $COPY_FORMAT ($split split into ${#items[@]} part(s) in all); pg_dump carries the rest"

took "listing"
src pg_dump --format=custom --compress=0 --snapshot="$SNAPSHOT" "${dump_flags[@]}" \
  "${excludes[@]}" --file="$work/rest.dump"
took "pg_dump"
restore_pre_data "$work/rest.dump"
took "pre-data"
rest_data &
rest=$!
printf '%s\n' "${items[@]}" | xargs -r -n 1 -P "$JOBS" --process-slot-var=SLOT bash -c 'set -euo pipefail; copy_table "$1"' copy_table
wait "$rest"
took "data"
# every stream has its rows: the holder counts the source's and then ends the snapshot while
# the target's rows are counted (before the policies of row security exist there: the tables
# pg_dump carried were counted by rest_data) and its indexes built
count_source
count_target
took "target's counts"
echo "building indexes and constraints with $JOBS jobs"
dst pg_restore --exit-on-error "${restore_flags[@]}" --section=post-data --jobs="$JOBS" --dbname="$DST_DBNAME" "$work/rest.dump"
took "post-data"
# the streams' ANALYZEs still running (see copy_table)
flock -x "$work/analyzing.lock" true
analyze_target
took "analyze"
verify_counts
took "source's counts"
rm -rf "$work"
echo "timings: $TIMINGS"
echo "done"
