//! Storage settings: which backend (sled in the data directory, or a shared PostgreSQL), the
//! pool and its timeouts, the encryption keyring's decrypt-only keys, and the lease that keeps
//! token refreshes single across replicas.

use super::sources::secret;
use super::Config;
use crate::crypto;
use crate::secret::{SecretBytes, SecretString};
use anyhow::{bail, Context};
use serde::Deserialize;
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

/// The storage keys of the TOML file (flattened into it).
#[derive(Default, Deserialize)]
pub(super) struct StorageFile {
    database_url: Option<String>,
    database_url_file: Option<String>,
    database_ca_file: Option<String>,
    database_pool_size: Option<usize>,
    database_timeout_secs: Option<u64>,
    database_statement_timeout_secs: Option<u64>,
    decrypt_keys: Option<String>,
    decrypt_keys_file: Option<String>,
    refresh_lease_secs: Option<u64>,
}

fn number<T: std::str::FromStr>(
    var: &dyn Fn(&str) -> Option<String>,
    name: &str,
    file: Option<T>,
) -> anyhow::Result<Option<T>> {
    match var(name) {
        Some(v) => v
            .parse::<T>()
            .map(Some)
            .map_err(|_| anyhow::anyhow!("{name} must be a whole number, not {v:?}")),
        None => Ok(file),
    }
}

impl Config {
    pub(super) fn apply_storage(
        &mut self,
        var: &dyn Fn(&str) -> Option<String>,
        file: StorageFile,
    ) -> anyhow::Result<()> {
        let url = secret(
            var("CODESOURCE_DATABASE_URL").or(file.database_url),
            var("CODESOURCE_DATABASE_URL_FILE").or(file.database_url_file),
            "CODESOURCE_DATABASE_URL",
        )?;
        if let Some(url) = url {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                bail!("CODESOURCE_DATABASE_URL must be a postgres:// URL");
            }
            let pool_size = number(
                var,
                "CODESOURCE_DATABASE_POOL_SIZE",
                file.database_pool_size,
            )?
            .unwrap_or(16);
            if !(1..=1000).contains(&pool_size) {
                bail!("CODESOURCE_DATABASE_POOL_SIZE must be between 1 and 1000");
            }
            let secs = |name, v: Option<u64>, default| -> anyhow::Result<Duration> {
                let s = number(var, name, v)?.unwrap_or(default);
                if !(1..=300).contains(&s) {
                    bail!("{name} must be between 1 and 300 seconds");
                }
                Ok(Duration::from_secs(s))
            };
            self.store = StoreConfig::Postgres(Database {
                url: SecretString::new(url),
                ca_file: var("CODESOURCE_DATABASE_CA_FILE")
                    .or(file.database_ca_file)
                    .map(PathBuf::from),
                pool_size,
                connect_timeout: secs(
                    "CODESOURCE_DATABASE_TIMEOUT_SECS",
                    file.database_timeout_secs,
                    5,
                )?,
                statement_timeout: secs(
                    "CODESOURCE_DATABASE_STATEMENT_TIMEOUT_SECS",
                    file.database_statement_timeout_secs,
                    10,
                )?,
            });
        }
        let old = secret(
            var("CODESOURCE_DECRYPT_KEYS").or(file.decrypt_keys),
            var("CODESOURCE_DECRYPT_KEYS_FILE").or(file.decrypt_keys_file),
            "CODESOURCE_DECRYPT_KEYS",
        )?;
        self.decrypt_keys = old
            .as_deref()
            .unwrap_or("")
            .split([',', '\n', ' '])
            .filter(|k| !k.trim().is_empty())
            .map(crypto::parse_key)
            .collect::<Result<Vec<SecretBytes>, _>>()
            .context("CODESOURCE_DECRYPT_KEYS must be base64 keys of 32 bytes, comma-separated")?;
        if let Some(s) = number(
            var,
            "CODESOURCE_REFRESH_LEASE_SECS",
            file.refresh_lease_secs,
        )? {
            if !(2..=600).contains(&s) {
                bail!("CODESOURCE_REFRESH_LEASE_SECS must be between 2 and 600");
            }
            self.refresh_lease = Duration::from_secs(s);
        }
        Ok(())
    }
}
