//! Serves the Pub/Sub API on a port of its own: HTTP/2 (gRPC), plaintext with prior knowledge,
//! or TLS (ALPN `h2`) with the emulator's certificate under `--tls`.

use std::future::Future;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::proto::pub_sub_server::PubSubServer;
use super::service::PubSubService;
use crate::state::AppState;
use crate::tls::{Certificates, TlsListener};

/// Starts serving on `listener`; the task ends after `shutdown` once open calls have ended
/// (subscriptions end when the bus is closed).
pub(crate) fn serve(
    state: AppState,
    listener: TcpListener,
    tls: Option<&Certificates>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<JoinHandle<()>> {
    let routes = tonic::service::Routes::new(PubSubServer::new(PubSubService::new(state)))
        .prepare()
        .into_axum_router();
    let task = match tls {
        Some(certificates) => {
            let listener = TlsListener::with_alpn(listener, certificates, &[b"h2"])
                .map_err(std::io::Error::other)?;
            tokio::spawn(async move {
                let serve = axum::serve(listener, routes).with_graceful_shutdown(shutdown);
                if let Err(e) = serve.await {
                    tracing::error!("sf-emulator Pub/Sub server stopped: {e}");
                }
            })
        }
        None => tokio::spawn(async move {
            let serve = axum::serve(listener, routes).with_graceful_shutdown(shutdown);
            if let Err(e) = serve.await {
                tracing::error!("sf-emulator Pub/Sub server stopped: {e}");
            }
        }),
    };
    Ok(task)
}

/// The Pub/Sub API's URL: the instance URL's scheme and host with the Pub/Sub port
/// (`http://127.0.0.1:PORT`, `https://` with TLS).
pub(crate) fn url(base_url: &str, port: u16) -> String {
    match url::Url::parse(base_url) {
        Ok(mut url) => {
            let _ = url.set_port(Some(port));
            url.as_str().trim_end_matches('/').to_string()
        }
        Err(_) => format!("http://127.0.0.1:{port}"),
    }
}
