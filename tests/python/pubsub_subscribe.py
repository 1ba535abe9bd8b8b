"""Subscribes to a Pub/Sub API topic with pysfpubsub (a third-party client from PyPI) and prints
the change events it decodes with its own Avro handling, one JSON object per line.

Each event's bitmap fields (changedFields, nulledFields, diffFields) are expanded to field names
the way Salesforce's own Python sample does (forcedotcom/pub-sub-api
python/util/ChangeEventHeaderUtility.py: element 0 `0x…` is a bitmap over the schema's top-level
fields, least significant bit first; `pos-0x…` one over the fields of the compound at `pos`).
The client keeps each record's field values from the events it saw (CREATE and UNDELETE carry
them all, UPDATE the changed ones) and rebuilds a field listed in diffFields by applying its
unified diff to the value it had, as the Change Data Capture guide describes ("How to
Reconstruct a Field from Its Diff Value": split into lines, patch as Java Diff Utilities reads
hunks, join with the value's own newline, compare the SHA-256 after `+++ `).

Usage: pubsub_subscribe.py INSTANCE_URL PUBSUB_URL CA_FILE ACCESS_TOKEN ORG_ID TOPIC COUNT

pysfpubsub always connects over TLS with certifi's bundle (module global
`secure_channel_credentials`): the emulator's CA replaces it. Its `auth()` logs in through the
SOAP API, which the emulator does not serve, so the session's metadata (an OAuth access token,
the instance URL, the org id) is set on the client directly, as `auth()` would set it.
"""

import hashlib
import json
import re
import sys
from urllib.parse import urlparse

import avro.schema
import grpc
import pysfpubsub.pubsub as pubsub


class Done(Exception):
    pass


def value_schema(field_type):
    """The record inside an optional compound's union, as ChangeEventHeaderUtility unwraps it."""
    if field_type.type == "union":
        branches = field_type.schemas
        if len(branches) == 2 and branches[0].type in ("null", "string"):
            return branches[1]
        if len(branches) == 3 and branches[0].type == "null" and branches[1].type == "string":
            return branches[2]
    return field_type


def bitmap_names(bitmap, fields):
    bits = bin(int(bitmap[2:], 16))[2:][::-1]
    return [fields[i].name for i, bit in enumerate(bits) if bit == "1"]


def expand_bitmaps(event_schema, bitmaps):
    names = []
    for item in bitmaps:
        if item.startswith("0x"):
            names += bitmap_names(item, event_schema.fields)
        elif "-" in item:
            position, bitmap = item.split("-", 1)
            parent = event_schema.fields[int(position)]
            nested = value_schema(parent.type)
            if nested.type == "record":
                names += [f"{parent.name}.{n}" for n in bitmap_names(bitmap, nested.fields)]
    return names


HUNK = re.compile(r"^@@\s+-(\d+)(?:,(\d+))?\s+\+(\d+)(?:,(\d+))?\s+@@$")


def apply_diff(old, diff):
    """The new value from the old one and a diff field's value, and whether its hash matched."""
    lines = diff.split("\n")
    if lines[0] != "--- " or not lines[1].startswith("+++ "):
        raise ValueError(f"not a Salesforce diff: {diff[:40]!r}")
    expected_hash = lines[1][4:]
    newline = "\r\n" if "\r\n" in old else "\n"
    text = old.split(newline)
    hunks = []
    for line in lines[2:]:
        m = HUNK.match(line)
        if m:
            # Java Diff Utilities: the hunk starts at line (start - 1), start 0 read as 1.
            hunks.append((max(int(m.group(1)), 1) - 1, [], []))
        elif line.startswith("-"):
            hunks[-1][1].append(line[1:])
        elif line.startswith("+"):
            hunks[-1][2].append(line[1:])
        elif line.startswith(" "):
            hunks[-1][1].append(line[1:])
            hunks[-1][2].append(line[1:])
        else:
            raise ValueError(f"unexpected diff line {line!r}")
    for position, removed, added in reversed(hunks):
        if text[position : position + len(removed)] != removed:
            raise ValueError(f"hunk at line {position + 1} does not match the old value")
        text[position : position + len(removed)] = added
    rebuilt = newline.join(text)
    return rebuilt, hashlib.sha256(rebuilt.encode("utf-8")).hexdigest() == expected_hash


def main() -> None:
    instance_url, pubsub_url, ca_file, token, org_id, topic, count = sys.argv[1:8]
    count = int(count)
    with open(ca_file, "rb") as f:
        pubsub.secure_channel_credentials = grpc.ssl_channel_credentials(f.read())
    target = urlparse(pubsub_url)
    client = pubsub.Client(
        url=instance_url,
        username="",
        password="",
        grpc_host="localhost",
        grpc_port=target.port,
    )
    client.session_id = token
    client.tenant_id = org_id
    client.metadata = (
        ("accesstoken", token),
        ("instanceurl", instance_url),
        ("tenantid", org_id),
    )
    info = client.get_topic(topic)
    print(json.dumps({"topic": info.topic_name, "schema_id": info.schema_id, "tenant": info.tenant_guid}), flush=True)
    seen = []
    records = {}

    def on_response(response, client):
        for consumer_event in response.events:
            event = consumer_event.event
            schema = client.get_schema_json(event.schema_id)
            decoded = client.decode(schema, event.payload)
            header = decoded["ChangeEventHeader"]
            fields = {k: v for k, v in decoded.items() if k != "ChangeEventHeader" and v is not None}
            parsed = avro.schema.parse(schema)
            diffed = expand_bitmaps(parsed, list(header["diffFields"]))
            rebuilt = {}
            for record_id in header["recordIds"]:
                known = records.setdefault(record_id, {})
                for name in diffed:
                    if name not in known:
                        raise ValueError(f"{name} of {record_id}: a diff without an earlier value")
                    value, hash_ok = apply_diff(known[name], fields[name])
                    rebuilt[name] = {"value": value, "sha256_matches": hash_ok}
                    known[name] = value
                for name, value in fields.items():
                    if name not in diffed:
                        known[name] = value
            seen.append(1)
            print(
                json.dumps(
                    {
                        "replay_id": consumer_event.replay_id.hex(),
                        "schema_id": event.schema_id,
                        "header": header,
                        "fields": fields,
                        "changed": expand_bitmaps(parsed, list(header["changedFields"])),
                        "nulled": expand_bitmaps(parsed, list(header["nulledFields"])),
                        "diffed": diffed,
                        "rebuilt": rebuilt,
                    },
                    default=str,
                ),
                flush=True,
            )
        if len(seen) >= count:
            raise Done()
        if response.pending_num_requested == 0:
            client.release_subscription_semaphore()

    try:
        client.subscribe(topic, "EARLIEST", b"", 2, on_response)
    except Done:
        return


if __name__ == "__main__":
    main()
