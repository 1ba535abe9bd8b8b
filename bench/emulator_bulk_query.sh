#!/usr/bin/env bash
# Throughput of sf-emulator's Bulk API 2.0 query results: a 30-field object of N records
# (default 1,000,000), one query job, every result page downloaded with curl.
# Prints records, bytes, seconds and MB/s (1 MB = 1,000,000 bytes of CSV as sent, no gzip).
#
# Usage: bench/emulator_bulk_query.sh [records] [maxRecords per page]
# Env: SF_EMULATOR_BIN to use a built binary instead of `cargo build --release`.
set -euo pipefail

RECORDS="${1:-1000000}"
PAGE="${2:-250000}"
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

BYTES=0
ROWS=0
PAGES=0
LOCATOR=""
while :; do
  URL="$API/jobs/query/$JOB/results?maxRecords=$PAGE"
  [[ -n "$LOCATOR" ]] && URL="$URL&locator=$LOCATOR"
  SIZE="$(curl -sf "${AUTH[@]}" -D "$WORK/headers" -o /dev/null -w '%{size_download}' "$URL")"
  BYTES=$((BYTES + SIZE))
  PAGES=$((PAGES + 1))
  ROWS=$((ROWS + $(grep -i '^sforce-numberofrecords:' "$WORK/headers" | tr -dc '0-9')))
  LOCATOR="$(grep -i '^sforce-locator:' "$WORK/headers" | cut -d' ' -f2 | tr -d '\r')"
  [[ "$LOCATOR" == "null" ]] && break
done
END="$(date +%s.%N)"

python3 - "$RECORDS" "$NFIELDS" "$ROWS" "$PAGES" "$BYTES" "$START" "$READY" "$END" <<'PY'
import sys
records, fields, rows, pages, size = map(int, sys.argv[1:6])
start, ready, end = map(float, sys.argv[6:9])
download = end - ready
print(f"{'records':>10} {'fields':>6} {'pages':>5} {'CSV bytes':>13} {'job s':>6} {'download s':>10} {'MB/s':>8} {'records/s':>11}")
print(f"{rows:>10} {fields:>6} {pages:>5} {size:>13} {ready - start:>6.2f} {download:>10.2f} {size / download / 1e6:>8.1f} {rows / download:>11.0f}")
if rows != records:
    sys.exit(f"expected {records} rows, got {rows}")
PY
