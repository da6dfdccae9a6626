//! HTTPS for the fake GitLab: the test certificate (localhost, 127.0.0.1) signed by the test CA.

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

const CERT: &[u8] = include_bytes!("../tls/leaf.pem");
const KEY: &[u8] = include_bytes!("../tls/leaf.key");

fn acceptor() -> TlsAcceptor {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(CERT)
        .collect::<Result<_, _>>()
        .expect("test certificate parses");
    let key = PrivateKeyDer::from_pem_slice(KEY).expect("test key parses");
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("default TLS versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("test certificate and key match");
    TlsAcceptor::from(Arc::new(config))
}

pub async fn serve(listener: tokio::net::TcpListener, app: axum::Router) {
    let acceptor = acceptor();
    // Lets the fakes that build absolute links (Bitbucket `next`, Gitea `Link`) say https.
    let app = app.layer(axum::Extension(crate::support::Https));
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tokio::spawn(async move {
            // A client that rejects our certificate ends the handshake here: expected.
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let service = TowerToHyperService::new(app);
            let _ = Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}
