//! `source read` through Bulk API 2.0 (the default) via the real binary against the in-process
//! emulator: records equal the org's own, compound fields rebuilt so address objects stay on
//! Bulk, values typed exactly, every record valid against its schema.

use crate::support::source::{
    assert_records_match_schemas, assert_same_as_org, by_id, emulator_config, TestOrg,
};
use serde_json::{json, Value};

const OBJECTS: [&str; 6] = [
    "Account",
    "Contact",
    "Lead",
    "User",
    "Opportunity",
    "Store__c",
];

#[test]
fn bulk_full_refresh_equals_the_org_and_address_objects_stay_on_bulk() {
    let org = TestOrg::start(emulator_config());
    let (run, _) = org.read_objects(&OBJECTS, false);
    for object in OBJECTS {
        assert_same_as_org(&org, object, &run.records(object), &[]);
        assert_eq!(run.statuses(object), vec!["STARTED", "RUNNING", "COMPLETE"]);
    }
    let requests = org.requests();
    // The window counts (`SELECT COUNT()`) go through queryAll; reads do not.
    let rest_queries = requests
        .iter()
        .map(|r| r.to_string())
        .filter(|r| r.contains("/queryAll") && !r.contains("COUNT"))
        .count();
    assert_eq!(rest_queries, 0, "no stream fell back to REST: {requests:?}");
    let account = &run.records("Account")[0];
    assert!(account["BillingAddress"].is_object() || account["BillingAddress"].is_null());
}

#[test]
fn every_bulk_record_validates_against_its_discovered_schema() {
    let org = TestOrg::start(emulator_config());
    let (run, catalog) = org.read_objects(&OBJECTS, true);
    assert_records_match_schemas(&run, &catalog);
}

#[test]
fn null_markers_stay_strings_and_empty_values_are_null() {
    let org = TestOrg::start(emulator_config());
    let mut ids = Vec::new();
    for marker in ["NA", "N/A", "NULL", "None", "null", "#N/A"] {
        ids.push((
            marker,
            org.create(
                "Account",
                json!({"Name": marker, "Phone": marker, "AccountNumber": null}),
            ),
        ));
    }
    let (run, _) = org.read_objects(&["Account"], false);
    let records = by_id(&run.records("Account"));
    for (marker, id) in ids {
        let record = &records[&id];
        assert_eq!(record["Name"], json!(marker));
        assert_eq!(record["Phone"], json!(marker));
        assert_eq!(record["AccountNumber"], Value::Null);
    }
}
