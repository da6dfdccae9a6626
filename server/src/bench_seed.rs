//! `codesource bench-seed N`: writes N bindings, three per tenant (GitLab, GitHub, Gitee) across
//! N/3 tenants `seed-0000000`…, straight into the configured store (sled in the data directory,
//! or PostgreSQL), with real sealed (fake) tokens. For the benchmark only (`bench/perf.sh`),
//! which measures the page and the credential API with a million stored bindings; run it with
//! the server stopped (sled allows one process; PostgreSQL would not mind).

use crate::config::{Config, StoreConfig};
use crate::crypto::Cipher;
use crate::secret::SecretString;
use crate::store::{aad, SledStore, StoredBinding, RECORD_VERSION};
use app::api::{Account, Provider};

/// Rows written per batch (one sled batch and flush, or one SQL statement).
const BATCH: usize = 20_000;
const PROVIDERS: [Provider; 3] = [Provider::GitLab, Provider::GitHub, Provider::Gitee];

/// Where the rows go.
enum Target {
    Sled(SledStore),
    Postgres(crate::store::PgStore),
}

impl Target {
    async fn write(&self, rows: &[StoredBinding]) -> anyhow::Result<()> {
        match self {
            Target::Sled(s) => s.put_batch(rows)?,
            Target::Postgres(pg) => pg.put_batch(rows).await?,
        }
        Ok(())
    }
}

/// Returns the number of tenants the bindings were spread over.
pub async fn seed(config: &Config, n: usize) -> anyhow::Result<usize> {
    let target = match config.store {
        StoreConfig::Sled => Target::Sled(SledStore::open(&config.data_dir)?),
        StoreConfig::Postgres(_) => {
            let pg = crate::store::open_postgres(config).await?;
            // Migrated as at a server's start, so a fresh database can be seeded first.
            pg.migrate().await?;
            Target::Postgres(pg)
        }
    };
    let cipher = crate::keyring(config)?;
    let now = crate::util::now_secs();
    let mut rows = Vec::with_capacity(BATCH);
    for i in 0..n {
        rows.push(binding(&cipher, i, now));
        if rows.len() == BATCH {
            target.write(&rows).await?;
            rows.clear();
        }
    }
    target.write(&rows).await?;
    if let Target::Postgres(pg) = &target {
        // What follows a bulk load: statistics for the planner, and the checkpoint of the load's
        // WAL now rather than in the middle of the measurement.
        let client = pg.pool().get().await?;
        client.batch_execute("ANALYZE bindings").await?;
        if let Err(e) = client.batch_execute("CHECKPOINT").await {
            eprintln!("no CHECKPOINT after the load (needs a superuser): {e}");
        }
    }
    Ok(n.div_ceil(PROVIDERS.len()))
}

fn binding(cipher: &Cipher, i: usize, now: i64) -> StoredBinding {
    let tenant = format!("seed-{:07}", i / PROVIDERS.len());
    let provider = PROVIDERS[i % PROVIDERS.len()];
    let token = SecretString::new(format!("seed-token-{i:012}"));
    StoredBinding {
        v: RECORD_VERSION,
        token: cipher.seal(&token, &aad(&tenant, provider)),
        tenant,
        provider,
        account: Account {
            login: format!("user{i}"),
            name: Some(format!("Seeded user {i}")),
            avatar_url: None,
            web_url: None,
        },
        address: (provider == Provider::GitLab).then(|| "https://gitlab.example.com".into()),
        ca_pem: None,
        scopes: vec!["read_repository".into(), "read_api".into()],
        token_expires_at: None,
        bound_at: now,
        bound_by: "seed".into(),
        refresh_token: None,
        access_expires_at: None,
        refreshed_at: None,
        reauth_reason: None,
        last_checked_at: Some(now),
        check_claimed_until: None,
        avatar: None,
    }
}
