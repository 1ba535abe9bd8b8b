//! The authentication keys both roles share, and how they become a [`Connection`].
//!
//! Airbyte's configs put `client_id`, `client_secret`, `refresh_token` (and `auth_type:
//! "Client"`) at the top level; Estuary's put them under `credentials` (and its remapping
//! leaves flat keys plus an empty `credentials: {}`). Both are accepted: a key under
//! `credentials` wins over the same key at the top level.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::parse::{from_json_and_unknown_keys, lenient_bool, non_empty};
use super::url::parse_base_url;
use super::{CaCertificates, ConfigError, Connection, Credentials};
use crate::secret::Secret;

pub(crate) const PRODUCTION_LOGIN_URL: &str = "https://login.salesforce.com";
pub(crate) const SANDBOX_LOGIN_URL: &str = "https://test.salesforce.com";
pub(crate) const DEFAULT_API_VERSION: &str = "62.0";

/// How the connector gets its access token.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub(crate) enum AuthType {
    // OAuth refresh token (Airbyte's and Estuary's only form).
    #[default]
    #[serde(rename = "Client")]
    Client,
    // OAuth client credentials of a connected app (needs a My Domain `login_url`).
    #[serde(rename = "client_credentials")]
    ClientCredentials,
    // OAuth JWT bearer: a connected app's certificate signs a token for `username`.
    #[serde(rename = "jwt_bearer")]
    JwtBearer,
}

/// The credential keys, as they appear flat or under `credentials`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
pub(crate) struct AuthKeys {
    /// `Client` (refresh token, the default), `client_credentials` or `jwt_bearer`.
    #[schemars(title = "Authentication")]
    pub auth_type: Option<AuthType>,
    /// Enter your Salesforce developer application's Client ID (consumer key).
    #[schemars(title = "Client ID")]
    pub client_id: Option<String>,
    /// Enter your Salesforce developer application's Client secret (consumer secret).
    #[schemars(title = "Client Secret")]
    pub client_secret: Option<Secret>,
    /// Enter your application's Salesforce Refresh Token, used to access your Salesforce
    /// account.
    #[schemars(title = "Refresh Token")]
    pub refresh_token: Option<Secret>,
    /// JWT bearer only: the Salesforce username the token acts as.
    #[schemars(title = "Username (JWT bearer)")]
    pub username: Option<String>,
    /// JWT bearer only: the connected app's PEM-encoded RSA private key.
    #[schemars(title = "Private Key (JWT bearer)")]
    pub private_key: Option<Secret>,
    /// JWT bearer only: the `aud` claim; defaults to the login host.
    #[schemars(title = "JWT Audience (JWT bearer)")]
    pub jwt_audience: Option<String>,
}

/// A config schema (`T`'s) with the properties of another schema read from the same object (the
/// [`ConnectionKeys`], the flat credential keys of [`AuthKeys`]) among its own, all in name order
/// as schemars writes them.
pub(crate) fn with_flat_keys(mut schema: Value, auth_keys: &Value) -> Value {
    if let (Some(properties), Some(flat)) = (
        schema.get_mut("properties").and_then(Value::as_object_mut),
        auth_keys.get("properties").and_then(Value::as_object),
    ) {
        properties.extend(flat.clone());
        properties.sort_keys();
    }
    schema
}

/// The keys that decide the [`Connection`], the same in both roles' configs: read from the
/// config's top-level object beside the role's own raw config (see [`ConnectionKeys::read_with`]),
/// and added to both specs from here (the destination's spec words three of them its own way).
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct ConnectionKeys {
    /// The same credential keys nested in one object (Estuary's form). Keys here win over
    /// the same keys at the top level.
    #[schemars(title = "Credentials (nested form)")]
    pub credentials: Option<AuthKeys>,
    /// Toggle if you're using a Salesforce Sandbox.
    #[serde(default, deserialize_with = "lenient_bool")]
    #[schemars(title = "Sandbox", with = "bool")]
    pub is_sandbox: bool,
    /// The login host for the token request: a My Domain or custom login URL. Defaults to
    /// https://login.salesforce.com, or https://test.salesforce.com for a sandbox.
    #[schemars(title = "Login URL")]
    pub login_url: Option<String>,
    /// Extra certificate authorities, as PEM text (one or more -----BEGIN
    /// CERTIFICATE----- blocks), trusted for every Salesforce connection: for a TLS-inspecting
    /// proxy or a private CA. The built-in public roots stay trusted.
    #[schemars(title = "CA Certificate")]
    pub ca_certificate: Option<String>,
    /// The Salesforce REST and Bulk API version.
    #[serde(default = "default_api_version")]
    #[schemars(title = "API Version")]
    pub api_version: Option<String>,
    /// The flat credential keys (Airbyte's `client_id`, ... at the top level), read into
    /// [`AuthKeys`] from the same object.
    #[serde(skip)]
    #[schemars(skip)]
    pub flat: AuthKeys,
}

fn default_api_version() -> Option<String> {
    Some(DEFAULT_API_VERSION.into())
}

impl ConnectionKeys {
    /// Reads a raw config `T`, the connection keys and the flat credential keys from the same
    /// JSON object (`T` leaves the other two to [`ConnectionKeys`] and [`AuthKeys`]; the spec adds
    /// their keys, see [`with_flat_keys`]). A top-level key none of them has a use for is unknown
    /// (sorted). When several refuse the object, the error is the one about the key that comes
    /// first in it, as a single pass over the object would have reported.
    pub(crate) fn read_with<T: DeserializeOwned>(
        value: &Value,
    ) -> Result<(T, ConnectionKeys, Vec<String>), ConfigError> {
        match (
            from_json_and_unknown_keys::<T>(value),
            from_json_and_unknown_keys::<ConnectionKeys>(value),
            from_json_and_unknown_keys::<AuthKeys>(value),
        ) {
            (Ok((raw, unknown)), Ok((mut keys, unknown_to_keys)), Ok((flat, unknown_to_auth))) => {
                keys.flat = flat;
                let unknown = unknown
                    .into_iter()
                    .filter(|key| unknown_to_keys.contains(key) && unknown_to_auth.contains(key))
                    .collect();
                Ok((raw, keys, unknown))
            }
            (raw, keys, flat) => {
                let position = |error: &ConfigError| {
                    let key = error.key.split(['.', '[']).next().unwrap_or_default();
                    value
                        .as_object()
                        .and_then(|map| map.keys().position(|k| k == key))
                        .unwrap_or(usize::MAX)
                };
                // Of equally placed errors, the first of raw, connection, flat.
                let first = [raw.err(), keys.err(), flat.err()]
                    .into_iter()
                    .flatten()
                    .min_by_key(position);
                Err(first.expect("a read failed"))
            }
        }
    }

    fn pick<'k, T>(&'k self, get: impl Fn(&'k AuthKeys) -> Option<&'k T>) -> Option<&'k T> {
        self.credentials
            .as_ref()
            .and_then(&get)
            .or_else(|| get(&self.flat))
    }

    fn string(&self, get: impl Fn(&AuthKeys) -> &Option<String>) -> Option<String> {
        self.credentials
            .as_ref()
            .and_then(|n| non_empty(get(n)))
            .or_else(|| non_empty(get(&self.flat)))
            .map(str::to_owned)
    }

    fn secret(&self, get: impl Fn(&AuthKeys) -> &Option<Secret>) -> Option<Secret> {
        let usable = |s: &Option<Secret>| s.clone().filter(|s| !s.expose().trim().is_empty());
        self.credentials
            .as_ref()
            .and_then(|n| usable(get(n)))
            .or_else(|| usable(get(&self.flat)))
    }

    /// Resolves and validates the connection settings.
    pub(crate) fn connection(&self) -> Result<Connection, ConfigError> {
        let auth_type = self
            .pick(|k| k.auth_type.as_ref())
            .copied()
            .unwrap_or_default();
        let where_ = "(at the top level or under \"credentials\")";
        let required_string = |key: &str, get: fn(&AuthKeys) -> &Option<String>| {
            self.string(get)
                .ok_or_else(|| ConfigError::missing(key, &format!("a non-empty string {where_}")))
        };
        let required_secret = |key: &str, get: fn(&AuthKeys) -> &Option<Secret>| {
            self.secret(get)
                .ok_or_else(|| ConfigError::missing(key, &format!("a non-empty string {where_}")))
        };
        let explicit_login_url = self
            .login_url
            .as_deref()
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .map(str::to_owned);
        let credentials = match auth_type {
            AuthType::Client => Credentials::RefreshToken {
                client_id: required_string("client_id", |k| &k.client_id)?,
                client_secret: required_secret("client_secret", |k| &k.client_secret)?,
                refresh_token: required_secret("refresh_token", |k| &k.refresh_token)?,
            },
            AuthType::ClientCredentials => {
                if explicit_login_url.is_none() {
                    return Err(ConfigError::new(
                        "login_url",
                        "required with auth_type \"client_credentials\": your My Domain URL, \
                         e.g. https://acme.my.salesforce.com",
                    ));
                }
                Credentials::ClientCredentials {
                    client_id: required_string("client_id", |k| &k.client_id)?,
                    client_secret: required_secret("client_secret", |k| &k.client_secret)?,
                }
            }
            AuthType::JwtBearer => {
                let private_key = required_secret("private_key", |k| &k.private_key)?;
                if jsonwebtoken::EncodingKey::from_rsa_pem(private_key.expose().as_bytes()).is_err()
                {
                    return Err(ConfigError::new(
                        "private_key",
                        "expected a PEM-encoded RSA private key (-----BEGIN PRIVATE KEY----- or \
                         -----BEGIN RSA PRIVATE KEY-----); the value is secret and not shown",
                    ));
                }
                Credentials::JwtBearer {
                    client_id: required_string("client_id", |k| &k.client_id)?,
                    username: required_string("username", |k| &k.username)?,
                    private_key,
                    audience: self.string(|k| &k.jwt_audience),
                }
            }
        };
        let login_url = match explicit_login_url {
            Some(url) => parse_base_url("login_url", &url)?,
            None if self.is_sandbox => parse_base_url("login_url", SANDBOX_LOGIN_URL)?,
            None => parse_base_url("login_url", PRODUCTION_LOGIN_URL)?,
        };
        Ok(Connection {
            login_url,
            credentials,
            api_version: parse_api_version(
                self.api_version.as_deref().unwrap_or(DEFAULT_API_VERSION),
            )?,
            ca_certificate: CaCertificates::parse(
                "ca_certificate",
                self.ca_certificate.as_deref(),
            )?,
        })
    }
}

/// `62.0`, also written `v62.0` or `62`.
pub(crate) fn parse_api_version(text: &str) -> Result<String, ConfigError> {
    let trimmed = text.trim();
    let bare = trimmed.strip_prefix('v').unwrap_or(trimmed);
    let (major, minor) = bare.split_once('.').unwrap_or((bare, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if digits(major) && minor == "0" {
        Ok(format!("{major}.0"))
    } else {
        Err(ConfigError::new(
            "api_version",
            format!("expected a Salesforce API version like \"62.0\", got {text:?}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A raw config with one key of its own, read beside the credential keys.
    #[derive(Debug, Deserialize)]
    struct Raw {
        start_date: Option<String>,
    }

    #[test]
    fn flat_keys_are_read_beside_the_raw_config_and_unknown_keys_are_those_neither_uses() {
        let (raw, keys, unknown) = ConnectionKeys::read_with::<Raw>(&json!({
            "client_id": "c", "start_date": "2024-01-01", "nope": 1, "api_type": 2, "is_sandbox": true
        }))
        .unwrap();
        assert_eq!(raw.start_date.as_deref(), Some("2024-01-01"));
        assert_eq!(keys.flat.client_id.as_deref(), Some("c"));
        assert!(keys.is_sandbox);
        assert_eq!(unknown, ["api_type", "nope"]);
    }

    #[test]
    fn of_two_bad_keys_the_one_written_first_is_reported_as_one_pass_did() {
        let key = |config: Value| ConnectionKeys::read_with::<Raw>(&config).unwrap_err().key;
        assert_eq!(key(json!({"client_id": 5, "start_date": 7})), "client_id");
        assert_eq!(key(json!({"start_date": 7, "client_id": 5})), "start_date");
        assert_eq!(key(json!({"client_secret": 5})), "client_secret");
    }

    #[test]
    fn api_version_accepts_common_spellings() {
        assert_eq!(parse_api_version("62.0").unwrap(), "62.0");
        assert_eq!(parse_api_version("v58.0").unwrap(), "58.0");
        assert_eq!(parse_api_version("60").unwrap(), "60.0");
        assert_eq!(
            parse_api_version("latest").unwrap_err().to_string(),
            "api_version: expected a Salesforce API version like \"62.0\", got \"latest\""
        );
    }
}
