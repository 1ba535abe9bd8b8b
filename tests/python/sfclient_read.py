"""simple-salesforce, unmodified, reading from sf-emulator.

Usage: sfclient_read.py <instance_url> <session_id>

The emulator must serve https (simple-salesforce only builds https URLs); the caller points
REQUESTS_CA_BUNDLE at the emulator's CA certificate. The org must be started with --scale 3 or
more (Contact then has more than 2,000 records, so REST queries page). Prints one JSON line of
figures and exits non-zero on the first mismatch.
"""

import json
import sys

from script_support import csv_rows, run_main, salesforce


def check(condition, message):
    if not condition:
        print(f"FAILED: {message}", file=sys.stderr)
        sys.exit(1)


def main(instance_url, session_id):
    sf = salesforce(instance_url, session_id)
    figures = {}

    # describe: global and one object
    names = [s["name"] for s in sf.describe()["sobjects"]]
    check("Account" in names and "Contact" in names, f"describeGlobal lists Account and Contact: {names[:5]}")
    contact = sf.Contact.describe()
    fields = {f["name"]: f for f in contact["fields"]}
    check(fields["MailingCity"]["compoundFieldName"] == "MailingAddress", "MailingCity is a component of MailingAddress")
    check(fields["Id"]["type"] == "id", "Contact.Id has type id")
    figures["contact_fields"] = len(fields)

    # restful('limits') and the Sforce-Limit-Info header simple-salesforce parses
    limits = sf.restful("limits")
    check(limits["DailyApiRequests"]["Max"] > 0, f"limits: {limits.get('DailyApiRequests')}")
    check("api-usage" in sf.api_usage, f"api_usage parsed from Sforce-Limit-Info: {sf.api_usage}")
    figures["api_usage"] = str(sf.api_usage["api-usage"])

    # query: the first page, then query_more by nextRecordsUrl
    first = sf.query("SELECT Id, Name, Email FROM Contact")
    total = first["totalSize"]
    check(total > 2000, f"Contact totalSize above one page: {total}")
    check(first["done"] is False and "nextRecordsUrl" in first, "first page is not done and has nextRecordsUrl")
    check(len(first["records"]) == 2000, f"default page of 2000: {len(first['records'])}")
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    check(len(second["records"]) > 0, "query_more returns records")

    # query_all: every page
    everything = sf.query_all("SELECT Id, Name, CreatedDate FROM Contact")
    ids = [r["Id"] for r in everything["records"]]
    check(len(ids) == total == everything["totalSize"], f"query_all returns {len(ids)} of {total}")
    check(len(set(ids)) == len(ids), "query_all returns no duplicates")
    check(everything["records"][0]["CreatedDate"].endswith("+0000"), "REST datetime format")
    figures["query_all_records"] = len(ids)

    # queryAll (include_deleted) through the /queryAll/ path
    with_deleted = sf.query_all("SELECT Id FROM Contact", include_deleted=True)
    check(with_deleted["totalSize"] >= total, "queryAll sees at least what query sees")

    # Bulk 2.0 query, more than one result page
    pages = list(sf.bulk2.Contact.query("SELECT Id, LastName, Email FROM Contact", max_records=500, wait=0.01))
    check(len(pages) > 1, f"Bulk 2.0 query returns several pages: {len(pages)}")
    bulk_ids = []
    for page in pages:
        rows = csv_rows(page)
        check(rows and set(rows[0].keys()) == {"Id", "LastName", "Email"}, "each page has the header")
        bulk_ids.extend(r["Id"] for r in rows)
    check(sorted(bulk_ids) == sorted(ids), f"Bulk returns the same {len(ids)} ids as REST ({len(bulk_ids)})")
    figures["bulk_pages"] = len(pages)
    figures["bulk_records"] = len(bulk_ids)

    print(json.dumps(figures))


if __name__ == "__main__":
    run_main(main, "usage: sfclient_read.py <instance_url> <session_id>", 2)
