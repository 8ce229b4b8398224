#!/usr/bin/env bash
# hoist restore point against `mariadb-binlog LOG | mariadb`, on the same log, in one run.
#
#   bench/restore_point.sh [--events N] [--tables T] [--table-size R] [--repeat N] [--port P]
#                          [--work DIR] [--hoist PATH]
#
#   --events N      sysbench oltp_write_only transactions written after the backup (default 100000:
#                   about 200 MB of row events)
#   --tables T      sysbench tables (default 4)
#   --table-size R  rows per table before the backup (default 20000)
#   --repeat N      rounds; the cases run interleaved, round after round (default 2)
#   --port P        port of the source; each case's target runs on P+1 (default 3437)
#   --work DIR      logs and scratch (default /tmp/hoist-bench)
#   --hoist PATH    use this binary instead of building target/release/hoist
#   --no-log-start  restore from the source's binlog files copied into a directory (plain files)
#                   instead of the segments of `hoist log start`
#
# Setup (untimed): a private source MariaDB (../shared/bench/mariadb.sh: binlog ROW, the
# settings every bench server has); `sysbench oltp_write_only prepare`; `hoist backup`; then
# `sysbench oltp_write_only run --events N --threads 2` writes the log (small transactions of
# updates by key, a delete and an insert each: what an OLTP upstream logs). While it writes,
# `hoist log start` keeps the log in a directory of segments; its lag behind the server is
# sampled every 0.5 s (hoist log status --source). The source's CHECKSUM TABLE at the end is the
# reference.
#
# Cases (each into a new private target with the same settings; the snapshot is restored
# first, untimed for the pipe; the log's files are read once before, so they are cached):
#   hoist-point   hoist restore point --restored-pos END from the log start segments (its own
#                 snapshot restore included in wall; `log_s` is its log stage alone, from its summary)
#   pipe          mariadb-binlog --start-position=BACKUP_POS FILES | mariadb (the snapshot
#                 restored by hoist restore full before, untimed)
# Measured: wall, the log stage's seconds, transactions/s and MB/s of log applied, peak RSS
# and CPU of the client (/usr/bin/time -v), server CPU. Checked after each case: CHECKSUM TABLE of
# every sysbench table equals the source's.
#
# Output: a table on stdout; raw rows in bench/results/restore-point-STAMP.tsv.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
SHARED=${HOIST_BENCH_SHARED:-$REPO/../shared/bench}
HOST=127.0.0.1
DB_USER=root
DB=sbtest

die() { echo "restore_point.sh: error: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
M() { local port=$1; shift; mariadb --no-defaults --protocol=TCP -h"$HOST" -P"$port" -u"$DB_USER" "$@"; }

EVENTS=100000; TABLES=4; TABLE_SIZE=20000; REPEAT=2; PORT=3437; WORK=/tmp/hoist-bench; HOIST=""; LOG_START=1
ARGS_SEEN="$*"
while [ $# -gt 0 ]; do
  case "$1" in
    --events) EVENTS=$2; shift 2 ;;
    --tables) TABLES=$2; shift 2 ;;
    --table-size) TABLE_SIZE=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --hoist) HOIST=$2; shift 2 ;;
    --no-log-start) LOG_START=0; shift ;;
    -h|--help) awk 'NR>1 && !/^#/{exit} NR>1{sub(/^# ?/,""); print}' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

declare -A PKG=([mariadb]=mariadb-client [mariadb-binlog]=mariadb-client [mariadbd]=mariadb-server
                [mariadb-install-db]=mariadb-server [sysbench]=sysbench [/usr/bin/time]=time [python3]=python3)
# shellcheck source=common.sh
. "$REPO/bench/common.sh"
install_missing mariadb mariadb-binlog mariadbd mariadb-install-db sysbench /usr/bin/time python3
build_hoist
HOIST_VER="$("$HOIST" --version | head -1); repository $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo '?')"

BASE_DIR=${BENCH_MARIADB_BASE:-/tmp/bench-mariadb}
SRC_PORT=$PORT TGT_PORT=$((PORT + 1))
SRC_INST=hoist-pitr-src-$SRC_PORT TGT_INST=hoist-pitr-tgt-$TGT_PORT
SRC_URL="mysql://$DB_USER@$HOST:$SRC_PORT" TGT_URL="mysql://$DB_USER@$HOST:$TGT_PORT"
STAMP=$(date +%Y%m%dT%H%M%S)
RUN="$WORK/pitr-$STAMP"
mkdir -p "$RUN" "$HERE/results"
TSV="$HERE/results/restore-point-$STAMP.tsv"
FAILURES=()
fail() { FAILURES+=("$*"); log "FAILED: $*"; }
LOG_PID=""
cleanup() {
  [ -n "$LOG_PID" ] && kill "$LOG_PID" 2>/dev/null || true
  "$SHARED/mariadb.sh" stop "$SRC_INST" >/dev/null 2>&1 || true
  "$SHARED/mariadb.sh" stop "$TGT_INST" >/dev/null 2>&1 || true
  [ ${#FAILURES[@]} -eq 0 ] && rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

server_cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14+$15)/hz}' "/proc/$(cat "$BASE_DIR/$1/mariadbd.pid")/stat"; }
tv() { awk -F': ' -v k="$2" 'index($0,k){print $2; exit}' "$1"; }
to_secs() { awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }' <<<"$1"; }
checksum() {
  M "$1" -N -B -e "CHECKSUM TABLE $(for i in $(seq 1 "$TABLES"); do printf '`%s`.`sbtest%s`,' "$DB" "$i"; done | sed 's/,$//')" \
    | awk '{printf "%s%s", (NR>1?",":""), $2}'
}
sb() { sysbench oltp_write_only --db-driver=mysql --mysql-host="$HOST" --mysql-port="$SRC_PORT" --mysql-user="$DB_USER" \
         --mysql-db="$DB" --tables="$TABLES" --table-size="$TABLE_SIZE" "$@"; }

# -------------------------------------------------------------------- setup --
log "$(nproc) cores; $(mariadb --version | sed 's/,.*//'); $(sysbench --version); $HOIST_VER"
"$SHARED/mariadb.sh" stop "$SRC_INST" >/dev/null 2>&1 || true
"$SHARED/mariadb.sh" stop "$TGT_INST" >/dev/null 2>&1 || true
"$SHARED/mariadb.sh" start "$SRC_INST" "$SRC_PORT" 2>>"$RUN/source.log" || die "the source did not start"
M "$SRC_PORT" -e "CREATE DATABASE $DB"
sb prepare >>"$RUN/source.log" 2>&1 || die "sysbench prepare failed (log: $RUN/source.log)"
log "backup of the prepared tables (untimed)"
"$HOIST" backup --source "$SRC_URL" --storage "$RUN/backup" --tables "$DB.*" >>"$RUN/source.log" 2>&1 || die "hoist backup failed"
read -r BK_FILE BK_POS < <(python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["position"]; print(p["file"], p["pos"])' "$RUN/backup/backupmeta.json")

LAG_FILE="$RUN/lag.txt"
LAG_PID=""
if [ "$LOG_START" = 1 ]; then
  log "hoist log start into $RUN/log while sysbench writes $EVENTS transactions"
  "$HOIST" log start --source "$SRC_URL" --storage "$RUN/log" --start-pos "$BK_FILE:$BK_POS" >"$RUN/log-start.log" 2>&1 &
  LOG_PID=$!
  sleep 1
  ( while kill -0 "$LOG_PID" 2>/dev/null; do
      # (no index before the first transaction: a failed look is not the end of the loop)
      { "$HOIST" log status --storage "$RUN/log" --source "$SRC_URL" 2>/dev/null || true; } | awk '/^behind/{print}' >> "$LAG_FILE"
      sleep 0.5
    done ) &
  LAG_PID=$!
else
  log "sysbench writes $EVENTS transactions"
fi
SB0=$(date +%s.%N)
sb run --events="$EVENTS" --time=0 --threads=2 --report-interval=0 >>"$RUN/source.log" 2>&1 || die "sysbench run failed"
SB_SECS=$(awk -v a="$SB0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
read -r END_FILE END_POS < <(M "$SRC_PORT" -N -B -e 'SHOW MASTER STATUS' | awk '{print $1, $2}')
SRC_SUM=$(checksum "$SRC_PORT")
if [ "$LOG_START" = 1 ]; then
  # the log catches up, then stops
  for _ in $(seq 1 100); do
    "$HOIST" log status --storage "$RUN/log" 2>/dev/null | grep -q "$END_FILE:$END_POS" && break
    sleep 0.2
  done
  kill -TERM "$LOG_PID"; wait "$LOG_PID" || fail "hoist log start exited with an error (log: $RUN/log-start.log)"
  LOG_PID=""
  kill "$LAG_PID" 2>/dev/null || true
fi
FILES=$(M "$SRC_PORT" -N -B -e 'SHOW BINARY LOGS' | awk -v f="$BK_FILE" '$1>=f{print $1}')
LOG_BYTES=$(M "$SRC_PORT" -N -B -e 'SHOW BINARY LOGS' | awk -v f="$BK_FILE" -v p="$BK_POS" -v e="$END_FILE" -v q="$END_POS" \
  '$1>=f && $1<=e { s += ($1==e ? q : $2) - ($1==f ? p : 0) } END { print s }')
LOG_MB=$(awk -v b="$LOG_BYTES" 'BEGIN{printf "%.1f", b/1e6}')
TXNS=$EVENTS
mkdir -p "$RUN/plain"
cp $(for f in $FILES; do echo "$BASE_DIR/$SRC_INST/data/$f"; done) "$RUN/plain/"
LOG_DIR="$RUN/log"; [ "$LOG_START" = 1 ] || LOG_DIR="$RUN/plain"
log "log: $LOG_MB MB from $BK_FILE:$BK_POS to $END_FILE:$END_POS; source CHECKSUM TABLE $SRC_SUM"
# "behind URL (at POS): N bytes, F files, S s": the largest S and N of the samples
MAX_LAG=$( { awk '{for(i=1;i<=NF;i++) if ($i ~ /^[0-9.]+$/ && $(i+1) == "s") print $i}' "$LAG_FILE" 2>/dev/null || true; } | sort -n | tail -1)
MAX_LAG_BYTES=$( { awk '{for(i=1;i<=NF;i++) if ($i ~ /^[0-9]+$/ && $(i+1) ~ /^bytes/) print $i}' "$LAG_FILE" 2>/dev/null || true; } | sort -n | tail -1)
LAG_SAMPLES=$( { wc -l < "$LAG_FILE" 2>/dev/null || echo 0; } )
"$SHARED/mariadb.sh" stop "$SRC_INST" >/dev/null 2>&1

{
  echo "# hoist bench/restore_point.sh $ARGS_SEEN; $TXNS transactions, $LOG_MB MB of log; $(nproc) cores; $HOIST_VER; $(date -Is)"
  printf 'round\tcase\twall_s\tlog_s\ttxn_per_s\tMB_per_s\tclient_peak_rss_MiB\tclient_cpu_s\tserver_cpu_s\tcheck\n'
} > "$TSV"

run_case() { # CASE ROUND
  local name=$1 round=$2 tfile="$RUN/$1.$2.time" out="$RUN/$1.$2.log" rc cpu0 cpu1 wall log_s rss ccpu check=ok
  "$SHARED/mariadb.sh" stop "$TGT_INST" >/dev/null 2>&1 || true
  "$SHARED/mariadb.sh" start "$TGT_INST" "$TGT_PORT" 2>>"$out"
  find "$LOG_DIR" "$RUN/plain" -type f -exec cat {} + > /dev/null
  if [ "$name" = pipe ]; then
    "$HOIST" restore full --storage "$RUN/backup" --target "$TGT_URL" --progress quiet >>"$out" 2>&1 || fail "pipe round $round: the snapshot restore failed"
  fi
  log "round $round: $name"
  cpu0=$(server_cpu "$TGT_INST")
  set +e
  case "$name" in
    hoist-point) /usr/bin/time -v -o "$tfile" "$HOIST" restore point --full-backup-storage "$RUN/backup" --storage "$LOG_DIR" \
                   --target "$TGT_URL" --restored-pos "$END_FILE:$END_POS" --progress log >>"$out" 2>&1 ;;
    pipe) /usr/bin/time -v -o "$tfile" bash -o pipefail -c \
            "mariadb-binlog --no-defaults --start-position=$BK_POS $(for f in $FILES; do printf '%q ' "$RUN/plain/$f"; done) | mariadb --no-defaults --protocol=TCP -h$HOST -P$TGT_PORT -u$DB_USER --binary-mode" >>"$out" 2>&1 ;;
  esac
  rc=$?
  set -e
  cpu1=$(server_cpu "$TGT_INST")
  wall=$(to_secs "$(tv "$tfile" 'Elapsed (wall clock) time')")
  rss=$(( $(tv "$tfile" 'Maximum resident set size') / 1024 ))
  ccpu=$(awk -v u="$(tv "$tfile" 'User time')" -v s="$(tv "$tfile" 'System time')" 'BEGIN{printf "%.1f", u+s}')
  log_s=$wall
  if [ "$name" = hoist-point ]; then
    log_s=$(sed -n 's/.*log replayed from .* transactions in \([0-9.]*\) s.*/\1/p' "$out" | tail -1)
    [ -n "$log_s" ] || { fail "hoist-point round $round: no 'log replayed' line (log: $out)"; log_s=$wall; }
  fi
  [ "$rc" = 0 ] || { check=BAD; fail "$name round $round exited with $rc (log: $out)"; tail -n 15 "$out" >&2; }
  local got; got=$(checksum "$TGT_PORT" 2>/dev/null || echo failed)
  [ "$got" = "$SRC_SUM" ] || { check=BAD; fail "$name round $round: CHECKSUM TABLE $got, the source's $SRC_SUM (log: $out)"; }
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$name" "$wall" "$log_s" \
    "$(awk -v n="$TXNS" -v s="$log_s" 'BEGIN{printf "%.0f", n/s}')" "$(awk -v m="$LOG_MB" -v s="$log_s" 'BEGIN{printf "%.1f", m/s}')" \
    "$rss" "$ccpu" "$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN{printf "%.1f", b-a}')" "$check" >> "$TSV"
  log "round $round: $name wall ${wall}s, log ${log_s}s, check $check"
  "$SHARED/mariadb.sh" stop "$TGT_INST" >/dev/null 2>&1
}

for round in $(seq 1 "$REPEAT"); do
  for c in hoist-point pipe; do run_case "$c" "$round"; done
done

echo
echo "$TXNS sysbench oltp_write_only transactions, $LOG_MB MB of log; $(nproc) cores; $REPEAT round(s)"
python3 - "$TSV" <<'EOF'
import csv, statistics, sys
rows = [r for r in csv.DictReader((l for l in open(sys.argv[1]) if not l.startswith('#')), delimiter='\t')]
med = lambda case, k: statistics.median(float(r[k]) for r in rows if r['case'] == case)
print(f"{'case':12} {'wall_s':>8} {'log_s':>8} {'txn/s':>8} {'MB/s':>7} {'rss_MiB':>8} {'cpu_s':>6} {'srv_cpu':>8}")
for case in ('hoist-point', 'pipe'):
    print(f"{case:12} {med(case,'wall_s'):8.1f} {med(case,'log_s'):8.1f} {med(case,'txn_per_s'):8.0f} {med(case,'MB_per_s'):7.1f} "
          f"{med(case,'client_peak_rss_MiB'):8.0f} {med(case,'client_cpu_s'):6.1f} {med(case,'server_cpu_s'):8.1f}")
print(f"log apply: hoist {med('pipe','log_s') / med('hoist-point','log_s'):.2f}x as fast as the pipe (medians of log_s)")
EOF
if [ "$LOG_START" = 1 ]; then
  # bytes behind / the writer's rate: the lag at sub-second resolution (log status counts whole seconds)
  LAG_AT_RATE=$(awk -v b="${MAX_LAG_BYTES:-0}" -v t="$LOG_BYTES" -v s="$SB_SECS" 'BEGIN{printf "%.2f", (t>0? b*s/t : 0)}')
  echo "log start behind the server while sysbench wrote ($LOG_MB MB in $SB_SECS s), largest of $LAG_SAMPLES samples every 0.5 s: ${MAX_LAG_BYTES:-unknown} bytes = ${LAG_AT_RATE} s of the writer's output (log status: ${MAX_LAG:-unknown} s, whole seconds)"
fi
echo "TSV: $TSV"
if [ ${#FAILURES[@]} -gt 0 ]; then
  printf '  %s\n' "${FAILURES[@]}" >&2
  exit 1
fi
