//! The HTTP server: the router composed of per-module routers around a shared [`AppState`],
//! and [`Emulator`], which starts it in-process on an ephemeral port.
//!
//! Adding a module: give it `pub fn router() -> Router<AppState>` with full paths and merge it
//! into [`data_routes`] (behind the session gate) or [`router`] (public).

use std::net::SocketAddr;

use axum::middleware::{from_fn, from_fn_with_state};
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::decompression::RequestDecompressionLayer;

use crate::auth::require_session;
use crate::clock::Clock;
use crate::config::{EmulatorConfig, TEST_JWT_PRIVATE_KEY_PEM};
use crate::http1::{self, spell_headers, HeaderSpelling};
use crate::middleware::{add_latency, inject_faults, limit_uri, normalize_path, record_request};
use crate::state::AppState;
use crate::{
    admin, advertise, bulk_ingest, bulk_query, oauth, rest, rest_query, rest_write, tls, write,
};

/// Every `/services/data/vNN.0/…` route, behind the session gate.
pub(crate) fn data_routes(state: AppState) -> Router<AppState> {
    Router::new()
        .merge(rest::router())
        .merge(rest_query::router())
        .merge(bulk_query::router())
        .merge(rest_write::router())
        .merge(bulk_ingest::routes::router())
        .route_layer(from_fn_with_state(state, require_session))
}

/// The whole application: public routes, data routes, admin API, and the layers around them
/// (request log, latency profile, URI limit, path normalisation, faults, compression).
pub(crate) fn router(state: AppState) -> Router {
    let routes = Router::new()
        .merge(oauth::router())
        .merge(rest::public_router())
        .merge(admin::router())
        .merge(write::admin::router())
        .merge(data_routes(state.clone()))
        .fallback(|| async { crate::error::ApiError::not_found() })
        // Fastest level: compressing result pages must not become the benchmarks' bottleneck.
        .layer(CompressionLayer::new().quality(CompressionLevel::Fastest))
        .layer(RequestDecompressionLayer::new())
        .with_state(state.clone());
    // Layers on an outer router run before the inner one routes, so the path can be rewritten.
    Router::new()
        .fallback_service(routes)
        .layer(from_fn_with_state(state.clone(), inject_faults))
        .layer(from_fn(normalize_path))
        .layer(from_fn_with_state(state.clone(), limit_uri))
        .layer(from_fn_with_state(state.clone(), add_latency))
        .layer(from_fn_with_state(state, record_request))
}

/// What a client needs to connect (the binary's ready line carries the same).
#[derive(Clone, Debug)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
    pub username: String,
    /// PEM of the private key whose public half the JWT bearer flow checks (the built-in test
    /// key unless the config names another public key).
    pub jwt_private_key_pem: String,
    pub jwt_public_key_pem: String,
}

/// A running emulator.
pub struct Emulator {
    state: AppState,
    addr: SocketAddr,
    /// With TLS: where the CA certificate was written, and its PEM.
    ca: Option<(std::path::PathBuf, String)>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Starts the emulator on 127.0.0.1 at an ephemeral port.
    pub async fn start(config: EmulatorConfig) -> std::io::Result<Emulator> {
        Emulator::start_on(config, "127.0.0.1:0").await
    }

    /// Starts the emulator on `listen` (`host:port`).
    pub async fn start_on(config: EmulatorConfig, listen: &str) -> std::io::Result<Emulator> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let tls = config.tls;
        let scheme = if tls { "https" } else { "http" };
        let base_url = advertise::base_url(config.advertise_url.as_deref(), scheme, addr)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let names = advertise::certificate_names(&base_url, &config.tls_names);
        let state = AppState::new(config);
        state.set_base_url(base_url);
        let spelling = HeaderSpelling::new().await?;
        let app = router(state.clone()).layer(from_fn_with_state(spelling, spell_headers));
        let (tx, rx) = oneshot::channel::<()>();
        let shutdown = async {
            let _ = rx.await;
        };
        let (task, ca) = if tls {
            let certificates = tls::make_certificates(&names).map_err(std::io::Error::other)?;
            let path = std::env::temp_dir().join(format!(
                "sf-emulator-ca-{}-{}.pem",
                std::process::id(),
                addr.port()
            ));
            tls::write_ca(&certificates, &path).map_err(std::io::Error::other)?;
            let listener =
                tls::TlsListener::new(listener, &certificates).map_err(std::io::Error::other)?;
            let task = tokio::spawn(http1::serve(listener, app, shutdown));
            (task, Some((path, certificates.ca_pem)))
        } else {
            let task = tokio::spawn(http1::serve(listener, app, shutdown));
            (task, None)
        };
        Ok(Emulator {
            state,
            addr,
            ca,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT` (`https://` with TLS) — the instance URL.
    pub fn base_url(&self) -> String {
        self.state.base_url().to_string()
    }

    /// With TLS: the file holding the CA certificate clients must trust.
    pub fn ca_certificate_path(&self) -> Option<&std::path::Path> {
        self.ca.as_ref().map(|(path, _)| path.as_path())
    }

    /// With TLS: the CA certificate PEM.
    pub fn ca_certificate_pem(&self) -> Option<&str> {
        self.ca.as_ref().map(|(_, pem)| pem.as_str())
    }

    /// Where clients get tokens (`{login_url}/services/oauth2/token`); the emulator itself.
    pub fn login_url(&self) -> String {
        self.base_url()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn credentials(&self) -> Credentials {
        let c = &self.state.config;
        Credentials {
            client_id: c.client_id.clone(),
            client_secret: c.client_secret.clone(),
            refresh_token: c.refresh_token.clone(),
            username: c.username.clone(),
            jwt_private_key_pem: TEST_JWT_PRIVATE_KEY_PEM.to_string(),
            jwt_public_key_pem: c.jwt_public_key_pem.clone(),
        }
    }

    /// The org's clock: set or advance it to move time for tokens, jobs and new records.
    pub fn clock(&self) -> Clock {
        self.state.clock.clone()
    }

    /// The shared state (the org, faults, the request log), for in-process tests.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// A fresh access token, as if the client had run the refresh-token flow.
    pub fn access_token(&self) -> String {
        self.state.issue_session().token
    }

    /// Stops serving and waits for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some((path, _)) = &self.ca {
            let _ = std::fs::remove_file(path);
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
