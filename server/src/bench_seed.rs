//! `codesource bench-seed N`: writes N bindings, three per tenant (GitLab, GitHub, Gitee) across
//! N/3 tenants `seed-0000000`…, straight into the sled store of the configured data directory,
//! with real sealed (fake) tokens. For the benchmark only (`bench/perf.sh`), which measures the
//! page and the credential API with a million stored bindings; run it with the server stopped
//! (sled allows one process).

use crate::config::{Config, StoreConfig};
use crate::crypto::Cipher;
use crate::secret::SecretString;
use crate::store::{aad, SledStore, StoredBinding, RECORD_VERSION};
use anyhow::bail;
use app::api::{Account, Provider};

/// Rows written per sled batch (one flush each).
const BATCH: usize = 20_000;
const PROVIDERS: [Provider; 3] = [Provider::GitLab, Provider::GitHub, Provider::Gitee];

/// Returns the number of tenants the bindings were spread over.
pub fn seed(config: &Config, n: usize) -> anyhow::Result<usize> {
    if !matches!(config.store, StoreConfig::Sled) {
        bail!("bench-seed fills the sled store; unset CODESOURCE_DATABASE_URL");
    }
    let store = SledStore::open(&config.data_dir)?;
    let cipher = crate::keyring(config)?;
    let now = crate::util::now_secs();
    let mut rows = Vec::with_capacity(BATCH);
    for i in 0..n {
        rows.push(binding(&cipher, i, now));
        if rows.len() == BATCH {
            store.put_batch(&rows)?;
            rows.clear();
        }
    }
    store.put_batch(&rows)?;
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
