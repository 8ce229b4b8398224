#!/usr/bin/env bash
# hoist against the usual ways of loading a dump, on this machine, in one run.
#
#   bench/run.sh [--scale S] [--repeat N] [--cases "..."] [--port P] [--work DIR]
#                [--seed N] [--hoist PATH] [--hoist-args "..."] [--timeline]
#
#   --scale S     dump size: 1 = 4.6 M rows, ~1 GiB of SQL (default 1); 0.05 takes a minute
#   --repeat N    rounds; the cases run interleaved, round after round (default 3)
#   --cases "…"   subset and order of the cases below (default: all but the optional ones)
#   --port P      port of the private MariaDB (default 3417)
#   --work DIR    dumps (cached by scale and seed), logs, scratch (default /tmp/hoist-bench)
#   --seed N      gen_dump.py seed (default 42)
#   --hoist PATH  use this binary instead of building target/release/hoist
#   --hoist-args  extra flags for every hoist case, e.g. "--region-concurrency 4"
#   --timeline    sample the CPU of the server and of the client every 0.5 s during each
#                 MariaDB case (timeline.py), and plot the last round's into
#                 bench/results/timeline-sSCALE-STAMP.png (installs matplotlib with pip)
#
# Cases. Every MariaDB case gets a new server with identical settings
# (../shared/bench/mariadb.sh); every case first reads its source files once so they
# are in the page cache. Schema creation is inside the timing everywhere.
#   hoist-sql            hoist, SQL dump, checkpoints on (the default)
#   hoist-sql-nockpt     the same with --no-checkpoint
#   hoist-csv            hoist, CSV dump, checkpoints on
#   myloader-e           myloader -t 2 -e: binlog on, like hoist's default
#   myloader             myloader -t 2: its default, binlog off for its sessions
#   mariadb-client       the mariadb client reading every SQL file in one stream
#   load-data-idx-after  LOAD DATA LOCAL INFILE of the CSV files by 2 parallel mariadb
#                        clients, secondary index dropped before and added after: the
#                        server's own limit (peers.sh case d)
#   hoist-sqlite         hoist, CSV dump -> sqlite:///… file, checkpoints on
#   sqlite3-import       the sqlite3 shell: same schema, `.import --csv` of an RFC 4180 copy
#                        of the CSV files (made once, untimed; see helpers.py), NULLs set by
#                        one UPDATE per table, then the index
#   optional, only when named in --cases:
#   hoist-sql-nobinlog   hoist-sql with --disable-binlog (compare with myloader)
#   hoist-sql-nochecksum hoist-sql with --checksum off: what the content check costs
#   load-data            LOAD DATA as above but with the index kept (peers.sh case c)
#   hoist-s3             hoist-sql with the SQL dump in a local moto_server (S3), put there
#                        once, untimed: what reading through object storage costs
#
# Checked after every load (untimed): row counts against manifest.json; for MariaDB the
# index count and CHECKSUM TABLE, which must be equal in every MariaDB case (and, at
# scale 1 seed 42, equal to ../shared/bench/BASELINE.md); for SQLite a fingerprint of every
# row against the one computed from the CSV dump. Any failure is printed at once and
# makes the run exit 1 after the table.
#
# Output: the table on stdout, the raw figures in bench/results/run-sSCALE-STAMP.tsv,
# logs (and /usr/bin/time -v outputs) under WORK/logs/STAMP.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF="$HERE/$(basename "${BASH_SOURCE[0]}")"
REPO=$(cd "$HERE/.." && pwd)
SHARED=${HOIST_BENCH_SHARED:-$REPO/../shared/bench}
HOST=127.0.0.1
DB_USER=root
DB=bench

die() { echo "run.sh: error: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
M() { mariadb --no-defaults --protocol=TCP -h"$HOST" -P"$PORT" -u"$DB_USER" "$@"; }

# ------------------------------------------- internal (run under xargs/time) --
# The LOAD DATA cases, as ../shared/bench/peers.sh runs them (cases c and d).
# _csv_one PORT TERM FILE: one LOAD DATA; any warning fails it (LOCAL turns errors into warnings)
csv_one() {
  PORT=$1; local term=$2 f=$3 b t out
  b=$(basename "$f"); t=${b#"$DB".}; t=${t%%.*}
  out=$(M --local-infile=1 -N -B "$DB" -e "LOAD DATA LOCAL INFILE '$f' INTO TABLE \`$t\` CHARACTER SET binary FIELDS TERMINATED BY ',' ENCLOSED BY '\"' ESCAPED BY '\\\\' LINES TERMINATED BY '$term' IGNORE 1 LINES; SHOW WARNINGS LIMIT 5;") \
    || { echo "LOAD DATA failed for $f" >&2; exit 255; }
  if [ -n "$out" ]; then
    echo "LOAD DATA of $f produced warnings:" >&2; echo "$out" >&2; exit 255
  fi
}
# _csv_load PORT PREP NOIDX: schema, (drop indexes), LOAD DATA x2 in parallel, (add indexes)
csv_load() {
  PORT=$1; local prep=$2 noidx=$3
  M < "$prep/csv-schema.sql"
  if [ "$noidx" = 1 ] && [ -s "$prep/drop-indexes.sql" ]; then M "$DB" < "$prep/drop-indexes.sql"; fi
  xargs -d '\n' -P 2 -n 1 "$SELF" _csv_one "$PORT" "$(cat "$prep/csv-terminator")" < "$prep/csv-files"
  if [ "$noidx" = 1 ] && [ -s "$prep/add-indexes.sql" ]; then M "$DB" < "$prep/add-indexes.sql"; fi
}
case "${1:-}" in
  _csv_one)  shift; csv_one "$@"; exit 0 ;;
  _csv_load) shift; csv_load "$@"; exit 0 ;;
esac

# ------------------------------------------------------------------- options --
DEFAULT_CASES="hoist-sql hoist-sql-nockpt hoist-csv myloader-e myloader mariadb-client load-data-idx-after hoist-sqlite sqlite3-import"
ALL_CASES="$DEFAULT_CASES hoist-sql-nobinlog hoist-sql-nochecksum load-data hoist-s3"
SCALE=1; REPEAT=3; CASES=$DEFAULT_CASES; PORT=3417; WORK=/tmp/hoist-bench; SEED=42; HOIST=""; HOIST_ARGS=""; TIMELINE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --scale)  SCALE=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --cases)  CASES=$2; shift 2 ;;
    --port)   PORT=$2; shift 2 ;;
    --work)   WORK=$2; shift 2 ;;
    --seed)   SEED=$2; shift 2 ;;
    --hoist)  HOIST=$2; shift 2 ;;
    --hoist-args) HOIST_ARGS=$2; shift 2 ;;
    --timeline) TIMELINE=1; shift ;;
    -h|--help) awk 'NR>1 && !/^#/{exit} NR>1{sub(/^# ?/,""); print}' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ "$REPEAT" =~ ^[1-9][0-9]*$ ]] || die "--repeat needs a positive integer"
for c in $CASES; do
  [[ " $ALL_CASES " == *" $c "* ]] || die "unknown case '$c'; cases: $ALL_CASES"
done
has_case() { local c; for c in $CASES; do [[ "$c" == $1 ]] && return 0; done; return 1; }

# ------------------------------------------------------------- requirements --
[ -x "$SHARED/mariadb.sh" ] && [ -f "$SHARED/gen_dump.py" ] \
  || die "$SHARED/mariadb.sh and gen_dump.py not found. The benchmark uses the shared bench kit, which lives beside the repository (../shared/bench relative to $REPO); check it out there or set HOIST_BENCH_SHARED=/path/to/shared/bench."
# command -> Debian package
declare -A PKG=([mariadb]=mariadb-client [mariadb-admin]=mariadb-client [mariadbd]=mariadb-server
                [mariadb-install-db]=mariadb-server [myloader]=mydumper [/usr/bin/time]=time
                [sqlite3]=sqlite3 [python3]=python3 [xargs]=findutils)
need=(mariadb mariadb-admin mariadbd mariadb-install-db /usr/bin/time python3 xargs)
has_case 'myloader*' && need+=(myloader)
has_case 'sqlite3-*' && need+=(sqlite3)
# shellcheck source=common.sh
. "$REPO/bench/common.sh"
install_missing "${need[@]}"
build_hoist

# -------------------------------------------------------------------- setup --
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
INSTANCE=hoist-bench-$PORT
INSTANCE_DIR=${BENCH_MARIADB_BASE:-/tmp/bench-mariadb}/$INSTANCE
SQL_DIR="$WORK/sql-s$SCALE-seed$SEED"
CSV_DIR="$WORK/csv-s$SCALE-seed$SEED"
SQ3_DIR="$WORK/sqlite3-s$SCALE-seed$SEED"
STAMP=$(date +%Y%m%dT%H%M%S)
LOGDIR="$WORK/logs/$STAMP"
PREP="$LOGDIR/prep"
mkdir -p "$PREP" "$HERE/results"
TSV="$HERE/results/run-s$SCALE-$STAMP.tsv"

cleanup() { "$SHARED/mariadb.sh" stop "$INSTANCE" >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

mf() { python3 -c 'import json,sys; m=json.load(open(sys.argv[1]+"/manifest.json")); r=eval(sys.argv[2]); print(" ".join(map(str,r)) if isinstance(r,(list,tuple)) else r)' "$1" "$2"; }

ensure_dump sql "$SQL_DIR"
ensure_dump csv "$CSV_DIR"
TOTAL_ROWS=$(mf "$SQL_DIR" 'm["total_rows"]')
[ "$TOTAL_ROWS" = "$(mf "$CSV_DIR" 'm["total_rows"]')" ] || die "the SQL and CSV dumps differ in row count"
SQL_BYTES=$(mf "$SQL_DIR" 'm["total_data_bytes"]')
CSV_BYTES=$(mf "$CSV_DIR" 'm["total_data_bytes"]')
TABLES=$(mf "$SQL_DIR" 'list(m["tables"])')

if has_case 'sqlite3-*' || has_case hoist-sqlite; then
  # the sqlite3 shell's input and the expected contents of both SQLite cases
  stamp=$(sha256sum "$CSV_DIR/manifest.json" "$HERE/helpers.py" | sha256sum | cut -c1-16)
  if [ "$(cat "$SQ3_DIR/.stamp" 2>/dev/null)" != "$stamp" ]; then
    log "writing the RFC 4180 copy of the CSV dump for sqlite3 into $SQ3_DIR"
    rm -rf "$SQ3_DIR"
    python3 "$HERE/helpers.py" sqlite-prepare "$CSV_DIR" "$SQ3_DIR" || die "helpers.py sqlite-prepare failed"
    echo "$stamp" > "$SQ3_DIR/.stamp"
  else
    log "reusing $SQ3_DIR"
  fi
  SQ3_BYTES=$(cat "$SQ3_DIR"/*.rfc4180.csv | wc -c)
fi

if has_case hoist-s3; then
  # A local S3-compatible server holding the SQL dump (moto keeps objects in memory).
  python3 -c 'import moto.server, boto3' 2>/dev/null || python3 -m pip install -q 'moto[server]' \
    || die "pip install 'moto[server]' failed"
  MOTO_PORT=$((PORT + 100))
  moto_server -H 127.0.0.1 -p "$MOTO_PORT" > "$LOGDIR/moto.log" 2>&1 &
  MOTO_PID=$!
  trap 'cleanup; kill "$MOTO_PID" 2>/dev/null || true' EXIT
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$MOTO_PORT") 2>/dev/null && break; sleep 0.1; done
  log "putting $SQL_DIR into s3://bench/sql (moto on port $MOTO_PORT)"
  MOTO_PORT=$MOTO_PORT python3 - "$SQL_DIR" <<'PY' || die "could not put the dump into moto"
import os, sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:%s" % os.environ["MOTO_PORT"], aws_access_key_id="testing",
                  aws_secret_access_key="testing", region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))
s3.create_bucket(Bucket="bench")
for name in sorted(os.listdir(sys.argv[1])):
    s3.upload_file(os.path.join(sys.argv[1], name), "bench", "sql/" + name)
PY
fi

# What the peer commands read, computed once (no python inside the timings).
schema_stream() {
  local t
  cat "$1/$DB-schema-create.sql"; printf 'USE `%s`;\n' "$DB"
  for t in $TABLES; do cat "$1/$DB.$t-schema.sql"; done
}
data_files() { local t; for t in $TABLES; do ls "$1/$DB.$t".*."$2"; done; }
schema_stream "$SQL_DIR" > "$PREP/sql-schema.sql"
schema_stream "$CSV_DIR" > "$PREP/csv-schema.sql"
data_files "$SQL_DIR" sql > "$PREP/sql-files"
data_files "$CSV_DIR" csv > "$PREP/csv-files"
mf "$CSV_DIR" 'm["csv"]["load_data_lines_terminated_by"]' > "$PREP/csv-terminator"
mf "$CSV_DIR" '"".join("ALTER TABLE `%s` %s;\n" % (t, ", ".join("DROP INDEX `%s`" % i["name"] for i in v["secondary_indexes"])) for t, v in m["tables"].items() if v["secondary_indexes"])' > "$PREP/drop-indexes.sql"
mf "$CSV_DIR" '"".join("ALTER TABLE `%s` %s;\n" % (t, ", ".join("ADD INDEX `%s` %s" % (i["name"], i["columns"]) for i in v["secondary_indexes"])) for t, v in m["tables"].items() if v["secondary_indexes"])' > "$PREP/add-indexes.sql"
mf "$SQL_DIR" '"\n".join("%s %s" % (t, v["rows"]) for t, v in m["tables"].items())' > "$PREP/rows"
WANT_INDEXES=$(mf "$SQL_DIR" 'sum(int(v["primary_key"]) + len(v["secondary_indexes"]) for v in m["tables"].values())')
# CHECKSUM TABLE values of BASELINE.md (scale 1, seed 42, gen_dump.py generator_version 1)
KNOWN_SUM=""
if [ "$SCALE" = 1 ] && [ "$SEED" = 42 ] && [ "$(mf "$SQL_DIR" 'm["generator_version"]')" = 1 ]; then
  KNOWN_SUM="orders=3002592604,events=3181075164,blobs=1362988663"
fi

# ------------------------------------------------------------------ helpers --
server_cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14+$15)/hz}' "/proc/$(cat "$INSTANCE_DIR/mariadbd.pid")/stat"; }
to_secs()    { awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }' <<<"$1"; }
tv()         { awk -F': ' -v k="$2" 'index($0,k){print $2; exit}' "$1"; }

case_target() { case "$1" in hoist-sqlite|sqlite3-*) echo sqlite ;; *) echo mariadb ;; esac; }
case_src() {
  case "$1" in
    hoist-csv|load-data*|hoist-sqlite) echo "$CSV_DIR $CSV_BYTES" ;;
    sqlite3-import) echo "$SQ3_DIR $SQ3_BYTES" ;;
    *) echo "$SQL_DIR $SQL_BYTES" ;;
  esac
}
desc() {
  case "$1" in
    hoist-sql)           echo "hoist, SQL, checkpoints on" ;;
    hoist-sql-nockpt)    echo "hoist, SQL, --no-checkpoint" ;;
    hoist-sql-nobinlog)  echo "hoist, SQL, --disable-binlog" ;;
    hoist-sql-nochecksum) echo "hoist, SQL, --checksum off" ;;
    hoist-s3)            echo "hoist, SQL in S3 (moto), checkpoints on" ;;
    hoist-csv)           echo "hoist, CSV, checkpoints on" ;;
    myloader-e)          echo "myloader -t 2 -e (binlog on), SQL" ;;
    myloader)            echo "myloader -t 2 (binlog off), SQL" ;;
    mariadb-client)      echo "mariadb client, 1 stream, SQL" ;;
    load-data)           echo "LOAD DATA LOCAL x2, CSV" ;;
    load-data-idx-after) echo "LOAD DATA LOCAL x2, index after, CSV" ;;
    hoist-sqlite)        echo "hoist, CSV -> SQLite file" ;;
    sqlite3-import)      echo "sqlite3 shell .import --csv" ;;
  esac
}

FAILURES=()
fail() { FAILURES+=("$*"); log "FAILED: $*"; }

run_case() { # NAME ROUND -> R_* globals
  local name=$1 round=$2 target src_dir src_bytes rc=0
  local tfile="$LOGDIR/$name.$round.time" out="$LOGDIR/$name.$round.log" run="$LOGDIR/$name.$round.d"
  target=$(case_target "$name"); read -r src_dir src_bytes <<<"$(case_src "$name")"
  mkdir -p "$run"
  "$SHARED/mariadb.sh" stop "$INSTANCE" >/dev/null 2>&1
  sync
  if [ "$target" = mariadb ]; then "$SHARED/mariadb.sh" start "$INSTANCE" "$PORT" 2>>"$out"; fi
  cat "$src_dir"/* > /dev/null          # the same page-cache state for every case
  local cpu0=0 cpu1=0
  [ "$target" = mariadb ] && cpu0=$(server_cpu)
  local url="mysql://$DB_USER@$HOST:$PORT"
  local hoist=("$HOIST" import --progress quiet --checkpoint "$run/checkpoint.db")
  # shellcheck disable=SC2206
  local extra=($HOIST_ARGS)
  log "round $round: $name"
  local sampler=""
  if [ "$TIMELINE" = 1 ] && [ "$target" = mariadb ]; then
    "$HERE/timeline.py" sample --out "$LOGDIR/$name.$round.timeline.tsv" --server-pid "$(cat "$INSTANCE_DIR/mariadbd.pid")" &
    sampler=$!
  fi
  set +e
  case "$name" in
    hoist-sql)          (cd "$run" && /usr/bin/time -v -o "$tfile" "${hoist[@]}" --source "$SQL_DIR" --target "$url" "${extra[@]}") >>"$out" 2>&1 ;;
    hoist-sql-nockpt)   (cd "$run" && /usr/bin/time -v -o "$tfile" "$HOIST" import --progress quiet --no-checkpoint --source "$SQL_DIR" --target "$url" "${extra[@]}") >>"$out" 2>&1 ;;
    hoist-sql-nobinlog) (cd "$run" && /usr/bin/time -v -o "$tfile" "${hoist[@]}" --disable-binlog --source "$SQL_DIR" --target "$url" "${extra[@]}") >>"$out" 2>&1 ;;
    hoist-sql-nochecksum) (cd "$run" && /usr/bin/time -v -o "$tfile" "${hoist[@]}" --checksum off --source "$SQL_DIR" --target "$url" "${extra[@]}") >>"$out" 2>&1 ;;
    hoist-csv)          (cd "$run" && /usr/bin/time -v -o "$tfile" "${hoist[@]}" --source "$CSV_DIR" --target "$url" "${extra[@]}") >>"$out" 2>&1 ;;
    hoist-s3)           (cd "$run" && AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 \
                           /usr/bin/time -v -o "$tfile" "${hoist[@]}" --target "$url" "${extra[@]}" \
                           --source "s3://bench/sql?endpoint=http://127.0.0.1:$MOTO_PORT&force-path-style=true") >>"$out" 2>&1 ;;
    hoist-sqlite)       (cd "$run" && /usr/bin/time -v -o "$tfile" "${hoist[@]}" --source "$CSV_DIR" --target "sqlite://$run/hoist.db" "${extra[@]}") >>"$out" 2>&1 ;;
    myloader-e)  /usr/bin/time -v -o "$tfile" myloader -d "$SQL_DIR" -t 2 -h "$HOST" -P "$PORT" -u "$DB_USER" -o -q 1000 -e -v 2 >>"$out" 2>&1 ;;
    myloader)    /usr/bin/time -v -o "$tfile" myloader -d "$SQL_DIR" -t 2 -h "$HOST" -P "$PORT" -u "$DB_USER" -o -q 1000 -v 2 >>"$out" 2>&1 ;;
    mariadb-client)
      xargs -d '\n' cat "$PREP/sql-schema.sql" < "$PREP/sql-files" \
        | /usr/bin/time -v -o "$tfile" mariadb --no-defaults --protocol=TCP -h"$HOST" -P"$PORT" -u"$DB_USER" >>"$out" 2>&1 ;;
    load-data)           /usr/bin/time -v -o "$tfile" "$SELF" _csv_load "$PORT" "$PREP" 0 >>"$out" 2>&1 ;;
    load-data-idx-after) /usr/bin/time -v -o "$tfile" "$SELF" _csv_load "$PORT" "$PREP" 1 >>"$out" 2>&1 ;;
    sqlite3-import)
      /usr/bin/time -v -o "$tfile" sqlite3 "$run/sqlite3.db" < "$SQ3_DIR/import.sql" >>"$out" 2>"$run/sqlite3.stderr"
      rc=$?
      cat "$run/sqlite3.stderr" >>"$out"
      # the shell reports malformed CSV on stderr and goes on; that is a failed load here
      if [ "$rc" = 0 ] && [ -s "$run/sqlite3.stderr" ]; then rc=99; fi
      (exit $rc) ;;
  esac
  rc=$?
  set -e
  if [ -n "$sampler" ]; then kill -TERM "$sampler"; wait "$sampler" || true; fi
  [ "$target" = mariadb ] && cpu1=$(server_cpu 2>/dev/null || echo "$cpu0")
  local wall rss
  wall=$(tv "$tfile" 'Elapsed (wall clock) time' 2>/dev/null || true)
  rss=$(tv "$tfile" 'Maximum resident set size' 2>/dev/null || true)
  R_WALL=$(to_secs "${wall:-0:0}")
  R_RSS=$(( ${rss:-0} / 1024 ))
  R_CCPU=$(awk -v u="$(tv "$tfile" 'User time' 2>/dev/null)" -v s="$(tv "$tfile" 'System time' 2>/dev/null)" 'BEGIN{printf "%.1f", u+s}')
  R_SRCMB=$(awk -v b="$src_bytes" 'BEGIN{printf "%.1f", b/1e6}')
  R_RC=$rc R_CHECK=ok R_SUM=- R_SCPU=- R_BINLOG=-
  [ "$rc" = 0 ] || { fail "$name round $round exited with rc=$rc (log: $out)"; tail -n 15 "$out" >&2; R_CHECK=BAD; }

  if [ "$target" = mariadb ]; then
    R_SCPU=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN{printf "%.1f", b-a}')
    R_BINLOG=$( (M -N -B -e 'SHOW BINARY LOGS' 2>/dev/null || true) | awk '{s+=$2} END{printf "%.0f", s/1e6}')
    local t want got
    while read -r t want; do
      got=$(M -N -B -e "SELECT COUNT(*) FROM \`$DB\`.\`$t\`" 2>/dev/null || echo missing)
      [ "$want" = "$got" ] || { R_CHECK=BAD; fail "$name round $round: $t has $got rows, manifest.json says $want"; }
    done < "$PREP/rows"
    got=$(M -N -B -e "SELECT COUNT(DISTINCT TABLE_NAME, INDEX_NAME) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA='$DB'" 2>/dev/null || echo missing)
    [ "$WANT_INDEXES" = "$got" ] || { R_CHECK=BAD; fail "$name round $round: $got indexes in $DB, want $WANT_INDEXES"; }
    R_SUM=$(M -N -B -e "CHECKSUM TABLE $(for t in $TABLES; do printf '`%s`.`%s`,' "$DB" "$t"; done | sed 's/,$//')" 2>/dev/null \
            | awk '{sub(/^[^.]*\./,"",$1); printf "%s%s=%s", (NR>1?",":""), $1, $2}' || true)
    # the reference is the first load whose counts were right
    if [ -z "$FIRST_SUM" ] && [ "$R_CHECK" = ok ]; then FIRST_SUM=$R_SUM; FIRST_SUM_CASE="$name round $round"; fi
    if [ -n "$FIRST_SUM" ] && [ "$R_SUM" != "$FIRST_SUM" ]; then
      R_CHECK=BAD; fail "$name round $round: CHECKSUM TABLE $R_SUM differs from $FIRST_SUM ($FIRST_SUM_CASE)"
    fi
    if [ -n "$KNOWN_SUM" ] && [ "$R_SUM" != "$KNOWN_SUM" ]; then
      R_CHECK=BAD; fail "$name round $round: CHECKSUM TABLE $R_SUM differs from BASELINE.md's $KNOWN_SUM"
    fi
    "$SHARED/mariadb.sh" stop "$INSTANCE" >/dev/null 2>&1
  else
    local db=$run/hoist.db mode=exact
    [ "$name" = sqlite3-import ] && db=$run/sqlite3.db mode=shell
    if [ -f "$db" ] && R_SUM=$(python3 "$HERE/helpers.py" sqlite-check "$db" "$SQ3_DIR" "$mode" 2>>"$out"); then :; else
      R_CHECK=BAD; fail "$name round $round: the SQLite file does not hold the dump's rows ($mode check; log: $out)"
      tail -n 5 "$out" >&2
    fi
  fi
  rm -rf "$run"        # the loaded SQLite files are as large as the dump
  log "round $round: $name ${R_WALL}s rc=$rc check=$R_CHECK"
}

# --------------------------------------------------------------------- run --
log "$(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(mariadb --version | sed 's/,.*//'); hoist $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo '?')"
log "scale $SCALE: $TOTAL_ROWS rows, SQL $((SQL_BYTES/1000000)) MB, CSV $((CSV_BYTES/1000000)) MB; cases: $CASES; $REPEAT round(s); logs: $LOGDIR"
{
  echo "# hoist bench/run.sh --scale $SCALE --repeat $REPEAT --seed $SEED --hoist-args '$HOIST_ARGS'; $(nproc) cores; hoist $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo '?'); $(date -Is)"
  printf 'round\tcase\ttarget\ttool\twall_s\trows\trows_per_s\tsrc_MB\tsrc_MB_per_s\tclient_peak_rss_MiB\tclient_cpu_s\tserver_cpu_s\tbinlog_MB\trc\tcheck\tchecksum\n'
} > "$TSV"
FIRST_SUM="" FIRST_SUM_CASE=""
for round in $(seq 1 "$REPEAT"); do
  for c in $CASES; do
    run_case "$c" "$round"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$c" "$(case_target "$c")" "$(desc "$c")" \
      "$R_WALL" "$TOTAL_ROWS" "$(awk -v r="$TOTAL_ROWS" -v w="$R_WALL" 'BEGIN{printf "%.0f", (w>0? r/w : 0)}')" \
      "$R_SRCMB" "$(awk -v b="$R_SRCMB" -v w="$R_WALL" 'BEGIN{printf "%.1f", (w>0? b/w : 0)}')" \
      "$R_RSS" "$R_CCPU" "$R_SCPU" "$R_BINLOG" "$R_RC" "$R_CHECK" "$R_SUM" >> "$TSV"
  done
done

echo
echo "scale $SCALE, seed $SEED: $TOTAL_ROWS rows; SQL $((SQL_BYTES/1000000)) MB, CSV $((CSV_BYTES/1000000)) MB; $(nproc) cores; $REPEAT round(s)"
python3 "$HERE/helpers.py" report "$TSV"
[ -z "$FIRST_SUM" ] || echo "CHECKSUM TABLE reference (every MariaDB case must match): $FIRST_SUM"
echo "TSV: $TSV"
echo "logs: $LOGDIR"
if [ "$TIMELINE" = 1 ]; then
  python3 -c 'import matplotlib' 2>/dev/null || python3 -m pip install -q --disable-pip-version-check matplotlib >/dev/null \
    || log "matplotlib could not be installed: the timelines stay as TSV in $LOGDIR"
  timelines=()
  for c in $CASES; do [ -f "$LOGDIR/$c.$REPEAT.timeline.tsv" ] && timelines+=("$LOGDIR/$c.$REPEAT.timeline.tsv"); done
  if [ ${#timelines[@]} -gt 0 ] && "$HERE/timeline.py" plot --out "$HERE/results/timeline-s$SCALE-$STAMP.png" "${timelines[@]}"; then
    echo "timeline (round $REPEAT): $HERE/results/timeline-s$SCALE-$STAMP.png"
  fi
fi
if [ ${#FAILURES[@]} -gt 0 ]; then
  echo
  echo "!!!!!!!!!! ${#FAILURES[@]} FAILURE(S) !!!!!!!!!!" >&2
  printf '  %s\n' "${FAILURES[@]}" >&2
  exit 1
fi
