//! Serving HTTP/1.1 with Salesforce's spelling of header names (facts §14): `Sforce-Locator`,
//! `Sforce-NumberOfRecords`, `Sforce-Limit-Info`, `Content-Type`, `Content-Encoding`.
//!
//! Header names are case-insensitive by RFC, but widely used clients look them up
//! case-sensitively (Airbyte's Python source reads `headers['Sforce-Locator']` from a plain
//! dict and stops after the first Bulk result page when the name is lower case), so an emulator
//! that answers in lower case passes clients Salesforce would fail.
//!
//! `http::HeaderMap` keeps names in lower case. hyper's HTTP/1 writer can title-case them
//! (`Content-Type`, `Sforce-Locator`), which is right for every name but the one with inner
//! capitals, `Sforce-NumberOfRecords`. For exact spellings hyper forwards a response's original
//! header case from a private extension that it fills when it parses a message with
//! `preserve_header_case` (its documented use: forwarding case "in a proxy-like fashion"). So at
//! start the emulator lets hyper parse one request carrying Salesforce's spellings, keeps that
//! request's extensions, and attaches them to every response: named headers are written as
//! spelled there, any other name title-cased. HTTP/2 (not served here) would use lower case by
//! its own rule.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::Extensions;
use axum::middleware::Next;
use axum::response::Response;
use axum::serve::Listener;
use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

/// Header names as Salesforce's documentation and replies spell them.
pub(crate) const SALESFORCE_HEADER_NAMES: &[&str] = &[
    "Sforce-Locator",
    "Sforce-NumberOfRecords",
    "Sforce-Limit-Info",
    "Content-Type",
    "Content-Encoding",
    "Content-Length",
    "Transfer-Encoding",
];

/// The extensions carrying [`SALESFORCE_HEADER_NAMES`]' spelling, made by letting hyper parse a
/// request that uses them.
#[derive(Clone)]
pub(crate) struct HeaderSpelling(Extensions);

impl HeaderSpelling {
    pub(crate) async fn new() -> std::io::Result<HeaderSpelling> {
        let (client, server) = tokio::io::duplex(4096);
        let (tx, rx) = tokio::sync::oneshot::channel::<Extensions>();
        let tx = std::sync::Mutex::new(Some(tx));
        let service = hyper::service::service_fn(move |request: hyper::Request<_>| {
            if let Some(tx) = tx.lock().ok().and_then(|mut t| t.take()) {
                let _ = tx.send(request.extensions().clone());
            }
            async { Ok::<_, Infallible>(Response::new(Body::empty())) }
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .preserve_header_case(true)
            .serve_connection(TokioIo::new(server), service);
        let serving = tokio::spawn(connection);
        let mut head = String::from("GET / HTTP/1.1\r\nHost: localhost\r\n");
        for name in SALESFORCE_HEADER_NAMES {
            // Content-Length 0 frames the (empty) request body; the other values are dummies.
            let value = if *name == "Content-Length" { "0" } else { "x" };
            if *name != "Transfer-Encoding" {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        // Transfer-Encoding cannot sit beside Content-Length in a request; title case (the
        // fallback) already spells it as Salesforce does.
        head.push_str("Connection: close\r\n\r\n");
        let (mut read, mut write) = tokio::io::split(client);
        write.write_all(head.as_bytes()).await?;
        let mut sink = Vec::new();
        let _ = read.read_to_end(&mut sink).await;
        let _ = serving.await;
        rx.await
            .map(HeaderSpelling)
            .map_err(|_| std::io::Error::other("hyper did not parse the header-spelling request"))
    }
}

/// Middleware: attaches the spelling to a response (hyper's HTTP/1 writer reads it).
pub(crate) async fn spell_headers(
    State(spelling): State<HeaderSpelling>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    response.extensions_mut().extend(spelling.0.clone());
    response
}

/// Serves `app` on `listener` over HTTP/1.1 with title-cased header names until `shutdown`
/// completes, then lets open connections finish their current request.
pub(crate) async fn serve<L: Listener>(
    mut listener: L,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let mut stop = stop_rx.clone();
    loop {
        let (io, _) = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|s| *s) => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .title_case_headers(true)
                .serve_connection(TokioIo::new(io), service)
                .with_upgrades();
            tokio::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(e) = result {
                        tracing::trace!("connection ended: {e}");
                    }
                    return;
                }
                _ = stop.wait_for(|s| *s) => connection.as_mut().graceful_shutdown(),
            }
            // Bounded: a client holding a connection open must not keep the emulator up.
            let _ = tokio::time::timeout(Duration::from_secs(5), connection).await;
        });
    }
}
