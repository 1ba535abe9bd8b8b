//! `source discover` through the real binary against the in-process emulator.

use crate::support::source::{emulator_config, TestOrg};
use serde_json::{json, Value};

fn stream<'a>(streams: &'a [Value], name: &str) -> &'a Value {
    streams
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in the catalog"))
}

#[test]
fn account_has_typed_nullable_schema_id_key_and_systemmodstamp_cursor() {
    let org = TestOrg::start(emulator_config());
    let streams = org.discovered_streams(&org.config(json!({})));
    let account = stream(&streams, "Account");
    assert_eq!(account["source_defined_primary_key"], json!([["Id"]]));
    assert_eq!(account["default_cursor_field"], json!(["SystemModstamp"]));
    assert_eq!(account["source_defined_cursor"], true);
    assert_eq!(account["is_resumable"], true);
    assert_eq!(
        account["supported_sync_modes"],
        json!(["full_refresh", "incremental"])
    );
    let props = account["json_schema"]["properties"].as_object().unwrap();
    assert_eq!(props["SystemModstamp"]["format"], "date-time");
    assert_eq!(props["BillingAddress"]["type"], json!(["null", "object"]));
    assert_eq!(
        props["NumberOfEmployees"]["type"],
        json!(["null", "integer"])
    );
    assert_eq!(props["AnnualRevenue"]["type"], json!(["null", "number"]));
    assert_eq!(props["_ab_cdc_deleted_at"]["format"], "date-time");
    for (name, prop) in props {
        assert!(
            prop["type"].as_array().unwrap().contains(&json!("null")),
            "{name} is nullable"
        );
    }
}

#[test]
fn history_and_login_objects_use_their_own_cursors() {
    let org = TestOrg::start(emulator_config());
    let streams = org.discovered_streams(&org.config(json!({})));
    assert_eq!(
        stream(&streams, "OpportunityFieldHistory")["default_cursor_field"],
        json!(["CreatedDate"])
    );
    assert_eq!(
        stream(&streams, "LoginHistory")["default_cursor_field"],
        json!(["LoginTime"])
    );
}

#[test]
fn the_describe_stream_is_offered_for_migrated_catalogs() {
    let org = TestOrg::start(emulator_config());
    let streams = org.discovered_streams(&org.config(json!({})));
    let describe = stream(&streams, "Describe");
    assert_eq!(describe["supported_sync_modes"], json!(["full_refresh"]));
    assert_eq!(describe["source_defined_primary_key"], json!([["name"]]));
}

#[test]
fn streams_criteria_are_unioned_and_case_insensitive() {
    let org = TestOrg::start(emulator_config());
    let config = org.config(json!({"streams_criteria": [
        {"criteria": "exacts", "value": "ACCOUNT"},
        {"criteria": "starts with", "value": "opp"}
    ]}));
    let streams = org.discovered_streams(&config);
    let mut names: Vec<&str> = streams
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "Account",
            "Describe",
            "Opportunity",
            "OpportunityFieldHistory",
            "OpportunityStage"
        ]
    );
}

#[test]
fn every_criterion_kind_filters_as_airbyte_defines_it() {
    let org = TestOrg::start(emulator_config());
    let names = |criteria: &str, value: &str| -> Vec<String> {
        let config =
            org.config(json!({"streams_criteria": [{"criteria": criteria, "value": value}]}));
        org.discovered_streams(&config)
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .filter(|n| n != "Describe")
            .collect()
    };
    let all = names("not exacts", "nothing-has-this-name");
    assert!(all.len() > 10);
    // Each criterion, its value, and what every name offered (lower-cased) satisfies.
    type Case = (&'static str, &'static str, fn(&str) -> bool);
    let cases: [Case; 5] = [
        ("ends with", "history", |n| n.ends_with("history")),
        ("ends not with", "history", |n| !n.ends_with("history")),
        ("contains", "RECORD", |n| n.contains("record")),
        ("not contains", "record", |n| !n.contains("record")),
        ("starts not with", "a", |n| !n.starts_with('a')),
    ];
    for (criteria, value, holds) in cases {
        let offered = names(criteria, value);
        assert!(
            offered.iter().all(|n| holds(&n.to_lowercase())),
            "{criteria} {value:?}: {offered:?}"
        );
    }
    assert_eq!(names("exacts", "lead"), vec!["Lead"]);
}

#[test]
fn every_discovered_schema_is_a_draft7_object_schema_with_unique_names() {
    let org = TestOrg::start(emulator_config());
    let streams = org.discovered_streams(&org.config(json!({})));
    let mut names = std::collections::HashSet::new();
    for s in &streams {
        assert!(
            names.insert(s["name"].as_str().unwrap().to_string()),
            "duplicate {}",
            s["name"]
        );
        assert_eq!(s["json_schema"]["type"], "object");
        assert!(s["json_schema"]["properties"].is_object());
        if s["supported_sync_modes"]
            .as_array()
            .unwrap()
            .contains(&json!("incremental"))
        {
            let cursor = s["default_cursor_field"][0].as_str().unwrap();
            assert!(s["json_schema"]["properties"].get(cursor).is_some());
        }
    }
}

#[test]
fn an_org_of_a_thousand_extra_objects_is_discovered_whole() {
    let org = TestOrg::start(sf_emulator::EmulatorConfig {
        extra_objects: 1000,
        ..emulator_config()
    });
    let streams = org.discovered_streams(&org.config(json!({})));
    for i in 1..=1000 {
        let extra = stream(&streams, &format!("Extra_Object_{i:04}__c"));
        assert_eq!(extra["default_cursor_field"], json!(["SystemModstamp"]));
        let props = extra["json_schema"]["properties"].as_object().unwrap();
        assert_eq!(props["Amount__c"]["type"], json!(["null", "number"]));
        assert_eq!(props["Due__c"]["format"], "date");
    }
    // The catalog's own objects are all still there.
    stream(&streams, "Account");
    stream(&streams, "Bench_Load__c");
}
