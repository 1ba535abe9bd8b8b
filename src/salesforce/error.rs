//! Salesforce's error replies turned into one typed error, each classed for TRACE `failure_type`.
//!
//! REST and Bulk API errors (401 included) are JSON arrays `[{"message","errorCode","fields"}]`;
//! the OAuth token endpoint answers `{"error","error_description"}`. Nothing in this module ever
//! holds a secret: requests are described by method and path only (no query, no headers, no body).

use std::fmt;

use serde::Deserialize;

/// How a failure should be reported to the platform (Airbyte's `failure_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ErrorClass {
    /// The user must change something: credentials, an object or field name, a permission.
    Config,
    /// Retrying later may succeed: 5xx, 429, REQUEST_LIMIT_EXCEEDED, connection problems.
    Transient,
    /// Anything else: a reply we did not expect, a failed job, a local I/O error.
    System,
}

/// The request an error happened on, without query string, headers or body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RequestLine {
    pub method: String,
    /// Host of the URL, so a connection error can name it.
    pub host: String,
    /// Path of the URL without its query.
    pub path: String,
}

impl RequestLine {
    pub(crate) fn new(method: &reqwest::Method, url: &url::Url) -> Box<Self> {
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => String::new(),
        };
        Box::new(RequestLine {
            method: method.as_str().to_string(),
            host,
            path: url.path().to_string(),
        })
    }
}

impl fmt::Display for RequestLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// Every failure of the Salesforce client.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// A REST or Bulk API call answered with an error status.
    #[error("{request}: HTTP {status} {code}: {message}")]
    Api {
        request: Box<RequestLine>,
        status: u16,
        /// Salesforce's `errorCode` (empty when the body was not Salesforce's error array).
        code: String,
        message: String,
        /// Salesforce's `fields` list, when it names fields.
        fields: Vec<String>,
    },

    /// The OAuth token endpoint refused the grant.
    #[error("Salesforce login at {host} failed{}: HTTP {status} {error}: {description}{}", grant_part(.grant), hint_suffix(.hint))]
    Token {
        host: String,
        grant: &'static str,
        status: u16,
        /// OAuth `error`, e.g. `invalid_grant`.
        error: String,
        /// OAuth `error_description`, e.g. `expired access/refresh token`.
        description: String,
        /// What the user should do about it.
        hint: String,
    },

    /// The host could not be reached (DNS, TCP connect, TLS) or the connection broke. The
    /// message spells out the whole chain of causes; `source()` is the HTTP client's error
    /// (without its URL, so no query string is ever kept).
    #[error("{request}: cannot reach {}: {}", .request.host, cause_chain(.source))]
    Connection {
        request: Box<RequestLine>,
        #[source]
        source: reqwest::Error,
    },

    /// The request or the reply took longer than the configured timeout.
    #[error("{request}: timed out talking to {}", .request.host)]
    Timeout {
        request: Box<RequestLine>,
        #[source]
        source: reqwest::Error,
    },

    /// A call that acts once (job create, upload, state change, REST write) failed in a way
    /// that leaves unknown whether Salesforce acted on it; it was not replayed blindly.
    #[error("{request}: the answer was lost ({cause}); Salesforce may have acted on the request")]
    Unanswered {
        request: Box<RequestLine>,
        #[source]
        cause: Box<Error>,
    },

    /// A 2xx reply whose body is not what the API documents.
    #[error("{request}: unexpected reply: {detail}")]
    Decode {
        request: Box<RequestLine>,
        detail: String,
    },

    /// A setting or value the client refuses before sending anything: an `http://` URL on a
    /// non-loopback host, a malformed API version, an object name that is not an API name...
    #[error("{setting}: {reason} (got {value})")]
    Invalid {
        /// Which setting or reply field the value came from, e.g. `login_url`, `instance_url`.
        setting: String,
        value: String,
        /// What was expected.
        reason: String,
    },

    /// The HTTP client could not be built (TLS backend initialisation).
    #[error("cannot set up the HTTP client: {detail}")]
    Client { detail: String },

    /// The JWT bearer assertion could not be built (unreadable private key...).
    #[error("credentials.private_key: cannot sign the JWT bearer assertion: {detail}")]
    Jwt { detail: String },

    /// A Bulk API job ended `Failed`.
    #[error("Bulk API job {job_id} failed: {message}")]
    JobFailed { job_id: String, message: String },

    /// A Bulk API job ended `Aborted` while we waited for it.
    #[error("Bulk API job {job_id} was aborted")]
    JobAborted { job_id: String },

    /// A Bulk API job did not finish within the allowed wait.
    #[error("Bulk API job {job_id} still {state} after waiting {waited_secs} s")]
    JobTimeout {
        job_id: String,
        state: String,
        waited_secs: u64,
    },

    /// Reading a local file to upload failed.
    #[error("reading {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// An error and its causes as one line, each cause's text added once (reqwest's own message
/// often repeats its cause's).
pub(crate) fn cause_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn grant_part(grant: &str) -> String {
    if grant.is_empty() {
        String::new()
    } else {
        format!(" ({grant} grant)")
    }
}

fn hint_suffix(hint: &str) -> String {
    if hint.is_empty() {
        String::new()
    } else {
        format!(". {hint}")
    }
}

/// errorCodes that mean the user must change the configuration or the org's setup.
const CONFIG_CODES: &[&str] = &[
    "INVALID_SESSION_ID",
    "INVALID_FIELD",
    "INVALID_TYPE",
    "INVALIDENTITY",
    "INSUFFICIENT_ACCESS",
    "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
    "API_DISABLED_FOR_ORG",
    "API_CURRENTLY_DISABLED",
    "FUNCTIONALITY_NOT_ENABLED",
    // A hardDelete job without the "Bulk API Hard Delete" permission.
    "FEATURENOTENABLED",
    "NOT_FOUND",
    "INVALID_OPERATION_WITH_EXPIRED_PASSWORD",
    "TXN_SECURITY_METERING_ERROR",
    "UNSUPPORTED_API_VERSION",
];

/// errorCodes worth retrying with backoff.
const TRANSIENT_CODES: &[&str] = &[
    "REQUEST_LIMIT_EXCEEDED",
    "QUERY_TIMEOUT",
    "SERVER_UNAVAILABLE",
];

impl Error {
    /// The failure class used for the TRACE message's `failure_type` and for retries.
    pub(crate) fn class(&self) -> ErrorClass {
        match self {
            Error::Api { status, code, .. } => {
                if TRANSIENT_CODES.contains(&code.as_str()) || *status >= 500 || *status == 429 {
                    ErrorClass::Transient
                } else if CONFIG_CODES.contains(&code.as_str()) {
                    ErrorClass::Config
                } else {
                    ErrorClass::System
                }
            }
            Error::Token { status, .. } => {
                if *status >= 500 || *status == 429 {
                    ErrorClass::Transient
                } else {
                    ErrorClass::Config
                }
            }
            // A host name that does not resolve is a wrong setting (login URL, My Domain), not
            // a blip: retrying it only delays the answer `check` owes the user.
            Error::Connection { source, .. } if cause_chain(source).contains("dns error") => {
                ErrorClass::Config
            }
            Error::Connection { .. } | Error::Timeout { .. } | Error::Unanswered { .. } => {
                ErrorClass::Transient
            }
            Error::Invalid { .. } | Error::Jwt { .. } => ErrorClass::Config,
            Error::Decode { .. }
            | Error::JobFailed { .. }
            | Error::JobAborted { .. }
            | Error::JobTimeout { .. }
            | Error::Client { .. }
            | Error::Io { .. } => ErrorClass::System,
        }
    }

    /// True when Salesforce counts this against the org's request limit: retry only after a
    /// longer pause.
    pub(crate) fn is_rate_limited(&self) -> bool {
        matches!(self, Error::Api { status, code, .. } if *status == 429 || code == "REQUEST_LIMIT_EXCEEDED")
    }

    /// True when an acting-once call's outcome is unknown ([`Error::Unanswered`]).
    pub(crate) fn is_unanswered(&self) -> bool {
        matches!(self, Error::Unanswered { .. })
    }

    /// A 401 `INVALID_SESSION_ID`: the access token expired or was revoked.
    pub(crate) fn is_invalid_session(&self) -> bool {
        matches!(self, Error::Api { status: 401, code, .. } if code == "INVALID_SESSION_ID")
    }

    /// HTTP status of an API or token error.
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } | Error::Token { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Salesforce's `errorCode` of an API error.
    #[cfg(test)]
    pub(crate) fn code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// True when Salesforce refused to create a Bulk API 2.0 query job for this query or object,
    /// so the source should read it through REST instead: compound fields, objects the Bulk API
    /// does not support, non-queryable objects, the daily Bulk query limits, any 403.
    pub(crate) fn is_bulk_refusal(&self) -> bool {
        let Error::Api {
            request,
            status,
            code,
            message,
            ..
        } = self
        else {
            return false;
        };
        if request.method != "POST" || !request.path.ends_with("/jobs/query") {
            return false;
        }
        if *status == 403 {
            return true;
        }
        if *status != 400 {
            return false;
        }
        match code.as_str() {
            "INVALIDENTITY" | "LIMIT_EXCEEDED" => true,
            _ => {
                message.contains("not supported")
                    || message.contains("does not support query")
                    || message.starts_with("Max bulk v2 query")
            }
        }
    }
}

/// One element of Salesforce's REST/Bulk error array.
#[derive(Debug, Deserialize)]
struct ApiErrorItem {
    #[serde(default)]
    message: String,
    #[serde(default, rename = "errorCode")]
    error_code: String,
    #[serde(default)]
    fields: Vec<String>,
}

/// The OAuth token endpoint's error object.
#[derive(Debug, Deserialize)]
struct OAuthErrorBody {
    error: String,
    #[serde(default)]
    error_description: String,
}

/// Longest slice of a non-JSON error body kept in a message.
const MAX_TEXT_IN_ERROR: usize = 300;

/// Turns an error reply into an [`Error`]: Salesforce's array, the OAuth object, or plain text.
pub(crate) fn from_error_reply(request: Box<RequestLine>, status: u16, body: &[u8]) -> Error {
    if let Ok(items) = serde_json::from_slice::<Vec<ApiErrorItem>>(body) {
        if let Some(first) = items.into_iter().next() {
            return Error::Api {
                request,
                status,
                code: first.error_code,
                message: first.message,
                fields: first.fields,
            };
        }
    }
    if let Ok(oauth) = serde_json::from_slice::<OAuthErrorBody>(body) {
        return Error::Token {
            host: request.host,
            grant: "",
            status,
            error: oauth.error,
            description: oauth.error_description,
            hint: String::new(),
        };
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let message = if text.is_empty() {
        "empty reply".to_string()
    } else {
        let cut: String = text.chars().take(MAX_TEXT_IN_ERROR).collect();
        if cut.len() < text.len() {
            format!("{cut}…")
        } else {
            cut
        }
    };
    Error::Api {
        request,
        status,
        code: String::new(),
        message,
        fields: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(method: &str, path: &str) -> Box<RequestLine> {
        Box::new(RequestLine {
            method: method.into(),
            host: "example.my.salesforce.com".into(),
            path: path.into(),
        })
    }

    #[test]
    fn salesforce_error_array_is_parsed_with_its_code_and_fields() {
        let body = br#"[{"message":"No such column 'Foo' on entity 'Account'","errorCode":"INVALID_FIELD","fields":["Foo"]}]"#;
        let err = from_error_reply(line("GET", "/services/data/v62.0/query/"), 400, body);
        assert_eq!(err.code(), Some("INVALID_FIELD"));
        assert_eq!(err.class(), ErrorClass::Config);
        assert_eq!(
            err.to_string(),
            "GET /services/data/v62.0/query/: HTTP 400 INVALID_FIELD: No such column 'Foo' on entity 'Account'"
        );
    }

    #[test]
    fn oauth_error_object_becomes_a_token_error() {
        let body = br#"{"error":"invalid_grant","error_description":"authentication failure"}"#;
        let err = from_error_reply(line("POST", "/services/oauth2/token"), 400, body);
        assert!(matches!(&err, Error::Token { error, .. } if error == "invalid_grant"));
        assert_eq!(err.class(), ErrorClass::Config);
    }

    #[test]
    fn classes_follow_status_and_code() {
        let api = |status, code: &str| Error::Api {
            request: line("GET", "/x"),
            status,
            code: code.into(),
            message: String::new(),
            fields: vec![],
        };
        assert_eq!(api(503, "").class(), ErrorClass::Transient);
        assert_eq!(api(429, "").class(), ErrorClass::Transient);
        assert_eq!(
            api(403, "REQUEST_LIMIT_EXCEEDED").class(),
            ErrorClass::Transient
        );
        assert_eq!(api(400, "QUERY_TIMEOUT").class(), ErrorClass::Transient);
        assert_eq!(api(403, "INSUFFICIENT_ACCESS").class(), ErrorClass::Config);
        assert_eq!(api(404, "NOT_FOUND").class(), ErrorClass::Config);
        assert_eq!(api(400, "MALFORMED_QUERY").class(), ErrorClass::System);
        assert!(api(403, "REQUEST_LIMIT_EXCEEDED").is_rate_limited());
    }

    /// A resolver that knows no name, as when a login host does not exist.
    struct NoSuchHost;

    impl reqwest::dns::Resolve for NoSuchHost {
        fn resolve(&self, _: reqwest::dns::Name) -> reqwest::dns::Resolving {
            Box::pin(async { Err("failed to lookup address information".into()) })
        }
    }

    /// The error reqwest gives for a GET of `url` through `client`, as the client turns it.
    async fn transport_error(client: reqwest::Client, url: &str) -> Error {
        let request = line("POST", "/services/oauth2/token");
        let error = client.get(url).send().await.unwrap_err();
        crate::salesforce::http::transport_error(&request, error)
    }

    #[tokio::test]
    async fn an_unresolvable_host_fails_fast_but_a_refused_connection_is_retried() {
        let resolver = reqwest::Client::builder()
            .dns_resolver(std::sync::Arc::new(NoSuchHost))
            .build()
            .unwrap();
        let unresolvable = transport_error(resolver, "http://login.example.invalid/").await;
        assert_eq!(unresolvable.class(), ErrorClass::Config, "{unresolvable}");
        // Every cause spelled out once, as users have always read it.
        assert_eq!(
            unresolvable.to_string(),
            "POST /services/oauth2/token: cannot reach example.my.salesforce.com: error sending request: client error (Connect): dns error: failed to lookup address information"
        );

        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        let refused = transport_error(reqwest::Client::new(), &format!("http://{address}/")).await;
        assert_eq!(refused.class(), ErrorClass::Transient, "{refused}");

        // The HTTP client's error stays the cause, without the URL.
        let cause = std::error::Error::source(&refused).expect("a cause");
        let cause = cause
            .downcast_ref::<reqwest::Error>()
            .expect("reqwest's error");
        assert!(cause.is_connect() && cause.url().is_none(), "{cause:?}");
    }

    #[test]
    fn bulk_refusals_are_recognised_only_on_job_creation() {
        let refusal = |status, code: &str, message: &str, path: &str| Error::Api {
            request: line("POST", path),
            status,
            code: code.into(),
            message: message.into(),
            fields: vec![],
        };
        let create = "/services/data/v62.0/jobs/query";
        assert!(refusal(
            400,
            "API_ERROR",
            "Selecting compound data not supported in Bulk Query",
            create
        )
        .is_bulk_refusal());
        assert!(refusal(
            400,
            "INVALIDENTITY",
            "Entity 'X' is not supported by the Bulk API.",
            create
        )
        .is_bulk_refusal());
        assert!(refusal(
            400,
            "INVALID_TYPE",
            "Entity 'X' does not support query",
            create
        )
        .is_bulk_refusal());
        assert!(refusal(
            400,
            "LIMIT_EXCEEDED",
            "Max bulk v2 query jobs (10000) per 24 hrs has been reached",
            create
        )
        .is_bulk_refusal());
        assert!(refusal(403, "INSUFFICIENT_ACCESS", "", create).is_bulk_refusal());
        assert!(!refusal(400, "INVALID_FIELD", "No such column", create).is_bulk_refusal());
        assert!(!refusal(
            403,
            "INSUFFICIENT_ACCESS",
            "",
            "/services/data/v62.0/query/"
        )
        .is_bulk_refusal());
    }

    #[test]
    fn plain_text_error_bodies_are_truncated() {
        let body = "x".repeat(1000);
        let err = from_error_reply(line("GET", "/x"), 502, body.as_bytes());
        let Error::Api { message, code, .. } = &err else {
            panic!("{err:?}")
        };
        assert!(code.is_empty());
        assert!(message.chars().count() <= MAX_TEXT_IN_ERROR + 1);
        assert_eq!(err.class(), ErrorClass::Transient);
    }
}
