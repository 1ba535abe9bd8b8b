#!/bin/sh
# Change Data Capture against `sf-emulator` (release builds), whole processes.
#
#   bench/cdc_latency.sh [RATE [SECONDS [BURST]]]      default: 20 changes/s for 60 s, burst 5000
#
# 1. Steady rate: while `source read` follows Account's change events (change_data_capture on),
#    RATE updates a second are committed through the emulator's admin API for SECONDS seconds;
#    each update's latency runs from the admin call committing it (sent) to the RECORD carrying
#    it on the connector's stdout. Prints p50/p99, events/s, the connector's peak RSS and CPU,
#    and the API calls it made (REST re-reads; gRPC calls listed apart) per hour.
# 2. Burst: BURST updates committed at once, drained by a read resuming from the saved replay
#    id: events/s sustained.
# 3. The same kind of changes read by a polling incremental sync (CDC off): the API calls of one
#    sync, times 12 for a sync every 5 minutes, and the latency polling implies.
# The emulator runs on core 0 and the connector (with the driver) on core 1; PIN=0 shares them.
set -eu
cd "$(dirname "$0")/.."
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    cargo build --release -p salesforce-connector -p sf-emulator >&2
fi
exec python3 bench/cdc_latency.py "$@"
