//! HTTP routes of Bulk API 2.0 ingest under `/services/data/vXX.X/jobs/ingest`.

use axum::body::Bytes;
use axum::extract::{Extension, FromRef, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::Router;
use serde_json::Value as Json;

use super::job::InterruptionKind;
use super::registry::ResultKind;
use crate::faults::JobFault;
use crate::write::{ApiError, WriteState};

fn json_response(status: StatusCode, body: &Json) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    response
}

fn error_response(error: &ApiError) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    json_response(status, &error.body())
}

fn version_number(version: &str) -> String {
    version.strip_prefix('v').unwrap_or(version).to_string()
}

/// Runs a registry call off the async runtime (processing a large job takes a while).
async fn blocking<T: Send + 'static>(
    state: WriteState,
    f: impl FnOnce(&mut dyn crate::store::OrgStore, &mut crate::write::WriteSide) -> Result<T, ApiError>
        + Send
        + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(move || state.with(f))
        .await
        .unwrap_or_else(|e| Err(ApiError::new(500, "UNKNOWN_EXCEPTION", e.to_string())))
}

async fn create(
    State(state): State<WriteState>,
    Path(version): Path<String>,
    fault: Option<Extension<JobFault>>,
    body: Bytes,
) -> Response {
    let version = version_number(&version);
    let injected = fault.map(|Extension(f)| match f {
        JobFault::Failed(message) => InterruptionKind::Fail { message },
        JobFault::Aborted => InterruptionKind::Abort,
    });
    match blocking(state, move |org, side| {
        side.jobs
            .create(org, &mut side.rules, &version, &body, injected)
    })
    .await
    {
        Ok(info) => json_response(StatusCode::OK, &info),
        Err(e) => error_response(&e),
    }
}

async fn list(State(state): State<WriteState>) -> Response {
    match blocking(state, |org, side| Ok(side.jobs.list(org, &mut side.rules))).await {
        Ok(info) => json_response(StatusCode::OK, &info),
        Err(e) => error_response(&e),
    }
}

async fn get_job(
    State(state): State<WriteState>,
    Path((_, job_id)): Path<(String, String)>,
) -> Response {
    match blocking(state, move |org, side| {
        side.jobs.get(org, &mut side.rules, &job_id)
    })
    .await
    {
        Ok(info) => json_response(StatusCode::OK, &info),
        Err(e) => error_response(&e),
    }
}

async fn set_state(
    State(state): State<WriteState>,
    Path((_, job_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let id = job_id.clone();
    match blocking(state.clone(), move |org, side| {
        side.jobs.set_state(org, &mut side.rules, &id, &body)
    })
    .await
    {
        Ok(info) => {
            if info["state"] == "UploadComplete" {
                drive(state, job_id);
            }
            json_response(StatusCode::OK, &info)
        }
        Err(e) => error_response(&e),
    }
}

/// Processes a closed job in the background, as Salesforce does, one bounded step at a time
/// (other requests interleave between steps): waits until its processing time has passed on
/// the org's clock, then runs it to a terminal state. Ends when the job is terminal or gone.
fn drive(state: WriteState, job_id: String) {
    tokio::spawn(async move {
        loop {
            let (st, id) = (state.clone(), job_id.clone());
            let progress = tokio::task::spawn_blocking(move || {
                st.with(|org, side| {
                    side.jobs.observe(org, &mut side.rules);
                    side.jobs.progress(&id, org.now())
                })
            })
            .await;
            let pause = match progress {
                Ok(Some((job_state, _))) if job_state.is_terminal() => break,
                Ok(Some((_, true))) => std::time::Duration::from_millis(1),
                Ok(Some((_, false))) => std::time::Duration::from_millis(20),
                _ => break,
            };
            tokio::time::sleep(pause).await;
        }
    });
}

async fn delete_job(
    State(state): State<WriteState>,
    Path((_, job_id)): Path<(String, String)>,
) -> Response {
    match blocking(state, move |org, side| {
        side.jobs.delete(org, &mut side.rules, &job_id)
    })
    .await
    {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error_response(&e),
    }
}

async fn upload(
    State(state): State<WriteState>,
    Path((_, job_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut side = state.side.lock().unwrap_or_else(|p| p.into_inner());
    match side
        .jobs
        .upload(&job_id, content_type.as_deref(), body.to_vec())
    {
        Ok(()) => StatusCode::CREATED.into_response(),
        Err(e) => error_response(&e),
    }
}

async fn results(state: WriteState, job_id: String, kind: ResultKind) -> Response {
    match blocking(state, move |org, side| {
        side.jobs.results(org, &mut side.rules, &job_id, kind)
    })
    .await
    {
        Ok(csv) => {
            let mut response = (StatusCode::OK, csv).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=UTF-8"),
            );
            response
        }
        Err(e) => error_response(&e),
    }
}

async fn successful(
    State(state): State<WriteState>,
    Path((_, job_id)): Path<(String, String)>,
) -> Response {
    results(state, job_id, ResultKind::Successful).await
}

async fn failed(
    State(state): State<WriteState>,
    Path((_, job_id)): Path<(String, String)>,
) -> Response {
    results(state, job_id, ResultKind::Failed).await
}

async fn unprocessed(
    State(state): State<WriteState>,
    Path((_, job_id)): Path<(String, String)>,
) -> Response {
    results(state, job_id, ResultKind::Unprocessed).await
}

/// The ingest routes for any server state holding a [`WriteState`], to be merged under the
/// server's auth layer. The body limit is lifted on these routes so that the registry's
/// documented upload limit is the one that answers.
pub(crate) fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    WriteState: FromRef<S>,
{
    let base = "/services/data/{version}/jobs/ingest";
    let mut router = Router::new();
    for slash in ["", "/"] {
        router = router
            .route(&format!("{base}{slash}"), get(list).post(create))
            .route(
                &format!("{base}/{{job_id}}{slash}"),
                get(get_job).patch(set_state).delete(delete_job),
            )
            .route(&format!("{base}/{{job_id}}/batches{slash}"), put(upload))
            .route(
                &format!("{base}/{{job_id}}/successfulResults{slash}"),
                get(successful),
            )
            .route(
                &format!("{base}/{{job_id}}/failedResults{slash}"),
                get(failed),
            )
            .route(
                &format!("{base}/{{job_id}}/unprocessedrecords{slash}"),
                get(unprocessed),
            )
            // The docs spell it `unprocessedrecords`; simple-salesforce asks for
            // `unprocessedRecords`. Both are served (whether Salesforce matches this segment
            // case-insensitively is unconfirmed).
            .route(
                &format!("{base}/{{job_id}}/unprocessedRecords{slash}"),
                get(unprocessed),
            );
    }
    router.layer(axum::extract::DefaultBodyLimit::disable())
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;
    use crate::bulk_ingest::registry::IngestConfig;
    use crate::store::OrgStore;
    use crate::write::state::OrgAccess;
    use crate::write::test_org::TestOrg;
    use crate::write::WriteRules;

    fn app() -> (Router, Arc<Mutex<TestOrg>>) {
        let org = Arc::new(Mutex::new(TestOrg::new()));
        let shared = Arc::clone(&org);
        let access: OrgAccess = Arc::new(move |f: &mut dyn FnMut(&mut dyn OrgStore)| {
            let mut guard = shared.lock().unwrap();
            f(&mut *guard);
        });
        let config = IngestConfig {
            processing_time: chrono::Duration::zero(),
            ..IngestConfig::default()
        };
        let state = WriteState::new(access, WriteRules::default(), config);
        let app = router::<WriteState>()
            .merge(crate::rest_write::router())
            .with_state(state);
        (app, org)
    }

    async fn call(
        app: &Router,
        method: &str,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> (u16, String, String) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", content_type)
            .body(Body::from(body.to_string()))
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let ct = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, ct, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn ingest_job_round_trip_over_http() {
        let (app, org) = app();
        let base = "/services/data/v62.0/jobs/ingest";
        let (status, ct, body) = call(
            &app,
            "POST",
            base,
            "application/json",
            r#"{"object":"Account","operation":"insert"}"#,
        )
        .await;
        assert_eq!(
            (status, ct.as_str()),
            (200, "application/json;charset=UTF-8")
        );
        let info: Json = serde_json::from_str(&body).unwrap();
        let id = info["id"].as_str().unwrap();
        let (status, _, body) = call(
            &app,
            "PUT",
            &format!("{base}/{id}/batches"),
            "text/csv",
            "Name\nA\n\n",
        )
        .await;
        assert_eq!((status, body.as_str()), (201, ""));
        let (status, _, body) = call(
            &app,
            "PATCH",
            &format!("{base}/{id}/"),
            "application/json",
            r#"{"state":"UploadComplete"}"#,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (_, _, body) = call(&app, "GET", &format!("{base}/{id}"), "", "").await;
        let info: Json = serde_json::from_str(&body).unwrap();
        assert_eq!(info["state"], "JobComplete");
        assert_eq!(info["numberRecordsProcessed"], 1);
        let (status, ct, csv) = call(
            &app,
            "GET",
            &format!("{base}/{id}/successfulResults/"),
            "",
            "",
        )
        .await;
        assert_eq!((status, ct.as_str()), (200, "text/csv; charset=UTF-8"));
        assert!(
            csv.starts_with("\"sf__Id\",\"sf__Created\",\"Name\"\n\"001"),
            "{csv}"
        );
        assert_eq!(org.lock().unwrap().live_count("Account"), 1);
        let (_, _, list) = call(&app, "GET", base, "", "").await;
        assert_eq!(
            serde_json::from_str::<Json>(&list).unwrap()["records"][0]["id"],
            id
        );
        let (status, _, body) = call(&app, "DELETE", &format!("{base}/{id}"), "", "").await;
        assert_eq!((status, body.as_str()), (204, ""));
        let (status, _, body) = call(&app, "GET", &format!("{base}/{id}"), "", "").await;
        assert_eq!(status, 404);
        assert_eq!(
            body,
            r#"[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]"#
        );
    }

    #[tokio::test]
    async fn rest_writes_over_http() {
        let (app, _org) = app();
        let objects = "/services/data/v62.0/sobjects";
        let (status, _, body) = call(
            &app,
            "POST",
            &format!("{objects}/Account"),
            "application/json",
            r#"{"Name":"A"}"#,
        )
        .await;
        assert_eq!(status, 201);
        let id = serde_json::from_str::<Json>(&body).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let (status, _, body) = call(
            &app,
            "PATCH",
            &format!("{objects}/Account/{id}"),
            "application/json",
            r#"{"Name":"B"}"#,
        )
        .await;
        assert_eq!((status, body.as_str()), (204, ""));
        let (status, _, _) = call(
            &app,
            "PATCH",
            &format!("{objects}/Account/External_Id__c/E1"),
            "application/json",
            r#"{"Name":"C"}"#,
        )
        .await;
        assert_eq!(status, 201);
        let (status, _, _) = call(&app, "DELETE", &format!("{objects}/Account/{id}"), "", "").await;
        assert_eq!(status, 204);
    }
}
