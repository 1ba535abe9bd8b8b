"""What the test scripts share: their command line, and simple-salesforce on the emulator's org.

Each script runs as `python tests/python/<script>.py ...`, so this folder is on `sys.path`.
"""

import csv
import io
import sys


def run_main(main, usage, nargs):
    """Exits with `main(*arguments)` given exactly `nargs` command-line arguments; otherwise
    prints `usage` and exits 2."""
    if len(sys.argv) != nargs + 1:
        print(usage, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))


def salesforce(instance_url, session_id):
    """simple-salesforce, unmodified, on the org at `instance_url` with a session id (API 62.0)."""
    from simple_salesforce import Salesforce

    return Salesforce(instance_url=instance_url, session_id=session_id, version="62.0")


def csv_rows(text):
    """The rows of a Bulk result CSV, as dicts."""
    return list(csv.DictReader(io.StringIO(text)))
