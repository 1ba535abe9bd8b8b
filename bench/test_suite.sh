#!/usr/bin/env bash
# How long a clean `cargo test --workspace` takes: this checkout's HEAD against an earlier commit.
#
#   bench/test_suite.sh [BASE_REV] [RUNS]     default: 69bbd61 (the commit issue 12 was filed
#                                             against), 1 run each
#
# Each commit is cloned into a temporary folder and built into an empty target folder (the
# registry cache is shared, so downloads are not timed): "build" is `cargo test --workspace
# --no-run`, "run" is `cargo test --workspace` after it. The two alternate (base, head, base,
# head, ...) so that a machine growing busier or quieter weighs on both. The test tools come
# from the caller's environment (SF_TEST_PYTHON, SF_PYAIRBYTE_PYTHON, S3S_FS_BIN,
# SF_TINYPROXY_BIN, ...), the same for both; run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
base="${1:-69bbd61}"
runs="${2:-1}"
repo="$PWD"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export CARGO_INCREMENTAL=0

# measure LABEL REV: one clean build and one run; prints a table row.
measure() {
    local label="$1" rev="$2" dir="$work/$1"
    rm -rf "$dir"
    git clone --quiet "$repo" "$dir"
    git -C "$dir" checkout --quiet "$rev"
    local start mid end log="$work/$label.log"
    start=$(date +%s.%N)
    (cd "$dir" && CARGO_TARGET_DIR="$dir/target" cargo test --workspace --no-run) >"$log" 2>&1 \
        || { echo "$label: the build failed, see below" >&2; tail -20 "$log" >&2; exit 1; }
    mid=$(date +%s.%N)
    (cd "$dir" && CARGO_TARGET_DIR="$dir/target" cargo test --workspace) >>"$log" 2>&1 \
        || { echo "$label: the tests failed, see below" >&2; grep -E "FAILED|panicked" "$log" | head -20 >&2; exit 1; }
    end=$(date +%s.%N)
    local tests
    tests=$(grep -E '^test result: ok' "$log" | awk '{p += $4} END {print p}')
    awk -v l="$label" -v c="$(git -C "$dir" rev-parse --short HEAD)" -v s="$start" -v m="$mid" \
        -v e="$end" -v t="$tests" 'BEGIN {printf "| %s | %s | %.1f | %.1f | %s |\n", l, c, m - s, e - m, t}'
    rm -rf "$dir"
}

echo "| build | commit | build s | run s | tests passed |"
echo "|---|---|---|---|---|"
for _ in $(seq "$runs"); do
    measure base "$base"
    measure head HEAD
done
