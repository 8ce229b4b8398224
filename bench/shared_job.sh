#!/usr/bin/env bash
# Several hoist processes on one job, on this machine: one process with P×C workers against P
# processes of C workers each (the same command, started together), loading one dump into the
# same private MariaDB, with the checkpoint on a second private MariaDB so that its counters
# are the checkpoint's traffic alone (plan, leases, progress saves).
#
#   bench/shared_job.sh [--scale S] [--procs P] [--concurrency C] [--region SIZE] [--repeat N]
#                       [--port PORT] [--work DIR] [--seed N] [--hoist PATH]
#
#   --scale S        gen_dump.py rows scale (default 0.05: ~230 k rows, ~50 MB of SQL)
#   --procs P        processes sharing the job (default 3)
#   --concurrency C  workers per process (default 2); the single process gets P×C
#   --region SIZE    --max-region-size: how big a chunk is (default 2MiB, for many chunks)
#   --repeat N       rounds of both cases, interleaved (default 1)
#   --port PORT      the target's port; the checkpoint's is PORT+1 (default 3427)
#   --work DIR       dumps (cached by scale and seed) and logs (default /tmp/hoist-bench)
#   --seed N         gen_dump.py seed (default 42)
#   --hoist PATH     use this binary instead of building target/release/hoist
#
# Output, per case and round: wall time, rows/s, the plan's chunks, and on the checkpoint's
# server the statements, connections and transactions, in all and per chunk. Each load is
# checked: every process exits 0, row counts against the dump's manifest.json, and CHECKSUM
# TABLE equal to the first load's.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
SHARED=${HOIST_BENCH_SHARED:-$REPO/../shared/bench}
HOST=127.0.0.1
DB=bench

die() { echo "shared_job.sh: error: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
M() { local port=$1; shift; mariadb --no-defaults --protocol=TCP -h"$HOST" -P"$port" -uroot "$@"; }

SCALE=0.05 PROCS=3 CONC=2 REGION=2MiB REPEAT=1 PORT=3427 WORK=/tmp/hoist-bench SEED=42 HOIST=""
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) SCALE=$2; shift 2 ;;
    --procs) PROCS=$2; shift 2 ;;
    --concurrency) CONC=$2; shift 2 ;;
    --region) REGION=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --hoist) HOIST=$2; shift 2 ;;
    -h|--help) awk 'NR>1 && !/^#/{exit} NR>1{sub(/^# ?/,""); print}' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
for n in PROCS CONC REPEAT; do [[ "${!n}" =~ ^[1-9][0-9]*$ ]] || die "--${n,,} needs a positive integer"; done

[ -x "$SHARED/mariadb.sh" ] && [ -f "$SHARED/gen_dump.py" ] \
  || die "$SHARED/mariadb.sh and gen_dump.py not found (the shared bench kit beside the repository, or HOIST_BENCH_SHARED=DIR)"
declare -A PKG=([mariadb]=mariadb-client [mariadbd]=mariadb-server [mariadb-install-db]=mariadb-server [python3]=python3)
# shellcheck source=common.sh
. "$REPO/bench/common.sh"
install_missing mariadb mariadbd mariadb-install-db python3
build_hoist

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
SQL_DIR="$WORK/sql-s$SCALE-seed$SEED"
LOGDIR="$WORK/logs/shared-$(date +%Y%m%dT%H%M%S)"
mkdir -p "$LOGDIR"
TGT_INST=hoist-shared-tgt-$PORT CP_INST=hoist-shared-cp-$((PORT + 1))
TGT_URL="mysql://root@$HOST:$PORT" CP_URL="mysql://root@$HOST:$((PORT + 1))"
cleanup() {
  "$SHARED/mariadb.sh" stop "$TGT_INST" >/dev/null 2>&1 || true
  "$SHARED/mariadb.sh" stop "$CP_INST" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mf() { python3 -c 'import json,sys; m=json.load(open(sys.argv[1]+"/manifest.json")); print(eval(sys.argv[2]))' "$SQL_DIR" "$1"; }
ensure_dump sql "$SQL_DIR"
TOTAL_ROWS=$(mf 'm["total_rows"]')
TABLES=$(mf '" ".join(m["tables"])')

for inst in "$TGT_INST:$PORT" "$CP_INST:$((PORT + 1))"; do
  "$SHARED/mariadb.sh" stop "${inst%%:*}" >/dev/null 2>&1 || true
  "$SHARED/mariadb.sh" start "${inst%%:*}" "${inst##*:}" 2>>"$LOGDIR/servers.log" || die "a server did not start ($LOGDIR/servers.log)"
done
log "$(nproc) cores; $(mariadb --version | sed 's/,.*//'); $("$HOIST" --version | head -1); $TOTAL_ROWS rows in $SQL_DIR"

# status PORT: "Questions Connections Com_commit" of the server, summed over every session.
status() {
  M "$1" -N -B -e "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Connections', 'Com_commit')" \
    | awk '{v[$1]=$2} END{print v["Questions"], v["Connections"], v["Com_commit"]}'
}
checksum() {
  M "$PORT" -N -B -e "CHECKSUM TABLE $(for t in $TABLES; do printf '`%s`.`%s`,' "$DB" "$t"; done | sed 's/,$//')" \
    | awk '{printf "%s%s=%s", (NR>1?",":""), $1, $2}'
}

FIRST_SUM=""
printf '%-24s %8s %10s %7s %11s %11s %8s %13s\n' case wall_s rows/s chunks statements connections commits stmts/chunk
for round in $(seq "$REPEAT"); do
  for procs in 1 "$PROCS"; do
    conc=$(( procs == 1 ? PROCS * CONC : CONC ))
    name="$procs process(es) x $conc"
    M "$PORT" -e "DROP DATABASE IF EXISTS $DB; DROP DATABASE IF EXISTS hoist_meta"
    M "$((PORT + 1))" -e "DROP DATABASE IF EXISTS hoist_checkpoint"
    read -r q0 c0 t0 < <(status "$((PORT + 1))")
    start=$(date +%s.%N)
    pids=()
    for i in $(seq "$procs"); do
      HOIST_LOG=info "$HOIST" import --source "$SQL_DIR" --target "$TGT_URL" --checkpoint-driver mysql --checkpoint "$CP_URL" \
        --max-region-size "$REGION" --region-concurrency "$conc" --progress quiet \
        >"$LOGDIR/r$round-p$procs-$i.log" 2>&1 &
      pids+=($!)
    done
    for i in "${!pids[@]}"; do
      wait "${pids[$i]}" || die "$name: process $((i + 1)) failed (log: $LOGDIR/r$round-p$procs-$((i + 1)).log)"
    done
    wall=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.2f", e-s}')
    read -r q1 c1 t1 < <(status "$((PORT + 1))")
    chunks=$(grep -ho 'in [0-9]* chunks' "$LOGDIR"/r"$round"-p"$procs"-*.log | head -1 | tr -dc 0-9)
    for t in $TABLES; do
      want=$(mf "m['tables']['$t']['rows']")
      got=$(M "$PORT" -N -B -e "SELECT COUNT(*) FROM \`$DB\`.\`$t\`")
      [ "$want" = "$got" ] || die "$name: $t holds $got rows, manifest.json says $want"
    done
    sum=$(checksum)
    [ -z "$FIRST_SUM" ] && FIRST_SUM=$sum
    [ "$sum" = "$FIRST_SUM" ] || die "$name: CHECKSUM TABLE $sum differs from the first load's $FIRST_SUM"
    stmts=$((q1 - q0)) conns=$((c1 - c0)) commits=$((t1 - t0))
    printf '%-24s %8s %10.0f %7s %11s %11s %8s %13.1f\n' "$name" "$wall" "$(awk -v r="$TOTAL_ROWS" -v w="$wall" 'BEGIN{print r/w}')" \
      "${chunks:-?}" "$stmts" "$conns" "$commits" "$(awk -v s="$stmts" -v c="${chunks:-1}" 'BEGIN{print s/c}')"
  done
done
log "logs: $LOGDIR"
