//! `POST /services/oauth2/token`: the refresh_token, client_credentials and JWT bearer grants,
//! with Salesforce's success body and its `{"error","error_description"}` failures (facts §1).

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use axum::{Form, Router};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;

use crate::error::json_response;
use crate::state::{lock, AppState};

pub(crate) const JWT_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/services/oauth2/token", post(token))
}

fn oauth_error(error: &str, description: &str) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({"error": error, "error_description": description}),
    )
}

async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let config = &state.config;
    let Some(grant) = form.get("grant_type") else {
        return oauth_error("invalid_request", "grant type is missing");
    };
    match grant.as_str() {
        "refresh_token" => {
            if form.get("client_id") != Some(&config.client_id) {
                return oauth_error("invalid_client_id", "client identifier invalid");
            }
            if let Some(secret) = form.get("client_secret") {
                if secret != &config.client_secret {
                    return oauth_error("invalid_client", "invalid client credentials");
                }
            }
            let mut rotations = lock(&state.refresh_rotations);
            if form.get("refresh_token") != Some(&state.refresh_token_after(*rotations)) {
                return oauth_error("invalid_grant", "expired access/refresh token");
            }
            if config.rotate_refresh_token {
                *rotations += 1;
                let rotated = state.refresh_token_after(*rotations);
                drop(rotations);
                return success(&state, Some(&rotated));
            }
        }
        "client_credentials" => {
            let (id, secret) = match basic_credentials(&headers) {
                Some(pair) => pair,
                None => (
                    form.get("client_id").cloned().unwrap_or_default(),
                    form.get("client_secret").cloned().unwrap_or_default(),
                ),
            };
            if id != config.client_id {
                return oauth_error("invalid_client_id", "client identifier invalid");
            }
            if secret != config.client_secret {
                return oauth_error("invalid_client", "invalid client credentials");
            }
        }
        JWT_GRANT => {
            let Some(assertion) = form.get("assertion") else {
                return oauth_error("invalid_request", "assertion is missing");
            };
            if let Err((error, description)) = check_assertion(&state, assertion) {
                return oauth_error(error, description);
            }
        }
        _ => return oauth_error("unsupported_grant_type", "grant type not supported"),
    }
    success(&state, None)
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

#[derive(Deserialize)]
struct Claims {
    iss: Option<String>,
    sub: Option<String>,
    prn: Option<String>,
    aud: Option<serde_json::Value>,
    exp: Option<serde_json::Value>,
}

/// Checks an RS256 assertion against the configured public key and its claims against the
/// org (`exp` on the org's clock, which is why jsonwebtoken's own time checks are off).
fn check_assertion(state: &AppState, assertion: &str) -> Result<(), (&'static str, &'static str)> {
    use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
    let invalid = ("invalid_grant", "invalid assertion");
    let header = decode_header(assertion).map_err(|_| invalid)?;
    if header.alg != Algorithm::RS256 {
        return Err(("invalid_grant", "invalid assertion"));
    }
    let key = DecodingKey::from_rsa_pem(state.config.jwt_public_key_pem.as_bytes())
        .map_err(|_| ("invalid_grant", "invalid assertion"))?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = decode::<Claims>(assertion, &key, &validation)
        .map_err(|_| invalid)?
        .claims;
    if claims.iss.as_deref() != Some(state.config.client_id.as_str()) {
        return Err(("invalid_client_id", "client identifier invalid"));
    }
    // Salesforce: the legacy `prn` claim wins over `sub`.
    let subject = claims.prn.or(claims.sub);
    if subject.as_deref() != Some(state.config.username.as_str()) {
        return Err(("invalid_grant", "user hasn't approved this consumer"));
    }
    let audiences: Vec<String> = match claims.aud {
        Some(serde_json::Value::String(s)) => vec![s],
        Some(serde_json::Value::Array(items)) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    let accepted = |aud: &str| {
        let aud = aud.trim_end_matches('/');
        aud == "https://login.salesforce.com"
            || aud == "https://test.salesforce.com"
            || aud == state.base_url()
    };
    if !audiences.iter().any(|a| accepted(a)) {
        return Err(("invalid_grant", "audience is invalid"));
    }
    let exp = match claims.exp {
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        Some(serde_json::Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    match exp {
        Some(exp) if exp > state.clock.now().timestamp() => Ok(()),
        Some(_) => Err(("invalid_grant", "expired authorization code")),
        None => Err(invalid),
    }
}

/// The token response; `refresh_token` is set when rotation issued a new one.
fn success(state: &AppState, refresh_token: Option<&str>) -> Response {
    let session = state.issue_session();
    let org_id = state.org().org_id();
    let id = format!("{}/id/{org_id}/{}", state.base_url(), session.user_id);
    let issued_at = session.issued_at.timestamp_millis().to_string();
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(state.config.client_secret.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(id.as_bytes());
    mac.update(issued_at.as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let mut body = json!({
        "access_token": session.token,
        "signature": signature,
        "scope": "api refresh_token",
        "instance_url": state.base_url(),
        "id": id,
        "token_type": "Bearer",
        "issued_at": issued_at,
    });
    if let Some(token) = refresh_token {
        body["refresh_token"] = json!(token);
    }
    json_response(StatusCode::OK, &body)
}
