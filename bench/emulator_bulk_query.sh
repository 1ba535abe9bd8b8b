#!/usr/bin/env bash
# Throughput of sf-emulator's Bulk API 2.0 query results: a 30-field object of N records
# (default 1,000,000), one query job, every result page downloaded with curl.
# Prints records, bytes, seconds and MB/s (1 MB = 1,000,000 bytes of CSV as sent, no gzip), the
# emulator's CPU seconds for the download and MB per CPU-second (a figure that does not depend on
# what else the machine runs), and the load average.
#
# Usage: bench/emulator_bulk_query.sh [records] [maxRecords per page] [identity|gzip]
# With gzip the pages are asked for with Accept-Encoding: gzip and bytes count as sent.
# Env: SF_EMULATOR_BIN to use a built binary instead of `cargo build --release`.
set -euo pipefail

RECORDS="${1:-1000000}"
PAGE="${2:-250000}"
ENCODING="${3:-identity}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

if [[ -z "${SF_EMULATOR_BIN:-}" ]]; then
  cargo build --release -p sf-emulator --manifest-path "$ROOT/Cargo.toml" >&2
  SF_EMULATOR_BIN="$ROOT/target/release/sf-emulator"
fi

WORK="$(mktemp -d)"
"$SF_EMULATOR_BIN" --records "Bench_Record__c=$RECORDS" --frozen-clock >"$WORK/ready" 2>"$WORK/stderr" &
EMULATOR_PID=$!
cleanup() { kill "$EMULATOR_PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

for _ in $(seq 1 200); do
  [[ -s "$WORK/ready" ]] && break
  sleep 0.05
done
[[ -s "$WORK/ready" ]] || { echo "sf-emulator did not start: $(cat "$WORK/stderr")" >&2; exit 1; }

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
BASE="$(json 'd["base_url"]' <"$WORK/ready")"
CLIENT_ID="$(json 'd["client_id"]' <"$WORK/ready")"
CLIENT_SECRET="$(json 'd["client_secret"]' <"$WORK/ready")"
REFRESH="$(json 'd["refresh_token"]' <"$WORK/ready")"
TOKEN="$(curl -sf "$BASE/services/oauth2/token" -d grant_type=refresh_token \
  -d "client_id=$CLIENT_ID" -d "client_secret=$CLIENT_SECRET" -d "refresh_token=$REFRESH" | json 'd["access_token"]')"
API="$BASE/services/data/v62.0"
AUTH=(-H "Authorization: Bearer $TOKEN")

FIELDS="$(curl -sf "${AUTH[@]}" "$API/sobjects/Bench_Record__c/describe" | json '",".join(f["name"] for f in d["fields"])')"
NFIELDS="$(tr ',' '\n' <<<"$FIELDS" | wc -l)"
JOB="$(curl -sf "${AUTH[@]}" -H 'Content-Type: application/json' "$API/jobs/query" \
  -d "{\"operation\":\"query\",\"query\":\"SELECT $FIELDS FROM Bench_Record__c\"}" | json 'd["id"]')"

START="$(date +%s.%N)"
until [[ "$(curl -sf "${AUTH[@]}" "$API/jobs/query/$JOB" | json 'd["state"]')" == "JobComplete" ]]; do sleep 0.05; done
READY="$(date +%s.%N)"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$EMULATOR_PID/stat" 2>/dev/null || echo 0; }
CPU0="$(cpu_ticks)"
BYTES=0
ROWS=0
PAGES=0
LOCATOR=""
while :; do
  URL="$API/jobs/query/$JOB/results?maxRecords=$PAGE"
  [[ -n "$LOCATOR" ]] && URL="$URL&locator=$LOCATOR"
  SIZE="$(curl -sf "${AUTH[@]}" -H "Accept-Encoding: $ENCODING" -D "$WORK/headers" -o /dev/null -w '%{size_download}' "$URL")"
  BYTES=$((BYTES + SIZE))
  PAGES=$((PAGES + 1))
  ROWS=$((ROWS + $(grep -i '^sforce-numberofrecords:' "$WORK/headers" | tr -dc '0-9')))
  LOCATOR="$(grep -i '^sforce-locator:' "$WORK/headers" | cut -d' ' -f2 | tr -d '\r')"
  [[ "$LOCATOR" == "null" ]] && break
done
END="$(date +%s.%N)"
CPU1="$(cpu_ticks)"
TICKS="$(getconf CLK_TCK)"

python3 - "$RECORDS" "$NFIELDS" "$ROWS" "$PAGES" "$BYTES" "$START" "$READY" "$END" "$CPU0" "$CPU1" "$TICKS" <<'PY'
import os, sys
records, fields, rows, pages, size = map(int, sys.argv[1:6])
start, ready, end = map(float, sys.argv[6:9])
cpu = (float(sys.argv[10]) - float(sys.argv[9])) / float(sys.argv[11])
download = end - ready
load = os.getloadavg()[0]
print(f"{'records':>10} {'fields':>6} {'pages':>5} {'CSV bytes':>13} {'job s':>6} {'download s':>10} {'MB/s':>8} {'records/s':>11} {'emulator CPU s':>14} {'MB/CPU-s':>9} {'load':>5}")
print(f"{rows:>10} {fields:>6} {pages:>5} {size:>13} {ready - start:>6.2f} {download:>10.2f} {size / download / 1e6:>8.1f} {rows / download:>11.0f} {cpu:>14.2f} {size / max(cpu, 1e-9) / 1e6:>9.1f} {load:>5.1f}")
if rows != records:
    sys.exit(f"expected {records} rows, got {rows}")
PY
