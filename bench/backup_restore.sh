#!/usr/bin/env bash
# hoist backup / hoist restore full against mydumper, myloader and mariadb-dump, in one run.
#
#   bench/backup_restore.sh [--scale S] [--repeat N] [--cases "..."] [--port P]
#                           [--work DIR] [--seed N] [--hoist PATH]
#
#   --scale S     size of the bench database: 1 = 4.6 M rows, ~1 GiB as SQL (default 1)
#   --repeat N    rounds; the cases of each phase run interleaved, round after round (default 3)
#   --cases "…"   subset and order of the cases below (default: all but the optional ones)
#   --port P      port of the source server; restores go to a server on P+1 (default 3427)
#   --work DIR    generated dumps (cached by scale and seed, shared with run.sh), logs and
#                 scratch (default /tmp/hoist-bench)
#   --seed N      gen_dump.py seed (default 42)
#   --hoist PATH  use this binary instead of building target/release/hoist
#
# Setup (untimed): gen_dump.py's SQL dump is loaded once with `hoist import` into a private
# MariaDB (../shared/bench/mariadb.sh, the settings of BASELINE.md, as run.sh uses), then
# row counts, index count and CHECKSUM TABLE of every table are read from it: the reference
# (at scale 1 seed 42 it must equal BASELINE.md's). That pass also warms the buffer pool,
# so every backup reads the same warm server.
#
# Backup cases (database `bench` only, uncompressed, each into a new empty directory; before
# each one the previous output is removed and `sync` run; the source server keeps running):
#   hoist-backup-t2   hoist backup --threads 2 (64 MiB chunks, hoist's default)
#   hoist-backup-nosum  hoist backup --threads 2 --no-checksum (no row checksums: what mydumper does)
#   hoist-backup-t4   hoist backup --threads 4 (optional)
#   mydumper-t2       mydumper -t 2 -r ROWS: ROWS = rows per 64 MiB of InnoDB data_length of
#                     the largest table, so it is cut into as many chunks as hoist cuts it
#                     (hoist sizes chunks by data_length too)
#   mariadb-dump      mariadb-dump --single-transaction --databases bench > one file
# Restore cases (each into a new private MariaDB on P+1, same settings; the input's files
# are read once first so they are in the page cache; schema creation is inside the timing):
#   hoist-restore     hoist restore full of the last hoist-backup-t2 output (binlog on: hoist's
#                     default; the checkpoint lives in the target)
#   myloader-e        myloader -t 2 -e of the last mydumper-t2 output (binlog on, like hoist)
#   myloader          myloader -t 2 (its default: binlog off for its sessions)
#   optional, only when named in --cases:
#   hoist-restore-nobinlog  hoist restore full --disable-binlog (compare with myloader)
# When the backup case a restore reads is not in --cases, that backup is made once, untimed.
#
# Measured: wall, peak RSS and CPU of the client (/usr/bin/time -v), server CPU
# (/proc/<mariadbd>/stat), other CPU (the machine's busy CPU in /proc/stat during the case
# minus the client's and the server's: whatever else ran, as the machine may be shared), output (backup) or input (restore) MB and data files, MB/s of
# source data (the SQL dump's data bytes, the same for every case), `sync` time after a
# backup (not in the wall), hoist's writers_blocked_ms (backupmeta.json), binary log MB after
# a restore.
# Checked: hoist's backupmeta.json rows equal the source's; after every restore (untimed),
# row count, index count and CHECKSUM TABLE of every table equal the source's. A failure is
# printed when it happens and again at the end, and the script exits 1.
#
# Output: the table of medians on stdout, raw runs in bench/results/backup-restore-sSCALE-STAMP.tsv,
# logs and time -v outputs under WORK/logs/br-STAMP. Backup outputs (WORK/br-STAMP) are
# removed at the end unless something failed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
SHARED=${HOIST_BENCH_SHARED:-$REPO/../shared/bench}
HOST=127.0.0.1
DB_USER=root
DB=bench

die() { echo "backup_restore.sh: error: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
M() { local port=$1; shift; mariadb --no-defaults --protocol=TCP -h"$HOST" -P"$port" -u"$DB_USER" "$@"; }

# ------------------------------------------------------------------- options --
BACKUP_CASES="hoist-backup-t2 hoist-backup-nosum mydumper-t2 mariadb-dump"
RESTORE_CASES="hoist-restore myloader-e myloader"
DEFAULT_CASES="$BACKUP_CASES $RESTORE_CASES"
ALL_CASES="$DEFAULT_CASES hoist-backup-t4 hoist-restore-nobinlog"
SCALE=1; REPEAT=3; CASES=$DEFAULT_CASES; PORT=3427; WORK=/tmp/hoist-bench; SEED=42; HOIST=""
ARGS_SEEN="$*"
while [ $# -gt 0 ]; do
  case "$1" in
    --scale)  SCALE=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --cases)  CASES=$2; shift 2 ;;
    --port)   PORT=$2; shift 2 ;;
    --work)   WORK=$2; shift 2 ;;
    --seed)   SEED=$2; shift 2 ;;
    --hoist)  HOIST=$2; shift 2 ;;
    -h|--help) awk 'NR>1 && !/^#/{exit} NR>1{sub(/^# ?/,""); print}' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ "$REPEAT" =~ ^[1-9][0-9]*$ ]] || die "--repeat needs a positive integer"
[[ "$PORT" =~ ^[0-9]+$ ]] && (( PORT >= 1024 && PORT < 65535 )) || die "--port needs 1024..65534"
for c in $CASES; do
  [[ " $ALL_CASES " == *" $c "* ]] || die "unknown case '$c'; cases: $ALL_CASES"
done
has_case() { local c; for c in $CASES; do [[ "$c" == $1 ]] && return 0; done; return 1; }
phase_of() { [[ " $BACKUP_CASES " == *" $1 "* ]] && echo backup || echo restore; }

# ------------------------------------------------------------- requirements --
[ -x "$SHARED/mariadb.sh" ] && [ -f "$SHARED/gen_dump.py" ] \
  || die "$SHARED/mariadb.sh and gen_dump.py not found (the shared bench kit beside the repository, or HOIST_BENCH_SHARED=DIR)"
declare -A PKG=([mariadb]=mariadb-client [mariadb-admin]=mariadb-client [mariadb-dump]=mariadb-client
                [mariadbd]=mariadb-server [mariadb-install-db]=mariadb-server [mydumper]=mydumper
                [myloader]=mydumper [/usr/bin/time]=time [python3]=python3)
need=(mariadb mariadb-admin mariadb-dump mariadbd mariadb-install-db mydumper myloader /usr/bin/time python3)
# shellcheck source=common.sh
. "$REPO/bench/common.sh"
install_missing "${need[@]}"
build_hoist
HOIST_VER="$("$HOIST" --version 2>/dev/null | head -1) at $HOIST; repository $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo '?')"

# -------------------------------------------------------------------- setup --
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
BASE_DIR=${BENCH_MARIADB_BASE:-/tmp/bench-mariadb}
SRC_PORT=$PORT TGT_PORT=$((PORT + 1))
SRC_INST=hoist-br-src-$SRC_PORT TGT_INST=hoist-br-tgt-$TGT_PORT
SRC_URL="mysql://$DB_USER@$HOST:$SRC_PORT" TGT_URL="mysql://$DB_USER@$HOST:$TGT_PORT"
SQL_DIR="$WORK/sql-s$SCALE-seed$SEED"
STAMP=$(date +%Y%m%dT%H%M%S)
LOGDIR="$WORK/logs/br-$STAMP"
OUT="$WORK/br-$STAMP"          # backup outputs; KEEP: the ones the restores read
KEEP="$OUT/keep"
mkdir -p "$LOGDIR" "$KEEP" "$HERE/results"
TSV="$HERE/results/backup-restore-s$SCALE-$STAMP.tsv"
FAILURES=()
fail() { FAILURES+=("$*"); log "FAILED: $*"; }

cleanup() {
  "$SHARED/mariadb.sh" stop "$SRC_INST" >/dev/null 2>&1 || true
  "$SHARED/mariadb.sh" stop "$TGT_INST" >/dev/null 2>&1 || true
  if [ ${#FAILURES[@]} -eq 0 ]; then rm -rf "$OUT"; else echo "backup outputs kept for inspection: $OUT" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mf() { python3 -c 'import json,sys; m=json.load(open(sys.argv[1]+"/manifest.json")); r=eval(sys.argv[2]); print(" ".join(map(str,r)) if isinstance(r,(list,tuple)) else r)' "$1" "$2"; }
ensure_dump sql "$SQL_DIR"
TOTAL_ROWS=$(mf "$SQL_DIR" 'm["total_rows"]')
SRC_BYTES=$(mf "$SQL_DIR" 'm["total_data_bytes"]')
SRC_MB=$(awk -v b="$SRC_BYTES" 'BEGIN{printf "%.1f", b/1e6}')
TABLES=$(mf "$SQL_DIR" 'list(m["tables"])')
KNOWN_SUM=""                  # BASELINE.md's CHECKSUM TABLE (scale 1, seed 42, generator v1)
if [ "$SCALE" = 1 ] && [ "$SEED" = 42 ] && [ "$(mf "$SQL_DIR" 'm["generator_version"]')" = 1 ]; then
  KNOWN_SUM="orders=3002592604,events=3181075164,blobs=1362988663"
fi

server_cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14+$15)/hz}' "/proc/$(cat "$BASE_DIR/$1/mariadbd.pid")/stat"; }
busy_cpu()   { awk -v hz="$(getconf CLK_TCK)" '$1=="cpu"{printf "%.2f", ($2+$3+$4+$7+$8+$9)/hz; exit}' /proc/stat; }
to_secs()    { awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }' <<<"$1"; }
tv()         { awk -F': ' -v k="$2" 'index($0,k){print $2; exit}' "$1"; }
# counts PORT: "table rows" lines; checksum PORT: orders=…,events=…; indexes PORT
counts() { local t; for t in $TABLES; do echo "$t $(M "$1" -N -B -e "SELECT COUNT(*) FROM \`$DB\`.\`$t\`" 2>/dev/null || echo missing)"; done; }
checksum() {
  M "$1" -N -B -e "CHECKSUM TABLE $(for t in $TABLES; do printf '`%s`.`%s`,' "$DB" "$t"; done | sed 's/,$//')" 2>/dev/null \
    | awk '{sub(/^[^.]*\./,"",$1); printf "%s%s=%s", (NR>1?",":""), $1, $2}' || true
}
indexes() { M "$1" -N -B -e "SELECT COUNT(DISTINCT TABLE_NAME, INDEX_NAME) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA='$DB'" 2>/dev/null || echo missing; }
binlog_mb() { (M "$1" -N -B -e 'SHOW BINARY LOGS' 2>/dev/null || true) | awk '{s+=$2} END{printf "%.0f", s/1e6}'; }
dir_mb() { du -sb "$1" | awk '{printf "%.1f", $1/1e6}'; }
data_files() { find "$1" -maxdepth 1 -type f -name "$DB.*" ! -name '*-schema*' | wc -l; }

# ------------------------------------------------------- the source server --
log "$(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(mariadb --version | sed 's/,.*//'); $(mydumper --version 2>&1 | head -1); $HOIST_VER"
"$SHARED/mariadb.sh" stop "$SRC_INST" >/dev/null 2>&1 || true
"$SHARED/mariadb.sh" stop "$TGT_INST" >/dev/null 2>&1 || true
"$SHARED/mariadb.sh" start "$SRC_INST" "$SRC_PORT" 2>>"$LOGDIR/source.log" || die "source server did not start (log: $LOGDIR/source.log)"
log "loading $SQL_DIR into the source server (hoist import, untimed)"
"$HOIST" import --source "$SQL_DIR" --target "$SRC_URL" --progress quiet --no-checkpoint >>"$LOGDIR/source.log" 2>&1 \
  || { tail -n 20 "$LOGDIR/source.log" >&2; die "loading the source failed (log: $LOGDIR/source.log)"; }
SRC_COUNTS=$(counts "$SRC_PORT")
while read -r t want; do
  got=$(awk -v t="$t" '$1==t{print $2}' <<<"$SRC_COUNTS")
  [ "$want" = "$got" ] || die "source: $t has $got rows, manifest.json says $want"
done < <(mf "$SQL_DIR" '"\n".join("%s %s" % (t, v["rows"]) for t, v in m["tables"].items())')
SRC_INDEXES=$(indexes "$SRC_PORT")
SRC_SUM=$(checksum "$SRC_PORT")      # also reads every row: warms the buffer pool
[ -n "$SRC_SUM" ] || die "CHECKSUM TABLE on the source failed"
if [ -n "$KNOWN_SUM" ] && [ "$SRC_SUM" != "$KNOWN_SUM" ]; then
  die "source CHECKSUM TABLE $SRC_SUM differs from BASELINE.md's $KNOWN_SUM"
fi
# mydumper -r: rows per 64 MiB of InnoDB data_length of the largest table (how hoist sizes chunks)
read -r BIG_TABLE BIG_ROWS BIG_DL < <(M "$SRC_PORT" -N -B -e "SELECT TABLE_NAME, TABLE_ROWS, DATA_LENGTH FROM information_schema.TABLES WHERE TABLE_SCHEMA='$DB' ORDER BY DATA_LENGTH DESC LIMIT 1")
BIG_ROWS=$(awk -v t="$BIG_TABLE" '$1==t{print $2}' <<<"$SRC_COUNTS")
CHUNK=$((64 * 1024 * 1024))
PIECES=$(( (BIG_DL + CHUNK - 1) / CHUNK )); (( PIECES >= 1 )) || PIECES=1
MYD_ROWS=$(( (BIG_ROWS + PIECES - 1) / PIECES ))
log "source: $TOTAL_ROWS rows, $SRC_MB MB of SQL data; $BIG_TABLE data_length $((BIG_DL / 1048576)) MiB -> $PIECES chunks of 64 MiB -> mydumper -r $MYD_ROWS"
log "source CHECKSUM TABLE: $SRC_SUM"

# cpu_figures SERVER0 SERVER1 BUSY0 BUSY1: R_SCPU, the server's CPU seconds between the two
# readings, and R_OCPU, the machine's other busy CPU (less the client's R_CCPU and the server's).
cpu_figures() {
  R_SCPU=$(awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}')
  R_OCPU=$(awk -v a="$3" -v b="$4" -v c="$R_CCPU" -v s="$R_SCPU" 'BEGIN{o=b-a-c-s; printf "%.1f", (o>0? o : 0)}')
}

# ------------------------------------------------------------------- cases --
desc() {
  case "$1" in
    hoist-backup-t2)        echo "hoist backup --threads 2" ;;
    hoist-backup-nosum)     echo "hoist backup --threads 2 --no-checksum" ;;
    hoist-backup-t4)        echo "hoist backup --threads 4" ;;
    mydumper-t2)            echo "mydumper -t 2 -r $MYD_ROWS" ;;
    mariadb-dump)           echo "mariadb-dump --single-transaction" ;;
    hoist-restore)          echo "hoist restore full (binlog on)" ;;
    hoist-restore-nobinlog) echo "hoist restore full --disable-binlog" ;;
    myloader-e)             echo "myloader -t 2 -e (binlog on)" ;;
    myloader)               echo "myloader -t 2 (binlog off)" ;;
  esac
}
# backup_cmd CASE DIR -> BCMD: the command of a backup case (mariadb-dump writes to stdout)
backup_cmd() {
  case "$1" in
    hoist-backup-t2) BCMD=("$HOIST" backup --source "$SRC_URL" --storage "$2" --tables "$DB.*" --threads 2 --compress none) ;;
    hoist-backup-nosum) BCMD=("$HOIST" backup --source "$SRC_URL" --storage "$2" --tables "$DB.*" --threads 2 --compress none --no-checksum) ;;
    hoist-backup-t4) BCMD=("$HOIST" backup --source "$SRC_URL" --storage "$2" --tables "$DB.*" --threads 4 --compress none) ;;
    mydumper-t2)     BCMD=(mydumper -h "$HOST" -P "$SRC_PORT" -u "$DB_USER" -B "$DB" -o "$2" -t 2 -r "$MYD_ROWS" -v 3) ;;
    mariadb-dump)    BCMD=(mariadb-dump --no-defaults --protocol=TCP -h"$HOST" -P"$SRC_PORT" -u"$DB_USER" --single-transaction --databases "$DB") ;;
  esac
}
# The backups the restores read: the last round's output of these cases.
HOIST_SRC_CASE=hoist-backup-t2; has_case hoist-backup-t2 || { has_case hoist-backup-t4 && HOIST_SRC_CASE=hoist-backup-t4; }
MYD_SRC_CASE=mydumper-t2

R_RESET() { R_WALL=0 R_RSS=0 R_CCPU=0 R_SCPU=- R_OCPU=- R_OUTMB=- R_FILES=- R_SYNC=- R_BLOCKED=- R_BINLOG=- R_RC=0 R_CHECK=ok R_SUM=-; }
read_time() { # TFILE -> R_WALL R_RSS R_CCPU
  local wall rss
  wall=$(tv "$1" 'Elapsed (wall clock) time' 2>/dev/null || true)
  rss=$(tv "$1" 'Maximum resident set size' 2>/dev/null || true)
  R_WALL=$(to_secs "${wall:-0:0}")
  R_RSS=$(( ${rss:-0} / 1024 ))
  R_CCPU=$(awk -v u="$(tv "$1" 'User time' 2>/dev/null)" -v s="$(tv "$1" 'System time' 2>/dev/null)" 'BEGIN{printf "%.1f", u+s}')
}

run_backup() { # CASE ROUND [untimed]
  local name=$1 round=$2 dir="$OUT/$1.$2" tfile="$LOGDIR/$1.$2.time" out="$LOGDIR/$1.$2.log" rc cpu0 cpu1 busy0 busy1 t0
  R_RESET
  rm -rf "$dir"; mkdir -p "$dir"; sync
  backup_cmd "$name" "$dir"
  echo "${BCMD[*]}" > "$out"
  log "round $round: $name"
  cpu0=$(server_cpu "$SRC_INST"); busy0=$(busy_cpu)
  set +e
  if [ "$name" = mariadb-dump ]; then
    /usr/bin/time -v -o "$tfile" "${BCMD[@]}" > "$dir/$DB.sql" 2>>"$out"
  else
    /usr/bin/time -v -o "$tfile" "${BCMD[@]}" >>"$out" 2>&1
  fi
  rc=$?
  set -e
  cpu1=$(server_cpu "$SRC_INST"); busy1=$(busy_cpu)
  t0=$(date +%s.%N); sync; R_SYNC=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}')
  read_time "$tfile"
  R_RC=$rc
  cpu_figures "$cpu0" "$cpu1" "$busy0" "$busy1"
  R_OUTMB=$(dir_mb "$dir")
  R_FILES=$(data_files "$dir")
  [ "$rc" = 0 ] || { R_CHECK=BAD; fail "$name round $round exited with rc=$rc (log: $out)"; tail -n 15 "$out" >&2; }
  if [ "$rc" = 0 ] && [[ "$name" == hoist-* ]]; then
    local meta
    if meta=$(python3 "$HERE/helpers.py" backupmeta "$dir/backupmeta.json" "$DB" 2>>"$out"); then
      R_BLOCKED=$(sed -n 's/^blocked_ms //p' <<<"$meta")
      R_FILES=$(sed -n 's/^chunks //p' <<<"$meta")
      local t want got
      while read -r t want; do
        got=$(awk -v t="$t" '$1=="rows" && $2==t{print $3}' <<<"$meta")
        [ "$want" = "$got" ] || { R_CHECK=BAD; fail "$name round $round: backupmeta.json has ${got:-no} rows for $t, the source $want (log: $out)"; }
      done <<<"$SRC_COUNTS"
    else
      R_CHECK=BAD; fail "$name round $round: no readable $dir/backupmeta.json (log: $out)"
    fi
  fi
  if [ "$name" = mydumper-t2 ] && [ "$rc" = 0 ] && [ ! -f "$dir/metadata" ]; then
    R_CHECK=BAD; fail "$name round $round: no metadata file in $dir (log: $out)"
  fi
  # keep the newest output a restore reads; remove the rest
  if [ "$name" = "$HOIST_SRC_CASE" ] || [ "$name" = "$MYD_SRC_CASE" ]; then
    rm -rf "${KEEP:?}/$name"; mv "$dir" "$KEEP/$name"
  else
    rm -rf "$dir"
  fi
  sync
  log "round $round: $name ${R_WALL}s rc=$rc check=$R_CHECK out=${R_OUTMB}MB blocked_ms=$R_BLOCKED"
}

run_restore() { # CASE ROUND
  local name=$1 round=$2 tfile="$LOGDIR/$1.$2.time" out="$LOGDIR/$1.$2.log" run="$LOGDIR/$1.$2.d" input rc cpu0 cpu1 busy0 busy1
  R_RESET
  case "$name" in hoist-restore*) input="$KEEP/$HOIST_SRC_CASE" ;; *) input="$KEEP/$MYD_SRC_CASE" ;; esac
  mkdir -p "$run"
  "$SHARED/mariadb.sh" stop "$TGT_INST" >/dev/null 2>&1
  sync
  "$SHARED/mariadb.sh" start "$TGT_INST" "$TGT_PORT" 2>>"$out"
  cat "$input"/* > /dev/null          # the same page-cache state for every case
  log "round $round: $name"
  cpu0=$(server_cpu "$TGT_INST"); busy0=$(busy_cpu)
  set +e
  case "$name" in
    hoist-restore)          (cd "$run" && /usr/bin/time -v -o "$tfile" "$HOIST" restore full --storage "$input" --target "$TGT_URL" --progress quiet) >>"$out" 2>&1 ;;
    hoist-restore-nobinlog) (cd "$run" && /usr/bin/time -v -o "$tfile" "$HOIST" restore full --storage "$input" --target "$TGT_URL" --progress quiet --disable-binlog) >>"$out" 2>&1 ;;
    myloader-e) /usr/bin/time -v -o "$tfile" myloader -d "$input" -t 2 -h "$HOST" -P "$TGT_PORT" -u "$DB_USER" -o -q 1000 -e -v 2 >>"$out" 2>&1 ;;
    myloader)   /usr/bin/time -v -o "$tfile" myloader -d "$input" -t 2 -h "$HOST" -P "$TGT_PORT" -u "$DB_USER" -o -q 1000 -v 2 >>"$out" 2>&1 ;;
  esac
  rc=$?
  set -e
  cpu1=$(server_cpu "$TGT_INST" 2>/dev/null || echo "$cpu0"); busy1=$(busy_cpu)
  read_time "$tfile"
  R_RC=$rc
  cpu_figures "$cpu0" "$cpu1" "$busy0" "$busy1"
  R_OUTMB=$(dir_mb "$input")
  R_FILES=$(data_files "$input")
  [ "$name" = "${name#hoist}" ] || R_FILES=$(python3 "$HERE/helpers.py" backupmeta "$input/backupmeta.json" "$DB" | sed -n 's/^chunks //p')
  R_BINLOG=$(binlog_mb "$TGT_PORT")
  [ "$rc" = 0 ] || { R_CHECK=BAD; fail "$name round $round exited with rc=$rc (log: $out)"; tail -n 15 "$out" >&2; }
  # untimed: the restored tables must equal the source's
  local got
  got=$(counts "$TGT_PORT")
  [ "$got" = "$SRC_COUNTS" ] || { R_CHECK=BAD; fail "$name round $round: row counts $(tr '\n' ' ' <<<"$got")differ from the source's $(tr '\n' ' ' <<<"$SRC_COUNTS")(log: $out)"; }
  got=$(indexes "$TGT_PORT")
  [ "$got" = "$SRC_INDEXES" ] || { R_CHECK=BAD; fail "$name round $round: $got indexes in $DB, the source has $SRC_INDEXES (log: $out)"; }
  R_SUM=$(checksum "$TGT_PORT")
  [ "$R_SUM" = "$SRC_SUM" ] || { R_CHECK=BAD; fail "$name round $round: CHECKSUM TABLE ${R_SUM:-failed} differs from the source's $SRC_SUM (log: $out)"; }
  "$SHARED/mariadb.sh" stop "$TGT_INST" >/dev/null 2>&1
  rm -rf "$run"
  log "round $round: $name ${R_WALL}s rc=$rc check=$R_CHECK binlog=${R_BINLOG}MB"
}

row() { # ROUND CASE
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$(phase_of "$2")" "$2" "$(desc "$2")" \
    "$R_WALL" "$SRC_MB" "$(awk -v b="$SRC_MB" -v w="$R_WALL" 'BEGIN{printf "%.1f", (w>0? b/w : 0)}')" \
    "$R_OUTMB" "$R_FILES" "$R_RSS" "$R_CCPU" "$R_SCPU" "$R_OCPU" "$R_SYNC" "$R_BLOCKED" "$R_BINLOG" "$R_RC" "$R_CHECK" "$R_SUM" >> "$TSV"
}

# --------------------------------------------------------------------- run --
log "cases: $CASES; $REPEAT round(s); logs: $LOGDIR"
{
  echo "# hoist bench/backup_restore.sh $ARGS_SEEN; scale $SCALE seed $SEED: $TOTAL_ROWS rows, $SRC_MB MB SQL data; mydumper -r $MYD_ROWS; $(nproc) cores; $HOIST_VER; $(date -Is); source CHECKSUM TABLE $SRC_SUM"
  printf 'round\tphase\tcase\ttool\twall_s\tsrc_MB\tsrc_MB_per_s\tdata_MB\tdata_files\tclient_peak_rss_MiB\tclient_cpu_s\tserver_cpu_s\tother_cpu_s\tsync_s\twriters_blocked_ms\tbinlog_MB\trc\tcheck\tchecksum\n'
} > "$TSV"

for round in $(seq 1 "$REPEAT"); do
  for c in $CASES; do
    [ "$(phase_of "$c")" = backup ] || continue
    run_backup "$c" "$round"; row "$round" "$c"
  done
done

if has_case 'hoist-restore*' && [ ! -f "$KEEP/$HOIST_SRC_CASE/backupmeta.json" ]; then
  log "making the backup hoist-restore reads ($HOIST_SRC_CASE, untimed)"; run_backup "$HOIST_SRC_CASE" 0
fi
if has_case 'myloader*' && [ ! -f "$KEEP/$MYD_SRC_CASE/metadata" ]; then
  log "making the backup myloader reads ($MYD_SRC_CASE, untimed)"; run_backup "$MYD_SRC_CASE" 0
fi
"$SHARED/mariadb.sh" stop "$SRC_INST" >/dev/null 2>&1   # the restores have the machine to themselves

for round in $(seq 1 "$REPEAT"); do
  for c in $CASES; do
    [ "$(phase_of "$c")" = restore ] || continue
    run_restore "$c" "$round"; row "$round" "$c"
  done
done

echo
echo "scale $SCALE, seed $SEED: $TOTAL_ROWS rows, $SRC_MB MB of SQL data; $(nproc) cores; $REPEAT round(s); mydumper -r $MYD_ROWS"
python3 "$HERE/helpers.py" backup-report "$TSV"
echo "source CHECKSUM TABLE (every restore must match): $SRC_SUM"
echo "TSV: $TSV"
echo "logs: $LOGDIR"
if [ ${#FAILURES[@]} -gt 0 ]; then
  echo
  echo "!!!!!!!!!! ${#FAILURES[@]} FAILURE(S) !!!!!!!!!!" >&2
  printf '  %s\n' "${FAILURES[@]}" >&2
  exit 1
fi
