//! Building the pool: URL parsing, TLS, per-connection settings and timeouts.
//!
//! TLS follows the URL's `sslmode`: `disable` is plain TCP; `prefer` and `require` use rustls,
//! and the server certificate is ALWAYS verified (chain and host name), unlike libpq where
//! `require` skips verification: a database holding sealed tokens is not worth a
//! man-in-the-middle. (`prefer` still falls back to plain TCP when the server offers no TLS.)

use super::{pg_err, PgOptions, PgStore};
use crate::store::StoreError;
use deadpool_postgres::{
    ConfigConnectImpl, Connect, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime,
};
use rustls_pki_types::{pem::PemObject, CertificateDer};
use std::future::Future;
use std::pin::Pin;
use tokio::task::JoinHandle;
use tokio_postgres::config::SslMode;
use tokio_postgres::NoTls;
use tokio_postgres_rustls::MakeRustlsConnect;

impl PgStore {
    /// Builds the pool and checks that one connection can be made (so a wrong address or
    /// password shows at start): `Unavailable` if the database cannot be reached now,
    /// `Backend` if it refused us. Does not migrate. Once built, the pool recovers by itself
    /// from a database restart: broken connections are dropped and new ones made on demand.
    pub async fn connect(opts: &PgOptions) -> Result<PgStore, StoreError> {
        // The parse error never echoes the URL, so the password does not reach logs.
        let mut config: tokio_postgres::Config = opts
            .url
            .parse()
            .map_err(|e| StoreError::Backend(Box::new(e)))?;
        config.connect_timeout(opts.connect_timeout);
        if config.get_application_name().is_none() {
            config.application_name("codesource");
        }
        let inner: Box<dyn Connect> = match config.get_ssl_mode() {
            SslMode::Disable => Box::new(ConfigConnectImpl { tls: NoTls }),
            _ => Box::new(ConfigConnectImpl {
                tls: rustls_connector(opts.ca_file.as_deref())?,
            }),
        };
        let setup = SessionSetup {
            inner,
            statement_timeout_ms: opts.statement_timeout.as_millis(),
        };
        // `Fast` recycling: a connection whose socket died is seen as closed and replaced;
        // one that dies unnoticed fails one query (`Unavailable`) and is then replaced.
        let manager = Manager::from_connect(
            config,
            setup,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let timeout = Some(opts.connect_timeout);
        let pool = Pool::builder(manager)
            .max_size(opts.pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(timeout)
            .create_timeout(timeout)
            .recycle_timeout(timeout)
            .build()
            .map_err(|e| StoreError::Backend(Box::new(e)))?;
        let deadline = opts.statement_timeout + opts.connect_timeout;
        let store = PgStore {
            audit_writer: super::audit_batch::AuditWriter::start(pool.clone(), deadline),
            delivery_writer: super::delivery_batch::DeliveryWriter::start(pool.clone(), deadline),
            pool,
            connect_timeout: opts.connect_timeout,
            deadline,
        };
        drop(store.client().await?);
        Ok(store)
    }
}

/// rustls with ring and the Mozilla roots, or, when a CA file is given, that file's
/// certificates instead (like libpq's `sslrootcert`: a private database's certificate is
/// signed by its own CA, and the public roots add nothing but trust in strangers).
fn rustls_connector(ca_file: Option<&std::path::Path>) -> Result<MakeRustlsConnect, StoreError> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let Some(path) = ca_file else {
        // `with_webpki_roots` builds on the process-wide provider: make sure there is one
        // (an error only means another part of the program installed it first).
        let _ = rustls::crypto::ring::default_provider().install_default();
        return Ok(MakeRustlsConnect::with_webpki_roots());
    };
    let bad_ca = |what: String| StoreError::Backend(what.into());
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(path).map_err(|e| {
        bad_ca(format!(
            "reading the database CA file {}: {e}",
            path.display()
        ))
    })?;
    for cert in certs {
        let cert = cert.map_err(|e| bad_ca(format!("database CA file {}: {e}", path.display())))?;
        roots
            .add(cert)
            .map_err(|e| bad_ca(format!("database CA file {}: {e}", path.display())))?;
    }
    if roots.is_empty() {
        return Err(bad_ca(format!(
            "database CA file {} holds no certificate",
            path.display()
        )));
    }
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Backend(Box::new(e)))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

type ConnectFuture<'a> = Pin<
    Box<
        dyn Future<Output = Result<(tokio_postgres::Client, JoinHandle<()>), tokio_postgres::Error>>
            + Send
            + 'a,
    >,
>;

/// Connects, then applies the session settings every connection must have before it is used.
struct SessionSetup {
    inner: Box<dyn Connect>,
    statement_timeout_ms: u128,
}

impl Connect for SessionSetup {
    fn connect(&self, config: &tokio_postgres::Config) -> ConnectFuture<'_> {
        let config = config.clone();
        Box::pin(async move {
            let (client, task) = self.inner.connect(&config).await?;
            let set = format!("SET statement_timeout = '{}ms'", self.statement_timeout_ms);
            if let Err(e) = client.batch_execute(&set).await {
                task.abort();
                return Err(e);
            }
            Ok((client, task))
        })
    }
}

/// For `ready`: a connection answers within the connect timeout.
pub(super) async fn ping(store: &PgStore) -> bool {
    let check = async {
        let c = store.client().await?;
        c.simple_query("SELECT 1").await.map_err(pg_err)?;
        Ok::<_, StoreError>(())
    };
    matches!(
        tokio::time::timeout(store.connect_timeout, check).await,
        Ok(Ok(()))
    )
}
