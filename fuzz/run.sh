#!/usr/bin/env bash
# Run every fuzz target for a while and report executions and crashes.
#
#   bash fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     (default 60 s, every target)
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Each target starts
# from its seeds in fuzz/seeds/TARGET (committed: hostile inputs) and the sample dump's files,
# and grows fuzz/corpus/TARGET (not committed). A crash leaves its input in
# fuzz/artifacts/TARGET; replay it with `cargo +nightly fuzz run TARGET FILE`.
set -euo pipefail
cd "$(dirname "$0")"
SECS=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(sql_scanner csv_scanner statement_splitter ddl)
command -v cargo >/dev/null || { echo "cargo not found" >&2; exit 1; }
cargo +nightly fuzz --version >/dev/null 2>&1 || { echo "cargo-fuzz not found: cargo install cargo-fuzz" >&2; exit 1; }
mkdir -p logs
printf '%-20s %8s %14s %10s %8s\n' target seconds executions exec/s crashes
total=0; crashes=0
for t in "${TARGETS[@]}"; do
  mkdir -p "corpus/$t"
  set +e
  # No sanitizer: the parsers are safe Rust, and what is looked for is panics and wrong
  # answers, at three times the speed. Inputs up to 4 KiB: statements, rows and DDL that
  # long exercise every state, and longer ones only slow the windowed re-scans down.
  # Seeds: the hostile inputs kept here, and the sample dump's files as they are (a scanner
  # target takes an input's first byte as its options, so any file will do).
  cargo +nightly fuzz run --sanitizer none "$t" "corpus/$t" "seeds/$t" ../examples/sample-dump -- \
    -max_total_time="$SECS" -max_len=4096 -print_final_stats=1 > "logs/$t.log" 2>&1
  rc=$?
  set -e
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "logs/$t.log" | tail -1)
  rate=$(awk '/stat::average_exec_per_sec/ {print $2}' "logs/$t.log" | tail -1)
  found=$(find "artifacts/$t" -type f 2>/dev/null | wc -l)
  [ "$rc" = 0 ] || [ "$found" -gt 0 ] || { echo "$t: cargo fuzz failed (rc $rc), see fuzz/logs/$t.log" >&2; found=1; }
  printf '%-20s %8s %14s %10s %8s\n' "$t" "$SECS" "${execs:-?}" "${rate:-?}" "$found"
  total=$((total + ${execs:-0})); crashes=$((crashes + found))
done
echo "total: $total executions, $crashes crashes"
[ "$crashes" = 0 ]
