"""Validate Airbyte protocol messages, one JSON object per line on stdin.

Each line must parse as an ``AirbyteMessage`` of airbyte-protocol-models (the pydantic models
Airbyte's acceptance tests use). Exits 0 and prints a count when every line is valid; exits 1
naming the first invalid line and what pydantic said about it.

With ``--serve`` it checks batches until stdin ends, so that one process (the models take about
half a second to import) serves every connector run of a test binary: each batch is a line
holding the number of lines that follow, then those lines; the answer is one JSON line,
``{"ok": <count>}`` or ``{"error": "<what the one-shot mode prints>"}``.
"""

import gc
import json
import sys

from airbyte_protocol.models import AirbyteMessage


def first_problem(lines):
    """The first invalid line of ``lines`` (numbered from 1) and why, or None when all are valid."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            return f"line {number}: empty line on stdout"
        try:
            payload = json.loads(line)
        except json.JSONDecodeError as error:
            return f"line {number}: not JSON: {error}: {line[:200]!r}"
        try:
            AirbyteMessage.parse_obj(payload)
        except Exception as error:  # pydantic.ValidationError, or anything the model raises
            return f"line {number}: not a valid AirbyteMessage: {error}: {line[:200]!r}"
    return None


def main() -> int:
    lines = list(sys.stdin)
    problem = first_problem(lines)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 1
    print(f"{len(lines)} valid messages")
    return 0


def serve() -> int:
    # The models' import leaves a large heap that lives as long as the server: frozen, the
    # collector stops walking it again on every collection the batches' parsing triggers.
    gc.freeze()
    stdin = sys.stdin.buffer
    while True:
        header = stdin.readline()
        if not header:
            return 0
        count = int(header)
        lines = [stdin.readline().decode("utf-8", errors="replace") for _ in range(count)]
        try:
            problem = first_problem(lines)
        except Exception as error:  # the check itself broke: report it as the batch's problem
            problem = f"the validator failed: {error!r}"
        answer = {"ok": count} if problem is None else {"error": problem}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(serve() if sys.argv[1:] == ["--serve"] else main())
