#!/usr/bin/env python3
"""Compares what two sf-emulator binaries say on the wire, byte for byte.

    python3 emulator/scripts/compare_wire.py OLD_BINARY NEW_BINARY [--keep DIR]

Each binary is started with the same flags (frozen clock, seed 1, scale 1, three extra
objects) and asked for: the API versions, describeGlobal, every object's basic info and
describe, every record of every object (admin API, deleted ones included), a REST query, a
Bulk API 2.0 query job and its result pages, and a Bulk ingest job (insert with a failing row)
with its results files and the records it wrote. The answers are written one file per call
and the two trees compared; the script prints the files that differ and exits 1 if any does.

For refactors that must not change behaviour (issue 12: the catalog as data, the module
split). Standard library only.
"""

import difflib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

V = "v62.0"
FLAGS = ["--frozen-clock", "--seed", "1", "--scale", "1", "--extra-objects", "3"]


class Org:
    def __init__(self, binary):
        self.proc = subprocess.Popen(
            [binary, *FLAGS], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        self.ready = json.loads(self.proc.stdout.readline())
        self.base = self.ready["base_url"]
        body = urllib.parse.urlencode(
            {
                "grant_type": "refresh_token",
                "client_id": self.ready["client_id"],
                "client_secret": self.ready["client_secret"],
                "refresh_token": self.ready["refresh_token"],
            }
        ).encode()
        self.headers = {}
        _, reply = self.call("POST", "/services/oauth2/token", body, "application/x-www-form-urlencoded", auth=False)
        self.token = json.loads(reply)["access_token"]

    def call(self, method, path, body=None, content_type=None, auth=True):
        request = urllib.request.Request(self.base + path, data=body, method=method)
        if content_type:
            request.add_header("Content-Type", content_type)
        if auth:
            request.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(request) as response:
                self.headers = response.headers
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            self.headers = error.headers
            return error.code, error.read()

    def data(self, method, path, body=None, content_type="application/json"):
        return self.call(method, f"/services/data/{V}{path}", body, content_type)

    def close(self):
        self.proc.kill()
        self.proc.wait()


def snapshot(binary, out):
    """Writes one file per call under `out`; returns nothing."""
    os.makedirs(out, exist_ok=True)

    def save(name, status, body):
        with open(os.path.join(out, name), "wb") as f:
            f.write(f"{status}\n".encode() + body)

    org = Org(binary)
    try:
        save("versions", *org.call("GET", "/services/data", auth=False))
        status, body = org.data("GET", "/sobjects")
        save("describe_global", status, body)
        names = [o["name"] for o in json.loads(body)["sobjects"]]
        for name in names:
            save(f"basic_info.{name}", *org.data("GET", f"/sobjects/{name}"))
            save(f"describe.{name}", *org.data("GET", f"/sobjects/{name}/describe"))
            offset, pages = 0, []
            while True:
                status, body = org.call(
                    "GET",
                    f"/__emulator/records/{name}?include_deleted=true&limit=10000&offset={offset}",
                    auth=False,
                )
                pages.append(f"{status}\n".encode() + body + b"\n")
                reply = json.loads(body)
                offset += len(reply.get("records", []))
                if status != 200 or offset >= reply["totalSize"]:
                    break
            with open(os.path.join(out, f"records.{name}"), "wb") as f:
                f.write(b"".join(pages))

        soql = "SELECT Id, Name, Account.Name, Amount, CloseDate FROM Opportunity ORDER BY Id"
        save("rest_query", *org.data("GET", "/query?q=" + urllib.parse.quote(soql)))

        job = json.dumps({"operation": "query", "query": "SELECT Id, Name, Industry, CreatedDate FROM Account"})
        status, body = org.data("POST", "/jobs/query", job.encode())
        save("bulk_query.create", status, body)
        job_id = json.loads(body)["id"]
        for _ in range(200):
            status, body = org.data("GET", f"/jobs/query/{job_id}")
            if json.loads(body)["state"] in ("JobComplete", "Failed", "Aborted"):
                break
            time.sleep(0.01)
        save("bulk_query.info", status, body)
        locator, page = None, 0
        while True:
            path = f"/jobs/query/{job_id}/results?maxRecords=70"
            if locator:
                path += "&locator=" + locator
            status, body = org.data("GET", path)
            save(f"bulk_query.results.{page}", status, body)
            page += 1
            locator = org.headers.get("Sforce-Locator")
            if not locator or locator == "null" or page > 10:
                break

        job = json.dumps({"object": "Contact", "operation": "insert", "lineEnding": "LF"})
        status, body = org.data("POST", "/jobs/ingest", job.encode())
        save("ingest.create", status, body)
        job_id = json.loads(body)["id"]
        csv = "LastName,FirstName,Email,Birthdate\nLovelace,Ada,ada@example.com,1815-12-10\n,NoLast,x@example.com,\nHopper,Grace,grace@example.com,not-a-date\n"
        save("ingest.upload", *org.data("PUT", f"/jobs/ingest/{job_id}/batches", csv.encode(), "text/csv"))
        save("ingest.close", *org.data("PATCH", f"/jobs/ingest/{job_id}", b'{"state":"UploadComplete"}'))
        for _ in range(200):
            status, body = org.data("GET", f"/jobs/ingest/{job_id}")
            if json.loads(body)["state"] in ("JobComplete", "Failed", "Aborted"):
                break
            time.sleep(0.01)
        save("ingest.info", status, body)
        for kind in ("successfulResults", "failedResults", "unprocessedrecords"):
            save(f"ingest.{kind}", *org.data("GET", f"/jobs/ingest/{job_id}/{kind}"))
        status, body = org.call("GET", "/__emulator/records/Contact?offset=400&limit=100", auth=False)
        save("ingest.records", status, body)
    finally:
        org.close()


def main():
    args = sys.argv[1:]
    keep = None
    if "--keep" in args:
        i = args.index("--keep")
        keep = args[i + 1]
        del args[i : i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    root = keep or tempfile.mkdtemp(prefix="compare_wire.")
    old, new = os.path.join(root, "old"), os.path.join(root, "new")
    snapshot(args[0], old)
    snapshot(args[1], new)
    names = sorted(set(os.listdir(old)) | set(os.listdir(new)))
    differ = 0
    for name in names:
        a = open(os.path.join(old, name), "rb").read() if os.path.exists(os.path.join(old, name)) else None
        b = open(os.path.join(new, name), "rb").read() if os.path.exists(os.path.join(new, name)) else None
        if a != b:
            differ += 1
            print(f"DIFFERS: {name}")
            if a is not None and b is not None:
                lines = difflib.unified_diff(
                    a.decode(errors="replace").splitlines(),
                    b.decode(errors="replace").splitlines(),
                    lineterm="",
                    n=1,
                )
                for line in list(lines)[:20]:
                    print("   ", line[:300])
    total = sum(os.path.getsize(os.path.join(old, n)) for n in os.listdir(old))
    print(f"{len(names)} answers compared ({total:,} bytes from the old binary), {differ} differ; trees in {root}")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
