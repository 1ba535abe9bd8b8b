#!/usr/bin/env bash
# The whole job end to end against sf-emulator, the bundled Salesforce emulator. Needs only the
# Rust toolchain. Builds the connector and the emulator (release), then examples/demo.rs:
#   spec, check and discover of both roles; a full read of five streams; changes and deletes in
#   the org (updates, soft deletes, a hard delete, new rows); an incremental read that picks them
#   up; Change Data Capture (changes made while a read follows Account's change events arrive
#   within milliseconds, each printed with its latency); a write of modeled records back into the org, with bad rows landing in the dead-letter
#   queue; a summary (records per stream, time, records/s, rejects and where they are).
# Every file it makes is in one folder: demo-output/ (or the folder given as the argument).
#
# Usage: ./demo.sh [OUTPUT_DIR]
set -euo pipefail
cd "$(dirname "$0")"

out="${1:-demo-output}"
echo "==> building the connector and the emulator (cargo build --release)"
cargo build --release --quiet -p salesforce-connector -p sf-emulator --bins --example demo
exec "${CARGO_TARGET_DIR:-target}/release/examples/demo" "$out"
