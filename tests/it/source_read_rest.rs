//! `source read` of streams REST serves (objects Bulk refuses, base64 fields) through the real
//! binary against the in-process emulator.

use crate::support::source::{
    assert_records_match_schemas, assert_same_as_org, emulator_config, TestOrg,
};
use serde_json::json;

#[test]
fn rest_streams_hold_exactly_the_orgs_records_including_soft_deleted_ones() {
    let org = TestOrg::start(emulator_config());
    let (run, _) = org.read_objects(&["Attachment", "CaseStatus"], false);
    for object in ["Attachment", "CaseStatus"] {
        // REST gives a blob's URL, the admin API its content.
        assert_same_as_org(&org, object, &run.records(object), &["Body"]);
        assert_eq!(
            run.statuses(object),
            vec!["STARTED", "RUNNING", "COMPLETE"],
            "{object} statuses"
        );
        assert_eq!(
            run.last_state(object),
            json!({"__ab_full_refresh_sync_complete": true})
        );
    }
}

#[test]
fn every_rest_record_validates_against_its_discovered_schema() {
    let org = TestOrg::start(emulator_config());
    let (run, catalog) = org.read_objects(&["Attachment", "CaseStatus"], false);
    assert_records_match_schemas(&run, &catalog);
}
