//! The client against in-process HTTP stubs: what each call sends, how replies and errors are
//! read, retries, token refresh, paging, streaming — and that no secret ever leaks.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use url::Url;

use super::backoff::testing::{HighestJitter, RecordingSleeper};
use super::stub::{Received, Reply, Stub};
use super::*;
use crate::config::{Connection, Credentials};
use crate::secret::Secret;

const CLIENT_SECRET: &str = "cs-SECRET-4b1d9e";
const REFRESH_TOKEN: &str = "rt-SECRET-77aa01";
const ACCESS_TOKEN_PREFIX: &str = "at-SECRET-";
const JWT_KEY: &str = include_str!("testdata/jwt_test_key.pem");
const JWT_PUBLIC_KEY: &str = include_str!("testdata/jwt_test_key.pub.pem");
const NOW: u64 = 1_700_000_000;

struct FixedClock;

impl Clock for FixedClock {
    fn now_unix_secs(&self) -> u64 {
        NOW
    }
}

fn options(sleeper: &Arc<RecordingSleeper>) -> ClientOptions {
    ClientOptions {
        retry: RetryConfig {
            max_retries: 3,
            backoff: BackoffConfig {
                initial: Duration::from_millis(100),
                max: Duration::from_secs(2),
                multiplier: 3.0,
            },
            rate_limit_backoff: BackoffConfig {
                initial: Duration::from_secs(10),
                max: Duration::from_secs(60),
                multiplier: 3.0,
            },
        },
        sleeper: sleeper.clone(),
        jitter: Arc::new(HighestJitter),
        clock: Arc::new(FixedClock),
        ..ClientOptions::default()
    }
}

fn refresh_credentials() -> Credentials {
    Credentials::RefreshToken {
        client_id: "consumer-key".into(),
        client_secret: Secret::new(CLIENT_SECRET),
        refresh_token: Secret::new(REFRESH_TOKEN),
    }
}

fn connection(base: &str, credentials: Credentials) -> Connection {
    Connection {
        login_url: Url::parse(base).unwrap(),
        credentials,
        api_version: "62.0".into(),
        ca_certificate: None,
    }
}

/// Salesforce's token reply; the n-th login gets access token `at-SECRET-n`.
fn token_reply(request: &Received) -> Reply {
    Reply::json(
        200,
        format!(
            r#"{{"access_token":"{ACCESS_TOKEN_PREFIX}{}","instance_url":"{}","id":"https://login.salesforce.com/id/00D000000000001AAA/005000000000001AAA","token_type":"Bearer","issued_at":"1700000000123","signature":"c2lnbmF0dXJl"}}"#,
            request.repeat,
            request.origin()
        ),
    )
}

fn is_token(request: &Received) -> bool {
    request.path == "/services/oauth2/token"
}

fn bearer(n: usize) -> String {
    format!("Bearer {ACCESS_TOKEN_PREFIX}{n}")
}

fn sf_error(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(
        status,
        format!(r#"[{{"message":"{message}","errorCode":"{code}","fields":[]}}]"#),
    )
}

/// The JSON body of the first request `stub` received at `path`.
fn first_body_at(stub: &Stub, path: &str) -> serde_json::Value {
    serde_json::from_slice(&stub.received_at(path)[0].body).unwrap()
}

/// The error `call` fails with on a client of a stub that logs in and answers everything else
/// with the same Salesforce error (status, code, message); the stub and the sleeper that records
/// the client's pauses too.
async fn failing<T: fmt::Debug>(
    (status, code, message): (u16, &'static str, &'static str),
    call: impl AsyncFnOnce(&SalesforceClient) -> Result<T, Error>,
) -> (Error, Stub, Arc<RecordingSleeper>) {
    let stub = api_stub(move |_| sf_error(status, code, message)).await;
    let (client, sleeper) = connect(&stub).await;
    (call(&client).await.unwrap_err(), stub, sleeper)
}

/// A stub that logs in and answers everything else with `api`.
async fn api_stub(api: impl Fn(&Received) -> Reply + Send + Sync + 'static) -> Stub {
    Stub::start(move |r| if is_token(r) { token_reply(r) } else { api(r) }).await
}

/// Logs in at `base` with `credentials`; retries pause on `sleeper`.
async fn login(
    base: &str,
    credentials: Credentials,
    sleeper: &Arc<RecordingSleeper>,
) -> Result<SalesforceClient, Error> {
    SalesforceClient::connect(&connection(base, credentials), options(sleeper)).await
}

/// A client logged in at `stub` with the refresh-token grant, and the sleeper that records its
/// pauses.
async fn connect(stub: &Stub) -> (SalesforceClient, Arc<RecordingSleeper>) {
    let sleeper = Arc::new(RecordingSleeper::default());
    let client = login(&stub.base, refresh_credentials(), &sleeper)
        .await
        .unwrap();
    (client, sleeper)
}

/// Refuses the first access token as expired (`bearer(0)`), answers `GET limits/` otherwise.
fn first_token_expired(request: &Received) -> Reply {
    if request.header("authorization") == Some(&bearer(0)) {
        sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid")
    } else {
        Reply::json(200, LIMITS)
    }
}

fn ingest_request(
    object: &str,
    operation: IngestOperation,
    external_id_field_name: Option<&str>,
) -> IngestJobRequest {
    IngestJobRequest {
        object: object.into(),
        operation,
        external_id_field_name: external_id_field_name.map(str::to_string),
    }
}

fn value(pairs: &[(String, String)], key: &str) -> Option<String> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

const LIMITS: &str = r#"{"DailyApiRequests":{"Max":15000,"Remaining":14998},"DailyBulkV2QueryJobs":{"Max":10000,"Remaining":10000}}"#;

// ---- auth -------------------------------------------------------------------------------

#[tokio::test]
async fn refresh_token_grant_posts_the_form_and_reads_the_reply() {
    let stub = api_stub(|_| Reply::empty(404)).await;
    let (client, _) = connect(&stub).await;

    let login = &stub.received_at("/services/oauth2/token")[0];
    assert_eq!(login.method, "POST");
    assert_eq!(
        login.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form = login.form();
    assert_eq!(value(&form, "grant_type").as_deref(), Some("refresh_token"));
    assert_eq!(value(&form, "client_id").as_deref(), Some("consumer-key"));
    assert_eq!(
        value(&form, "client_secret").as_deref(),
        Some(CLIENT_SECRET)
    );
    assert_eq!(
        value(&form, "refresh_token").as_deref(),
        Some(REFRESH_TOKEN)
    );
    assert_eq!(client.instance_url().as_str(), format!("{}/", stub.base));
    let token = client.inner.tokens.current();
    assert_eq!(token.issued_at_ms, Some(1_700_000_000_123));
    assert_eq!(token.access_token.expose(), "at-SECRET-0");
    assert_eq!(client.api_usage(), None);
}

#[tokio::test]
async fn client_credentials_grant_sends_id_and_secret_in_the_body() {
    let stub = api_stub(|_| Reply::empty(404)).await;
    let credentials = Credentials::ClientCredentials {
        client_id: "consumer-key".into(),
        client_secret: Secret::new(CLIENT_SECRET),
    };
    login(&stub.base, credentials, &Arc::default())
        .await
        .unwrap();
    let form = stub.received_at("/services/oauth2/token")[0].form();
    assert_eq!(
        form,
        vec![
            ("grant_type".to_string(), "client_credentials".to_string()),
            ("client_id".to_string(), "consumer-key".to_string()),
            ("client_secret".to_string(), CLIENT_SECRET.to_string()),
        ]
    );
}

#[tokio::test]
async fn jwt_bearer_grant_sends_an_rs256_assertion_with_the_claims() {
    #[derive(serde::Deserialize)]
    struct Claims {
        iss: String,
        sub: String,
        aud: String,
        exp: u64,
    }
    let stub = api_stub(|_| Reply::empty(404)).await;
    let credentials = Credentials::JwtBearer {
        client_id: "consumer-key".into(),
        username: "integration@example.com".into(),
        private_key: Secret::new(JWT_KEY),
        audience: None,
    };
    login(&stub.base, credentials, &Arc::default())
        .await
        .unwrap();
    let form = stub.received_at("/services/oauth2/token")[0].form();
    assert_eq!(form.len(), 2, "{form:?}");
    assert_eq!(
        value(&form, "grant_type").as_deref(),
        Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    );
    let assertion = value(&form, "assertion").unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_exp = false;
    validation.set_audience(&[stub.base.as_str()]);
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(JWT_PUBLIC_KEY.as_bytes()).unwrap();
    let claims = jsonwebtoken::decode::<Claims>(&assertion, &key, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims.iss, "consumer-key");
    assert_eq!(claims.sub, "integration@example.com");
    assert_eq!(claims.aud, stub.base);
    assert_eq!(claims.exp, NOW + 180);
}

#[tokio::test]
async fn jwt_audience_setting_overrides_the_login_origin() {
    let stub = api_stub(|_| Reply::empty(404)).await;
    let credentials = Credentials::JwtBearer {
        client_id: "consumer-key".into(),
        username: "u@example.com".into(),
        private_key: Secret::new(JWT_KEY),
        audience: Some("https://test.salesforce.com".into()),
    };
    login(&stub.base, credentials, &Arc::default())
        .await
        .unwrap();
    let assertion = value(&stub.received()[0].form(), "assertion").unwrap();
    use base64::Engine;
    let payload = assertion.split('.').nth(1).unwrap();
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(claims["aud"], "https://test.salesforce.com");
}

#[tokio::test]
async fn token_errors_say_what_to_fix_and_are_not_retried() {
    let cases = [
        (
            "invalid_client_id",
            "client identifier invalid",
            "check client_id",
        ),
        (
            "invalid_client",
            "invalid client credentials",
            "check client_secret",
        ),
        (
            "invalid_grant",
            "expired access/refresh token",
            "re-authenticate",
        ),
        (
            "invalid_grant",
            "user hasn't approved this consumer",
            "has not approved",
        ),
        (
            "invalid_grant",
            "authentication failure",
            "check refresh_token and client_secret",
        ),
        (
            "unsupported_grant_type",
            "grant type not supported",
            "refresh_token grant is not enabled",
        ),
    ];
    for (error, description, expected) in cases {
        let body = format!(r#"{{"error":"{error}","error_description":"{description}"}}"#);
        let stub = Stub::start(move |_| Reply::json(400, body.clone())).await;
        let sleeper = Arc::new(RecordingSleeper::default());
        let err = login(&stub.base, refresh_credentials(), &sleeper)
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains(expected), "{error}: {text}");
        assert!(text.contains(description), "{text}");
        assert!(text.contains("refresh_token grant"), "{text}");
        assert_eq!(err.class(), ErrorClass::Config, "{text}");
        assert_eq!(stub.received().len(), 1, "{error} must not be retried");
        assert!(sleeper.delays().is_empty());
    }
}

#[tokio::test]
async fn unreachable_login_host_is_named_in_the_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let sleeper = Arc::new(RecordingSleeper::default());
    let mut options = options(&sleeper);
    options.retry.max_retries = 1;
    let err = SalesforceClient::connect(
        &connection(&format!("http://{address}"), refresh_credentials()),
        options,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Connection { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&format!("cannot reach {address}")),
        "{err}"
    );
    assert_eq!(err.class(), ErrorClass::Transient);
    assert_eq!(sleeper.delays().len(), 1);
}

#[tokio::test]
async fn http_login_url_is_refused_for_a_non_loopback_host() {
    let err = login(
        "http://login.salesforce.com",
        refresh_credentials(),
        &Arc::default(),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().starts_with("login_url: expected https://"),
        "{err}"
    );
    assert_eq!(err.class(), ErrorClass::Config);
}

#[tokio::test]
async fn http_instance_url_from_the_token_reply_is_refused_unless_loopback() {
    let stub = Stub::start(|_| {
        Reply::json(
            200,
            r#"{"access_token":"at-SECRET-x","instance_url":"http://eu1.my.salesforce.com","token_type":"Bearer"}"#,
        )
    })
    .await;
    let err = login(&stub.base, refresh_credentials(), &Arc::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("instance_url (token reply): expected https://"),
        "{err}"
    );
}

#[tokio::test]
async fn bad_api_version_is_refused_before_any_request() {
    let sleeper = Arc::new(RecordingSleeper::default());
    let mut connection = connection("https://login.salesforce.com", refresh_credentials());
    connection.api_version = "latest".into();
    let err = SalesforceClient::connect(&connection, options(&sleeper))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("api_version: expected a Salesforce API version"),
        "{err}"
    );
}

#[tokio::test]
async fn invalid_session_refreshes_the_token_once_and_replays_the_request() {
    let stub = api_stub(first_token_expired).await;
    let (client, sleeper) = connect(&stub).await;
    let limits = client.limits().await.unwrap();
    assert_eq!(limits["DailyApiRequests"].remaining, 14998);
    let calls = stub.received_at("/limits/");
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1].header("authorization"), Some(bearer(1).as_str()));
    assert_eq!(stub.received_at("/oauth2/token").len(), 2);
    assert!(sleeper.delays().is_empty());
}

#[tokio::test]
async fn a_second_invalid_session_fails_without_another_refresh() {
    let session_expired = (401, "INVALID_SESSION_ID", "Session expired or invalid");
    let (err, stub, _) = failing(session_expired, async |client| client.limits().await).await;
    assert!(err.is_invalid_session(), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Config);
    assert_eq!(stub.received_at("/limits/").len(), 2);
    assert_eq!(stub.received_at("/oauth2/token").len(), 2);
}

#[tokio::test]
async fn concurrent_invalid_sessions_share_one_refresh() {
    let stub = api_stub(first_token_expired).await;
    let (client, _) = connect(&stub).await;
    let calls = (0..6).map(|_| {
        let client = client.clone();
        async move { client.limits().await }
    });
    for result in futures::future::join_all(calls).await {
        result.unwrap();
    }
    assert_eq!(stub.received_at("/oauth2/token").len(), 2);
}

#[tokio::test]
async fn a_rotated_refresh_token_is_observable_and_used_for_the_next_refresh() {
    let stub = Stub::start(|r| {
        if is_token(r) {
            if r.repeat == 1 {
                return Reply::json(
                    200,
                    format!(
                        r#"{{"access_token":"at-SECRET-1","instance_url":"{}","refresh_token":"rt-SECRET-rotated"}}"#,
                        r.origin()
                    ),
                );
            }
            return token_reply(r);
        }
        if r.header("authorization") == Some(&bearer(2)) {
            Reply::json(200, LIMITS)
        } else {
            sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        }
    })
    .await;
    let (client, _) = connect(&stub).await;
    let mut rotated = client.rotated_refresh_token();
    assert!(rotated.borrow().is_none());
    // token 0 refused -> refresh (rotates) -> token 1 refused -> fails.
    client.limits().await.unwrap_err();
    assert!(rotated.has_changed().unwrap());
    assert_eq!(
        rotated.borrow_and_update().as_ref().map(Secret::expose),
        Some("rt-SECRET-rotated")
    );
    // The next refresh uses the rotated token.
    client.limits().await.unwrap();
    let logins = stub.received_at("/oauth2/token");
    assert_eq!(logins.len(), 3);
    assert_eq!(
        value(&logins[2].form(), "refresh_token").as_deref(),
        Some("rt-SECRET-rotated")
    );
}

// ---- retry policy ----------------------------------------------------------------------

/// Reads `GET limits/` from a stub that answers the first `failures` tries with `failure`: the
/// tries it took and the pauses between them.
async fn limits_after(
    failures: usize,
    failure: impl Fn() -> Reply + Send + Sync + 'static,
) -> (usize, Vec<Duration>) {
    let stub = api_stub(move |r| {
        if r.repeat < failures {
            failure()
        } else {
            Reply::json(200, LIMITS)
        }
    })
    .await;
    let (client, sleeper) = connect(&stub).await;
    client.limits().await.unwrap();
    (stub.received_at("/limits/").len(), sleeper.delays())
}

#[tokio::test]
async fn server_errors_are_retried_with_growing_backoff() {
    let (tries, delays) = limits_after(2, || {
        sf_error(503, "SERVER_UNAVAILABLE", "Service Unavailable")
    })
    .await;
    assert_eq!(tries, 3);
    assert_eq!(
        delays,
        vec![Duration::from_millis(300), Duration::from_millis(900)]
    );
}

#[tokio::test]
async fn a_cut_connection_is_retried() {
    let (tries, delays) = limits_after(1, || Reply::Cut).await;
    assert_eq!(tries, 2);
    assert_eq!(delays, vec![Duration::from_millis(300)]);
}

#[tokio::test]
async fn a_reply_cut_off_mid_body_is_retried() {
    let stub = api_stub(|r| {
        if r.repeat == 0 {
            Reply::CutBody {
                sent: br#"{"DailyApiRequests":{"Max":15"#.to_vec(),
            }
        } else {
            Reply::json(200, LIMITS)
        }
    })
    .await;
    let (client, sleeper) = connect(&stub).await;
    let limits = client.limits().await.unwrap();
    assert_eq!(limits["DailyApiRequests"].max, 15000);
    assert_eq!(stub.received_at("/limits/").len(), 2);
    assert_eq!(sleeper.delays(), vec![Duration::from_millis(300)]);
}

#[tokio::test]
async fn request_limit_exceeded_waits_longer_and_honours_retry_after() {
    let stub = api_stub(|r| match r.repeat {
        0 => sf_error(
            403,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
        ),
        1 => Reply::json(429, "[]").with_header("Retry-After", "50"),
        _ => Reply::json(200, LIMITS),
    })
    .await;
    let (client, sleeper) = connect(&stub).await;
    client.limits().await.unwrap();
    assert_eq!(
        sleeper.delays(),
        vec![Duration::from_secs(30), Duration::from_secs(60)]
    );
}

#[tokio::test]
async fn retries_stop_after_max_retries() {
    let stub = api_stub(|_| Reply::json(502, "<html>bad gateway</html>")).await;
    let (client, sleeper) = connect(&stub).await;
    let err = client.limits().await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Transient);
    assert_eq!(err.status(), Some(502));
    assert!(err.to_string().contains("bad gateway"), "{err}");
    assert_eq!(stub.received_at("/limits/").len(), 4);
    assert_eq!(sleeper.delays().len(), 3);
}

#[tokio::test]
async fn invalid_field_fails_at_once() {
    let no_such_column = (
        400,
        "INVALID_FIELD",
        "No such column 'Foo' on entity 'Account'.",
    );
    let (err, stub, sleeper) = failing(no_such_column, async |client| {
        client.query("SELECT Foo FROM Account", false, None).await
    })
    .await;
    assert_eq!(err.code(), Some("INVALID_FIELD"));
    assert_eq!(err.class(), ErrorClass::Config);
    assert!(
        err.to_string()
            .starts_with("GET /services/data/v62.0/query/: HTTP 400 INVALID_FIELD"),
        "{err}"
    );
    assert_eq!(stub.received_at("/query/").len(), 1);
    assert!(sleeper.delays().is_empty());
}

#[tokio::test]
async fn limit_info_header_updates_api_usage() {
    let stub = api_stub(|r| {
        Reply::json(200, LIMITS).with_header(
            "Sforce-Limit-Info",
            &format!("api-usage={}/15000", 40 + r.repeat),
        )
    })
    .await;
    let (client, _) = connect(&stub).await;
    client.limits().await.unwrap();
    assert_eq!(client.api_usage(), Some((40, 15000)));
    client.limits().await.unwrap();
    assert_eq!(client.api_usage(), Some((41, 15000)));
    assert_eq!(client.api_usage_counters().get(), Some((41, 15000)));
}

// ---- REST ------------------------------------------------------------------------------

#[tokio::test]
async fn query_all_uses_the_query_all_resource() {
    let stub = api_stub(|_| Reply::json(200, r#"{"totalSize":0,"done":true,"records":[]}"#)).await;
    let (client, _) = connect(&stub).await;
    let page = client
        .query("SELECT Id FROM Account", true, None)
        .await
        .unwrap();
    assert!(page.records.is_empty());
    assert_eq!(stub.received()[1].path, "/services/data/v62.0/queryAll/");
    assert!(stub.received()[1].header("sforce-query-options").is_none());
}

#[tokio::test]
async fn next_records_url_must_be_an_api_path() {
    let stub = api_stub(|_| Reply::empty(404)).await;
    let (client, _) = connect(&stub).await;
    for bad in [
        "https://evil.example.com/services/data/v62.0/query/x",
        "//evil.example.com/services/data/",
    ] {
        let err = client.query_more(bad, None).await.unwrap_err();
        assert_eq!(err.class(), ErrorClass::Config, "{err}");
    }
    assert_eq!(stub.received().len(), 1);
}

#[tokio::test]
async fn get_deleted_sends_url_encoded_iso_dates_with_offset() {
    let stub = api_stub(|_| {
        Reply::json(
            200,
            r#"{"deletedRecords":[{"id":"001A","deletedDate":"2024-01-01T10:00:00.000+0000"}],"earliestDateAvailable":"2023-12-20T00:00:00.000+0000","latestDateCovered":"2024-01-02T00:00:00.000+0000"}"#,
        )
    })
    .await;
    let (client, _) = connect(&stub).await;
    let start = chrono::DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let end = chrono::DateTime::parse_from_rfc3339("2024-01-02T00:00:00Z")
        .unwrap()
        .to_utc();
    let deleted = client.get_deleted("Account", start, end).await.unwrap();
    assert_eq!(deleted.deleted_records[0].id, "001A");
    let request = &stub.received()[1];
    assert_eq!(
        request.path,
        "/services/data/v62.0/sobjects/Account/deleted/"
    );
    assert_eq!(
        request.query.as_deref(),
        Some("start=2024-01-01T00%3A00%3A00%2B00%3A00&end=2024-01-02T00%3A00%3A00%2B00%3A00")
    );
}

#[tokio::test]
async fn describe_is_typed_and_unknown_objects_are_config_errors() {
    let stub = api_stub(|r| match r.path.as_str() {
        "/services/data/v62.0/sobjects/Account/describe/" => Reply::json(
            200,
            r#"{"name":"Account","queryable":true,"fields":[{"name":"BillingCity","type":"string","soapType":"xsd:string","compoundFieldName":"BillingAddress","length":40,"filterable":true}]}"#,
        ),
        "/services/data/v62.0/sobjects/" => Reply::json(
            200,
            r#"{"encoding":"UTF-8","maxBatchSize":200,"sobjects":[{"name":"Account","keyPrefix":"001","queryable":true,"deepCloneable":false}]}"#,
        ),
        _ => sf_error(404, "NOT_FOUND", "The requested resource does not exist"),
    })
    .await;
    let (client, _) = connect(&stub).await;
    let global = client.describe_global().await.unwrap();
    assert_eq!(global.sobjects[0].key_prefix.as_deref(), Some("001"));
    assert!(global.sobjects[0].extra.contains_key("deepCloneable"));
    let account = client.describe("Account").await.unwrap();
    let city = account.field("BillingCity").unwrap();
    assert_eq!(city.compound_field_name.as_deref(), Some("BillingAddress"));
    assert_eq!(city.length, Some(40));
    assert!(account
        .raw
        .as_ref()
        .unwrap()
        .get()
        .starts_with(r#"{"name":"Account","queryable":true,"fields":[{"name":"BillingCity""#));
    let err = client.describe("Nope__c").await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Config);
    assert!(
        err.to_string().contains("/sobjects/Nope__c/describe/"),
        "{err}"
    );
}

#[test]
fn api_urls_stay_on_the_instance() {
    let instance = Url::parse("https://acme.my.salesforce.com").unwrap();
    let url = api_url(
        &instance,
        "/services/data/v62.0/query/",
        &[("q", "SELECT Id FROM Account")],
    )
    .unwrap();
    assert_eq!(
        url.as_str(),
        "https://acme.my.salesforce.com/services/data/v62.0/query/?q=SELECT+Id+FROM+Account"
    );
    for bad in [
        "//evil.example.com/services/data/",
        "https://evil.example.com/x",
        "services/data/",
    ] {
        let err = api_url(&instance, bad, &[]).unwrap_err();
        assert!(err.to_string().starts_with("request path:"), "{err}");
    }
}

// ---- Bulk query -----------------------------------------------------------------------

#[tokio::test]
async fn query_job_is_created_polled_and_its_pages_streamed_by_locator() {
    let stub = api_stub(|r| match (r.method.as_str(), r.path.as_str()) {
        ("POST", "/services/data/v62.0/jobs/query") => Reply::json(
            200,
            r#"{"id":"750R0000000zlh9IAA","operation":"queryAll","object":"Account","state":"UploadComplete","apiVersion":62.0}"#,
        ),
        ("GET", "/services/data/v62.0/jobs/query/750R0000000zlh9IAA") => {
            let state = if r.repeat < 2 { "InProgress" } else { "JobComplete" };
            Reply::json(
                200,
                format!(r#"{{"id":"750R0000000zlh9IAA","state":"{state}","numberRecordsProcessed":3}}"#),
            )
        }
        ("GET", "/services/data/v62.0/jobs/query/750R0000000zlh9IAA/results") => {
            let locator = value(&r.query_pairs(), "locator");
            let (body, next, count) = match locator.as_deref() {
                None => ("\"Id\"\n\"001A\"\n\"001B\"\n", "MTAwMDA", "2"),
                Some("MTAwMDA") => ("\"Id\"\n\"001C\"\n", "null", "1"),
                Some(_) => return Reply::empty(400),
            };
            Reply::Http {
                status: 200,
                headers: vec![
                    ("Content-Type".into(), "text/csv".into()),
                    ("Sforce-Locator".into(), next.into()),
                    ("Sforce-NumberOfRecords".into(), count.into()),
                ],
                body: body.as_bytes().to_vec(),
            }
        }
        ("DELETE", _) => Reply::empty(204),
        _ => Reply::empty(404),
    })
    .await;
    let (client, sleeper) = connect(&stub).await;

    let job = client
        .create_query_job("SELECT Id FROM Account", QueryOperation::QueryAll)
        .await
        .unwrap();
    assert_eq!(
        first_body_at(&stub, "/jobs/query"),
        serde_json::json!({"operation":"queryAll","query":"SELECT Id FROM Account","contentType":"CSV","columnDelimiter":"COMMA","lineEnding":"LF"})
    );
    let done = client.wait_for_job::<QueryJob>(&job.id).await.unwrap();
    assert_eq!(done.state, JobState::JobComplete);
    assert_eq!(done.number_records_processed, Some(3));
    assert_eq!(
        sleeper.delays(),
        vec![Duration::from_millis(100), Duration::from_millis(150)]
    );

    let mut locator: Option<String> = None;
    let mut csv = Vec::new();
    let mut counts = Vec::new();
    loop {
        let page = client
            .query_job_results(&job.id, locator.as_deref(), Some(2))
            .await
            .unwrap();
        counts.push(page.number_of_records);
        let mut body = page.body;
        while let Some(chunk) = body.next().await {
            csv.extend_from_slice(&chunk.unwrap());
        }
        match page.next_locator {
            Some(next) => locator = Some(next),
            None => break,
        }
    }
    assert_eq!(counts, vec![Some(2), Some(1)]);
    assert_eq!(csv, b"\"Id\"\n\"001A\"\n\"001B\"\n\"Id\"\n\"001C\"\n");
    let results = stub.received_at("/results");
    assert_eq!(
        value(&results[0].query_pairs(), "maxRecords").as_deref(),
        Some("2")
    );
    assert_eq!(results[0].header("accept"), Some("text/csv"));
    assert!(results[0]
        .header("accept-encoding")
        .unwrap_or("")
        .contains("gzip"));
    client.delete_job::<QueryJob>(&job.id).await.unwrap();
}

#[tokio::test]
async fn a_failed_query_job_returns_its_error_message() {
    let stub = api_stub(|_| {
        Reply::json(
            200,
            r#"{"id":"750A","state":"Failed","errorMessage":"FeatureNotEnabled : Cannot serialize value for 'Owner' in CSV format"}"#,
        )
    })
    .await;
    let (client, _) = connect(&stub).await;
    let err = client.wait_for_job::<QueryJob>("750A").await.unwrap_err();
    assert!(
        matches!(&err, Error::JobFailed { message, .. } if message.contains("Cannot serialize")),
        "{err:?}"
    );
}

#[tokio::test]
async fn job_polling_gives_up_after_its_timeout() {
    let stub = api_stub(|_| Reply::json(200, r#"{"id":"750A","state":"InProgress"}"#)).await;
    let sleeper = Arc::new(RecordingSleeper::default());
    let mut options = options(&sleeper);
    options.job_polling.timeout = Some(Duration::from_millis(300));
    let client = SalesforceClient::connect(&connection(&stub.base, refresh_credentials()), options)
        .await
        .unwrap();
    let err = client.wait_for_job::<QueryJob>("750A").await.unwrap_err();
    assert!(matches!(err, Error::JobTimeout { .. }), "{err:?}");
    assert_eq!(
        sleeper.delays(),
        vec![Duration::from_millis(100), Duration::from_millis(150)]
    );
}

#[tokio::test]
async fn aborting_a_job_patches_its_state_and_waiting_reports_the_abort() {
    let stub = api_stub(|r| match r.method.as_str() {
        "PATCH" => Reply::json(200, r#"{"id":"750A","state":"Aborted"}"#),
        _ => Reply::json(200, r#"{"id":"750A","state":"Aborted"}"#),
    })
    .await;
    let (client, _) = connect(&stub).await;
    let query_job = client.abort_job::<QueryJob>("750A").await.unwrap();
    assert_eq!(query_job.state, JobState::Aborted);
    let ingest_job = client.abort_job::<IngestJob>("750A").await.unwrap();
    assert_eq!(ingest_job.state, JobState::Aborted);
    let patches: Vec<_> = stub
        .received()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .collect();
    assert_eq!(patches[0].path, "/services/data/v62.0/jobs/query/750A");
    assert_eq!(patches[1].path, "/services/data/v62.0/jobs/ingest/750A");
    for patch in &patches {
        assert_eq!(patch.body, br#"{"state":"Aborted"}"#);
        assert_eq!(patch.header("content-type"), Some("application/json"));
    }
    let err = client.wait_for_job::<IngestJob>("750A").await.unwrap_err();
    assert!(matches!(err, Error::JobAborted { .. }), "{err:?}");
    let err = client.abort_job::<QueryJob>("../limits").await.unwrap_err();
    assert!(err.to_string().starts_with("Bulk job id:"), "{err}");
}

#[tokio::test]
async fn bulk_query_refusal_is_recognisable() {
    let refusal = (
        400,
        "API_ERROR",
        "Selecting compound data not supported in Bulk Query",
    );
    let soql = "SELECT BillingAddress FROM Account";
    let (err, _, _) = failing(refusal, async |client| {
        client.create_query_job(soql, QueryOperation::Query).await
    })
    .await;
    assert!(err.is_bulk_refusal(), "{err:?}");
}

// ---- Bulk ingest ----------------------------------------------------------------------

#[tokio::test]
async fn ingest_job_uploads_a_file_streamed_and_downloads_results() {
    let stub = api_stub(|r| match (r.method.as_str(), r.path.as_str()) {
        ("POST", "/services/data/v62.0/jobs/ingest") => Reply::json(
            200,
            r#"{"id":"750I","object":"Contact","operation":"upsert","state":"Open","externalIdFieldName":"Ext__c"}"#,
        ),
        // The first upload attempt is refused (so Salesforce stored nothing): the retry must
        // send the whole file again.
        ("PUT", "/services/data/v62.0/jobs/ingest/750I/batches") if r.repeat == 0 => {
            sf_error(429, "REQUEST_LIMIT_EXCEEDED", "try later")
        }
        ("PUT", "/services/data/v62.0/jobs/ingest/750I/batches") => Reply::empty(201),
        ("PATCH", "/services/data/v62.0/jobs/ingest/750I") => {
            Reply::json(200, r#"{"id":"750I","state":"UploadComplete"}"#)
        }
        ("GET", "/services/data/v62.0/jobs/ingest/750I") => Reply::json(
            200,
            r#"{"id":"750I","state":"JobComplete","numberRecordsProcessed":2,"numberRecordsFailed":1}"#,
        ),
        ("GET", "/services/data/v62.0/jobs/ingest/750I/successfulResults/") => {
            Reply::json(200, "\"sf__Id\",\"sf__Created\",\"Ext__c\"\n\"003A\",\"true\",\"e1\"\n")
        }
        ("GET", "/services/data/v62.0/jobs/ingest/750I/failedResults/") => Reply::json(
            200,
            "\"sf__Id\",\"sf__Error\",\"Ext__c\"\n\"\",\"REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --\",\"e2\"\n",
        ),
        ("GET", "/services/data/v62.0/jobs/ingest/750I/unprocessedrecords/") => {
            Reply::json(200, "\"Ext__c\"\n")
        }
        ("DELETE", "/services/data/v62.0/jobs/ingest/750I") => Reply::empty(204),
        _ => Reply::empty(404),
    })
    .await;
    let (client, _) = connect(&stub).await;

    let job = client
        .create_ingest_job(&ingest_request(
            "Contact",
            IngestOperation::Upsert,
            Some("Ext__c"),
        ))
        .await
        .unwrap();
    assert_eq!(
        first_body_at(&stub, "/jobs/ingest"),
        serde_json::json!({"object":"Contact","operation":"upsert","externalIdFieldName":"Ext__c","contentType":"CSV","columnDelimiter":"COMMA","lineEnding":"LF"})
    );

    // A file larger than one upload chunk, so it goes out in several pieces.
    let mut file = tempfile::NamedTempFile::new().unwrap();
    let mut expected = b"Ext__c,LastName\n".to_vec();
    for i in 0..40_000 {
        expected.extend_from_slice(format!("e{i},\"Name, {i}\"\n").as_bytes());
    }
    file.write_all(&expected).unwrap();
    client
        .upload_ingest_file(&job.id, file.path())
        .await
        .unwrap();
    let uploads = stub.received_at("/batches");
    assert_eq!(uploads.len(), 2);
    for upload in &uploads {
        assert_eq!(upload.header("content-type"), Some("text/csv"));
        assert_eq!(upload.body, expected);
    }

    let closed = client.close_ingest_job(&job.id).await.unwrap();
    assert_eq!(closed.state, JobState::UploadComplete);
    let patch = stub
        .received()
        .into_iter()
        .find(|r| r.method == "PATCH")
        .unwrap();
    assert_eq!(patch.body, br#"{"state":"UploadComplete"}"#);
    let done = client.wait_for_job::<IngestJob>(&job.id).await.unwrap();
    assert_eq!(done.number_records_failed, Some(1));

    let read = |kind| {
        let client = client.clone();
        async move {
            let stream = client.ingest_results("750I", kind).await.unwrap();
            let chunks: Vec<Bytes> = stream.try_collect().await.unwrap();
            String::from_utf8(chunks.concat()).unwrap()
        }
    };
    assert!(read(IngestResultKind::Successful)
        .await
        .contains("\"003A\",\"true\""));
    assert!(read(IngestResultKind::Failed)
        .await
        .contains("REQUIRED_FIELD_MISSING"));
    assert_eq!(read(IngestResultKind::Unprocessed).await, "\"Ext__c\"\n");
}

#[tokio::test]
async fn upsert_without_external_id_field_is_refused() {
    let stub = api_stub(|_| Reply::empty(500)).await;
    let (client, _) = connect(&stub).await;
    let err = client
        .create_ingest_job(&ingest_request("Contact", IngestOperation::Upsert, None))
        .await
        .unwrap_err();
    assert!(err.to_string().starts_with("externalIdFieldName:"), "{err}");
    assert_eq!(stub.received().len(), 1);
}

#[tokio::test]
async fn missing_upload_file_is_named() {
    let stub = api_stub(|_| Reply::empty(201)).await;
    let (client, _) = connect(&stub).await;
    let err = client
        .upload_ingest_file("750I", std::path::Path::new("/nonexistent/batch.csv"))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("reading /nonexistent/batch.csv"),
        "{err}"
    );
    assert_eq!(stub.received().len(), 1);
}

// ---- secrets ---------------------------------------------------------------------------

#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_secret_appears_in_errors_debug_output_or_logs() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut seen: Vec<String> = Vec::new();
    fn note(seen: &mut Vec<String>, err: &Error) {
        seen.push(err.to_string());
        seen.push(format!("{err:?}"));
    }

    // Token refusals of every grant.
    let stub = Stub::start(|_| {
        Reply::json(
            400,
            r#"{"error":"invalid_grant","error_description":"authentication failure"}"#,
        )
    })
    .await;
    let sleeper = Arc::new(RecordingSleeper::default());
    let jwt = Credentials::JwtBearer {
        client_id: "consumer-key".into(),
        username: "u@example.com".into(),
        private_key: Secret::new(JWT_KEY),
        audience: None,
    };
    let client_credentials = Credentials::ClientCredentials {
        client_id: "consumer-key".into(),
        client_secret: Secret::new(CLIENT_SECRET),
    };
    for credentials in [refresh_credentials(), client_credentials, jwt] {
        let conn = connection(&stub.base, credentials);
        seen.push(format!("{conn:?}"));
        note(
            &mut seen,
            &SalesforceClient::connect(&conn, options(&sleeper))
                .await
                .unwrap_err(),
        );
    }
    let assertions: Vec<String> = stub
        .received()
        .iter()
        .filter_map(|r| value(&r.form(), "assertion"))
        .collect();
    assert_eq!(assertions.len(), 1);

    // An unreadable private key.
    let bad_key = Credentials::JwtBearer {
        client_id: "consumer-key".into(),
        username: "u@example.com".into(),
        private_key: Secret::new(
            "-----BEGIN PRIVATE KEY-----\nkey-SECRET-garbage\n-----END PRIVATE KEY-----\n",
        ),
        audience: None,
    };
    note(
        &mut seen,
        &SalesforceClient::connect(&connection(&stub.base, bad_key), options(&sleeper))
            .await
            .unwrap_err(),
    );

    // API failures after login: refused session twice, a retried 503, a cut connection.
    let api = api_stub(|r| match r.path.as_str() {
        "/services/data/v62.0/limits/" => {
            sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        }
        "/services/data/v62.0/sobjects/" if r.repeat == 0 => Reply::json(503, "[]"),
        _ => Reply::Cut,
    })
    .await;
    let client = login(&api.base, refresh_credentials(), &sleeper)
        .await
        .unwrap();
    seen.push(format!("{client:?}"));
    seen.push(format!("{:?}", options(&sleeper)));
    note(&mut seen, &client.limits().await.unwrap_err());
    note(&mut seen, &client.describe_global().await.unwrap_err());
    note(
        &mut seen,
        &client
            .query("SELECT Id FROM Account", false, None)
            .await
            .unwrap_err(),
    );

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("retry"), "the retries were logged: {logs}");
    seen.push(logs);
    let mut secrets = vec![
        CLIENT_SECRET.to_string(),
        REFRESH_TOKEN.to_string(),
        ACCESS_TOKEN_PREFIX.to_string(),
        "key-SECRET-garbage".to_string(),
        JWT_KEY.lines().nth(1).unwrap().to_string(),
    ];
    secrets.extend(assertions);
    for text in &seen {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "secret {secret:?} leaked in: {text}"
            );
        }
    }
}

// ---- Acting-once calls --------------------------------------------------------------------

/// Closes ingest job `id` through a client of `stub`: the state it ends in, and the methods the
/// job's path received.
async fn close_at(stub: &Stub, id: &str) -> (JobState, Vec<String>) {
    let (client, _) = connect(stub).await;
    let job = client.close_ingest_job(id).await.unwrap();
    (job.state, stub.methods_at(&format!("/jobs/ingest/{id}")))
}

#[tokio::test]
async fn a_close_answered_with_a_5xx_is_not_replayed_when_the_job_shows_it_took_effect() {
    let stub = api_stub(|r| match (r.method.as_str(), r.path.as_str()) {
        ("PATCH", "/services/data/v62.0/jobs/ingest/750C") => {
            sf_error(502, "", "bad gateway after the close went through")
        }
        ("GET", "/services/data/v62.0/jobs/ingest/750C") => {
            Reply::json(200, r#"{"id":"750C","state":"InProgress"}"#)
        }
        _ => Reply::empty(404),
    })
    .await;
    assert_eq!(
        close_at(&stub, "750C").await,
        (JobState::InProgress, vec!["PATCH".into(), "GET".into()]),
        "one close, then a read of the job's state"
    );
}

#[tokio::test]
async fn a_close_refused_with_a_429_is_replayed_and_a_lost_one_still_open_is_sent_again() {
    let stub = api_stub(|r| match (r.method.as_str(), r.path.as_str()) {
        ("PATCH", "/services/data/v62.0/jobs/ingest/750D") if r.repeat == 0 => {
            sf_error(429, "REQUEST_LIMIT_EXCEEDED", "slow down")
        }
        ("PATCH", "/services/data/v62.0/jobs/ingest/750D") if r.repeat == 1 => {
            sf_error(503, "", "lost")
        }
        ("PATCH", "/services/data/v62.0/jobs/ingest/750D") => {
            Reply::json(200, r#"{"id":"750D","state":"UploadComplete"}"#)
        }
        ("GET", "/services/data/v62.0/jobs/ingest/750D") => {
            Reply::json(200, r#"{"id":"750D","state":"Open"}"#)
        }
        _ => Reply::empty(404),
    })
    .await;
    let methods = ["PATCH", "PATCH", "GET", "PATCH"]
        .map(String::from)
        .to_vec();
    assert_eq!(
        close_at(&stub, "750D").await,
        (JobState::UploadComplete, methods),
        "the 429 is replayed at once; the 503 is resolved by reading the job (still Open)"
    );
}

#[tokio::test]
async fn a_lost_create_matching_several_unknown_jobs_aborts_them_all_and_creates_again() {
    // Both jobs: Account insert, by the logged-in user, after the login (issued_at 1700000000).
    let listed = |id: &str| {
        format!(
            r#"{{"id":"{id}","operation":"insert","object":"Account","createdById":"005000000000001AAA","createdDate":"2023-11-14T22:13:21.000+0000","state":"Open","jobType":"V2Ingest"}}"#
        )
    };
    let list = format!(
        r#"{{"done":true,"records":[{},{},{}],"nextRecordsUrl":null}}"#,
        listed("750X"),
        listed("750Y"),
        // Someone else's job is left alone.
        r#"{"id":"750Z","operation":"insert","object":"Account","createdById":"005000000000009AAA","createdDate":"2023-11-14T22:13:21.000+0000","state":"Open"}"#
    );
    let stub = api_stub(move |r| match (r.method.as_str(), r.path.as_str()) {
        ("POST", "/services/data/v62.0/jobs/ingest") if r.repeat == 0 => {
            sf_error(504, "", "gateway timeout")
        }
        ("POST", "/services/data/v62.0/jobs/ingest") => Reply::json(
            200,
            r#"{"id":"750N","object":"Account","operation":"insert","state":"Open"}"#,
        ),
        ("GET", "/services/data/v62.0/jobs/ingest") => Reply::json(200, list.clone()),
        ("GET", p) if p.ends_with("750X") || p.ends_with("750Y") => {
            Reply::json(200, r#"{"id":"750X","state":"Open"}"#)
        }
        ("PATCH", p) if p.ends_with("750X") || p.ends_with("750Y") => {
            Reply::json(200, r#"{"id":"750X","state":"Aborted"}"#)
        }
        _ => Reply::empty(404),
    })
    .await;
    let (client, _) = connect(&stub).await;
    let job = client
        .create_ingest_job(&ingest_request("Account", IngestOperation::Insert, None))
        .await
        .unwrap();
    assert_eq!(job.id, "750N");
    let patched: Vec<String> = stub
        .received()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| r.path)
        .collect();
    assert_eq!(
        patched,
        [
            "/services/data/v62.0/jobs/ingest/750X",
            "/services/data/v62.0/jobs/ingest/750Y"
        ]
    );
    assert_eq!(
        stub.received_at("/jobs/ingest").len(),
        3,
        "POST, list, POST"
    );
}
