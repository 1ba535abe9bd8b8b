//! What the emulator's tests share: start an emulator, get a token, call it (`Harness`), the
//! Bulk ingest / REST write calls (`ingest`), and the Python the client tests need.

use reqwest::{Client, Response};
use serde_json::Value;
use sf_emulator::{Emulator, EmulatorConfig};

pub(crate) mod ingest;

pub(crate) const V: &str = "v62.0";

pub(crate) struct Harness {
    pub emulator: Emulator,
    pub client: Client,
    pub token: String,
}

impl Harness {
    pub(crate) async fn start(config: EmulatorConfig) -> Harness {
        let emulator = Emulator::start(config).await.expect("emulator starts");
        let client = Client::builder().no_gzip().build().unwrap();
        let c = emulator.credentials();
        let body: Value = client
            .post(format!("{}/services/oauth2/token", emulator.login_url()))
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", &c.client_id),
                ("client_secret", &c.client_secret),
                ("refresh_token", &c.refresh_token),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = body["access_token"].as_str().expect("token").to_string();
        Harness {
            emulator,
            client,
            token,
        }
    }

    pub(crate) async fn default() -> Harness {
        Harness::start(EmulatorConfig::default()).await
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.emulator.base_url(), path)
    }

    pub(crate) fn data(&self, path: &str) -> String {
        format!("{}/services/data/{V}{}", self.emulator.base_url(), path)
    }

    pub(crate) async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.data(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn get_json(&self, path: &str) -> (u16, Value) {
        let r = self.get(path).await;
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub(crate) async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .client
            .request(method, self.url(&format!("/__emulator{path}")));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

/// The Python of `SF_TEST_PYTHON` (a venv with simple-salesforce), or `None` after printing
/// SKIPPED when it is not set; when `CI` is set a missing Python fails the test instead.
pub(crate) fn require_python() -> Option<String> {
    match std::env::var("SF_TEST_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ if std::env::var_os("CI").is_some() => {
            panic!(
                "SF_TEST_PYTHON is not set and CI is: the simple-salesforce tests must run in CI"
            )
        }
        _ => {
            println!("SKIPPED: SF_TEST_PYTHON not set");
            None
        }
    }
}
