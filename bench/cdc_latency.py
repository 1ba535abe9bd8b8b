"""Driver of bench/cdc_latency.sh: see that script for what it measures."""

import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
CONNECTOR = os.path.join(TARGET, "release/salesforce-connector")
EMULATOR = os.path.join(TARGET, "release/sf-emulator")
OBJECT = "Account"
PIN = os.environ.get("PIN", "1") != "0" and (os.cpu_count() or 1) >= 2
SERVER_CORES = ["taskset", "-c", "0"] if PIN else []
CLIENT_CORES = ["taskset", "-c", "1"] if PIN else []
POLL_MINUTES = 5


def http(method, url, body=None):
    data = None
    headers = {}
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request) as reply:
        text = reply.read()
    return json.loads(text) if text else None


def requests_log(base):
    log = http("GET", base + "/__emulator/requests")
    return log if isinstance(log, list) else log.get("requests", [])


def api_calls(entries):
    """Calls that reach Salesforce's APIs (REST, Bulk, Pub/Sub), OAuth left out as Salesforce's
    allocations leave it out."""
    rest = sum(1 for r in entries if r["method"] != "GRPC" and "/services/oauth2" not in r["path"])
    grpc = sum(1 for r in entries if r["method"] == "GRPC")
    return rest, grpc


class Read:
    """`source read` as a process; its RECORD lines timed as they arrive."""

    def __init__(self, config_path, catalog_path, state_path=None, watch=None):
        args = [CONNECTOR, "source", "read", "--config", config_path, "--catalog", catalog_path]
        if state_path:
            args += ["--state", state_path]
        self.process = subprocess.Popen(
            ["/usr/bin/time", "-f", "%M %U %S"] + CLIENT_CORES + args,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.arrivals = {}
        self.records = 0
        self.following = threading.Event()
        self.last_state = None
        self.watch = watch or (lambda data: None)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.process.stdout:
            now = time.monotonic()
            if b'"type":"RECORD"' in line:
                self.records += 1
                data = json.loads(line)["record"]["data"]
                key = self.watch(data)
                if key is not None and key not in self.arrivals:
                    self.arrivals[key] = now
            elif b'"type":"STATE"' in line:
                self.last_state = json.loads(line)["state"]
            elif b"following change events" in line:
                self.following.set()

    def finish(self):
        stderr = self.process.stderr.read().decode()
        self.process.wait()
        self.thread.join()
        if self.process.returncode != 0:
            raise SystemExit(f"read failed ({self.process.returncode}): {stderr[-3000:]}")
        peak, user, system = stderr.strip().splitlines()[-1].split()
        return int(peak) / 1024, float(user) + float(system)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    rate = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
    burst = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
    if PIN:
        os.sched_setaffinity(0, {1})
    emulator = subprocess.Popen(SERVER_CORES + [EMULATOR], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)
    try:
        ready = json.loads(emulator.stdout.readline())
        run(ready, rate, seconds, burst)
    finally:
        emulator.kill()
        emulator.wait()


def run(ready, rate, seconds, burst):
    base = ready["base_url"]
    folder = tempfile.mkdtemp()
    config = {
        "client_id": ready["client_id"],
        "client_secret": ready["client_secret"],
        "refresh_token": ready["refresh_token"],
        "login_url": ready["login_url"],
        "start_date": "2000-01-01T00:00:00Z",
        "stream_slice_step": "P3650D",
        "pubsub_endpoint": ready["pubsub_url"],
    }
    config_path = os.path.join(folder, "config.json")
    with open(config_path, "w") as f:
        json.dump(config, f)
    discovered = subprocess.run([CONNECTOR, "source", "discover", "--config", config_path],
                                capture_output=True, check=True).stdout.decode()
    catalog = next(json.loads(l) for l in discovered.splitlines() if '"CATALOG"' in l)
    stream = next(s for s in catalog["catalog"]["streams"] if s["name"] == OBJECT)
    configured = {"streams": [{"stream": stream, "sync_mode": "incremental",
                               "cursor_field": ["SystemModstamp"],
                               "destination_sync_mode": "append_dedup",
                               "primary_key": [["Id"]]}]}
    catalog_path = os.path.join(folder, "catalog.json")
    with open(catalog_path, "w") as f:
        json.dump(configured, f)
    ids = [r["Id"] for r in
           http("GET", f"{base}/__emulator/records/{OBJECT}?limit=10000")["records"]]

    changes = int(rate * seconds)
    cdc_config = dict(config, change_data_capture={
        "enabled": True, "idle_timeout_seconds": 60, "max_events_per_read": changes})
    with open(config_path, "w") as f:
        json.dump(cdc_config, f)

    # 1. Steady rate: `rate` updates a second while a read follows the events.
    read = Read(config_path, catalog_path, watch=lambda d: d.get("Name"))
    if not read.following.wait(120):
        raise SystemExit("the read never started following change events")
    http("DELETE", base + "/__emulator/requests")
    committed = {}
    started = time.monotonic()
    for i in range(changes):
        due = started + i / rate
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        name = f"cdc-bench {i}"
        # From the moment the change is sent: it commits during the call.
        committed[name] = time.monotonic()
        http("PATCH", f"{base}/__emulator/records/{OBJECT}/{ids[i % len(ids)]}", {"Name": name})
    peak_mib, cpu = read.finish()
    ended = max(read.arrivals.values(), default=time.monotonic())
    steady_log = requests_log(base)
    latencies = [read.arrivals[n] - t for n, t in committed.items() if n in read.arrivals]
    lost = len(committed) - len(latencies)
    window = max(ended - started, 1e-9)
    rest_calls, grpc_calls = api_calls(steady_log)
    state = read.last_state["stream"]["stream_state"]

    # 2. Burst: `burst` updates committed at once (transactions of 200, each record its own
    #    value: one event each), drained by a read resuming from the saved replay id.
    state_path = os.path.join(folder, "state.json")
    with open(state_path, "w") as f:
        json.dump([{"type": "STREAM", "stream": {"stream_descriptor": {"name": OBJECT},
                                                 "stream_state": state}}], f)
    burst_config = dict(config, change_data_capture={
        "enabled": True, "idle_timeout_seconds": 60, "max_events_per_read": burst})
    with open(config_path, "w") as f:
        json.dump(burst_config, f)
    for start in range(0, burst, 200):
        ops = [{"op": "update", "object": OBJECT, "id": random.choice(ids),
                "fields": {"Name": f"burst {start + k}"}} for k in range(min(200, burst - start))]
        http("POST", base + "/__emulator/transaction", ops)
    http("DELETE", base + "/__emulator/requests")
    burst_started = time.monotonic()
    drain = Read(config_path, catalog_path, state_path, watch=lambda d: None)
    burst_peak, burst_cpu = drain.finish()
    burst_seconds = time.monotonic() - burst_started
    burst_rest, burst_grpc = api_calls(requests_log(base))

    # 3. The same changes read by a polling incremental sync (CDC off), from the state before
    #    the steady phase's changes: the API calls of one sync, times 12 an hour.
    with open(config_path, "w") as f:
        json.dump(config, f)
    poll_blob = json.loads(json.dumps(state))
    poll_blob.pop("cdc", None)
    with open(state_path, "w") as f:
        json.dump([{"type": "STREAM", "stream": {"stream_descriptor": {"name": OBJECT},
                                                 "stream_state": poll_blob}}], f)
    http("DELETE", base + "/__emulator/requests")
    poll = Read(config_path, catalog_path, state_path, watch=lambda d: None)
    poll.finish()
    poll_rest, _ = api_calls(requests_log(base))

    hours = window / 3600
    print(f"cores: {'emulator on core 0, connector and driver on core 1' if PIN else 'shared'}; "
          f"load average {os.getloadavg()[0]:.2f}")
    header = ("phase", "changes", "lost", "latency p50 ms", "latency p99 ms", "events/s",
              "peak RSS MiB", "connector CPU s", "REST calls", "gRPC calls", "API calls/hour")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    print("| " + " | ".join((
        f"steady {rate:g}/s for {seconds:g} s", f"{changes:,}", f"{lost}",
        f"{percentile(latencies, 50) * 1000:.0f}", f"{percentile(latencies, 99) * 1000:.0f}",
        f"{len(latencies) / window:,.1f}", f"{peak_mib:.1f}", f"{cpu:.2f}",
        f"{rest_calls}", f"{grpc_calls}", f"{rest_calls / hours:,.0f}")) + " |")
    print("| " + " | ".join((
        f"burst of {burst:,}", f"{burst:,}", "-", "-", "-",
        f"{burst / burst_seconds:,.0f}", f"{burst_peak:.1f}", f"{burst_cpu:.2f}",
        f"{burst_rest}", f"{burst_grpc}", "-")) + " |")
    print("| " + " | ".join((
        f"polling every {POLL_MINUTES} min (CDC off)", "same", "-",
        f"~{POLL_MINUTES * 60 * 1000 // 2:,} (avg wait)", f"~{POLL_MINUTES * 60 * 1000:,}", "-", "-", "-",
        f"{poll_rest} per sync", "0", f"{poll_rest * 60 // POLL_MINUTES:,}")) + " |")
    if lost:
        raise SystemExit(f"{lost} change(s) never arrived")


if __name__ == "__main__":
    main()
