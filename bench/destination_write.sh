#!/usr/bin/env bash
# Whole-process benchmark of `salesforce-connector destination write`: RECORDS records (default
# 1,000,000) of FIELDS writable fields (default 30) piped into the release binary, inserted into
# sf-emulator over HTTP through Bulk API 2.0 ingest jobs.
#
#   bench/destination_write.sh
#   RECORDS=200000 BATCH_BYTES=10000000 JOBS=4 bench/destination_write.sh
#
#   PERF=/tmp/perf.data bench/destination_write.sh   # profile the connector with perf
#   CONNECTOR=/path/to/other/salesforce-connector NO_BUILD=1 bench/destination_write.sh
#   INPUT=/tmp/input.jsonl bench/destination_write.sh   # generate once, reuse in later runs
#   CALLGRIND=1 RECORDS=20000 bench/destination_write.sh   # + the connector's instructions
#       (valgrind's callgrind: a count the machine's load does not change; ~50x slower)
#   EMU_PERF=/tmp/emu.data bench/destination_write.sh   # profile the emulator with perf
#
# Prints one table row: records/s over the wall clock, the emulator's processing time (summed
# over jobs) and CPU seconds shown separately, the connector's CPU seconds and what they make per
# record (the connector's own throughput: on a 2-core machine the emulator's ingest processing
# shares the cores, so the wall clock measures both), peak RSS, ingest jobs, API calls, STATEs.
set -euo pipefail

RECORDS=${RECORDS:-1000000}
FIELDS=${FIELDS:-30}
BATCH_BYTES=${BATCH_BYTES:-104857600}
JOBS=${JOBS:-4}
STATE_EVERY=${STATE_EVERY:-100000}
cd "$(dirname "$0")/.."
INPUT=${INPUT:-}
# shellcheck source=bench/lib.sh
. bench/lib.sh

# The emulator stands in for Salesforce's servers: core 0 is its own, the connector gets core 1
# (PIN=0: they share every core).
SERVER_CORES=()
CLIENT_CORES=()
if [ "${PIN:-1}" != 0 ] && [ "$(nproc)" -ge 2 ]; then
  SERVER_CORES=(taskset -c 0)
  CLIENT_CORES=(taskset -c 1)
fi
start_emulator "$TMP/ready.json" ${EMU_PERF:+perf record -g -o "$EMU_PERF" --} "${SERVER_CORES[@]}"

BASE=$(field "$TMP/ready.json" base_url)
LOGIN=$(field "$TMP/ready.json" login_url)
curl -sf -o "$TMP/token.json" "$LOGIN/services/oauth2/token" \
  -d grant_type=refresh_token \
  -d "client_id=$(field "$TMP/ready.json" client_id)" \
  -d "client_secret=$(field "$TMP/ready.json" client_secret)" \
  -d "refresh_token=$(field "$TMP/ready.json" refresh_token)"
TOKEN=$(field "$TMP/token.json" access_token)

# The object with the most simply-typed createable fields, and FIELDS of them.
for object in Account Contact Lead Opportunity Product_Catalog__c Bench_Load__c; do
  curl -sf -o "$TMP/describe_$object.json" -H "Authorization: Bearer $TOKEN" \
    "$BASE/services/data/v62.0/sobjects/$object/describe/" || true
done

python3 - "$TMP" "$RECORDS" "$FIELDS" "$STATE_EVERY" "$LOGIN" "$TMP/dlq" "$BATCH_BYTES" "$JOBS" "$TMP/ready.json" "${INPUT:-$TMP/input.jsonl}" <<'PY'
import json, os, sys, random
tmp, records, fields, state_every, login, dlq, batch_bytes, jobs, ready, input_path = sys.argv[1:]
records, fields, state_every = int(records), int(fields), int(state_every)
simple = {"string", "textarea", "picklist", "email", "phone", "url", "int", "double",
          "currency", "percent", "boolean", "date", "datetime", "combobox"}
best = None
for name in os.listdir(tmp):
    if not name.startswith("describe_"):
        continue
    d = json.load(open(os.path.join(tmp, name)))
    usable = [f for f in d["fields"] if f["createable"] and f["type"] in simple
              and not f.get("externalId")]
    # Required fields first so every record is valid.
    usable.sort(key=lambda f: (f["nillable"] or f["defaultedOnCreate"], f["name"]))
    if best is None or len(usable) > len(best[1]):
        best = (d["name"], usable)
obj, usable = best
chosen = usable[:fields]
if len(chosen) < fields:
    print(f"note: {obj} has only {len(chosen)} usable createable fields", file=sys.stderr)

def value(f, i):
    t = f["type"]
    if t in ("int",):
        return i % min(100000, 10 ** max(1, f.get("digits") or 9) - 1)
    if t in ("double", "currency", "percent"):
        precision, scale = f.get("precision") or 18, f.get("scale") or 0
        whole = (i * 7919) % max(1, min(1000000, 10 ** max(0, precision - scale) - 1))
        if scale == 0:
            return whole
        return float(f"{whole}.{i % 10 ** min(scale, 2):0{min(scale, 2)}d}")
    if t == "boolean":
        return i % 2 == 0
    if t == "date":
        return f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}"
    if t == "datetime":
        return f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}T{i % 24:02d}:{i % 60:02d}:00Z"
    if t in ("picklist", "combobox"):
        values = [p["value"] for p in f.get("picklistValues", []) if p.get("active", True)]
        return values[i % len(values)] if values else "x"
    if t == "email":
        return f"user{i}@example.com"
    if t == "phone":
        return f"+1 415 555 {i % 10000:04d}"
    if t == "url":
        return f"https://example.com/{i}"
    text = f"{f['name']} value {i}"
    return text[: max(1, f.get("length") or 20)]

props = {f["name"]: {} for f in chosen}
catalog = {"streams": [{
    "stream": {"name": "bench", "json_schema": {"type": "object", "properties": props},
               "supported_sync_modes": ["full_refresh"]},
    "sync_mode": "full_refresh", "destination_sync_mode": "append",
    "destination_object_name": obj}]}
json.dump(catalog, open(os.path.join(tmp, "catalog.json"), "w"))
r = json.load(open(ready))
config = {"client_id": r["client_id"], "client_secret": r["client_secret"],
          "refresh_token": r["refresh_token"], "login_url": login, "dead_letter_folder": dlq,
          "batch_size_bytes": int(batch_bytes), "max_concurrent_jobs": int(jobs)}
json.dump(config, open(os.path.join(tmp, "config.json"), "w"))
reuse = input_path != os.path.join(tmp, "input.jsonl") and os.path.exists(input_path)
with open(os.devnull if reuse else input_path, "w") as out:
    state = 0
    if reuse:
        records = 0
    for i in range(records):
        data = {f["name"]: value(f, i) for f in chosen}
        out.write(json.dumps({"type": "RECORD", "record": {"stream": "bench", "data": data,
                                                           "emitted_at": 1717236000000}}))
        out.write("\n")
        if (i + 1) % state_every == 0 or i + 1 == records:
            state += 1
            out.write(json.dumps({"type": "STATE", "state": {"type": "STREAM", "stream": {
                "stream_descriptor": {"name": "bench"}, "stream_state": {"n": i + 1}}, "id": state}}))
            out.write("\n")
with open(os.path.join(tmp, "object.txt"), "w") as f:
    f.write(f"{obj} {len(chosen)}")
PY

cpu() { awk '{print ($14 + $15) / 100}' "/proc/$PID/stat"; }
curl -sf -X DELETE "$BASE/__emulator/requests" >/dev/null
EMU_CPU0=$(cpu)
T0=$(date +%s.%N)
PROFILER=()
if [ -n "${PERF:-}" ]; then PROFILER=(perf record -g -o "$PERF" --); fi
if [ -n "${CALLGRIND:-}" ]; then
  PROFILER=(valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$TMP/callgrind.out" -q --)
fi
INPUT_FILE=${INPUT:-$TMP/input.jsonl}
/usr/bin/time -o "$TMP/time.txt" -f "%e %U %S %M" \
  "${PROFILER[@]}" "${CLIENT_CORES[@]}" "$CONNECTOR" destination write --config "$TMP/config.json" --catalog "$TMP/catalog.json" \
  <"$INPUT_FILE" >"$TMP/out.jsonl" 2>"$TMP/stderr.txt" || {
    echo "connector failed:" >&2; tail -5 "$TMP/stderr.txt" >&2; grep '"TRACE"' "$TMP/out.jsonl" >&2; exit 1; }
T1=$(date +%s.%N)
EMU_CPU1=$(cpu)
curl -sf -o "$TMP/requests.json" "$BASE/__emulator/requests"

CORES=$([ ${#SERVER_CORES[@]} -gt 0 ] && echo "emulator on core 0, connector on core 1" || echo shared) \
python3 - "$TMP" "$RECORDS" "$T0" "$T1" "$EMU_CPU0" "$EMU_CPU1" "$BATCH_BYTES" "$JOBS" "$INPUT_FILE" <<'PY'
import json, os, sys
tmp, records, t0, t1, c0, c1, batch_bytes, jobs, input_file = sys.argv[1:]
records = int(records)
wall, user, sys_cpu, rss_kb = open(os.path.join(tmp, "time.txt")).read().split()[-4:]
obj, nfields = open(os.path.join(tmp, "object.txt")).read().split()
requests = json.load(open(os.path.join(tmp, "requests.json")))
api = [r for r in requests if not r["path"].startswith("/__emulator")]
ingest_jobs = sum(1 for r in api if r["method"] == "POST" and r["path"].rstrip("/").endswith("/jobs/ingest"))
states = [json.loads(l) for l in open(os.path.join(tmp, "out.jsonl")) if '"STATE"' in l]
committed = sum(s["state"]["destinationStats"]["recordCount"] for s in states)
rejected = sum(s["state"]["destinationStats"]["rejectedRecordCount"] for s in states)
mb = os.path.getsize(input_file) / 1e6
callgrind = os.path.join(tmp, "callgrind.out")
instructions = "n/a"
if os.path.exists(callgrind):
    for line in open(callgrind):
        if line.startswith("summary:") or line.startswith("totals:"):
            instructions = f"{int(line.split()[1]) / 1e9:.3f}"
            break
wall = float(t1) - float(t0)
emu = float(c1) - float(c0)
import re
finished = [json.loads(l)["log"]["message"] for l in open(os.path.join(tmp, "out.jsonl")) if '"write finished' in l]
timing = re.search(r"upload ([0-9.]+) s, Salesforce processing ([0-9.]+) s, results ([0-9.]+) s", finished[-1] if finished else "")
upload_s, processing_s, results_s = (float(x) for x in timing.groups()) if timing else (float("nan"),) * 3
print(f"object {obj}, {nfields} fields, batch_size_bytes {int(batch_bytes):,}, max_concurrent_jobs {jobs}, cores: {os.environ.get('CORES', 'shared')}")
print("| records | input MB | wall s | records/s (wall) | emulator processing s (summed over jobs) | emulator CPU s | connector CPU s | connector CPU µs/record | records per connector CPU-second | connector peak RSS MiB | jobs | API calls | states | committed | rejected | connector instructions (G, callgrind) |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
cpu = float(user) + float(sys_cpu)
print(f"| {records:,} | {mb:.0f} | {wall:.2f} | {records/wall:,.0f} | {processing_s:.2f} | {emu:.2f} | {cpu:.2f} | {cpu/records*1e6:.1f} | {records/cpu:,.0f} | {int(rss_kb)/1024:.1f} | {ingest_jobs} | {len(api)} | {len(states)} | {committed:,.0f} | {rejected:,.0f} | {instructions} |")
PY
