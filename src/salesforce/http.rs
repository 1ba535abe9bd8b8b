//! The one HTTP client and the one retry policy every Salesforce call goes through.
//!
//! Transient failures (5xx, 429, `REQUEST_LIMIT_EXCEEDED`, `QUERY_TIMEOUT`, broken or refused
//! connections, timeouts) are retried with [`Backoff`]; rate-limit replies use a longer backoff
//! because Salesforce counts them against a rolling 24-hour budget. Everything else fails at
//! once. Every reply's `Sforce-Limit-Info: api-usage=N/M` header updates [`ApiUsage`].
//!
//! Every request says whether it may be replayed ([`Idempotency`]). A call that acts once (a job
//! create, an upload, a state change, a REST write) is replayed only after failures that prove
//! Salesforce did not act: a refused connection, a 429 or `REQUEST_LIMIT_EXCEEDED`, any 4xx.
//! After an ambiguous failure (a timeout, a connection that broke after the request was sent, a
//! 5xx, an answer cut mid-body) it fails with [`Error::Unanswered`] instead, and the caller asks
//! Salesforce what happened ([`super::act_once`]).

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::Method;
use tokio::io::AsyncReadExt;
use url::Url;

use super::backoff::{Backoff, BackoffConfig, Jitter, Sleeper};
use super::error::{from_error_reply, Error, ErrorClass, RequestLine};
use crate::secret::Secret;

/// When and how long to retry.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct RetryConfig {
    /// Retries after the first attempt (0 = never retry).
    pub max_retries: u32,
    /// Delays after 5xx, connection problems, timeouts, `QUERY_TIMEOUT`.
    pub backoff: BackoffConfig,
    /// Delays after 429 and 403 `REQUEST_LIMIT_EXCEEDED`.
    pub rate_limit_backoff: BackoffConfig,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_retries: 5,
            backoff: BackoffConfig::default(),
            rate_limit_backoff: BackoffConfig {
                initial: Duration::from_secs(10),
                max: Duration::from_secs(300),
                multiplier: 3.0,
            },
        }
    }
}

/// API calls used and allowed in the org's rolling 24 hours, from the last `Sforce-Limit-Info`.
#[derive(Debug, Default)]
pub(crate) struct ApiUsage {
    used: AtomicU64,
    /// 0 until a reply carried the header.
    max: AtomicU64,
}

impl ApiUsage {
    /// `(used, max)` as of the latest reply that carried the header.
    pub(crate) fn get(&self) -> Option<(u64, u64)> {
        let max = self.max.load(Ordering::Relaxed);
        (max > 0).then(|| (self.used.load(Ordering::Relaxed), max))
    }

    fn record(&self, used: u64, max: u64) {
        self.used.store(used, Ordering::Relaxed);
        self.max.store(max, Ordering::Relaxed);
    }
}

/// `api-usage=25/15000; per-app-api-usage=...` -> `(25, 15000)`.
pub(crate) fn parse_limit_info(value: &str) -> Option<(u64, u64)> {
    value.split(';').find_map(|part| {
        let usage = part.trim().strip_prefix("api-usage=")?;
        let (used, max) = usage.split_once('/')?;
        Some((used.trim().parse().ok()?, max.trim().parse().ok()?))
    })
}

/// Refuses any URL but `https://`, except `http://` on loopback hosts (the emulator).
pub(crate) fn check_base_url(setting: &str, url: &Url) -> Result<(), Error> {
    let refuse = |reason: &str| {
        Err(Error::Invalid {
            setting: setting.to_string(),
            value: url.as_str().to_string(),
            reason: reason.to_string(),
        })
    };
    match url.scheme() {
        "https" if url.host_str().is_some() => Ok(()),
        "https" => refuse("expected a URL with a host"),
        "http" if is_loopback(url) => Ok(()),
        "http" => refuse("expected https:// (http:// is only allowed for loopback hosts such as 127.0.0.1 or localhost)"),
        _ => refuse("expected an https:// URL"),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Whether a request may be sent again when the outcome of an attempt is unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Idempotency {
    /// Salesforce ends in the same state however often it is sent: a GET, a job's DELETE, a
    /// result page by locator, a login.
    SafeToRepeat,
    /// A second copy could act twice or be refused because the first acted: a job create, an
    /// upload, a job state change, a REST write.
    ActsOnce,
}

impl Idempotency {
    /// How Salesforce's REST and Bulk APIs treat a method: GET, HEAD and DELETE (of a job, of
    /// a record) are safe to repeat; POST, PUT and PATCH create, store or change something.
    /// A POST that only reads (the token grant) says so explicitly.
    pub(crate) fn of(method: &Method) -> Idempotency {
        if matches!(*method, Method::GET | Method::HEAD | Method::DELETE) {
            Idempotency::SafeToRepeat
        } else {
            Idempotency::ActsOnce
        }
    }
}

/// One request, as every attempt sends it.
pub(crate) struct Request<'a> {
    pub(crate) method: Method,
    pub(crate) url: &'a Url,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) payload: &'a Payload,
    pub(crate) bearer: Option<&'a Secret>,
    /// Whether an attempt whose outcome is unknown may be sent again.
    pub(crate) idempotency: Idempotency,
}

/// A request body that can be rebuilt for every attempt.
pub(crate) enum Payload {
    Empty,
    Json(Bytes),
    /// `application/x-www-form-urlencoded`; holds secrets, so it has no `Debug`.
    Form(String),
    /// Streamed from a file, reopened on every attempt.
    File {
        path: PathBuf,
        content_type: &'static str,
    },
}

/// Size of the chunks a file upload is streamed in.
const UPLOAD_CHUNK: usize = 256 * 1024;

impl Payload {
    async fn attach(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> Result<reqwest::RequestBuilder, Error> {
        Ok(match self {
            Payload::Empty => builder,
            Payload::Json(bytes) => builder
                .header(CONTENT_TYPE, "application/json")
                .body(bytes.clone()),
            Payload::Form(form) => builder
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(form.clone()),
            Payload::File { path, content_type } => {
                let io_error = |source| Error::Io {
                    path: path.display().to_string(),
                    source,
                };
                let file = tokio::fs::File::open(path).await.map_err(io_error)?;
                let length = file.metadata().await.map_err(io_error)?.len();
                let display = path.display().to_string();
                let stream = async_stream::stream! {
                    let mut file = file;
                    loop {
                        let mut chunk = Vec::with_capacity(UPLOAD_CHUNK);
                        match (&mut file).take(UPLOAD_CHUNK as u64).read_to_end(&mut chunk).await {
                            Ok(0) => break,
                            Ok(_) => yield Ok(Bytes::from(chunk)),
                            Err(e) => {
                                yield Err(std::io::Error::new(e.kind(), format!("reading {display}: {e}")));
                                break;
                            }
                        }
                    }
                };
                builder
                    .header(CONTENT_TYPE, *content_type)
                    .header(reqwest::header::CONTENT_LENGTH, length)
                    .body(reqwest::Body::wrap_stream(stream))
            }
        })
    }
}

/// What [`Http::execute`] does with a successful reply, inside the retry loop.
pub(crate) trait Finish {
    type Output;
    async fn finish(
        &self,
        request: &RequestLine,
        response: reqwest::Response,
    ) -> Result<Self::Output, Error>;
}

/// Hands the reply over with its body unread (for bodies the caller streams).
pub(crate) struct KeepOpen;

impl Finish for KeepOpen {
    type Output = reqwest::Response;
    async fn finish(
        &self,
        _request: &RequestLine,
        response: reqwest::Response,
    ) -> Result<Self::Output, Error> {
        Ok(response)
    }
}

/// Reads the whole (small) body, so a reply cut off mid-way is retried.
pub(crate) struct ReadAll;

impl Finish for ReadAll {
    type Output = Bytes;
    async fn finish(
        &self,
        request: &RequestLine,
        response: reqwest::Response,
    ) -> Result<Self::Output, Error> {
        response
            .bytes()
            .await
            .map_err(|e| transport_error(request, e))
    }
}

/// The shared HTTP client with its retry policy and API usage counters.
pub(crate) struct Http {
    client: reqwest::Client,
    retry: RetryConfig,
    sleeper: Arc<dyn Sleeper>,
    jitter: Arc<dyn Jitter>,
    usage: Arc<ApiUsage>,
}

/// Connection and read timeouts of the HTTP client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Timeouts {
    /// TCP + TLS connect.
    pub connect: Duration,
    /// Longest silence while waiting for reply bytes (not the whole download).
    pub read: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(30),
            read: Duration::from_secs(300),
        }
    }
}

impl Http {
    pub(crate) fn new(
        retry: RetryConfig,
        timeouts: Timeouts,
        user_agent: &str,
        sleeper: Arc<dyn Sleeper>,
        jitter: Arc<dyn Jitter>,
        extra_roots: Vec<reqwest::Certificate>,
    ) -> Result<Self, Error> {
        // Proxies: reqwest's default "system proxy" reads HTTPS_PROXY / HTTP_PROXY / ALL_PROXY
        // / NO_PROXY (and their lower-case forms) when the client is built, so nothing here
        // may call `.proxy()` or `.no_proxy()`, which would turn that off.
        let mut builder = reqwest::Client::builder();
        // `ca_certificate`: trusted in addition to the built-in webpki roots.
        for certificate in extra_roots {
            builder = builder.add_root_certificate(certificate);
        }
        let client = builder
            .use_rustls_tls()
            .gzip(true)
            .connect_timeout(timeouts.connect)
            .read_timeout(timeouts.read)
            .user_agent(user_agent)
            // A redirect would carry the bearer token to wherever it points; Salesforce's API
            // does not redirect.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Client {
                detail: e.without_url().to_string(),
            })?;
        Ok(Http {
            client,
            retry,
            sleeper,
            jitter,
            usage: Arc::new(ApiUsage::default()),
        })
    }

    pub(crate) fn usage(&self) -> &Arc<ApiUsage> {
        &self.usage
    }

    pub(crate) fn sleeper(&self) -> &Arc<dyn Sleeper> {
        &self.sleeper
    }

    pub(crate) fn retry(&self) -> RetryConfig {
        self.retry
    }

    pub(crate) fn jitter(&self) -> &Arc<dyn Jitter> {
        &self.jitter
    }

    /// Sends a request, retrying transient failures, and hands the successful (2xx) reply to
    /// `finish` (inside the retry loop, so a body cut off while `finish` reads it is retried).
    pub(crate) async fn execute<F: Finish>(
        &self,
        call: &Request<'_>,
        finish: &F,
    ) -> Result<F::Output, Error> {
        let request = RequestLine::new(&call.method, call.url);
        let mut backoff = Backoff::new(self.retry.backoff, self.jitter.clone());
        let mut rate_backoff = Backoff::new(self.retry.rate_limit_backoff, self.jitter.clone());
        let mut attempt = 0u32;
        loop {
            let (error, retry_after, delivered) = match self.attempt(&request, call).await {
                // A 2xx whose body broke off: Salesforce acted.
                Ok(response) => match finish.finish(&request, response).await {
                    Ok(output) => return Ok(output),
                    Err(error) => (error, None, Delivery::MayHaveActed),
                },
                Err(failure) => failure,
            };
            if call.idempotency == Idempotency::ActsOnce && delivered == Delivery::MayHaveActed {
                return Err(Error::Unanswered {
                    request: request.clone(),
                    cause: Box::new(error),
                });
            }
            if error.class() != ErrorClass::Transient || attempt >= self.retry.max_retries {
                return Err(error);
            }
            attempt += 1;
            let delay = if error.is_rate_limited() {
                let delay = rate_backoff.next_delay();
                retry_after
                    .map(|after| after.clamp(delay, self.retry.rate_limit_backoff.max))
                    .unwrap_or(delay)
            } else {
                let delay = backoff.next_delay();
                retry_after
                    .map(|after| after.clamp(delay, self.retry.backoff.max))
                    .unwrap_or(delay)
            };
            tracing::warn!(
                "{error}; retry {attempt}/{} in {:.1} s",
                self.retry.max_retries,
                delay.as_secs_f64()
            );
            self.sleeper.sleep(delay).await;
        }
    }

    /// One attempt; on failure also returns the reply's `Retry-After` and whether Salesforce
    /// may have acted on the request.
    async fn attempt(
        &self,
        request: &RequestLine,
        call: &Request<'_>,
    ) -> Result<reqwest::Response, (Error, Option<Duration>, Delivery)> {
        let mut builder = self
            .client
            .request(call.method.clone(), call.url.clone())
            .headers(call.headers.clone());
        if let Some(token) = call.bearer {
            let mut value =
                HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                    (
                        Error::Decode {
                            request: Box::new(request.clone()),
                            detail: "the access token contains characters not allowed in a header"
                                .into(),
                        },
                        None,
                        Delivery::NotActed,
                    )
                })?;
            value.set_sensitive(true);
            builder = builder.header(AUTHORIZATION, value);
        }
        let builder = call
            .payload
            .attach(builder)
            .await
            .map_err(|e| (e, None, Delivery::NotActed))?;
        let response = builder.send().await.map_err(|e| {
            // A connect failure never reached Salesforce; anything later (a timeout, a reset
            // while the answer was awaited) may have.
            let delivery = if e.is_connect() {
                Delivery::NotActed
            } else {
                Delivery::MayHaveActed
            };
            (transport_error(request, e), None, delivery)
        })?;
        if let Some(value) = response.headers().get("sforce-limit-info") {
            if let Some((used, max)) = value.to_str().ok().and_then(parse_limit_info) {
                self.usage.record(used, max);
            }
        }
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = read_error_body(response).await;
        let error = from_error_reply(Box::new(request.clone()), status.as_u16(), &body);
        // A 4xx is Salesforce refusing the request (it did nothing); a 5xx may come after it
        // acted (a proxy's 502/504, a failure while writing the answer).
        let delivery = if status.is_server_error() {
            Delivery::MayHaveActed
        } else {
            Delivery::NotActed
        };
        Err((error, retry_after, delivery))
    }
}

/// Whether a failed attempt may have been acted on by Salesforce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Delivery {
    /// Salesforce refused it or never received it: replaying is safe.
    NotActed,
    /// Salesforce may have acted before the answer was lost.
    MayHaveActed,
}

/// Largest error body read; Salesforce's are a few hundred bytes.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Reads an error reply's body; if it breaks off, what arrived is enough (the status is known).
async fn read_error_body(response: reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(Ok(chunk)) = stream.next().await {
        body.extend_from_slice(&chunk);
        if body.len() >= MAX_ERROR_BODY {
            break;
        }
    }
    body
}

/// A reqwest failure (no URL in it: the request line says where) as an [`Error`].
pub(crate) fn transport_error(request: &RequestLine, error: reqwest::Error) -> Error {
    let request = Box::new(request.clone());
    let source = error.without_url();
    if source.is_timeout() {
        Error::Timeout { request, source }
    } else {
        Error::Connection { request, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_info_header_is_parsed() {
        assert_eq!(parse_limit_info("api-usage=25/15000"), Some((25, 15000)));
        assert_eq!(
            parse_limit_info("per-app-api-usage=17/250(appName=x); api-usage=18/5000"),
            Some((18, 5000))
        );
        assert_eq!(parse_limit_info("api-usage=abc/15000"), None);
        assert_eq!(parse_limit_info("api-bursts=1/750"), None);
    }

    #[test]
    fn api_usage_is_unknown_until_recorded() {
        let usage = ApiUsage::default();
        assert_eq!(usage.get(), None);
        usage.record(3, 100);
        assert_eq!(usage.get(), Some((3, 100)));
    }

    #[test]
    fn http_is_refused_for_non_loopback_hosts() {
        for ok in [
            "https://login.salesforce.com",
            "http://127.0.0.1:8080",
            "http://127.1.2.3",
            "http://localhost:1234",
            "http://[::1]:99",
        ] {
            check_base_url("login_url", &Url::parse(ok).unwrap()).unwrap();
        }
        for bad in [
            "http://login.salesforce.com",
            "http://10.0.0.1",
            "ftp://localhost",
            "http://[::2]",
        ] {
            let err = check_base_url("login_url", &Url::parse(bad).unwrap()).unwrap_err();
            assert_eq!(err.class(), ErrorClass::Config);
            assert!(err.to_string().starts_with("login_url: expected"), "{err}");
        }
    }
}
