#!/usr/bin/env bash
# `source discover` of a large org: sf-emulator with OBJECTS extra custom objects (default 1000,
# besides the catalog's own), timed over the whole process (release builds). Prints the objects
# discovered, the seconds, the describe calls made and the connector's peak RSS.
#
#   bench/source_discover.sh            OBJECTS=1200 bench/source_discover.sh
set -euo pipefail
OBJECTS=${OBJECTS:-1000}
cd "$(dirname "$0")/.."
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  cargo build --release -q -p sf-emulator -p salesforce-connector
fi
TMP=$(mktemp -d)
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
target/release/sf-emulator --extra-objects "$OBJECTS" >"$TMP/ready.json" &
PID=$!
for _ in $(seq 1 200); do
  [ -s "$TMP/ready.json" ] && break
  sleep 0.05
done
python3 - "$TMP" <<'PY'
import json, sys
tmp = sys.argv[1]
r = json.load(open(f"{tmp}/ready.json"))
json.dump({k: r[k] for k in ("client_id", "client_secret", "refresh_token", "login_url")},
          open(f"{tmp}/config.json", "w"))
PY
BASE=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['base_url'])" "$TMP/ready.json")
curl -sf -X DELETE "$BASE/__emulator/requests" >/dev/null
T0=$(date +%s.%N)
/usr/bin/time -o "$TMP/time.txt" -f "%M" target/release/salesforce-connector source discover \
  --config "$TMP/config.json" >"$TMP/out.jsonl"
T1=$(date +%s.%N)
curl -sf -o "$TMP/requests.json" "$BASE/__emulator/requests"
python3 - "$TMP" "$T0" "$T1" <<'PY'
import json, sys
tmp, t0, t1 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
catalog = next(json.loads(l) for l in open(f"{tmp}/out.jsonl") if '"CATALOG"' in l)
streams = len(catalog["catalog"]["streams"])
requests = json.load(open(f"{tmp}/requests.json"))
describes = sum(1 for r in requests if r["path"].rstrip("/").endswith("/describe"))
rss = int(open(f"{tmp}/time.txt").read().split()[-1]) / 1024
print("| streams discovered | seconds | describe calls | peak RSS MiB |")
print("|---:|---:|---:|---:|")
print(f"| {streams:,} | {t1 - t0:.2f} | {describes:,} | {rss:.1f} |")
PY
