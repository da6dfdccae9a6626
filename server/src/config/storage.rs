//! Storage settings: which backend (sled in the data directory, or a shared PostgreSQL), the
//! pool and its timeouts, the encryption keyring's decrypt-only keys, and the lease that keeps
//! token refreshes single across replicas.

use crate::crypto;
use crate::secret::{SecretBytes, SecretString};
use anyhow::{bail, Context};
use std::path::PathBuf;
use std::time::Duration;

/// Where the store lives.
#[derive(Debug)]
pub enum StoreConfig {
    /// sled in `data_dir` (one process).
    Sled,
    /// PostgreSQL shared by every replica.
    Postgres(Database),
}

#[derive(Debug)]
pub struct Database {
    /// `postgres://…` (may hold a password: never logged).
    pub url: SecretString,
    /// Extra CA certificates (PEM) for the database's TLS certificate.
    pub ca_file: Option<PathBuf>,
    pub pool_size: usize,
    /// Connecting, and waiting for a pooled connection.
    pub connect_timeout: Duration,
    /// Longest a statement may run.
    pub statement_timeout: Duration,
}

/// Reads `CODESOURCE_DECRYPT_KEYS`: base64 keys separated by commas, spaces or lines.
pub(super) fn decrypt_keys(text: String, name: &str) -> anyhow::Result<Vec<SecretBytes>> {
    text.split([',', '\n', ' '])
        .filter(|k| !k.trim().is_empty())
        .map(crypto::parse_key)
        .collect::<Result<Vec<SecretBytes>, _>>()
        .with_context(|| format!("{name} must be base64 keys of 32 bytes, comma-separated"))
}

/// Reads `CODESOURCE_DATABASE_URL`.
pub(super) fn database_url(url: String, name: &str) -> anyhow::Result<Option<SecretString>> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        bail!("{name} must be a postgres:// URL");
    }
    Ok(Some(SecretString::new(url)))
}
