"""simple-salesforce, unmodified, loading through Bulk API 2.0 what a data-activation sync relies
on: parents named by their external id (`Account.External_Id__c`), a polymorphic lookup named by
its parent's type (`Lead:Who.Email`), a restricted picklist, and a hardDelete job refused to a
user without the "Bulk API Hard Delete" permission.

Usage: sfclient_activation.py INSTANCE_URL SESSION_ID

The caller (emulator/tests/ingest_simple_salesforce.rs) has seeded two Accounts sharing the
external id SSFA-DUP, one Account SSFA-PARENT and a Lead whose Email is ssfa-lead@example.com,
and has taken the hard-delete permission away. Prints one JSON object with what the client saw.
"""

import json
import sys

from script_support import csv_rows as rows
from script_support import run_main, salesforce


def main(instance_url, session_id):
    sf = salesforce(instance_url, session_id)
    out = {}

    # Contacts naming their Account by its external id: found, not found, held by two Accounts.
    contacts = [
        {"LastName": "SSFA Linked", "Account.External_Id__c": "SSFA-PARENT"},
        {"LastName": "SSFA Orphan", "Account.External_Id__c": "SSFA-MISSING"},
        {"LastName": "SSFA Ambiguous", "Account.External_Id__c": "SSFA-DUP"},
    ]
    job = sf.bulk2.Contact.insert(records=contacts, wait=0)
    out["contacts"] = job
    out["contacts_successful"] = rows(sf.bulk2.Contact.get_successful_records(job[0]["job_id"]))
    out["contacts_failed"] = rows(sf.bulk2.Contact.get_failed_records(job[0]["job_id"]))

    # A Task whose polymorphic Who names a Lead by its email.
    tasks = [{"Subject": "SSFA Call", "Lead:Who.Email": "ssfa-lead@example.com"}]
    job = sf.bulk2.Task.insert(records=tasks, wait=0)
    out["tasks_successful"] = rows(sf.bulk2.Task.get_successful_records(job[0]["job_id"]))
    out["tasks_failed"] = rows(sf.bulk2.Task.get_failed_records(job[0]["job_id"]))

    # A restricted picklist refuses a value outside its set.
    accounts = [
        {"Name": "SSFA Gold", "Tier__c": "Gold"},
        {"Name": "SSFA Platinum", "Tier__c": "Platinum"},
    ]
    job = sf.bulk2.Account.insert(records=accounts, wait=0)
    out["tiers_successful"] = rows(sf.bulk2.Account.get_successful_records(job[0]["job_id"]))
    out["tiers_failed"] = rows(sf.bulk2.Account.get_failed_records(job[0]["job_id"]))

    # hardDelete without the permission: the job is refused at creation.
    ids = [{"Id": r["sf__Id"]} for r in out["tiers_successful"]]
    try:
        sf.bulk2.Account.hard_delete(records=ids, wait=0)
        out["hard_delete_error"] = None
    except Exception as e:  # simple-salesforce raises with Salesforce's error array as content
        out["hard_delete_error"] = {"type": type(e).__name__, "content": getattr(e, "content", None)}

    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    run_main(main, __doc__, 2)
