//! The emulator's admin API as the end-to-end tests read the org back with it.

use serde_json::Value;

/// The JSON reply to `request` (an admin API call, or an API call with a bearer token).
pub(crate) async fn json_reply<T: serde::de::DeserializeOwned>(
    request: reqwest::RequestBuilder,
) -> T {
    let reply = request.send().await.expect("the emulator answers");
    reply.json().await.expect("a JSON reply")
}

/// Sends an admin API call that must succeed (panics naming `what` and the reply when it does
/// not); its JSON reply, null when it has none.
pub(crate) async fn admin_call(request: reqwest::RequestBuilder, what: &str) -> Value {
    let response = request.send().await.expect("the emulator answers");
    let status = response.status();
    let body = response.text().await.expect("a reply body");
    assert!(status.is_success(), "{what}: {status} {body}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

/// The requests of the emulator's log (`/__emulator/requests`) on which a fault of type `fault`
/// fired.
pub(crate) fn fired(requests: &[Value], fault: &str) -> Vec<Value> {
    requests
        .iter()
        .filter(|r| {
            r["faults"]
                .as_array()
                .is_some_and(|f| f.iter().any(|t| t == fault))
        })
        .cloned()
        .collect()
}

/// How many requests of the emulator's log created a Bulk job of `kind` (`query`, `ingest`):
/// `POST …/jobs/{kind}`.
pub(crate) fn jobs_created(requests: &[Value], kind: &str) -> usize {
    let path_end = format!("/jobs/{kind}");
    requests
        .iter()
        .filter(|r| {
            r["method"] == "POST"
                && r["path"]
                    .as_str()
                    .unwrap_or("")
                    .trim_end_matches('/')
                    .ends_with(&path_end)
        })
        .count()
}

/// Every record of `object` in the org at `base_url` (deleted ones too when asked), fetched
/// page by page (`GET /__emulator/records/{object}`).
pub(crate) async fn org_records(
    http: &reqwest::Client,
    base_url: &str,
    object: &str,
    include_deleted: bool,
) -> Vec<Value> {
    org_records_with(http, base_url, object, include_deleted, "").await
}

/// [`org_records`] with only `fields` of each record (comma-separated; all when empty): far
/// less for the emulator to build when a test needs only Ids.
pub(crate) async fn org_records_with(
    http: &reqwest::Client,
    base_url: &str,
    object: &str,
    include_deleted: bool,
    fields: &str,
) -> Vec<Value> {
    let mut all = Vec::new();
    let fields = if fields.is_empty() {
        String::new()
    } else {
        format!("&fields={fields}")
    };
    loop {
        let url = format!(
            "{base_url}/__emulator/records/{object}?include_deleted={include_deleted}&offset={}&limit=10000{fields}",
            all.len()
        );
        let page: Value = json_reply(http.get(&url)).await;
        let records = page["records"].as_array().cloned().unwrap_or_default();
        let total = page["totalSize"].as_u64().unwrap_or(0) as usize;
        let done = records.is_empty();
        all.extend(records);
        if done || all.len() >= total {
            return all;
        }
    }
}
