"""JSON-schema checks of Airbyte's acceptance tests, with the `jsonschema` package CAT uses.

  acceptance_checks.py schemas CATALOG.json
      every stream's json_schema is a valid draft-7 schema (Draft7Validator.check_schema)
  acceptance_checks.py config SPEC.json CONFIG.json
      CONFIG validates against SPEC's connectionSpecification
  acceptance_checks.py records CATALOG.json < messages
      every RECORD's data validates against its stream's json_schema (the catalog may be a
      CATALOG message, a catalog, or a configured catalog)

Exits 0 printing a count when all is well; exits 1 naming the first problem.
"""

import json
import sys

from jsonschema import Draft7Validator


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def streams_of(catalog):
    if "catalog" in catalog:
        catalog = catalog["catalog"]
    streams = {}
    for entry in catalog["streams"]:
        stream = entry.get("stream", entry)
        streams[stream["name"]] = stream["json_schema"]
    return streams


def check_schemas(catalog_path):
    streams = streams_of(load(catalog_path))
    for name, schema in streams.items():
        try:
            Draft7Validator.check_schema(schema)
        except Exception as error:  # jsonschema.SchemaError
            print(f"stream {name}: not a valid draft-7 schema: {error}", file=sys.stderr)
            return 1
    print(f"{len(streams)} valid schemas")
    return 0


def check_config(spec_path, config_path):
    spec = load(spec_path)
    if "spec" in spec:
        spec = spec["spec"]
    validator = Draft7Validator(spec["connectionSpecification"])
    errors = sorted(validator.iter_errors(load(config_path)), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.path) or "(top level)"
        print(f"{config_path}: {where}: {first.message}", file=sys.stderr)
        return 1
    print("config is valid")
    return 0


def check_records(catalog_path):
    validators = {
        name: Draft7Validator(schema) for name, schema in streams_of(load(catalog_path)).items()
    }
    count = 0
    for number, line in enumerate(sys.stdin, start=1):
        message = json.loads(line)
        if message.get("type") != "RECORD":
            continue
        record = message["record"]
        validator = validators.get(record["stream"])
        if validator is None:
            print(
                f"line {number}: RECORD for stream {record['stream']!r}, not in the catalog",
                file=sys.stderr,
            )
            return 1
        errors = list(validator.iter_errors(record["data"]))
        if errors:
            first = errors[0]
            where = "/".join(str(p) for p in first.path) or "(record)"
            print(
                f"line {number}: stream {record['stream']} field {where}: {first.message}",
                file=sys.stderr,
            )
            return 1
        count += 1
    print(f"{count} records match their schemas")
    return 0


def main(argv):
    if len(argv) == 3 and argv[1] == "schemas":
        return check_schemas(argv[2])
    if len(argv) == 4 and argv[1] == "config":
        return check_config(argv[2], argv[3])
    if len(argv) == 3 and argv[1] == "records":
        return check_records(argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
