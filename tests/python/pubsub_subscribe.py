"""Subscribes to a Pub/Sub API topic with pysfpubsub (a third-party client from PyPI) and prints
the change events it decodes with its own Avro handling, one JSON object per line.

Usage: pubsub_subscribe.py INSTANCE_URL PUBSUB_URL CA_FILE ACCESS_TOKEN ORG_ID TOPIC COUNT

pysfpubsub always connects over TLS with certifi's bundle (module global
`secure_channel_credentials`): the emulator's CA replaces it. Its `auth()` logs in through the
SOAP API, which the emulator does not serve, so the session's metadata (an OAuth access token,
the instance URL, the org id) is set on the client directly, as `auth()` would set it.
"""

import json
import sys
from urllib.parse import urlparse

import grpc
import pysfpubsub.pubsub as pubsub


class Done(Exception):
    pass


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

    def on_response(response, client):
        for consumer_event in response.events:
            event = consumer_event.event
            schema = client.get_schema_json(event.schema_id)
            decoded = client.decode(schema, event.payload)
            header = decoded["ChangeEventHeader"]
            fields = {k: v for k, v in decoded.items() if k != "ChangeEventHeader" and v is not None}
            seen.append(1)
            print(
                json.dumps(
                    {
                        "replay_id": consumer_event.replay_id.hex(),
                        "schema_id": event.schema_id,
                        "header": header,
                        "fields": fields,
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
