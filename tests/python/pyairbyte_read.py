"""Read streams of the emulator through PyAirbyte, our binary being the local executable.

    pyairbyte_read.py CONFIG.json EXECUTABLE STREAM[,STREAM...]

Reads into PyAirbyte's default DuckDB cache (./.cache/ under the working directory) and writes
result.json: {"cache_path": ..., "rows": {stream: [row, ...]}} with the cached rows as PyAirbyte
stores them (lower-cased column names). Run with AIRBYTE_OFFLINE_MODE=1.
"""

import json

import airbyte as ab
from script_support import run_main


def main(config_path, executable, streams):
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    source = ab.get_source("source-salesforce", config=config, local_executable=executable)
    source.check()
    names = streams.split(",")
    source.select_streams(names)
    cache = ab.get_default_cache()
    result = source.read(cache=cache)
    rows = {}
    for name in names:
        rows[name] = [dict(record) for record in result[name]]
    with open("result.json", "w", encoding="utf-8") as f:
        json.dump({"cache_path": str(cache.db_path), "rows": rows}, f, default=str)
    print(f"read {sum(len(r) for r in rows.values())} rows into {cache.db_path}")
    return 0


if __name__ == "__main__":
    run_main(main, __doc__, 3)
