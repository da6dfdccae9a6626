//! Seeds a store for `bench/perf.sh`: `bench_seed N` writes N bindings, three per tenant
//! (GitLab, GitHub, Gitee) across N/3 tenants `seed-0000000`…, straight into the configured
//! store (sled in the data directory, or PostgreSQL; the same `CODESOURCE_*` settings as the
//! server), with real sealed (fake) tokens, through the store's bulk import. Run it with the
//! server stopped (sled allows one process; PostgreSQL would not mind).
//!
//! An example, not a command of the shipping binary: nothing an operator runs should be able to
//! plant made-up tenants in a real store. The benchmark builds it beside the server.

use anyhow::Context;
use app::api::{Account, Provider};
use codesource_server::config::StoreConfig;
use codesource_server::crypto::Cipher;
use codesource_server::secret::SecretString;
use codesource_server::store::{aad, StoredBinding, RECORD_VERSION};

/// Rows written per import (one sled batch and flush, or one SQL statement).
const BATCH: usize = 20_000;
const PROVIDERS: [Provider; 3] = [Provider::GitLab, Provider::GitHub, Provider::Gitee];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .context("usage: bench_seed N (a number of bindings)")?;
    let (config, _warnings) = codesource_server::Config::from_env()?;
    let started = std::time::Instant::now();
    // Migrated as at a server's start, so a fresh database can be seeded first.
    let store = codesource_server::store::open(&config, true).await?;
    let cipher = codesource_server::keyring(&config)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let mut rows = Vec::with_capacity(BATCH);
    for i in 0..n {
        rows.push(binding(&cipher, i, now));
        if rows.len() == BATCH {
            store.import_bindings(&rows).await?;
            rows.clear();
        }
    }
    store.import_bindings(&rows).await?;
    let target = match &config.store {
        StoreConfig::Sled => config.data_dir.display().to_string(),
        StoreConfig::Postgres(_) => {
            // What follows a bulk load: statistics for the planner, and the checkpoint of the
            // load's WAL now rather than in the middle of the measurement.
            let pg = codesource_server::store::open_postgres(&config).await?;
            let client = pg.pool().get().await?;
            client.batch_execute("ANALYZE bindings").await?;
            if let Err(e) = client.batch_execute("CHECKPOINT").await {
                eprintln!("no CHECKPOINT after the load (needs a superuser): {e}");
            }
            "PostgreSQL".to_string()
        }
    };
    println!(
        "{n} bindings across {} tenants written to {target} in {:.1} s",
        n.div_ceil(PROVIDERS.len()),
        started.elapsed().as_secs_f64()
    );
    Ok(())
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
