//! The Salesforce API client shared by the source and the destination.
//!
//! [`SalesforceClient::connect`] logs in; every call then goes through one HTTP client with one
//! retry policy ([`http`]), a token cache that refreshes once and replays a call rejected with
//! 401 `INVALID_SESSION_ID` ([`auth`]), and one error type classed for TRACE messages ([`error`]).
//! The calls themselves live in [`rest`], [`bulk_query`] and [`bulk_ingest`].
//!
//! (Not compiled as a doctest: the module is crate-private.)
//! ```ignore
//! # async fn example(connection: salesforce_connector::config::Connection)
//! #     -> Result<(), salesforce_connector::salesforce::Error> {
//! use futures::StreamExt;
//! use salesforce_connector::salesforce::{ClientOptions, QueryOperation, SalesforceClient};
//!
//! let client = SalesforceClient::connect(&connection, ClientOptions::default()).await?;
//! let account = client.describe("Account").await?;
//! let job = match client.create_query_job("SELECT Id FROM Account", QueryOperation::QueryAll).await {
//!     Ok(job) => job,
//!     Err(e) if e.is_bulk_refusal() => return Ok(()), // read through REST queryAll instead
//!     Err(e) => return Err(e),
//! };
//! client.wait_for_job::<QueryJob>(&job.id).await?;
//! let mut locator = None;
//! loop {
//!     let page = client.query_job_results(&job.id, locator.as_deref(), Some(50_000)).await?;
//!     let mut csv = page.body;
//!     while let Some(chunk) = csv.next().await {
//!         let _bytes = chunk?; // feed the CSV converter
//!     }
//!     match page.next_locator {
//!         Some(next) => locator = Some(next),
//!         None => break,
//!     }
//! }
//! client.delete_job::<QueryJob>(&job.id).await?;
//! # let _ = account;
//! # Ok(())
//! # }
//! ```

mod act_once;
pub(crate) mod auth;
pub(crate) mod backoff;
pub(crate) mod bulk_ingest;
pub(crate) mod bulk_query;
pub(crate) mod datetime;
pub(crate) mod error;
mod field_type;
pub(crate) mod http;
pub(crate) mod job;
mod job_list;
mod job_registry;
pub(crate) mod pubsub;
pub(crate) mod rest;
pub(crate) mod soql;

#[cfg(test)]
mod stub;

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde::de::DeserializeOwned;
use tokio::sync::watch;
use url::Url;

pub(crate) use auth::{Clock, SystemClock};
pub(crate) use backoff::{BackoffConfig, Jitter, RandomJitter, Sleeper, TokioSleeper};
pub(crate) use bulk_ingest::{IngestJob, IngestJobRequest, IngestOperation, IngestResultKind};
pub(crate) use bulk_query::{QueryJob, QueryOperation, QueryResultPage, ResultPages};
pub(crate) use error::{Error, ErrorClass, RequestLine};
pub(crate) use field_type::FieldType;
pub(crate) use http::{ApiUsage, RetryConfig, Timeouts};
pub(crate) use job::{JobPolling, JobState};
pub(crate) use rest::{GlobalDescribe, Limit, QueryPage, SObjectDescribe, SObjectField};

use crate::config::Connection;
use crate::secret::Secret;
use auth::TokenCache;
use error::RequestLine as Line;
use http::{Finish, Http, Idempotency, KeepOpen, Payload, ReadAll, Request};

/// A reply body as it arrives, chunk by chunk (already gunzipped).
pub(crate) type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send>>;

/// Tuning of the client; `Default` suits production.
#[derive(Clone)]
pub(crate) struct ClientOptions {
    /// Retries of transient failures.
    pub retry: RetryConfig,
    /// Connect and read timeouts.
    pub timeouts: Timeouts,
    /// How Bulk jobs are polled until they finish.
    pub job_polling: JobPolling,
    /// `User-Agent` of every request.
    pub user_agent: String,
    /// How the client waits between retries and polls.
    pub sleeper: Arc<dyn Sleeper>,
    /// Where each retry delay falls inside its backoff window.
    pub jitter: Arc<dyn Jitter>,
    /// "Now", for JWT bearer assertions.
    pub clock: Arc<dyn Clock>,
}

impl ClientOptions {
    /// The defaults, with every retry pause capped at `backoff_cap_ms` milliseconds and the
    /// read timeout (longest silence while waiting for reply bytes) set to `read_timeout_ms`
    /// when given (see `cli::Environment`).
    pub(crate) fn with_overrides(
        backoff_cap_ms: Option<u64>,
        read_timeout_ms: Option<u64>,
    ) -> ClientOptions {
        let mut options = ClientOptions::default();
        if let Some(ms) = read_timeout_ms.filter(|ms| *ms > 0) {
            options.timeouts.read = std::time::Duration::from_millis(ms);
        }
        if let Some(ms) = backoff_cap_ms {
            let pause = BackoffConfig {
                initial: std::time::Duration::from_millis(ms),
                max: std::time::Duration::from_millis(ms),
                multiplier: 1.0,
            };
            options.retry.backoff = pause;
            options.retry.rate_limit_backoff = pause;
        }
        options
    }
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            retry: RetryConfig::default(),
            timeouts: Timeouts::default(),
            job_polling: JobPolling::default(),
            user_agent: concat!("salesforce-connector/", env!("CARGO_PKG_VERSION")).to_string(),
            sleeper: Arc::new(TokioSleeper),
            jitter: Arc::new(RandomJitter::from_entropy()),
            clock: Arc::new(SystemClock),
        }
    }
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("retry", &self.retry)
            .field("timeouts", &self.timeouts)
            .field("job_polling", &self.job_polling)
            .field("user_agent", &self.user_agent)
            .finish_non_exhaustive()
    }
}

/// A logged-in Salesforce API client; cheap to clone (all clones share one token and one
/// connection pool).
#[derive(Clone)]
pub(crate) struct SalesforceClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: Http,
    tokens: TokenCache,
    api_version: String,
    job_polling: JobPolling,
    /// The Bulk jobs this client created (see [`job_registry`]).
    jobs: job_registry::JobRegistry,
    /// The logged-in user's id (from the identity URL), the `createdById` of our jobs.
    user_id: Option<String>,
    /// The org's time at login (the token's `issued_at`, to the second): no job of this run
    /// was created earlier.
    logged_in_at: Option<chrono::DateTime<chrono::Utc>>,
    /// `ca_certificate` (PEM), for connections outside reqwest (the Pub/Sub API's gRPC channel).
    ca_pem: Option<String>,
}

impl fmt::Debug for SalesforceClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SalesforceClient")
            .field("instance_url", &self.instance_url().as_str())
            .field("api_version", &self.inner.api_version)
            .finish_non_exhaustive()
    }
}

impl SalesforceClient {
    /// Logs in with the connection's credentials.
    pub(crate) async fn connect(
        connection: &Connection,
        options: ClientOptions,
    ) -> Result<Self, Error> {
        let api_version = connection
            .api_version
            .trim()
            .trim_start_matches(['v', 'V'])
            .to_string();
        let valid_version = api_version.split_once('.').is_some_and(|(major, minor)| {
            !major.is_empty()
                && !minor.is_empty()
                && major.bytes().all(|b| b.is_ascii_digit())
                && minor.bytes().all(|b| b.is_ascii_digit())
        });
        if !valid_version {
            return Err(Error::Invalid {
                setting: "api_version".into(),
                value: connection.api_version.clone(),
                reason: "expected a Salesforce API version such as 62.0".into(),
            });
        }
        let http = Http::new(
            options.retry,
            options.timeouts,
            &options.user_agent,
            options.sleeper.clone(),
            options.jitter.clone(),
            connection
                .ca_certificate
                .as_ref()
                .map(|ca| ca.certificates())
                .unwrap_or_default(),
        )?;
        let tokens = TokenCache::login(
            &http,
            connection.login_url.clone(),
            connection.credentials.clone(),
            options.clock.clone(),
        )
        .await?;
        let token = tokens.current();
        let user_id = token
            .identity_url
            .as_deref()
            .and_then(|url| url.trim_end_matches('/').rsplit('/').next())
            .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()))
            .map(str::to_string);
        let logged_in_at = token
            .issued_at_ms
            .and_then(|ms| i64::try_from(ms / 1000).ok())
            .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0));
        Ok(SalesforceClient {
            inner: Arc::new(Inner {
                http,
                tokens,
                api_version,
                job_polling: options.job_polling,
                jobs: job_registry::JobRegistry::default(),
                user_id,
                logged_in_at,
                ca_pem: connection
                    .ca_certificate
                    .as_ref()
                    .map(|ca| ca.pem().to_string()),
            }),
        })
    }

    /// Base URL of the org's API, from the token reply.
    pub(crate) fn instance_url(&self) -> Url {
        self.inner.tokens.current().instance_url.clone()
    }

    /// When Salesforce issued the current access token, on the org's clock (the token reply's
    /// `issued_at`); `None` when the reply had none.
    pub(crate) fn token_issued_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        let ms = self.inner.tokens.current().issued_at_ms?;
        chrono::DateTime::from_timestamp_millis(i64::try_from(ms).ok()?)
    }

    /// The current access token and the instance URL it is for.
    pub(crate) fn current_token(&self) -> (Secret, Url) {
        let token = self.inner.tokens.current();
        (token.access_token.clone(), token.instance_url.clone())
    }

    /// The org's id, from the identity URL of the token reply (`…/id/<org id>/<user id>`).
    pub(crate) fn org_id(&self) -> Option<String> {
        let token = self.inner.tokens.current();
        let mut segments = token
            .identity_url
            .as_deref()?
            .trim_end_matches('/')
            .rsplit('/');
        segments.next()?;
        segments
            .next()
            .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()))
            .map(str::to_string)
    }

    /// Replaces the current access token with a fresh one (a token another API rejected, such
    /// as the Pub/Sub API's UNAUTHENTICATED); a token already replaced meanwhile is kept.
    pub(crate) async fn refresh_token(&self, stale: &Secret) -> Result<(), Error> {
        let current = self.inner.tokens.current();
        if current.access_token.expose() != stale.expose() {
            return Ok(());
        }
        self.inner
            .tokens
            .refresh(&self.inner.http, &current)
            .await
            .map(drop)
    }

    /// `ca_certificate`'s PEM text, when the config has one.
    pub(crate) fn ca_pem(&self) -> Option<&str> {
        self.inner.ca_pem.as_deref()
    }

    /// API version in use, without the `v` (`62.0`).
    pub(crate) fn api_version(&self) -> &str {
        &self.inner.api_version
    }

    /// `(used, max)` API calls in the org's rolling 24 hours, from the latest reply's
    /// `Sforce-Limit-Info`; `None` before any reply carried it.
    #[cfg(test)]
    pub(crate) fn api_usage(&self) -> Option<(u64, u64)> {
        self.inner.http.usage().get()
    }

    /// The shared usage counters, for callers that watch the budget continuously.
    pub(crate) fn api_usage_counters(&self) -> Arc<ApiUsage> {
        self.inner.http.usage().clone()
    }

    /// Changes to `Some(new_token)` when Salesforce rotates the refresh token, so the source
    /// can emit it in a CONNECTOR_CONFIG control message.
    pub(crate) fn rotated_refresh_token(&self) -> watch::Receiver<Option<Secret>> {
        self.inner.tokens.rotated_refresh_token()
    }

    /// `/services/data/v{version}/{rest}`.
    pub(crate) fn data_path(&self, rest: &str) -> String {
        format!("/services/data/v{}/{}", self.inner.api_version, rest)
    }

    /// A URI Salesforce handed back (`resultUrl`, `nextRecordsUrl`) as a path on the instance:
    /// a path under `/services/data/`, or an absolute URL on the instance's own origin.
    pub(crate) fn server_path(&self, uri: &str) -> Result<String, Error> {
        let invalid = |reason: &str| Error::Invalid {
            setting: "result URI from Salesforce".into(),
            value: uri.to_string(),
            reason: reason.to_string(),
        };
        let path = if uri.starts_with('/') {
            uri.to_string()
        } else {
            let url = Url::parse(uri).map_err(|e| invalid(&e.to_string()))?;
            if url.origin() != self.instance_url().origin() {
                return Err(invalid("expected a URL on the instance"));
            }
            match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_string(),
            }
        };
        if path.starts_with("/services/data/") {
            Ok(path)
        } else {
            Err(invalid("expected a path under /services/data/"))
        }
    }

    pub(crate) fn job_polling(&self) -> JobPolling {
        self.inner.job_polling
    }

    pub(crate) fn sleeper(&self) -> &Arc<dyn Sleeper> {
        self.inner.http.sleeper()
    }

    /// Sends an authenticated request to its path on the instance and hands the reply to
    /// `finish`; on 401 `INVALID_SESSION_ID` refreshes the token once and replays the request
    /// once.
    async fn send_with<F: Finish>(
        &self,
        request: &ApiRequest<'_>,
        finish: &F,
    ) -> Result<F::Output, Error> {
        let mut token = self.inner.tokens.current();
        let mut refreshed = false;
        loop {
            let url = api_url(&token.instance_url, request.path, request.query)?;
            match self
                .inner
                .http
                .execute(
                    &Request {
                        method: request.method.clone(),
                        url: &url,
                        headers: &request.headers,
                        payload: request.payload,
                        bearer: Some(&token.access_token),
                        idempotency: Idempotency::of(&request.method),
                    },
                    finish,
                )
                .await
            {
                Err(error) if error.is_invalid_session() && !refreshed => {
                    tracing::info!("{error}; refreshing the access token and retrying once");
                    token = self.inner.tokens.refresh(&self.inner.http, &token).await?;
                    refreshed = true;
                }
                result => return result,
            }
        }
    }

    /// An authenticated request whose reply body the caller streams.
    pub(crate) async fn send(&self, request: ApiRequest<'_>) -> Result<reqwest::Response, Error> {
        self.send_with(&request, &KeepOpen).await
    }

    /// An authenticated request whose (small) reply body is read whole.
    pub(crate) async fn send_bytes(&self, request: ApiRequest<'_>) -> Result<Bytes, Error> {
        self.send_with(&request, &ReadAll).await
    }

    /// An authenticated request whose JSON reply is decoded into `T`.
    pub(crate) async fn send_json<T: DeserializeOwned>(
        &self,
        request: ApiRequest<'_>,
    ) -> Result<T, Error> {
        let body = self.send_with(&request, &ReadAll).await?;
        serde_json::from_slice(&body).map_err(|e| Error::Decode {
            request: Box::new(RequestLine {
                method: request.method.as_str().to_string(),
                host: self
                    .instance_url()
                    .host_str()
                    .unwrap_or_default()
                    .to_string(),
                path: request.path.to_string(),
            }),
            detail: e.to_string(),
        })
    }

    /// [`send`](Self::send) for calls whose reply has no body worth reading (201, 204).
    pub(crate) async fn send_empty(&self, request: ApiRequest<'_>) -> Result<(), Error> {
        self.send_bytes(request).await.map(drop)
    }
}

/// One authenticated API call: a method and a path on the instance, with the query, headers
/// and body most calls leave empty.
pub(crate) struct ApiRequest<'a> {
    method: Method,
    path: &'a str,
    query: &'a [(&'a str, &'a str)],
    headers: HeaderMap,
    payload: &'a Payload,
}

impl<'a> ApiRequest<'a> {
    /// `method` on `path`, no query, no extra headers, no body.
    pub(crate) fn new(method: Method, path: &'a str) -> Self {
        ApiRequest {
            method,
            path,
            query: &[],
            headers: HeaderMap::new(),
            payload: &Payload::Empty,
        }
    }

    /// `GET path`.
    pub(crate) fn get(path: &'a str) -> Self {
        Self::new(Method::GET, path)
    }

    /// Query parameters, URL-encoded onto the path.
    pub(crate) fn query(self, query: &'a [(&'a str, &'a str)]) -> Self {
        ApiRequest { query, ..self }
    }

    pub(crate) fn headers(self, headers: HeaderMap) -> Self {
        ApiRequest { headers, ..self }
    }

    pub(crate) fn payload(self, payload: &'a Payload) -> Self {
        ApiRequest { payload, ..self }
    }
}

/// `instance_url` + `path` + `query`. Only the path of `path` is used, so a server-provided path
/// (`nextRecordsUrl`) can never point the bearer token at another host.
fn api_url(instance_url: &Url, path: &str, query: &[(&str, &str)]) -> Result<Url, Error> {
    if !path.starts_with('/') || path.starts_with("//") {
        return Err(Error::Invalid {
            setting: "request path".into(),
            value: path.to_string(),
            reason: "expected a path starting with /services/".into(),
        });
    }
    let mut url = instance_url.join(path).map_err(|e| Error::Invalid {
        setting: "request path".into(),
        value: path.to_string(),
        reason: e.to_string(),
    })?;
    if url.origin() != instance_url.origin() {
        return Err(Error::Invalid {
            setting: "request path".into(),
            value: path.to_string(),
            reason: "resolves outside instance_url".into(),
        });
    }
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    Ok(url)
}

/// A successful reply's body as a stream of chunks.
pub(crate) fn body_stream(method: &Method, response: reqwest::Response) -> ByteStream {
    let line = Line::new(method, response.url());
    Box::pin(
        response
            .bytes_stream()
            .map(move |chunk| chunk.map_err(|e| http::transport_error(&line, e))),
    )
}

#[cfg(test)]
mod tests;
