"""simple-salesforce, unmodified, writing to sf-emulator: REST create / update / upsert / delete
and Bulk API 2.0 insert (with a failing row), upsert, update and delete.

Usage: sfclient_write.py INSTANCE_URL SESSION_ID

simple-salesforce only builds https URLs: the emulator runs with TLS and the caller points
REQUESTS_CA_BUNDLE at the emulator's CA certificate.

Prints one JSON object on stdout with what the client saw (ids, status codes, job summaries and
the result CSVs it downloaded); the Rust test (emulator/tests/it/ingest_simple_salesforce.rs) checks
those against the org through the emulator's admin API. Exits non-zero on any client error.
"""

import json
import sys

from script_support import csv_rows as rows
from script_support import run_main, salesforce


def main(instance_url, session_id):
    sf = salesforce(instance_url, session_id)
    out = {}

    # REST: create, update, upsert (create then update), delete.
    created = sf.Account.create({"Name": "SSF Rest Account", "NumberOfEmployees": 12})
    out["rest_created"] = created
    rest_id = created["id"]
    out["rest_update_status"] = sf.Account.update(rest_id, {"Name": "SSF Rest Account Renamed", "Website": None})
    out["rest_upsert_create_status"] = sf.Product_Catalog__c.upsert(
        "External_Id__c/SSF-REST-1", {"Name": "SSF Rest Product", "Price__c": 9.5}
    )
    out["rest_upsert_update_status"] = sf.Product_Catalog__c.upsert(
        "External_Id__c/SSF-REST-1", {"Name": "SSF Rest Product v2"}
    )
    out["rest_delete_status"] = sf.Account.delete(rest_id)
    out["rest_deleted_id"] = rest_id
    try:
        sf.Account.create({"Name": "SSF bad", "NumberOfEmployees": "many"})
        out["rest_bad_create"] = None
    except Exception as e:  # SalesforceMalformedRequest carries the error array
        out["rest_bad_create"] = {"type": type(e).__name__, "content": getattr(e, "content", None)}

    # Bulk 2.0 insert with one row missing the required Name.
    records = [{"Name": "SSF Bulk %d" % i, "NumberOfEmployees": str(i)} for i in range(1, 6)]
    records.append({"Name": "", "NumberOfEmployees": "7"})
    inserted = sf.bulk2.Account.insert(records=records, wait=0)
    out["bulk_insert"] = inserted
    job_id = inserted[0]["job_id"]
    successful = rows(sf.bulk2.Account.get_successful_records(job_id))
    failed = rows(sf.bulk2.Account.get_failed_records(job_id))
    out["bulk_insert_successful"] = successful
    out["bulk_insert_failed"] = failed
    out["bulk_insert_unprocessed"] = sf.bulk2.Account.get_unprocessed_records(job_id)

    # Bulk 2.0 update of the inserted rows.
    updates = [{"Id": r["sf__Id"], "Name": r["Name"] + " Updated"} for r in successful]
    updated = sf.bulk2.Account.update(records=updates, wait=0)
    out["bulk_update"] = updated
    out["bulk_update_successful"] = rows(sf.bulk2.Account.get_successful_records(updated[0]["job_id"]))

    # Bulk 2.0 upsert on the external id: one existing key (from REST), two new ones.
    upserts = [
        {"External_Id__c": "SSF-REST-1", "Name": "SSF Rest Product v3"},
        {"External_Id__c": "SSF-BULK-1", "Name": "SSF Bulk Product 1"},
        {"External_Id__c": "SSF-BULK-2", "Name": "SSF Bulk Product 2"},
    ]
    upserted = sf.bulk2.Product_Catalog__c.upsert(records=upserts, external_id_field="External_Id__c", wait=0)
    out["bulk_upsert"] = upserted
    out["bulk_upsert_successful"] = rows(
        sf.bulk2.Product_Catalog__c.get_successful_records(upserted[0]["job_id"])
    )

    # Bulk 2.0 delete of the inserted accounts.
    deletes = [{"Id": r["sf__Id"]} for r in successful]
    deleted = sf.bulk2.Account.delete(records=deletes, wait=0)
    out["bulk_delete"] = deleted
    out["bulk_delete_successful"] = rows(sf.bulk2.Account.get_successful_records(deleted[0]["job_id"]))

    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    run_main(main, __doc__, 2)
