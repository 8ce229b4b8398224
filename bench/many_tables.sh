#!/usr/bin/env bash
# Many small tables: hoist import against myloader -t 2 -e on gen_many_tables.py's dump.
#
#   bench/many_tables.sh [--tables 10000] [--rows 20] [--repeat 2] [--port 3437]
#                        [--cases "hoist myloader-e"] [--hoist PATH] [--hoist-args "..."]
#
# Each case, in interleaved rounds, loads the dump into a new private MariaDB (the shared
# kit's mariadb.sh, BASELINE.md's settings). Timed: wall, client peak RSS. Counted by the
# server (SHOW GLOBAL STATUS before and after): statements (Questions), commits and
# connections, each per table. Checked after each load: every table's row count.
# The dump is generated once into /tmp/hoist-bench/many-TABLESxROWS (with the `metadata`
# file myloader needs to accept a directory).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
SHARED=${HOIST_BENCH_SHARED:-$REPO/../shared/bench}
TABLES=10000 ROWS=20 REPEAT=2 PORT=3437 CASES="hoist myloader-e" HOIST="" HOIST_ARGS=""
die() { echo "many_tables.sh: error: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --tables) TABLES=$2; shift 2 ;;
    --rows) ROWS=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --cases) CASES=$2; shift 2 ;;
    --hoist) HOIST=$2; shift 2 ;;
    --hoist-args) HOIST_ARGS=$2; shift 2 ;;
    -h|--help) awk 'NR>1 && !/^#/{exit} NR>1{sub(/^# ?/,""); print}' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

declare -A PKG=([mariadb]=mariadb-client [mariadbd]=mariadb-server [mariadb-install-db]=mariadb-server
                [myloader]=mydumper [/usr/bin/time]=time [python3]=python3)
# shellcheck source=common.sh
. "$REPO/bench/common.sh"
install_missing mariadb mariadbd mariadb-install-db myloader /usr/bin/time python3
build_hoist

DUMP=/tmp/hoist-bench/many-${TABLES}x$ROWS
if [ ! -f "$DUMP/metadata" ]; then
  log "generating $TABLES tables of $ROWS rows into $DUMP"
  rm -rf "$DUMP"
  python3 "$HERE/gen_many_tables.py" --out "$DUMP" --tables "$TABLES" --rows "$ROWS"
  # myloader accepts a directory only with mydumper's metadata file in it.
  printf 'Started dump at: 2026-01-01 00:00:00\nFinished dump at: 2026-01-01 00:00:00\n' > "$DUMP/metadata"
fi
INSTANCE=hoist-bench-many-$PORT
LOGDIR=/tmp/hoist-bench/logs/many-$(date +%Y%m%dT%H%M%S)
mkdir -p "$LOGDIR"
cleanup() { "$SHARED/mariadb.sh" stop "$INSTANCE" >/dev/null 2>&1 || true; }
trap cleanup EXIT
M() { mariadb --no-defaults --protocol=TCP -h127.0.0.1 -P"$PORT" -uroot -N -B "$@"; }
counters() { M -e "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Com_commit', 'Connections')" | awk '{printf "%s ", $2}'; }

printf 'case\tround\twall_s\trss_mib\tstatements_per_table\tcommits_per_table\tconnections\tcheck\n' > "$LOGDIR/results.tsv"
for round in $(seq 1 "$REPEAT"); do
  for name in $CASES; do
    cleanup
    "$SHARED/mariadb.sh" start "$INSTANCE" "$PORT" 2>>"$LOGDIR/server.log"
    cat "$DUMP"/* > /dev/null
    read -r c0 m0 q0 <<<"$(counters)"
    out="$LOGDIR/$name.$round.log" tfile="$LOGDIR/$name.$round.time"
    log "round $round: $name"
    set +e
    case "$name" in
      # shellcheck disable=SC2086
      hoist) /usr/bin/time -v -o "$tfile" "$HOIST" import --progress quiet --source "$DUMP" \
               --target "mysql://root@127.0.0.1:$PORT" --checkpoint "$LOGDIR/$name.$round.db" $HOIST_ARGS >"$out" 2>&1 ;;
      myloader-e) /usr/bin/time -v -o "$tfile" myloader -d "$DUMP" -t 2 -h 127.0.0.1 -P "$PORT" -u root -o -e >"$out" 2>&1 ;;
      *) die "unknown case $name" ;;
    esac
    rc=$?
    set -e
    read -r c1 m1 q1 <<<"$(counters)"
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); print (n==3 ? a[1]*3600+a[2]*60+a[3] : a[1]*60+a[2])}' "$tfile")
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$tfile")
    loaded=$(M -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'many' AND TABLE_ROWS IS NOT NULL")
    check=ok
    [ "$rc" = 0 ] || { check="rc=$rc"; tail -5 "$out" >&2; }
    [ "$loaded" = "$TABLES" ] || check="$loaded tables"
    # Exact counts of a sample of tables (every table would take longer than the load).
    for t in $(seq 0 $(( TABLES / 50 + 1 )) $(( TABLES - 1 ))); do
      got=$(M -e "SELECT COUNT(*) FROM many.t$(printf %05d "$t")" 2>/dev/null || echo missing)
      [ "$got" = "$ROWS" ] || check="t$t has $got rows"
    done
    awk -v n="$name" -v r="$round" -v w="$wall" -v m="$rss" -v t="$TABLES" -v q=$((q1 - q0)) -v c=$((c1 - c0)) \
        -v k=$((m1 - m0)) -v ok="$check" 'BEGIN { printf "%s\t%s\t%.1f\t%s\t%.1f\t%.2f\t%d\t%s\n", n, r, w, m, q/t, c/t, k, ok }' \
        >> "$LOGDIR/results.tsv"
  done
done
cleanup
column -t -s $'\t' "$LOGDIR/results.tsv"
echo "(all runs: $LOGDIR)"
