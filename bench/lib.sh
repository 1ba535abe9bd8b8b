# Shared by the destination benchmarks (sourced, from the repository root): the release
# binaries, a temporary folder removed on exit (KEEP=1 keeps it), and an sf-emulator started in
# the background.
#
#   TARGET / NO_BUILD / EMU / CONNECTOR: which binaries (CARGO_TARGET_DIR is honoured)
#   start_emulator FILE [COMMAND PREFIX…]: starts the emulator (no change events), waits for its
#     ready line in FILE, sets PID
#   field FILE KEY: one value of a JSON object file

TARGET=${CARGO_TARGET_DIR:-target}
if [ -z "${NO_BUILD:-}" ]; then cargo build --release -q -p sf-emulator -p salesforce-connector; fi
EMU=${EMU:-$TARGET/release/sf-emulator}
CONNECTOR=${CONNECTOR:-$TARGET/release/salesforce-connector}

TMP=$(mktemp -d)
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; fi
  if [ -z "${KEEP:-}" ]; then rm -rf "$TMP"; else echo "kept $TMP" >&2; fi
}
trap cleanup EXIT

start_emulator() {
  local ready=$1
  shift
  rm -f "$ready"
  # No change events: the benchmarks measure Bulk API, not the Pub/Sub side (a million
  # retained change events would also be the emulator's largest memory use).
  "$@" "$EMU" --listen 127.0.0.1:0 --frozen-clock --cdc-objects none >"$ready" &
  PID=$!
  for _ in $(seq 1 200); do
    [ -s "$ready" ] && break
    sleep 0.05
  done
  [ -s "$ready" ] || { echo "sf-emulator did not print its ready line" >&2; exit 1; }
}

field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }
