"""Driver of bench/source_read.sh: see that script for what it measures."""

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
CONNECTOR = os.path.join(TARGET, "release/salesforce-connector")
EMULATOR = os.path.join(TARGET, "release/sf-emulator")
OBJECT = "Bench_Record__c"
PAGE_SIZE = 50000
# The emulator stands in for Salesforce, whose CPUs are not ours: it gets core 0 and the
# connector (with this driver, reading its output) core 1, so neither steals the other's CPU and
# the raw download measures the server's pace. PIN=0 lets them share every core.
PIN = os.environ.get("PIN", "1") != "0" and (os.cpu_count() or 1) >= 2
SERVER_CORES = ["taskset", "-c", "0"] if PIN else []
CLIENT_CORES = ["taskset", "-c", "1"] if PIN else []
RECORD_MARK = b'{"type":"RECORD"'


def http(method, url, token=None, body=None, form=None, headers=None):
    data = None
    all_headers = dict(headers or {})
    if token:
        all_headers["Authorization"] = "Bearer " + token
    if body is not None:
        data = json.dumps(body).encode()
        all_headers["Content-Type"] = "application/json"
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    return urllib.request.urlopen(request)


def start_emulator(n):
    emulator = subprocess.Popen(
        SERVER_CORES + [EMULATOR, "--records", f"{OBJECT}={n}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    ready = json.loads(emulator.stdout.readline())
    return emulator, ready


def read_through_connector(ready, folder):
    config = {
        "client_id": ready["client_id"],
        "client_secret": ready["client_secret"],
        "refresh_token": ready["refresh_token"],
        "login_url": ready["login_url"],
        "bulk_page_size": PAGE_SIZE,
        # EXTRA_CONFIG='{"max_parallel_downloads": 1}' compares settings on the same machine.
        **json.loads(os.environ.get("EXTRA_CONFIG", "{}")),
    }
    config_path = os.path.join(folder, "config.json")
    with open(config_path, "w") as f:
        json.dump(config, f)
    discovered = subprocess.run(
        [CONNECTOR, "source", "discover", "--config", config_path],
        capture_output=True,
        check=True,
    ).stdout.decode()
    catalog = next(json.loads(l) for l in discovered.splitlines() if '"CATALOG"' in l)
    stream = next(s for s in catalog["catalog"]["streams"] if s["name"] == OBJECT)
    configured = {"streams": [{"stream": stream, "sync_mode": "full_refresh",
                               "destination_sync_mode": "overwrite"}]}
    catalog_path = os.path.join(folder, "catalog.json")
    with open(catalog_path, "w") as f:
        json.dump(configured, f)
    http("DELETE", ready["base_url"] + "/__emulator/requests")
    started = time.monotonic()
    process = subprocess.Popen(
        ["/usr/bin/time", "-f", "%M %U %S"] + CLIENT_CORES + [CONNECTOR, "source", "read",
         "--config", config_path, "--catalog", catalog_path],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    records, output_bytes, stderr, elapsed = finish_read(process, started)
    peak, user, system = stderr.strip().splitlines()[-1].split()
    peak_kib = int(peak)
    cpu_seconds = float(user) + float(system)
    requests = json.load(http("GET", ready["base_url"] + "/__emulator/requests"))
    if isinstance(requests, dict):
        requests = requests.get("requests", [])
    api_calls = sum(1 for r in requests if "/__emulator/" not in r.get("path", ""))
    return records, output_bytes, elapsed, peak_kib, api_calls, cpu_seconds


def finish_read(process, started):
    """Counts the RECORD lines of a running read until it exits: (records, stdout bytes, stderr,
    seconds since `started`); exits the driver if the read failed."""
    # Counted a megabyte at a time (bytes.count runs at memory speed), so the driver costs the
    # connector's core little; the carry keeps a mark split across two reads from being missed.
    records = 0
    output_bytes = 0
    carry = b""
    while True:
        chunk = process.stdout.read(1 << 20)
        if not chunk:
            break
        output_bytes += len(chunk)
        data = carry + chunk
        records += data.count(RECORD_MARK)
        carry = data[-(len(RECORD_MARK) - 1):]
    stderr = process.stderr.read().decode()
    process.wait()
    elapsed = time.monotonic() - started
    if process.returncode != 0:
        raise SystemExit(f"read failed ({process.returncode}): {stderr[-2000:]}")
    return records, output_bytes, stderr, elapsed


def raw_download(ready):
    """The same Bulk job's result pages, downloaded and thrown away: the wire limit."""
    token = json.load(http("POST", ready["login_url"] + "/services/oauth2/token", form={
        "grant_type": "refresh_token",
        "client_id": ready["client_id"],
        "client_secret": ready["client_secret"],
        "refresh_token": ready["refresh_token"],
    }))["access_token"]
    base = ready["base_url"] + "/services/data/v62.0"
    describe = json.load(http("GET", f"{base}/sobjects/{OBJECT}/describe/", token))
    fields = [f["name"] for f in describe["fields"] if f["type"] not in ("address", "location", "base64")]
    soql = f"SELECT {','.join(fields)} FROM {OBJECT} ORDER BY Id ASC"
    started = time.monotonic()
    job = json.load(http("POST", f"{base}/jobs/query", token, body={
        "operation": "queryAll", "query": soql, "contentType": "CSV",
        "columnDelimiter": "COMMA", "lineEnding": "LF"}))
    while json.load(http("GET", f"{base}/jobs/query/{job['id']}", token))["state"] != "JobComplete":
        time.sleep(0.05)
    locator = None
    downloaded = 0
    while True:
        query = {"maxRecords": PAGE_SIZE}
        if locator:
            query["locator"] = locator
        # The connector asks for gzip (as Airbyte's source does); so does the raw download, whose
        # bytes are counted as they come off the wire, not decompressed.
        reply = http("GET", f"{base}/jobs/query/{job['id']}/results?" + urllib.parse.urlencode(query), token,
                     headers={"Accept": "text/csv", "Accept-Encoding": "gzip"})
        while True:
            chunk = reply.read(1 << 20)
            if not chunk:
                break
            downloaded += len(chunk)
        locator = reply.headers.get("Sforce-Locator")
        if not locator or locator == "null":
            break
    return time.monotonic() - started, downloaded


def main():
    if PIN:
        os.sched_setaffinity(0, {1})
    sizes = [int(a) for a in sys.argv[1:]] or [100_000, 1_000_000, 10_000_000]
    header = ("records", "read s", "records/s", "out MB/s", "peak RSS MiB", "API calls",
              "connector CPU µs/record", "raw download s", "raw MB (gzip)", "read / raw")
    print(f"cores: {'emulator on core 0, connector and driver on core 1' if PIN else 'shared'}")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for n in sizes:
        emulator, ready = start_emulator(n)
        try:
            with tempfile.TemporaryDirectory() as folder:
                records, output_bytes, elapsed, peak_kib, api_calls, cpu_seconds = read_through_connector(ready, folder)
            raw_seconds, raw_bytes = raw_download(ready)
        finally:
            emulator.kill()
            emulator.wait()
        if records != n:
            raise SystemExit(f"expected {n} records, the connector emitted {records}")
        row = (
            f"{n:,}",
            f"{elapsed:.2f}",
            f"{records / elapsed:,.0f}",
            f"{output_bytes / elapsed / 1e6:.1f}",
            f"{peak_kib / 1024:.1f}",
            f"{api_calls}",
            f"{cpu_seconds / records * 1e6:.2f}",
            f"{raw_seconds:.2f}",
            f"{raw_bytes / 1e6:.0f}",
            f"{elapsed / raw_seconds:.2f}x",
        )
        print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
