//! OAuth 2.0 at `{login_url}/services/oauth2/token` and the access-token cache.
//!
//! The exchange is a plain form POST through [`Http`] rather than the `oauth2` crate: Salesforce's
//! JWT bearer grant is outside that crate's flows, its reply carries `instance_url` (every later
//! URL is built on it) and no `expires_in`, and its errors must reach [`Error::Token`] untouched so
//! they can be explained. The cache lets one task refresh at a time; a task that waited for the
//! lock re-checks whether another already replaced the token it saw fail.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use url::Url;

use super::error::Error;
use super::http::{check_base_url, Http, Idempotency, Payload, ReadAll, Request};
use crate::config::Credentials;
use crate::secret::Secret;

/// Lifetime of a JWT bearer assertion; Salesforce accepts at most about three minutes.
const ASSERTION_LIFETIME_SECS: u64 = 180;

const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Source of "now" for JWT `exp`; injectable for tests.
pub(crate) trait Clock: Send + Sync {
    fn now_unix_secs(&self) -> u64;
}

/// The machine's clock.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct SystemClock;

impl Clock for SystemClock {
    fn now_unix_secs(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
}

/// A token from the token endpoint.
#[derive(Clone, Debug)]
pub(crate) struct AccessToken {
    pub access_token: Secret,
    /// Base of every API URL (`https://<domain>.my.salesforce.com`).
    pub instance_url: Url,
    /// Identity URL (`https://login.salesforce.com/id/<orgId>/<userId>`).
    pub identity_url: Option<String>,
    /// When Salesforce issued the token, epoch milliseconds.
    pub issued_at_ms: Option<u64>,
}

/// Salesforce's token reply: no `expires_in`; `issued_at` is a string of epoch milliseconds.
#[derive(Deserialize)]
struct TokenReply {
    access_token: Secret,
    instance_url: String,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    issued_at: Option<String>,
    #[serde(default)]
    refresh_token: Option<Secret>,
}

#[derive(Serialize)]
struct JwtClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: u64,
}

fn grant_name(credentials: &Credentials) -> &'static str {
    match credentials {
        Credentials::RefreshToken { .. } => "refresh_token",
        Credentials::ClientCredentials { .. } => "client_credentials",
        Credentials::JwtBearer { .. } => "JWT bearer",
    }
}

/// The form body of the token request for these credentials.
fn token_form(
    credentials: &Credentials,
    login_url: &Url,
    clock: &dyn Clock,
) -> Result<String, Error> {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    match credentials {
        Credentials::RefreshToken {
            client_id,
            client_secret,
            refresh_token,
        } => {
            form.append_pair("grant_type", "refresh_token")
                .append_pair("client_id", client_id)
                .append_pair("client_secret", client_secret.expose())
                .append_pair("refresh_token", refresh_token.expose());
        }
        Credentials::ClientCredentials {
            client_id,
            client_secret,
        } => {
            form.append_pair("grant_type", "client_credentials")
                .append_pair("client_id", client_id)
                .append_pair("client_secret", client_secret.expose());
        }
        Credentials::JwtBearer {
            client_id,
            username,
            private_key,
            audience,
        } => {
            let origin = login_url.origin().ascii_serialization();
            let claims = JwtClaims {
                iss: client_id,
                sub: username,
                aud: audience.as_deref().unwrap_or(&origin),
                exp: clock.now_unix_secs() + ASSERTION_LIFETIME_SECS,
            };
            let key = jsonwebtoken::EncodingKey::from_rsa_pem(private_key.expose().as_bytes())
                .map_err(|e| Error::Jwt {
                    detail: format!("expected a PEM-encoded RSA private key ({e})"),
                })?;
            let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
            let assertion =
                jsonwebtoken::encode(&header, &claims, &key).map_err(|e| Error::Jwt {
                    detail: e.to_string(),
                })?;
            form.append_pair("grant_type", JWT_BEARER_GRANT)
                .append_pair("assertion", &assertion);
        }
    }
    Ok(form.finish())
}

/// Token endpoint `invalid_grant` refusals, told apart by a phrase of their
/// `error_description` (lower case): the phrase and what the user should do.
const INVALID_GRANT_HINTS: [(&str, &str); 6] = [
    (
        "expired access/refresh token",
        "the refresh token has expired or was revoked: re-authenticate the connection to obtain a new refresh token",
    ),
    (
        "approved",
        "the user has not approved this connected app: approve it, or pre-authorize the user's profile or permission set in the connected app's OAuth policies",
    ),
    (
        "inactive user",
        "the Salesforce user is inactive: activate it or use another user",
    ),
    (
        "ip restricted",
        "logins from this IP address are refused: relax the connected app's IP restrictions or the profile's login IP ranges",
    ),
    (
        "audience",
        "the JWT audience is not accepted: set audience to https://login.salesforce.com (production) or https://test.salesforce.com (sandbox)",
    ),
    (
        "expired authorization code",
        "the JWT assertion had expired when Salesforce checked it: check this machine's clock",
    ),
];

/// What the user should do about a token endpoint refusal.
fn hint(credentials: &Credentials, host: &str, error: &str, description: &str) -> String {
    let description = description.to_ascii_lowercase();
    let has = |needle: &str| description.contains(needle);
    match error {
        "invalid_client_id" => {
            "check client_id: Salesforce does not know this consumer key (copy it from the connected app)".into()
        }
        "invalid_client" if has("invalid client credentials") => {
            "check client_secret: it does not match the connected app's consumer secret".into()
        }
        "invalid_client" => "check client_id and client_secret against the connected app".into(),
        "invalid_grant" => {
            if let Some((_, hint)) = INVALID_GRANT_HINTS.iter().find(|(needle, _)| has(needle)) {
                return (*hint).to_owned();
            }
            if has("not supported on this domain") {
                return format!(
                    "the client credentials grant needs the org's My Domain login URL (https://<domain>.my.salesforce.com), not {host}"
                );
            }
            invalid_grant_hint(credentials).to_owned()
        }
        "unsupported_grant_type" => format!(
            "the {} grant is not enabled at {host}: enable it in the connected app or choose another auth type",
            grant_name(credentials)
        ),
        _ => String::new(),
    }
}

/// The `invalid_grant` hint when the description names no known cause: which keys to check.
fn invalid_grant_hint(credentials: &Credentials) -> &'static str {
    match credentials {
        Credentials::RefreshToken { .. } => {
            "check refresh_token and client_secret: Salesforce did not accept them for this client_id"
        }
        Credentials::ClientCredentials { .. } => {
            "check client_id and client_secret, and that the connected app enables the client credentials flow with a run-as user"
        }
        Credentials::JwtBearer { .. } => {
            "check username and that the certificate uploaded to the connected app matches private_key"
        }
    }
}

/// Performs the grant and returns the token plus a rotated refresh token, if Salesforce sent one.
async fn exchange(
    http: &Http,
    login_url: &Url,
    credentials: &Credentials,
    clock: &dyn Clock,
) -> Result<(AccessToken, Option<Secret>), Error> {
    let token_url = login_url
        .join("/services/oauth2/token")
        .map_err(|e| Error::Invalid {
            setting: "login_url".into(),
            value: login_url.to_string(),
            reason: e.to_string(),
        })?;
    let form = token_form(credentials, login_url, clock)?;
    let result = http
        .execute(
            &Request {
                method: Method::POST,
                url: &token_url,
                headers: &HeaderMap::new(),
                payload: &Payload::Form(form),
                bearer: None,
                // A grant only issues a token; sending it again issues another.
                idempotency: Idempotency::SafeToRepeat,
            },
            &ReadAll,
        )
        .await;
    let body = match result {
        Ok(body) => body,
        Err(Error::Token {
            host,
            status,
            error,
            description,
            ..
        }) => {
            let hint = hint(credentials, &host, &error, &description);
            return Err(Error::Token {
                grant: grant_name(credentials),
                host,
                status,
                error,
                description,
                hint,
            });
        }
        Err(Error::Api {
            request,
            status,
            code,
            message,
            ..
        }) => {
            // Not OAuth's error shape: still report it as a login failure.
            return Err(Error::Token {
                host: request.host,
                grant: grant_name(credentials),
                status,
                error: code,
                description: message,
                hint: String::new(),
            });
        }
        Err(other) => return Err(other),
    };
    let reply: TokenReply = serde_json::from_slice(&body).map_err(|e| Error::Decode {
        request: super::error::RequestLine::new(&Method::POST, &token_url),
        detail: format!("token reply: {e}"),
    })?;
    let instance_url = Url::parse(&reply.instance_url).map_err(|e| Error::Invalid {
        setting: "instance_url (token reply)".into(),
        value: reply.instance_url.clone(),
        reason: e.to_string(),
    })?;
    check_base_url("instance_url (token reply)", &instance_url)?;
    let token = AccessToken {
        access_token: reply.access_token,
        instance_url,
        identity_url: reply.id,
        issued_at_ms: reply.issued_at.and_then(|s| s.parse().ok()),
    };
    Ok((token, reply.refresh_token))
}

/// The current access token, refreshed at most once at a time.
pub(crate) struct TokenCache {
    login_url: Url,
    credentials: Mutex<Credentials>,
    clock: Arc<dyn Clock>,
    current: RwLock<Arc<AccessToken>>,
    refreshing: tokio::sync::Mutex<()>,
    rotated: watch::Sender<Option<Secret>>,
}

impl TokenCache {
    /// Logs in and caches the first token.
    pub(crate) async fn login(
        http: &Http,
        login_url: Url,
        credentials: Credentials,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, Error> {
        check_base_url("login_url", &login_url)?;
        let (token, rotated) = exchange(http, &login_url, &credentials, clock.as_ref()).await?;
        tracing::info!(
            "logged in to Salesforce at {} ({} grant)",
            token.instance_url,
            grant_name(&credentials)
        );
        let cache = TokenCache {
            login_url,
            credentials: Mutex::new(credentials),
            clock,
            current: RwLock::new(Arc::new(token)),
            refreshing: tokio::sync::Mutex::new(()),
            rotated: watch::channel(None).0,
        };
        cache.remember_rotation(rotated);
        Ok(cache)
    }

    pub(crate) fn current(&self) -> Arc<AccessToken> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Replaces `stale` (a token the API rejected) with a fresh one. When another task already
    /// replaced it while this one waited for the lock, returns that token without a new login.
    pub(crate) async fn refresh(
        &self,
        http: &Http,
        stale: &Arc<AccessToken>,
    ) -> Result<Arc<AccessToken>, Error> {
        let _guard = self.refreshing.lock().await;
        let current = self.current();
        if !Arc::ptr_eq(&current, stale) {
            return Ok(current);
        }
        let credentials = self
            .credentials
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        let (token, rotated) =
            exchange(http, &self.login_url, &credentials, self.clock.as_ref()).await?;
        tracing::info!("refreshed the Salesforce access token");
        let token = Arc::new(token);
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = token.clone();
        self.remember_rotation(rotated);
        Ok(token)
    }

    /// Watches the refresh token Salesforce rotated to, if it ever does.
    pub(crate) fn rotated_refresh_token(&self) -> watch::Receiver<Option<Secret>> {
        self.rotated.subscribe()
    }

    fn remember_rotation(&self, rotated: Option<Secret>) {
        let Some(new_token) = rotated else { return };
        let mut credentials = self
            .credentials
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Credentials::RefreshToken { refresh_token, .. } = &mut *credentials {
            if *refresh_token != new_token {
                tracing::info!("Salesforce rotated the refresh token");
                *refresh_token = new_token.clone();
                self.rotated.send_replace(Some(new_token));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_token_form_carries_the_grant_fields() {
        let credentials = Credentials::RefreshToken {
            client_id: "id&1".into(),
            client_secret: Secret::new("s"),
            refresh_token: Secret::new("r+t"),
        };
        let form = token_form(
            &credentials,
            &Url::parse("https://login.salesforce.com").unwrap(),
            &SystemClock,
        )
        .unwrap();
        assert_eq!(
            form,
            "grant_type=refresh_token&client_id=id%261&client_secret=s&refresh_token=r%2Bt"
        );
    }

    #[test]
    fn hints_name_the_setting_to_fix() {
        let credentials = Credentials::RefreshToken {
            client_id: "id".into(),
            client_secret: Secret::new("s"),
            refresh_token: Secret::new("r"),
        };
        let h = |e, d| hint(&credentials, "login.salesforce.com", e, d);
        assert!(h("invalid_client_id", "client identifier invalid").contains("client_id"));
        assert!(h("invalid_client", "invalid client credentials").contains("client_secret"));
        assert!(h("invalid_grant", "expired access/refresh token").contains("re-authenticate"));
        assert!(h("invalid_grant", "user hasn't approved this consumer").contains("approve"));
        assert!(
            h("unsupported_grant_type", "grant type not supported").contains("refresh_token grant")
        );
    }
}
