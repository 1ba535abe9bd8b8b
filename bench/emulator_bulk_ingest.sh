#!/usr/bin/env bash
# How long sf-emulator takes to process a Bulk API 2.0 insert of ROWS rows (default 1,000,000)
# into Account: release build, the real binary over HTTP, curl as the client.
#
#   bench/emulator_bulk_ingest.sh            # 1M rows
#   ROWS=200000 bench/emulator_bulk_ingest.sh
#
# Prints a table: rows, CSV MB, upload seconds, processing seconds (close -> JobComplete),
# rows/s, results download seconds, and the emulator's peak RSS.
set -euo pipefail

ROWS=${ROWS:-1000000}
cd "$(dirname "$0")/.."
cargo build --release -q -p sf-emulator
BIN=target/release/sf-emulator

TMP=$(mktemp -d)
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

# No change events: the benchmark measures Bulk ingest, not the Pub/Sub side (a million
# retained change events would also be the emulator's largest memory use).
"$BIN" --listen 127.0.0.1:0 --frozen-clock --cdc-objects none >"$TMP/ready.json" &
PID=$!
for _ in $(seq 1 200); do
  [ -s "$TMP/ready.json" ] && break
  sleep 0.05
done
[ -s "$TMP/ready.json" ] || { echo "sf-emulator did not print its ready line" >&2; exit 1; }

field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }
BASE=$(field "$TMP/ready.json" base_url)
LOGIN=$(field "$TMP/ready.json" login_url)
curl -sf -o "$TMP/token.json" "$LOGIN/services/oauth2/token" \
  -d grant_type=refresh_token \
  -d "client_id=$(field "$TMP/ready.json" client_id)" \
  -d "client_secret=$(field "$TMP/ready.json" client_secret)" \
  -d "refresh_token=$(field "$TMP/ready.json" refresh_token)"
TOKEN=$(field "$TMP/token.json" access_token)
AUTH="Authorization: Bearer $TOKEN"
API="$BASE/services/data/v62.0/jobs/ingest"

python3 - "$ROWS" "$TMP/data.csv" <<'PY'
import sys
rows, path = int(sys.argv[1]), sys.argv[2]
industries = ["Banking", "Energy", "Retail", "Technology"]
with open(path, "w") as f:
    f.write("Name,NumberOfEmployees,AnnualRevenue,Industry,Website,Phone,Description\n")
    for i in range(rows):
        f.write(f"Bench Account {i},{i % 5000 + 1},{i * 13 % 1000000}.5,{industries[i % 4]},"
                f"www.example{i % 100}.com,+1 415 555 {i % 10000:04d},\"row {i}, with a comma\"\n")
PY
MB=$(python3 -c "import os,sys; print(f'{os.path.getsize(sys.argv[1])/1e6:.1f}')" "$TMP/data.csv")

now() { date +%s.%N; }
# CPU seconds (user + system) the emulator has used so far: robust when the machine is shared.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$PID/stat"; }
curl -sf -o "$TMP/job.json" -H "$AUTH" -H 'Content-Type: application/json' \
  -d '{"object":"Account","operation":"insert","contentType":"CSV","lineEnding":"LF"}' "$API"
JOB=$(field "$TMP/job.json" id)

T0=$(now)
curl -sf -X PUT -H "$AUTH" -H 'Content-Type: text/csv' --data-binary "@$TMP/data.csv" "$API/$JOB/batches"
T1=$(now)
C1=$(cpu)
curl -sf -o /dev/null -X PATCH -H "$AUTH" -H 'Content-Type: application/json' \
  -d '{"state":"UploadComplete"}' "$API/$JOB"
STATE=""
while [ "$STATE" != "JobComplete" ]; do
  curl -sf -o "$TMP/info.json" -H "$AUTH" "$API/$JOB"
  STATE=$(field "$TMP/info.json" state)
  case "$STATE" in Failed|Aborted) echo "job ended $STATE" >&2; cat "$TMP/info.json" >&2; exit 1;; esac
done
T2=$(now)
C2=$(cpu)
curl -sf -o "$TMP/ok.csv" -H "$AUTH" "$API/$JOB/successfulResults/"
T3=$(now)
PROCESSED=$(field "$TMP/info.json" numberRecordsProcessed)
FAILED=$(field "$TMP/info.json" numberRecordsFailed)
RSS_MB=$(awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$PID/status")

python3 - "$ROWS" "$MB" "$T0" "$T1" "$T2" "$T3" "$PROCESSED" "$FAILED" "$RSS_MB" "$C1" "$C2" <<'PY'
import sys
rows, mb, t0, t1, t2, t3, processed, failed, rss, c1, c2 = sys.argv[1:]
upload, process, download = float(t1) - float(t0), float(t2) - float(t1), float(t3) - float(t2)
cpu = float(c2) - float(c1)
print("| rows | CSV MB | upload s | processing s (wall) | processing s (emulator CPU) | rows/s (wall) | results download s | processed | failed | peak RSS MB |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
print(f"| {int(rows):,} | {mb} | {upload:.2f} | {process:.2f} | {cpu:.2f} | {int(rows)/process:,.0f} | {download:.2f} | {processed} | {failed} | {rss} |")
PY
