"""Write from PyAirbyte's cache through our destination, both connectors local executables.

    pyairbyte_write.py SOURCE_CONFIG SOURCE_EXE DESTINATION_CONFIG DESTINATION_EXE STREAM FIELDS

Reads STREAM through the source into the default DuckDB cache, keeping only FIELDS (comma
separated; the other fields are read-only in Salesforce and a write could not carry them), then
writes that cached data through the destination (PyAirbyte lower-cases the field names and sends
no destination_object_name, so the stream name is the object and every row an insert). Writes
result.json with the cache path and the destination's echoed states. Run with
AIRBYTE_OFFLINE_MODE=1.
"""

import json

import airbyte as ab
from script_support import run_main


def main(source_config, source_exe, destination_config, destination_exe, stream, fields):
    with open(source_config, encoding="utf-8") as f:
        source_config = json.load(f)
    with open(destination_config, encoding="utf-8") as f:
        destination_config = json.load(f)
    keep = set(fields.split(","))
    source = ab.get_source("source-salesforce", config=source_config, local_executable=source_exe)
    source.select_streams([stream])
    # The discovered catalog is what PyAirbyte sends to `read`; the source selects exactly the
    # fields of the configured schema, so narrowing it models the rows to write. Without Id and
    # the cursor the stream has no key and no cursor left: a full refresh, appended to the cache.
    for entry in source.discovered_catalog.streams:
        if entry.name == stream:
            properties = entry.json_schema["properties"]
            entry.json_schema["properties"] = {k: v for k, v in properties.items() if k in keep}
            entry.source_defined_primary_key = None
            entry.default_cursor_field = None
            entry.source_defined_cursor = None
    cache = ab.get_default_cache()
    read_result = source.read(cache=cache, force_full_refresh=True)
    cached = len(list(read_result[stream]))
    destination = ab.get_destination(
        "destination-salesforce", config=destination_config, local_executable=destination_exe
    )
    write_result = destination.write(read_result, streams=[stream])
    with open("result.json", "w", encoding="utf-8") as f:
        json.dump(
            {"cache_path": str(cache.db_path), "cached_rows": cached, "write": str(write_result)},
            f,
            default=str,
        )
    print(f"wrote {cached} cached {stream} rows through the destination")
    return 0


if __name__ == "__main__":
    run_main(main, __doc__, 6)
