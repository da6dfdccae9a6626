//! PostgreSQL backend, for several replicas sharing one database. Only plain SQL that
//! PostgreSQL-compatible distributed databases also accept: no advisory locks, no
//! `SKIP LOCKED`, no extensions; leases are rows, and every step that must happen once across
//! replicas is one conditional statement (a claim, a `DELETE ... RETURNING`, an upsert with a
//! `WHERE`), so correctness never depends on holding a lock between two round trips.
//!
//! Records are stored as the same JSON the sled backend writes, next to the columns queries
//! filter and order by. Connections come from a deadpool pool, which drops broken connections
//! and reconnects by itself when the database comes back.

/// The database's time in Unix milliseconds, for SQL text: every replica's leases, claims and
/// expiries are measured on this one clock, so a replica whose own clock is off can neither
/// take what another holds nor hold anything past its end. `now()` is the transaction's
/// start, so a statement that compares twice sees one instant. A macro, for `concat!`.
macro_rules! db_now_ms {
    () => {
        "FLOOR(EXTRACT(EPOCH FROM now()) * 1000)::BIGINT"
    };
}

/// The database's time in Unix seconds, for SQL text (see [`db_now_ms`]).
macro_rules! db_now_secs {
    () => {
        "FLOOR(EXTRACT(EPOCH FROM now()))::BIGINT"
    };
}

mod audit;
mod audit_batch;
mod autobuild;
mod bindings;
mod connect;
mod delivery_batch;
mod ephemeral;
mod jobs;
mod migrate;

pub use migrate::MigrateError;
#[cfg(test)]
pub(in crate::store) use migrate::MIGRATIONS;

use super::{Store, StoreError, Swept, RECORD_VERSION};
use deadpool_postgres::{Object, Pool, PoolError};
use serde::{de::DeserializeOwned, Serialize};
use std::time::Duration;
use tokio_postgres::{types::ToSql, Row};

/// How to reach the database. `Debug` leaves the URL out: it may hold the password.
#[derive(Clone)]
pub struct PgOptions {
    /// `postgres://user:pass@host:port/db?sslmode=disable|prefer|require`.
    pub url: String,
    /// Extra CA certificates (PEM) that may sign the server's certificate (see `connect`).
    pub ca_file: Option<std::path::PathBuf>,
    pub pool_size: usize,
    /// Bounds connecting, and waiting for a pooled connection.
    pub connect_timeout: Duration,
    /// Set on every connection (`SET statement_timeout`), so a stuck query frees its
    /// connection instead of holding a request forever.
    pub statement_timeout: Duration,
}

impl std::fmt::Debug for PgOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgOptions")
            .field("url", &"<redacted>")
            .field("ca_file", &self.ca_file)
            .field("pool_size", &self.pool_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .finish()
    }
}

pub struct PgStore {
    pool: Pool,
    connect_timeout: Duration,
    /// How long a statement may take from our side (see [`within`]).
    deadline: Duration,
    /// Appends to the activity log, several to a statement (see `audit_batch`).
    audit_writer: audit_batch::AuditWriter,
    /// Records webhook deliveries, several to a transaction (see `delivery_batch`).
    delivery_writer: delivery_batch::DeliveryWriter,
}

const NOW_MS: &str = db_now_ms!();
const NOW_SECS: &str = db_now_secs!();

/// A duration as milliseconds, a statement parameter. Capped far below `i64::MAX`, so that
/// the database's now plus or minus it stays a `BIGINT` (a "forever" TTL while copying).
fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis())
        .unwrap_or(i64::MAX)
        .min(i64::MAX / 4)
}

/// Rows deleted per statement by the retention sweep.
const SWEEP_CHUNK: i64 = 10_000;

impl PgStore {
    /// The pool used by every query (tests use it to reach the database directly).
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    async fn client(&self) -> Result<Object, StoreError> {
        self.pool.get().await.map_err(pool_err)
    }

    /// Runs `work` (statements on one pooled connection) within the deadline (see [`within`]).
    async fn with_client<T>(
        &self,
        work: impl AsyncFnOnce(&mut Object) -> Result<T, tokio_postgres::Error>,
    ) -> Result<T, StoreError> {
        within(&self.pool, self.deadline, work)
            .await?
            .map_err(pg_err)
    }

    /// One statement, prepared once per connection.
    async fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        self.with_client(async |c| {
            let st = c.prepare_cached(sql).await?;
            c.query(&st, params).await
        })
        .await
    }

    /// Deletes the activity entries older than `before` (Unix seconds), a chunk per
    /// statement: a backlog (a busy day's entries, or a shortened retention) in one statement
    /// could outlast the statement deadline, roll back, and never shrink.
    async fn sweep_audit(&self, before: i64) -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            let deleted = self
                .execute(
                    "DELETE FROM audit WHERE id IN \
                     (SELECT id FROM audit WHERE at < $1 LIMIT $2)",
                    &[&before, &SWEEP_CHUNK],
                )
                .await?;
            total += deleted;
            if deleted < SWEEP_CHUNK as u64 {
                return Ok(total);
            }
        }
    }

    /// Like `query`, returning the number of rows affected.
    async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
        self.with_client(async |c| {
            let st = c.prepare_cached(sql).await?;
            c.execute(&st, params).await
        })
        .await
    }
}

/// Runs `work` on a pooled connection for at most `deadline` (`statement_timeout` plus the
/// connect timeout). The outer error is ours (no connection, or no answer in time); the inner
/// one is what the statements got, for the caller to judge.
///
/// The database enforces its own limit, but a connection the network dropped without a reset
/// never hears it, and would hold the caller until the system gives up on the TCP connection
/// (minutes). Such a connection is closed here rather than returned to the pool, where it
/// would stall the next caller the same way.
pub(super) async fn within<T, E>(
    pool: &Pool,
    deadline: Duration,
    work: impl AsyncFnOnce(&mut Object) -> Result<T, E>,
) -> Result<Result<T, E>, StoreError> {
    let mut c = pool.get().await.map_err(pool_err)?;
    let outcome = tokio::time::timeout(deadline, work(&mut c)).await;
    outcome.map_err(|_| {
        drop(Object::take(c));
        StoreError::Unavailable("the database did not answer in time".into())
    })
}

/// Why a batch writer's (`audit_batch`, `delivery_batch`) batch was not written.
enum BatchFailure {
    /// On a connection that turned out to be closed: worth one more try on another.
    Stale(StoreError),
    Other(StoreError),
}

impl BatchFailure {
    fn error(self) -> StoreError {
        match self {
            BatchFailure::Stale(e) | BatchFailure::Other(e) => e,
        }
    }

    /// A batch's outcome from [`within`]: the statements' error with whether the connection
    /// was closed after it, or ours.
    fn judge<T>(
        outcome: Result<Result<T, (tokio_postgres::Error, bool)>, StoreError>,
    ) -> Result<T, BatchFailure> {
        match outcome {
            Ok(Ok(v)) => Ok(v),
            Ok(Err((e, true))) => Err(BatchFailure::Stale(pg_err(e))),
            Ok(Err((e, false))) => Err(BatchFailure::Other(pg_err(e))),
            Err(ours) => Err(BatchFailure::Other(ours)),
        }
    }
}

/// Whether a failure is worth retrying, with nothing written: the connection broke or never
/// came up (no database error at all: I/O, closed, timeout), or the database said so
/// ([`retryable`]). Everything else the database said (constraint, syntax, permission), and a
/// TLS refusal (an untrusted certificate stays untrusted), is a `Backend` error: a bug or a
/// misconfiguration, which no retry fixes.
pub(super) fn pg_err(e: tokio_postgres::Error) -> StoreError {
    let transient = match e.code() {
        None => !is_tls_refusal(&e),
        Some(state) => retryable(state.code()),
    };
    if transient || e.is_closed() {
        StoreError::Unavailable(Box::new(e))
    } else {
        StoreError::Backend(Box::new(e))
    }
}

/// Whether a SQLSTATE says "not now" rather than "never": the same statement may succeed when
/// the caller tries again (so the API answers 503, not 500).
fn retryable(sqlstate: &str) -> bool {
    sqlstate.starts_with("08") // connection exception
        || sqlstate.starts_with("53") // insufficient resources: disk, memory, too many connections
        || matches!(
            sqlstate,
            // The transaction lost a serialization conflict or a deadlock: what databases
            // ask clients to retry.
            "40001" | "40P01"
            // Administrator or crash shutdown, cannot connect now (starting up), the session
            // was idle too long (57P04, database dropped, is not transient).
            | "57P01" | "57P02" | "57P03" | "57P05"
            // A statement or lock wait outlasted its timeout (a lock held by another session).
            | "57014" | "55P03"
            // A write reached a server in read-only mode (a standby after a failover).
            | "25006"
        )
}

/// A rustls error (certificate, protocol) somewhere in the cause chain; rustls hands it to
/// tokio-postgres wrapped in an `io::Error`, whose `source` skips it, so look inside.
fn is_tls_refusal(e: &tokio_postgres::Error) -> bool {
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let inner = c
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map_or(c, |inner| inner as &(dyn std::error::Error + 'static));
        if inner.is::<rustls::Error>() {
            return true;
        }
        cause = c.source();
    }
    false
}

pub(super) fn pool_err(e: PoolError) -> StoreError {
    match e {
        PoolError::Backend(e) => pg_err(e),
        e @ PoolError::NoRuntimeSpecified => StoreError::Backend(Box::new(e)),
        // Timed out waiting for a connection or creating one, or the pool is closed.
        e => StoreError::Unavailable(Box::new(e)),
    }
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn encode<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(StoreError::Corrupt)
}

fn decode<T: DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(StoreError::Corrupt)
}

/// Decodes a versioned record (a binding): a newer format is refused rather than misread,
/// the same rule as the sled backend.
fn decode_versioned<T: DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    #[derive(serde::Deserialize)]
    struct Version {
        v: u32,
    }
    let v: Version = decode(text)?;
    if v.v > RECORD_VERSION {
        return Err(StoreError::NewerVersion(v.v));
    }
    decode(text)
}

#[async_trait::async_trait]
impl Store for PgStore {
    async fn now_ms(&self) -> Result<i64, StoreError> {
        let rows = self.query(&format!("SELECT {NOW_MS}"), &[]).await?;
        Ok(rows[0].get(0))
    }

    async fn sweep_before(
        &self,
        audit_before: i64,
        ephemeral_before: i64,
    ) -> Result<Swept, StoreError> {
        // Independent deletes: each is idempotent, so replicas sweeping at once only race to
        // delete the same rows, and a sweep cut short is finished by the next one. Each one is
        // tried even when another failed; the first failure is reported.
        let audit = self.sweep_audit(audit_before).await;
        let pending = self
            .execute(
                "DELETE FROM pending WHERE created_at <= $1",
                &[&ephemeral_before],
            )
            .await;
        let flows = self
            .execute(
                "DELETE FROM oauth_flows WHERE created_at <= $1",
                &[&ephemeral_before],
            )
            .await;
        let leases = self
            .execute(
                &format!("DELETE FROM leases WHERE expires_at < {NOW_MS}"),
                &[],
            )
            .await;
        let (build_events, delivery_ids, delivery_log) = self
            .sweep_autobuild(audit_before.saturating_mul(1000))
            .await;
        Ok(Swept {
            audit: audit?,
            pending: pending?,
            flows: flows?,
            leases: leases?,
            build_events: build_events?,
            delivery_ids: delivery_ids?,
            delivery_log: delivery_log?,
        })
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }
}

#[cfg(test)]
mod tests {
    use super::retryable;

    #[test]
    fn retryable_sqlstates_are_the_transient_ones() {
        for code in [
            "08000", "08006", "08P01", // connection exceptions
            "53000", "53100", "53200", "53300", "53400", // insufficient resources
            "40001", "40P01", // serialization failure, deadlock
            "57P01", "57P02", "57P03", "57P05", // shutdown, cannot connect now, idle session
            "57014", "55P03", // statement timeout, lock not available
            "25006", // read-only (a standby after failover)
        ] {
            assert!(retryable(code), "{code} is retryable");
        }
        for code in [
            "23505", // unique violation
            "23502", // not null violation
            "42601", // syntax error
            "42P01", // undefined table
            "42501", // insufficient privilege
            "22P02", // invalid text representation
            "57P04", // database dropped
            "XX000", // internal error
            "40002", // integrity constraint violation (in a transaction)
        ] {
            assert!(!retryable(code), "{code} is a bug, not retryable");
        }
    }
}
