//! Opening the configured store: sled in the data directory, or PostgreSQL (migrated at start,
//! under the schema table's row locks, so replicas starting together are safe).

use super::{PgOptions, PgStore, SledStore, Store};
use crate::config::{Config, StoreConfig};
use anyhow::Context;
use std::sync::Arc;

/// Opens the store the configuration names; with PostgreSQL, applies pending migrations first
/// (`migrate` false: refuses to start on an out-of-date schema instead).
pub async fn open(config: &Config, migrate: bool) -> anyhow::Result<Arc<dyn Store>> {
    match &config.store {
        StoreConfig::Sled => {
            std::fs::create_dir_all(&config.data_dir).with_context(|| {
                format!("creating the data directory {}", config.data_dir.display())
            })?;
            let sled = SledStore::open(&config.data_dir)
                .with_context(|| format!("opening the store in {}", config.data_dir.display()))?;
            Ok(Arc::new(sled))
        }
        StoreConfig::Postgres(db) => {
            let pg = open_postgres(config).await?;
            if migrate {
                let applied = pg
                    .migrate()
                    .await
                    .context("migrating the database schema")?;
                if !applied.is_empty() {
                    tracing::info!(?applied, "database schema migrated");
                }
            }
            tracing::info!(pool_size = db.pool_size, "using PostgreSQL");
            Ok(Arc::new(pg))
        }
    }
}

/// The PostgreSQL store of the configuration (not migrated).
pub async fn open_postgres(config: &Config) -> anyhow::Result<PgStore> {
    let StoreConfig::Postgres(db) = &config.store else {
        anyhow::bail!("CODESOURCE_DATABASE_URL is not set");
    };
    PgStore::connect(&PgOptions {
        url: db.url.expose().to_string(),
        ca_file: db.ca_file.clone(),
        pool_size: db.pool_size,
        connect_timeout: db.connect_timeout,
        statement_timeout: db.statement_timeout,
    })
    .await
    .context("connecting to PostgreSQL (CODESOURCE_DATABASE_URL)")
}
