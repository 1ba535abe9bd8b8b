#!/usr/bin/env bash
# Plain-insert write benchmark of two connector binaries, run by run in the same conditions:
# `bench/destination_write.sh` alternately with BASE (e.g. a release build of an older commit)
# and this checkout's release binary, ROUNDS times, on one generated input, against this
# checkout's emulator. Prints one table, a row per run, labelled.
#
#   BASE=/work/targets/bench-base/release/salesforce-connector ROUNDS=3 bench/destination_write_compare.sh
#   CALLGRIND=1 RECORDS=20000 ROUNDS=1 BASE=… bench/destination_write_compare.sh   # instructions
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BASE:?BASE=path of the baseline salesforce-connector binary}"
ROUNDS=${ROUNDS:-3}
TARGET=${CARGO_TARGET_DIR:-target}
if [ -z "${NO_BUILD:-}" ]; then cargo build --release -q -p sf-emulator -p salesforce-connector; fi
NEW=${NEW:-$TARGET/release/salesforce-connector}
export EMU=${EMU:-$TARGET/release/sf-emulator}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
header=""
rows=()
for round in $(seq 1 "$ROUNDS"); do
  for label in base new; do
    binary=$BASE
    [ "$label" = new ] && binary=$NEW
    out=$(CONNECTOR=$binary NO_BUILD=1 INPUT=$WORK/input.jsonl bench/destination_write.sh)
    if [ -z "$header" ]; then
      header=$(printf '%s\n' "$out" | head -3)
    fi
    rows+=("| $label | $round $(printf '%s\n' "$out" | tail -1)")
  done
done
printf '%s\n' "$header" | head -1
printf '%s\n' "$header" | sed -n 2p | sed 's/^|/| binary | round |/'
printf '%s\n' "$header" | sed -n 3p | sed 's/^|/|---|---:|/'
printf '%s\n' "${rows[@]}"
echo "base: $BASE"
echo "new: $NEW"
echo "emulator: $EMU"
