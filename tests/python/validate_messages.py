"""Validate Airbyte protocol messages, one JSON object per line on stdin.

Each line must parse as an ``AirbyteMessage`` of airbyte-protocol-models (the pydantic models
Airbyte's acceptance tests use). Exits 0 and prints a count when every line is valid; exits 1
naming the first invalid line and what pydantic said about it.
"""

import json
import sys

from airbyte_protocol.models import AirbyteMessage


def main() -> int:
    count = 0
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            print(f"line {number}: empty line on stdout", file=sys.stderr)
            return 1
        try:
            payload = json.loads(line)
        except json.JSONDecodeError as error:
            print(f"line {number}: not JSON: {error}: {line[:200]!r}", file=sys.stderr)
            return 1
        try:
            AirbyteMessage.parse_obj(payload)
        except Exception as error:  # pydantic.ValidationError, or anything the model raises
            print(f"line {number}: not a valid AirbyteMessage: {error}: {line[:200]!r}", file=sys.stderr)
            return 1
        count += 1
    print(f"{count} valid messages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
