"""Driver of bench/source_read_profile.sh: see that script for what it measures."""

import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

from source_read import CLIENT_CORES, CONNECTOR, EMULATOR, OBJECT, PIN, SERVER_CORES, finish_read, http

PROFILE = shlex.split(os.environ.get(
    "PROFILE",
    "--request-latency-ms 80 --result-bytes-per-second 4000000 --bulk-job-rows-per-second 50000"))


def flag(name):
    """The value of `--name N` in the profile (0 when absent)."""
    return float(PROFILE[PROFILE.index(name) + 1]) if name in PROFILE else 0.0


WAYS = [
    ("(a) locator chain, one job", {"max_parallel_downloads": 1, "id_range_rows": 0,
                                    "bulk_page_size": 100000}),
    ("(b) as built (defaults)", {}),
]


def start_emulator(n):
    emulator = subprocess.Popen(
        SERVER_CORES + [EMULATOR, "--records", f"{OBJECT}={n}"] + PROFILE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    return emulator, json.loads(emulator.stdout.readline())


def catalog_for(ready, folder, config_path):
    discovered = subprocess.run(
        [CONNECTOR, "source", "discover", "--config", config_path],
        capture_output=True, check=True).stdout.decode()
    catalog = next(json.loads(l) for l in discovered.splitlines() if '"CATALOG"' in l)
    stream = next(s for s in catalog["catalog"]["streams"] if s["name"] == OBJECT)
    path = os.path.join(folder, "catalog.json")
    with open(path, "w") as f:
        json.dump({"streams": [{"stream": stream, "sync_mode": "full_refresh",
                                "destination_sync_mode": "overwrite"}]}, f)
    return path


def read(ready, folder, extra):
    config = {
        "client_id": ready["client_id"],
        "client_secret": ready["client_secret"],
        "refresh_token": ready["refresh_token"],
        "login_url": ready["login_url"],
        **extra,
    }
    config_path = os.path.join(folder, "config.json")
    with open(config_path, "w") as f:
        json.dump(config, f)
    catalog_path = catalog_for(ready, folder, config_path)
    http("DELETE", ready["base_url"] + "/__emulator/requests")
    started = time.monotonic()
    process = subprocess.Popen(
        ["/usr/bin/time", "-f", "%M %U %S"] + CLIENT_CORES + [
            CONNECTOR, "source", "read", "--config", config_path, "--catalog", catalog_path],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    records, _, stderr, elapsed = finish_read(process, started)
    peak, user, system = stderr.strip().splitlines()[-1].split()
    requests = json.load(http("GET", ready["base_url"] + "/__emulator/requests"))
    if isinstance(requests, dict):
        requests = requests.get("requests", [])
    calls = [r for r in requests if "/__emulator/" not in r.get("path", "")]
    jobs = sum(1 for r in calls if r["method"] == "POST" and r["path"].split("?")[0].endswith("/jobs/query"))
    pages = [r for r in calls if "/results" in r["path"]]
    return {
        "records": records,
        "seconds": elapsed,
        "peak_mib": int(peak) / 1024,
        "cpu": float(user) + float(system),
        "calls": len(calls),
        "jobs": jobs,
        "pages": len(pages),
        "bytes": sum(r.get("bytes", 0) for r in pages),
    }


def main():
    if PIN:
        os.sched_setaffinity(0, {1})
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    rows_per_second = flag("--bulk-job-rows-per-second")
    rate = flag("--result-bytes-per-second")
    job_seconds = flag("--bulk-job-seconds")
    load = os.getloadavg()
    print(f"profile: {' '.join(PROFILE)}; {n:,} records of {OBJECT}")
    print(f"cores: {'emulator on core 0, connector and driver on core 1' if PIN else 'shared'}; "
          f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15 min)")
    header = ("way", "read s", "records/s", "API calls", "Bulk jobs", "result pages",
              "compressed MB", "peak RSS MiB", "connector CPU s", "physical limit s",
              "read / limit")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    results = []
    # ONLY=b (or a) runs one way, for iterating; the ratio needs both.
    only = os.environ.get("ONLY", "")
    ways = [(name, extra) for name, extra in WAYS if not only or name.startswith(f"({only})")]
    for name, extra in ways:
        emulator, ready = start_emulator(n)
        try:
            with tempfile.TemporaryDirectory() as folder:
                result = read(ready, folder, extra)
        finally:
            emulator.kill()
            emulator.wait()
        if result["records"] != n:
            raise SystemExit(f"{name}: expected {n} records, the connector emitted {result['records']}")
        # The physical limit: one job's preparation, then the compressed bytes over as
        # many connections as this way downloads at once, each at the profile's rate.
        parallel = extra.get("max_parallel_downloads", 5)
        prepare = job_seconds + (n / rows_per_second if rows_per_second else 0)
        limit = prepare + (result["bytes"] / (parallel * rate) if rate else 0)
        result["limit"] = limit
        results.append((name, result))
        row = (
            name,
            f"{result['seconds']:.1f}",
            f"{n / result['seconds']:,.0f}",
            f"{result['calls']}",
            f"{result['jobs']}",
            f"{result['pages']}",
            f"{result['bytes'] / 1e6:.0f}",
            f"{result['peak_mib']:.1f}",
            f"{result['cpu']:.1f}",
            f"{limit:.1f}",
            f"{result['seconds'] / limit:.2f}x" if limit else "n/a",
        )
        print("| " + " | ".join(row) + " |", flush=True)
    after = f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    if len(results) < 2:
        print(f"\n{after}")
        return
    (a, b) = (results[0][1], results[1][1])
    to_limit = f"{b['seconds'] / b['limit']:.2f}x" if b["limit"] else "n/a"
    # (b) splits the object into Id ranges whose jobs prepare at once: its own floor is one
    # range's preparation (the first wave's) plus the bytes over the parallel downloads.
    ranges = max(b["jobs"], 1)
    floor = job_seconds + (n / ranges / rows_per_second if rows_per_second else 0) + (
        b["bytes"] / (5 * rate) if rate else 0)
    print(f"\n(a) / (b): {a['seconds'] / b['seconds']:.2f}x faster; "
          f"(b) / its physical limit ({b['limit']:.1f} s): {to_limit}; "
          f"(b) / the floor of its {ranges} jobs ({floor:.1f} s: one range prepared, then the "
          f"bytes over 5 downloads): {b['seconds'] / floor:.2f}x; {after}")

if __name__ == "__main__":
    main()
