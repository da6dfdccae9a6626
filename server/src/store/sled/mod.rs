//! sled backend, for one process. Tree `bindings/v1`, key `tenant \0 provider`, value the JSON
//! record; tree `bindings-reauth/v1` holds the keys of the bindings that need re-authorization,
//! so `/metrics` counts bindings from keys alone instead of decoding every record; tree
//! `avatars/v1` (same keys) holds the bindings' avatar images, which only the avatar route
//! reads (a record holds just an `AvatarRef`), and loses an image with its binding. Every write
//! is one transaction over both trees followed by a flush, so concurrent binds and unbinds of a
//! row end in exactly one of their outcomes, the index never disagrees with the records, and
//! nothing is reported saved before it is on disk (`bindings`). The other trees are in their
//! own modules, as in `store/pg/`: activity (`audit`), pending items, flows and leases
//! (`ephemeral`), cleanup jobs (`jobs`) and auto-build (`autobuild`).

mod audit;
mod autobuild;
mod bindings;
mod ephemeral;
mod jobs;

use super::StoreError;
use app::api::Provider;
use bindings::{build_reauth_index, move_avatars};
use std::path::Path;

/// Set in the default tree once `bindings-reauth/v1` holds every reauth binding's key: a store
/// an older version wrote has the records but not the index, which opening builds once.
const REAUTH_INDEX_BUILT: &[u8] = b"bindings-reauth/v1 built";

/// Set in the default tree once every avatar image an older version kept inside its binding
/// record has been moved to `avatars/v1` (done once, at open).
const AVATARS_MOVED: &[u8] = b"avatars/v1 moved";

/// sled's page cache. Its default (1 GiB) lets a full scan (metrics, the periodic health check)
/// of a million bindings grow the process to ~800 MB; reads of one tenant's rows need little.
/// 16 MiB instead of 32: ~25 MiB less peak RSS under bench/perf.sh, the same throughput.
const CACHE_BYTES: u64 = 16 * 1024 * 1024;

pub struct SledStore {
    db: sled::Db,
    bindings: sled::Tree,
    /// Keys of the bindings with a `reauth_reason`, values empty.
    reauth: sled::Tree,
    /// Avatar images by binding key (the JSON of a `StoredAvatar`).
    avatars: sled::Tree,
    audit: sled::Tree,
    pending: sled::Tree,
    flows: sled::Tree,
    leases: sled::Tree,
    /// Cleanup jobs (`jobs`).
    jobs: sled::Tree,
    /// Auto-build's trees (`autobuild`).
    autobuild: autobuild::Trees,
    /// Writes activity entries, several to a value and a flush (`audit::writer`).
    audit_writer: audit::AuditWriter,
}

impl SledStore {
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .path(dir.join("bindings.sled"))
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(backend)?;
        let tree = |name: &str| db.open_tree(name).map_err(backend);
        let audit = tree("audit/v1")?;
        let bindings = tree("bindings/v1")?;
        let reauth = tree("bindings-reauth/v1")?;
        build_reauth_index(&db, &bindings, &reauth).map_err(backend)?;
        let avatars = tree("avatars/v1")?;
        move_avatars(&db, &bindings, &avatars).map_err(backend)?;
        Ok(SledStore {
            bindings,
            reauth,
            avatars,
            pending: tree("pending/v1")?,
            flows: tree("oauth-flows/v1")?,
            leases: tree("leases/v1")?,
            jobs: tree("jobs/v1")?,
            autobuild: autobuild::Trees::open(&db)?,
            audit_writer: audit::AuditWriter::start(db.clone(), audit.clone())
                .map_err(|e| StoreError::Backend(Box::new(e)))?,
            audit,
            db,
        })
    }

    fn key(tenant: &str, provider: Provider) -> Vec<u8> {
        let mut k = tenant_prefix(tenant);
        k.extend_from_slice(provider.as_str().as_bytes());
        k
    }
}

fn backend(e: sled::Error) -> StoreError {
    StoreError::Backend(Box::new(e))
}

/// Tenant ids never contain NUL (see `identity::valid_id`), so prefixes cannot overlap.
fn tenant_prefix(tenant: &str) -> Vec<u8> {
    let mut k = tenant.as_bytes().to_vec();
    k.push(0);
    k
}

/// A row of a tree of leased work (cleanup jobs, the build-event outbox, held pushes): when it
/// is due and until when it is leased (Unix milliseconds; 0: not leased).
trait Leased: serde::Serialize {
    fn due_at_ms(&self) -> i64;
    fn leased_until_ms(&mut self) -> &mut i64;
}

/// Claims up to `limit` rows of `tree` due at `now_ms` and not leased past it, each leased
/// until `until_ms`. `take` makes what the caller hands out of a row (and its key) before it is
/// leased, `None` to pass it by. One compare-and-swap per row, so a concurrent claim, save or
/// finish wins and a row is handed out once. Not flushed: a lease only keeps this process's
/// workers apart, and a crash ends them.
fn claim_due<R: Leased, T>(
    tree: &sled::Tree,
    (now_ms, until_ms): (i64, i64),
    limit: usize,
    decode: impl Fn(&[u8]) -> Result<R, StoreError>,
    mut take: impl FnMut(&[u8], &R) -> Result<Option<T>, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut claimed = Vec::new();
    for item in tree.iter() {
        if claimed.len() == limit {
            break;
        }
        let (key, raw) = item.map_err(backend)?;
        let mut row = decode(&raw)?;
        if row.due_at_ms() > now_ms || *row.leased_until_ms() > now_ms {
            continue;
        }
        let Some(out) = take(&key, &row)? else {
            continue;
        };
        *row.leased_until_ms() = until_ms;
        let leased = serde_json::to_vec(&row).map_err(StoreError::Corrupt)?;
        if tree
            .compare_and_swap(&key, Some(raw), Some(leased))
            .map_err(backend)?
            .is_ok()
        {
            claimed.push(out);
        }
    }
    Ok(claimed)
}

/// Writes and fsyncs block: keep them off the async workers. (sled's `flush_async` can wait
/// forever when no other flush is in progress, so the blocking flush is used instead.)
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, sled::Error> + Send + 'static,
) -> Result<T, StoreError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(backend),
        Err(join) => std::panic::resume_unwind(join.into_panic()),
    }
}

#[cfg(test)]
mod tests;
