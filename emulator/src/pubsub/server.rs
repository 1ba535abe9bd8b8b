//! Serves the Pub/Sub API on a port of its own: HTTP/2 (gRPC), plaintext with prior knowledge,
//! or TLS (ALPN `h2`) with the emulator's certificate under `--tls`.

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::proto::pub_sub_server::PubSubServer;
use super::service::PubSubService;
use crate::state::AppState;
use crate::tls::{Certificates, TlsListener};

/// Starts serving on `listener`; the task ends after `shutdown` once open calls have ended
/// (subscriptions end when the bus is closed).
pub fn serve(
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

/// `http://127.0.0.1:PORT` (`https://` with TLS).
pub fn url(addr: SocketAddr, tls: bool) -> String {
    let scheme = if tls { "https" } else { "http" };
    format!("{scheme}://{addr}")
}
