#!/usr/bin/env bash
# Builds each candidate (release) and prints binary size over the baseline, load time, time per
# long-tail block and coverage. Usage: bash benches/highlighters/run.sh [BLOCKS]
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/../../target/highlighters}"
n="${1:-10000}"
size() { stat -c %s "$CARGO_TARGET_DIR/release/highlighters-bench"; }
cargo build --release -q
base=$(size)
"$CARGO_TARGET_DIR/release/highlighters-bench" "$n"
for f in syntect-fancy syntect-onig two-face-fancy two-face-onig giallo; do
  cargo build --release -q --features "$f"
  printf '%-16s binary +%s KB  ' "$f" $(( ($(size) - base) / 1024 ))
  "$CARGO_TARGET_DIR/release/highlighters-bench" "$n"
done
