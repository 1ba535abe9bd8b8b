#!/usr/bin/env bash
# Whole-process benchmark of `skip_unchanged_records`: RECORDS (default 20,000) records of an
# upsert stream (Product_Catalog__c keyed by External_Id__c, 11 fields) are first loaded into a
# fresh sf-emulator; then the same records, of which CHANGED_PERCENT (default 10) carry a new
# price, are written again, once without and once with `skip_unchanged_records` (each mode on
# its own fresh emulator, seeded the same way). Only the second write is measured.
#
#   bench/destination_skip_unchanged.sh
#   RECORDS=50000 CHANGED_PERCENT=10 bench/destination_skip_unchanged.sh
#
# Prints a table: records/s over the wall clock, the connector's CPU seconds, peak RSS, rows
# sent in ingest jobs, rows skipped, Bulk query jobs, and the API calls of the measured write.
# The wall clock includes the emulator's work on the same 2 cores (its `IN` filter is a linear
# scan per key: the lookups cost it more than Salesforce's indexed external ids would).
set -euo pipefail

RECORDS=${RECORDS:-20000}
CHANGED_PERCENT=${CHANGED_PERCENT:-10}
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

python3 - "$TMP" "$RECORDS" "$CHANGED_PERCENT" <<'PY'
import json, os, sys
tmp, records, changed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fields = ["External_Id__c", "Name", "Price__c", "Weight_Kg__c", "Discount__c", "Units_Sold__c",
          "In_Stock__c", "Launch_Date__c", "Support_Email__c", "Support_Phone__c", "Category__c"]
catalog = {"streams": [{
    "stream": {"name": "products", "json_schema": {"type": "object",
               "properties": {f: {} for f in fields}}, "supported_sync_modes": ["incremental"]},
    "sync_mode": "incremental", "destination_sync_mode": "append_dedup",
    "destination_object_name": "Product_Catalog__c", "primary_key": [["External_Id__c"]]}]}
json.dump(catalog, open(os.path.join(tmp, "catalog.json"), "w"))
every = max(1, round(100 / changed)) if changed else 0

def record(i, second):
    price = 10 + i % 1000
    if second and every and i % every == 0:
        price += 0.5
    return {"External_Id__c": f"BENCH-{i:08d}", "Name": f"Bench product {i}",
            # The second write sends numbers and booleans in other spellings of the same values.
            "Price__c": price if not second else f"{price:.2f}",
            "Weight_Kg__c": (i % 500) / 4, "Discount__c": i % 50,
            "Units_Sold__c": i * 3, "In_Stock__c": i % 3 == 0 if not second else str(i % 3 == 0).upper(),
            "Launch_Date__c": f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
            "Support_Email__c": f"support{i}@example.com",
            "Support_Phone__c": f"+1 415 555 {i % 10000:04d}",
            "Category__c": ["Hardware", "Software", "Services"][i % 3]}

for name, second in (("seed.jsonl", False), ("input.jsonl", True)):
    with open(os.path.join(tmp, name), "w") as out:
        for i in range(records):
            out.write(json.dumps({"type": "RECORD", "record": {"stream": "products",
                      "data": record(i, second), "emitted_at": 1717236000000}}) + "\n")
        out.write(json.dumps({"type": "STATE", "state": {"type": "STREAM", "stream": {
            "stream_descriptor": {"name": "products"}, "stream_state": {"n": records}}}}) + "\n")
PY

ROWS=()
for mode in false true; do
  start_emulator "$TMP/ready.json"
  BASE=$(field "$TMP/ready.json" base_url)
  python3 - "$TMP" "$mode" <<'PY'
import json, os, sys
tmp, mode = sys.argv[1], sys.argv[2] == "true"
r = json.load(open(os.path.join(tmp, "ready.json")))
base = {"client_id": r["client_id"], "client_secret": r["client_secret"],
        "refresh_token": r["refresh_token"], "login_url": r["login_url"],
        "dead_letter_folder": os.path.join(tmp, "dlq")}
json.dump(base, open(os.path.join(tmp, "seed_config.json"), "w"))
json.dump(dict(base, skip_unchanged_records=mode), open(os.path.join(tmp, "config.json"), "w"))
PY
  "$CONNECTOR" destination write --config "$TMP/seed_config.json" --catalog "$TMP/catalog.json" \
    <"$TMP/seed.jsonl" >"$TMP/seed_out.jsonl" 2>"$TMP/seed_err.txt" || {
      echo "seeding failed:" >&2; tail -5 "$TMP/seed_err.txt" >&2; exit 1; }
  curl -sf -X DELETE "$BASE/__emulator/requests" >/dev/null
  T0=$(date +%s.%N)
  /usr/bin/time -o "$TMP/time.txt" -f "%e %U %S %M" \
    "$CONNECTOR" destination write --config "$TMP/config.json" --catalog "$TMP/catalog.json" \
    <"$TMP/input.jsonl" >"$TMP/out.jsonl" 2>"$TMP/stderr.txt" || {
      echo "connector failed:" >&2; tail -5 "$TMP/stderr.txt" >&2; exit 1; }
  T1=$(date +%s.%N)
  curl -sf -o "$TMP/requests.json" "$BASE/__emulator/requests"
  ROWS+=("$(python3 - "$TMP" "$mode" "$T0" "$T1" <<'PY'
import json, os, re, sys
tmp, mode, t0, t1 = sys.argv[1:]
wall = float(t1) - float(t0)
_, user, sys_cpu, rss_kb = open(os.path.join(tmp, "time.txt")).read().split()[-4:]
cpu = float(user) + float(sys_cpu)
requests = [r for r in json.load(open(os.path.join(tmp, "requests.json")))
            if not r["path"].startswith("/__emulator")]
queries = sum(1 for r in requests if r["method"] == "POST" and r["path"].rstrip("/").endswith("/jobs/query"))
jobs = sum(1 for r in requests if r["method"] == "POST" and r["path"].rstrip("/").endswith("/jobs/ingest"))
finished = [json.loads(l)["log"]["message"] for l in open(os.path.join(tmp, "out.jsonl")) if '"write finished' in l][-1]
committed = int(re.search(r"([0-9]+) rows committed", finished).group(1))
skipped = int(re.search(r"([0-9]+) rows skipped as unchanged", finished).group(1))
states = [json.loads(l) for l in open(os.path.join(tmp, "out.jsonl")) if '"STATE"' in l]
durable = sum(s["state"]["destinationStats"]["recordCount"] for s in states)
records = sum(1 for l in open(os.path.join(tmp, "input.jsonl")) if '"RECORD"' in l)
print(f"| {mode} | {records:,} | {wall:.2f} | {records / wall:,.0f} | {cpu:.2f} | {int(rss_kb) / 1024:.1f} | {jobs} | {committed:,} | {skipped:,} | {durable:,.0f} | {queries} | {len(requests)} |")
PY
)")
  kill "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  PID=""
done

echo "Product_Catalog__c upsert, 11 fields, ${CHANGED_PERCENT}% of the records changed; the second write of each mode measured"
echo "| skip_unchanged_records | records | wall s | records/s (wall) | connector CPU s | connector peak RSS MiB | ingest jobs | rows written | rows skipped | records durable (STATE) | Bulk query jobs | API calls |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
