# The script every dump Pod runs (bash -c). It names no database, host or credential: those come
# from the environment (passwords from Secret references). SQL gets values only as psql variables
# (:'name' quotes them) and identifiers only as the server's format('%I') made them.
#
# JOBS = 1 streams pg_dump's custom format into pg_restore.
# JOBS > 1 copies the tables of PARALLEL_MIN_BYTES or more with JOBS parallel COPY streams
# (source to target, nothing on disk), all reading one exported snapshot, so the copy is as
# consistent as a single pg_dump; pg_dump, in the same snapshot, carries the schema, the smaller
# tables, sequences and large objects; indexes and constraints are built afterwards with JOBS
# parallel jobs.
set -euo pipefail
src() {
  PGHOST="$SRC_HOST" PGPORT="$SRC_PORT" PGUSER="$SRC_USER" PGPASSWORD="$SRC_PASSWORD" \
  PGSSLMODE="$SRC_SSLMODE" PGSSLROOTCERT="${SRC_SSLROOTCERT:-}" PGDATABASE="$DATABASE" \
  PGAPPNAME=pgmigrate-dump "$@"
}
dst() {
  PGHOST="$DST_HOST" PGPORT="$DST_PORT" PGUSER="$DST_USER" PGPASSWORD="$DST_PASSWORD" \
  PGSSLMODE="$DST_SSLMODE" PGSSLROOTCERT="${DST_SSLROOTCERT:-}" \
  PGOPTIONS="-c maintenance_work_mem=${RESTORE_MAINTENANCE_WORK_MEM:-256MB} $DST_SESSION" \
  PGAPPNAME=pgmigrate-restore "$@"
}
# on the target (a current version): no timeouts, writes not waiting for the WAL flush, and
# dates and intervals read as the source's sessions write them
DST_SESSION="-c synchronous_commit=off -c statement_timeout=0 -c lock_timeout=0"
DST_SESSION+=" -c idle_in_transaction_session_timeout=0 -c datestyle=ISO -c intervalstyle=postgres"
export DST_SESSION
read -r -a restore_flags <<< "${RESTORE_FLAGS:-}"
read -r -a dump_flags <<< "${DUMP_FLAGS:-}"

if [ "$JOBS" -le 1 ]; then
  echo "copying database with 1 job: pg_dump | pg_restore"
  # no compression: the archive only crosses a pipe, and compressing it halves the throughput
  src pg_dump --format=custom --compress=0 "${dump_flags[@]}" \
    | dst pg_restore --exit-on-error "${restore_flags[@]}" --dbname="$DST_DBNAME"
  echo "done"
  exit 0
fi

# What pg_dump sets in its own sessions, set in ours on the source (where each exists: any
# version): no timeout may end a long COPY or the idle transaction that holds the snapshot;
# row security must fail loudly rather than silently filter rows; text output must be exact
# (floats) and read back the same on the target (dates, intervals).
SESSION_SQL="SELECT pg_catalog.count(pg_catalog.set_config(name, setting, false)) AS settings
  FROM (VALUES ('statement_timeout', '0'), ('lock_timeout', '0'),
               ('idle_in_transaction_session_timeout', '0'), ('row_security', 'off'),
               ('extra_float_digits', '3'), ('datestyle', 'ISO'), ('intervalstyle', 'postgres'))
       AS v (name, setting)
 WHERE name IN (SELECT pg_catalog.lower(name) FROM pg_catalog.pg_settings) \\gset"
export SESSION_SQL

# copy_table OID: copies one table's rows, reading in the exported snapshot, into the target
# table, emptied and filled in one transaction (frozen, so the target needs no vacuum to set
# hint bits or freeze). The TRUNCATE only ever empties what this script wrote: the table was
# created moments before by the pre-data restore, which stops at any table that already
# existed on the target; within the script it lets the text retry start clean. Binary when both servers are of one major version,
# text otherwise or when a column's type has no binary form.
copy_table() {
  local parts
  readarray -d '' -t parts < <(src psql -XAtq -z -v ON_ERROR_STOP=1 -v oid="$1" -v generated="$GENERATED" <<'SQL'
SELECT pg_catalog.format('%I.%I', n.nspname, c.relname),
       pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum)
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
 WHERE c.oid = :'oid' AND a.attnum > 0 AND NOT a.attisdropped :generated
 GROUP BY n.nspname, c.relname;
SQL
  )
  if [ "${#parts[@]}" -ne 2 ]; then
    echo "could not read the columns of table $1 on the source" >&2
    exit 255
  fi
  if copy_rows "${parts[0]}" "${parts[1]%$'\n'}" "$COPY_FORMAT"; then
    echo "copied ${parts[0]}"
  elif [ "$COPY_FORMAT" = binary ] && copy_rows "${parts[0]}" "${parts[1]%$'\n'}" text; then
    echo "copied ${parts[0]} (as text: binary copy failed)"
  else
    exit 255 # stops xargs
  fi
}
copy_rows() {
  { printf '%s\n' "$SESSION_SQL"; cat; } <<'SQL' \
    | src psql -XAtq -v ON_ERROR_STOP=1 -v snapshot="$SNAPSHOT" -v table="$1" -v columns="$2" \
      -v format="$3" \
    | dst psql -XAtq -v ON_ERROR_STOP=1 --dbname="$DST_DBNAME" -c "BEGIN" -c "TRUNCATE ONLY $1" \
      -c "COPY $1 ($2) FROM STDIN (FORMAT $3, FREEZE)" -c "COMMIT"
BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;
SET TRANSACTION SNAPSHOT :'snapshot';
COPY :table (:columns) TO STDOUT (FORMAT :format);
COMMIT;
SQL
}
export -f src dst copy_table copy_rows

echo "copying database with $JOBS jobs"
work=$(mktemp -d "${SCRATCH:-/tmp}/copy.XXXXXX")
# the snapshot lives as long as this transaction: until the script ends
coproc holder { src psql -XAtq -v ON_ERROR_STOP=1; }
printf '%s\n%s\n' "$SESSION_SQL" \
  "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SELECT pg_catalog.pg_export_snapshot();" \
  >&"${holder[1]}"
if ! IFS= read -r -t 300 SNAPSHOT <&"${holder[0]}"; then
  echo "could not export a snapshot on the source" >&2
  exit 1
fi
export SNAPSHOT
source_version=$(src psql -XAtq -c "SHOW server_version_num")
# both sides of every COPY speak the source database's encoding: no conversion on the way
PGCLIENTENCODING=$(src psql -XAtq -c "SHOW server_encoding")
export PGCLIENTENCODING
target_version=$(dst psql -XAtq --dbname="$DST_DBNAME" -c "SHOW server_version_num")
export GENERATED=""
if [ "$source_version" -ge 120000 ]; then
  GENERATED="AND a.attgenerated = ''"
fi
export COPY_FORMAT=text
if [ "$source_version" -ge 100000 ] && [ $((source_version / 10000)) -eq $((target_version / 10000)) ]; then
  COPY_FORMAT=binary
fi

# the tables to stream, largest first; their patterns for pg_dump's --exclude-table-data
# (double-quoted: matched literally), NUL-separated since names may hold any character
src psql -XAtq -z -0 -v ON_ERROR_STOP=1 -v snapshot="$SNAPSHOT" -v generated="$GENERATED" \
    -v min_bytes="${PARALLEL_MIN_BYTES:-1048576}" > "$work/tables" <<'SQL'
BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;
SET TRANSACTION SNAPSHOT :'snapshot';
SELECT c.oid,
       '"' || pg_catalog.replace(n.nspname, '"', '""') || '"."'
           || pg_catalog.replace(c.relname, '"', '""') || '"'
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND c.relpersistence IN ('p', 'u')
   AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                    WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                      AND d.objid = c.oid AND d.deptype = 'e')
   AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped :generated)
   AND pg_catalog.pg_table_size(c.oid) >= :'min_bytes'::bigint
 ORDER BY pg_catalog.pg_table_size(c.oid) DESC;
COMMIT;
SQL
readarray -d '' -t fields < "$work/tables"
oids=()
excludes=()
for ((i = 0; i + 1 < ${#fields[@]}; i += 2)); do
  oids+=("${fields[i]}")
  excludes+=("--exclude-table-data=${fields[i + 1]}")
done
echo "streaming ${#oids[@]} table(s) of ${PARALLEL_MIN_BYTES:-1048576} bytes or more in $COPY_FORMAT; pg_dump carries the rest"

src pg_dump --format=custom --compress=0 --snapshot="$SNAPSHOT" "${dump_flags[@]}" \
  "${excludes[@]}" --file="$work/rest.dump"
dst pg_restore --exit-on-error "${restore_flags[@]}" --section=pre-data --dbname="$DST_DBNAME" "$work/rest.dump"
dst pg_restore --exit-on-error "${restore_flags[@]}" --section=data --dbname="$DST_DBNAME" "$work/rest.dump" &
rest=$!
printf '%s\n' "${oids[@]}" | xargs -r -n 1 -P "$JOBS" bash -c 'set -euo pipefail; copy_table "$1"' copy_table
wait "$rest"
# every stream has its rows: end the snapshot now, so the source's vacuum is not held back
# while the target builds indexes
if [ -n "${holder_PID:-}" ] && kill -0 "$holder_PID" 2>/dev/null; then
  printf 'COMMIT;\n\\q\n' >&"${holder[1]}" || true
  wait "$holder_PID" || true
fi
echo "building indexes and constraints with $JOBS jobs"
dst pg_restore --exit-on-error "${restore_flags[@]}" --section=post-data --jobs="$JOBS" --dbname="$DST_DBNAME" "$work/rest.dump"
rm -rf "$work"
echo "done"
