#!/bin/sh
# Whole-process benchmark of `source read` against `sf-emulator` under a latency profile that
# stands in for a real org (release builds).
#
#   bench/source_read_profile.sh [N]        default: 2000000
#
# The emulator serves N records of the 30-field `Bench_Record__c` with the profile of
# docs/performance.md: every answer's first byte 80 ms late, each result download throttled to
# 4,000,000 compressed bytes per second per connection, a query job InProgress for its rows ÷
# 50,000 seconds. The stream is read in full twice: (a) the way Airbyte's source reads, one Bulk
# job whose pages follow the Sforce-Locator chain one at a time (max_parallel_downloads 1,
# id_range_rows 0, pages of 100,000 rows); (b) with the defaults (result pages through
# resultPages, five at once; Id ranges prepared at once). One table row each: seconds, records/s,
# API calls, Bulk jobs, compressed MB, peak RSS, the physical limit of that way of reading, and
# the ratios. PROFILE="..." replaces the profile flags.
set -eu
cd "$(dirname "$0")/.."
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    cargo build --release -p salesforce-connector -p sf-emulator >&2
fi
exec python3 bench/source_read_profile.py "$@"
