//! `--tls`: https with a certificate made at start, for clients that only speak https
//! (simple-salesforce builds `https://{instance}` URLs). A throwaway CA signs a leaf for
//! `localhost`, `127.0.0.1`, the advertised host and any `--tls-names`; its PEM is written to a
//! file clients can trust (`REQUESTS_CA_BUNDLE`, `SSL_CERT_FILE`, reqwest's
//! `add_root_certificate`, the connector's `ca_certificate`) and printed in the ready line.
//!
//! Handshakes run in their own tasks, so a slow client never holds up `accept`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

#[derive(Debug, thiserror::Error)]
pub(crate) enum TlsError {
    #[error("making the self-signed certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("configuring TLS: {0}")]
    Config(#[from] rustls::Error),
    #[error("writing the CA certificate to {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The certificate material of one run.
pub(crate) struct Certificates {
    pub ca_pem: String,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

/// A CA and a leaf for `names` (DNS names or IP addresses) signed by it.
pub(crate) fn make_certificates(names: &[String]) -> Result<Certificates, TlsError> {
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "sf-emulator test CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = ca_params.self_signed(&ca_key)?;

    let leaf_key = KeyPair::generate()?;
    // rcgen makes an IP address SAN of every name that parses as one, a DNS name SAN otherwise.
    let mut leaf_params = CertificateParams::new(names.to_vec())?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    leaf_params.use_authority_key_identifier_extension = true;
    leaf_params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf = leaf_params.signed_by(&leaf_key, &ca, &ca_key)?;

    Ok(Certificates {
        ca_pem: ca.pem(),
        chain: vec![leaf.der().clone(), ca.der().clone()],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
    })
}

/// Writes the CA certificate where clients can read it.
pub(crate) fn write_ca(certificates: &Certificates, path: &Path) -> Result<(), TlsError> {
    std::fs::write(path, &certificates.ca_pem).map_err(|source| TlsError::Write {
        path: path.to_path_buf(),
        source,
    })
}

fn acceptor(certificates: &Certificates) -> Result<TlsAcceptor, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certificates.chain.clone(), certificates.key.clone_key())?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// A listener whose connections arrive with the TLS handshake done.
pub(crate) struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
}

impl TlsListener {
    pub(crate) fn new(
        listener: TcpListener,
        certificates: &Certificates,
    ) -> Result<TlsListener, TlsError> {
        let local = listener.local_addr().map_err(|source| TlsError::Write {
            path: PathBuf::from("<socket>"),
            source,
        })?;
        let acceptor = acceptor(certificates)?;
        let (tx, ready) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let Ok((stream, peer)) = listener.accept().await else {
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    continue;
                };
                let acceptor = acceptor.clone();
                let handshake_tx = tx.clone();
                tokio::spawn(async move {
                    // A failed handshake only concerns that client.
                    if let Ok(tls) = acceptor.accept(stream).await {
                        let _ = handshake_tx.send((tls, peer)).await;
                    }
                });
                if tx.is_closed() {
                    return;
                }
            }
        });
        Ok(TlsListener { local, ready })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The acceptor task ended: no more connections will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}
