#!/bin/sh
# Whole-process benchmark of `source read` against `sf-emulator` (release builds).
#
#   bench/source_read.sh [N ...]        default: 100000 1000000 10000000
#
# For each N it starts `sf-emulator --records Bench_Record__c=N` (a 30-field object), reads the
# stream through the connector (full refresh: one Bulk job), then downloads the same result
# pages raw (no conversion) to measure the wire limit, and prints one table row:
# records/s, MB/s of output, peak RSS, API calls made, the connector's CPU time per record, and
# the ratio to the raw download. The emulator runs on core 0 and the connector on core 1 (the
# emulator stands in for Salesforce's servers); PIN=0 lets them share the cores.
set -eu
cd "$(dirname "$0")/.."
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    cargo build --release -p salesforce-connector -p sf-emulator >&2
fi
exec python3 bench/source_read.py "$@"
