#!/usr/bin/env bash
# The end-to-end demo against the bundled Salesforce emulator.
#
# Today it builds the release binary and prints both connector specifications (the SPEC
# message each role prints, then a readable summary); the discover, read and write runs
# against sf-emulator arrive with the source and destination work.
set -euo pipefail
cd "$(dirname "$0")"

cargo build --release --quiet -p salesforce-connector
bin=target/release/salesforce-connector

summarise() {
    python3 -c '
import json, sys
spec = json.loads(sys.stdin.readline())["spec"]["connectionSpecification"]
rows = sorted(spec["properties"].items(), key=lambda kv: kv[1].get("order", 99))
for name, prop in rows:
    default = json.dumps(prop["default"]) if "default" in prop else "-"
    print("  {:<22} {:<8} default {}".format(name, prop.get("type", "object"), default))
'
}

for role in source destination; do
    echo "== salesforce-connector $role spec"
    "$bin" "$role" spec
    if command -v python3 >/dev/null; then
        echo "-- its configuration keys:"
        "$bin" "$role" spec | summarise
    fi
    echo
done

echo "== not yet in this demo: discover, read and write against sf-emulator (they land with the source and destination)"
