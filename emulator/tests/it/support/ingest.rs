//! Helpers of the Bulk ingest and REST write HTTP tests.

use reqwest::Method;
use serde_json::Value;

use super::Harness;

/// Status, content type and body text of a data API call.
pub(crate) struct Reply {
    pub status: u16,
    pub content_type: String,
    pub text: String,
}

impl Reply {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

/// A call under `/services/data/v62.0` with the harness's session.
pub(crate) async fn call(
    h: &Harness,
    method: Method,
    path: &str,
    content_type: &str,
    body: &str,
) -> Reply {
    let mut req = h.client.request(method, h.data(path)).bearer_auth(&h.token);
    if !content_type.is_empty() {
        req = req.header("Content-Type", content_type);
    }
    let r = req.body(body.to_string()).send().await.unwrap();
    let status = r.status().as_u16();
    let content_type = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    Reply {
        status,
        content_type,
        text: r.text().await.unwrap(),
    }
}

pub(crate) async fn create_job(h: &Harness, body: &str) -> String {
    let r = call(h, Method::POST, "/jobs/ingest", "application/json", body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["id"].as_str().unwrap().to_string()
}

/// Creates a job, uploads `csv`, closes it and polls until a terminal state; the job's info.
pub(crate) async fn run_job(h: &Harness, body: &str, csv: &str) -> (String, Value) {
    let id = create_job(h, body).await;
    let put = call(
        h,
        Method::PUT,
        &format!("/jobs/ingest/{id}/batches"),
        "text/csv",
        csv,
    )
    .await;
    assert_eq!(put.status, 201, "{}", put.text);
    let close = call(
        h,
        Method::PATCH,
        &format!("/jobs/ingest/{id}"),
        "application/json",
        r#"{"state":"UploadComplete"}"#,
    )
    .await;
    assert_eq!(close.status, 200, "{}", close.text);
    let info = wait_terminal(h, &id).await;
    (id, info)
}

pub(crate) async fn wait_terminal(h: &Harness, id: &str) -> Value {
    for _ in 0..100 {
        let info = call(h, Method::GET, &format!("/jobs/ingest/{id}"), "", "")
            .await
            .json();
        if ["JobComplete", "Failed", "Aborted"].contains(&info["state"].as_str().unwrap()) {
            return info;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    panic!("job {id} did not finish");
}

pub(crate) async fn results(h: &Harness, id: &str, kind: &str) -> String {
    let r = call(h, Method::GET, &format!("/jobs/ingest/{id}/{kind}"), "", "").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.content_type, "text/csv; charset=UTF-8");
    r.text
}

/// The id column of a successful-results row (`"001…","true",…`).
pub(crate) fn result_ids(csv: &str) -> Vec<String> {
    csv.lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().trim_matches('"').to_string())
        .collect()
}

/// A record as the org holds it, through the admin API.
pub(crate) async fn org_record(h: &Harness, object: &str, id: &str) -> (u16, Value) {
    h.admin(Method::GET, &format!("/records/{object}/{id}"), None)
        .await
}

/// Live records of an object through the admin API.
pub(crate) async fn org_count(h: &Harness, object: &str) -> u64 {
    let (status, body) = h
        .admin(Method::GET, &format!("/records/{object}?limit=1"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    body["totalSize"].as_u64().unwrap()
}
