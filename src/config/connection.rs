//! What the Salesforce client needs to connect, independent of how a role's config spells it.
//!
//! The source and destination configs (Airbyte's and Estuary's JSON forms) each turn into a
//! [`Connection`]; `salesforce::auth` only ever sees this.

use url::Url;

use super::CaCertificates;
use crate::secret::Secret;

/// How the connector obtains an access token at `{login_url}/services/oauth2/token`.
#[derive(Clone, Debug, PartialEq, Eq)]
// The variants are the OAuth flows by their names (refresh token, client credentials, JWT bearer).
#[allow(clippy::enum_variant_names)]
pub enum Credentials {
    /// OAuth 2.0 refresh-token grant (Airbyte's `auth_type: "Client"` configs).
    RefreshToken {
        client_id: String,
        client_secret: Secret,
        refresh_token: Secret,
    },
    /// OAuth 2.0 client-credentials grant (needs a My Domain `login_url`).
    ClientCredentials {
        client_id: String,
        client_secret: Secret,
    },
    /// OAuth 2.0 JWT bearer grant: an RS256 assertion signed with the connected app's key.
    JwtBearer {
        client_id: String,
        /// The Salesforce username the token acts as (`sub`).
        username: String,
        /// PEM-encoded RSA private key.
        private_key: Secret,
        /// `aud` claim; defaults to the login host (`https://login.salesforce.com`, ...).
        audience: Option<String>,
    },
}

/// Everything needed to authenticate and reach the API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    /// Where the token endpoint lives: `https://login.salesforce.com`, `https://test.salesforce.com`
    /// (sandbox), a My Domain host, or a loopback emulator.
    pub login_url: Url,
    pub credentials: Credentials,
    /// REST and Bulk API version without the `v`, e.g. `62.0`.
    pub api_version: String,
    /// Extra CAs trusted for every Salesforce (and the destination's S3) connection
    /// (`ca_certificate`).
    pub ca_certificate: Option<CaCertificates>,
}
