//! Configuration, layered: built-in defaults → optional TOML file (`CODESOURCE_CONFIG`) →
//! `CODESOURCE_*` environment variables. Secrets can also come from files (`*_FILE`), so they
//! need not sit in the environment. The listen address is Leptos' own `LEPTOS_SITE_ADDR`.

use crate::crypto;
use crate::secret::{SecretBytes, SecretString};
use anyhow::{bail, Context};
use ipnet::IpNet;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

mod autobuild;
mod embedding;
mod hosts;
mod identity;
mod outbound;
mod sources;
mod storage;

pub use autobuild::BuildEventsPush;
pub use hosts::{HostConfig, HostsConfig};
pub use outbound::OutboundAllow;
pub use storage::{Database, StoreConfig};

pub use sources::parse_cidrs;
use sources::{parse_bool, secret, FileConfig};

/// Upper bound for any call to a code host, whatever the configuration says.
pub const MAX_PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// Every environment variable we read besides the hosts' ([`hosts::known_vars`]); anything else starting with `CODESOURCE_` is a typo.
pub const KNOWN_VARS: &[&str] = &[
    "CODESOURCE_CONFIG",
    "CODESOURCE_DATA_DIR",
    "CODESOURCE_IDENTITY_KEY",
    "CODESOURCE_IDENTITY_KEY_FILE",
    "CODESOURCE_IDENTITY_PREVIOUS_KEY",
    "CODESOURCE_IDENTITY_PREVIOUS_KEY_FILE",
    "CODESOURCE_IDENTITY_AUDIENCE",
    "CODESOURCE_IDENTITY_ISSUER",
    "CODESOURCE_ENCRYPTION_KEY",
    "CODESOURCE_ENCRYPTION_KEY_FILE",
    "CODESOURCE_BUILD_NODE_CIDRS",
    "CODESOURCE_ALLOW_LOOPBACK",
    "CODESOURCE_OUTBOUND_ALLOW",
    "CODESOURCE_PROVIDER_TIMEOUT_SECS",
    "CODESOURCE_PUBLIC_URL",
    "CODESOURCE_LOG_FORMAT",
    "CODESOURCE_FRAME_ANCESTORS",
    "CODESOURCE_WIDGET_ORIGINS",
    "CODESOURCE_BASE_PATH",
    "CODESOURCE_BUILD_URL",
    "CODESOURCE_WIDGET_DIR",
    "CODESOURCE_SERVICE_TOKEN",
    "CODESOURCE_SERVICE_TOKEN_FILE",
    "CODESOURCE_AUDIT_RETENTION_DAYS",
    "CODESOURCE_EXPIRY_WARNING_DAYS",
    "CODESOURCE_HEALTH_INTERVAL_SECS",
    "CODESOURCE_DATABASE_URL",
    "CODESOURCE_DATABASE_URL_FILE",
    "CODESOURCE_DATABASE_CA_FILE",
    "CODESOURCE_DATABASE_POOL_SIZE",
    "CODESOURCE_DATABASE_TIMEOUT_SECS",
    "CODESOURCE_DATABASE_STATEMENT_TIMEOUT_SECS",
    "CODESOURCE_DECRYPT_KEYS",
    "CODESOURCE_DECRYPT_KEYS_FILE",
    "CODESOURCE_REFRESH_LEASE_SECS",
    "CODESOURCE_WEBHOOK_URL",
    "CODESOURCE_BUILD_EVENTS_URL",
    "CODESOURCE_BUILD_EVENTS_SECRET",
    "CODESOURCE_BUILD_EVENTS_SECRET_FILE",
    "CODESOURCE_RECONCILE_INTERVAL_SECS",
];

/// An OAuth application registered at a code host.
#[derive(Debug)]
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: SecretString,
}

#[derive(Debug)]
pub struct Config {
    pub data_dir: PathBuf,
    /// `None`: local mode (one local tenant, no sign-in).
    pub identity_key: Option<SecretBytes>,
    /// The console's key before a rotation, still accepted until it is removed.
    pub identity_previous_key: Option<SecretBytes>,
    /// The `aud` every identity token must carry (`None`: not checked, warned at start).
    pub identity_audience: Option<String>,
    /// The `iss` every identity token must carry (`None`: not checked, warned at start).
    pub identity_issuer: Option<String>,
    /// `None` in local mode: a key is generated into the data dir.
    pub encryption_key: Option<SecretBytes>,
    pub build_node_cidrs: Vec<IpNet>,
    pub allow_loopback: bool,
    /// Non-public addresses (CIDRs, host names) user-given addresses may reach; by default
    /// only globally routable ones.
    pub outbound_allow: OutboundAllow,
    pub provider_timeout: Duration,
    /// External base URL (scheme://host[:port]); when set, cross-site checks compare `Origin` to it.
    pub public_url: Option<String>,
    pub log_json: bool,
    /// The code hosts' settings, one section per host.
    pub hosts: HostsConfig,
    /// Origins allowed to embed the page in a frame (besides our own).
    pub frame_ancestors: Vec<String>,
    /// Origins whose pages may mount the widget: CORS with credentials, and their requests pass
    /// the cross-site check.
    pub widget_origins: Vec<String>,
    /// Path prefix everything is served under (`""` or e.g. `/console/code-sources`).
    pub base_path: String,
    /// The console's "build an image" page, linked from ours (a console path or https URL).
    pub build_url: Option<String>,
    /// The widget's files (Trunk's output), served as `<base>/widget/`.
    pub widget_dir: PathBuf,
    /// How long a checked or authorized account waits for Confirm.
    pub pending_ttl: Duration,
    /// Bearer token of the build service for the credential API (`None`: API disabled).
    pub service_token: Option<SecretString>,
    /// How long audit entries are kept.
    pub audit_retention: Duration,
    /// A token expiring within this many days shows as "Expiring soon".
    pub expiry_warning_days: i64,
    /// How often every binding is re-validated at its code host (`None`: never).
    pub health_interval: Option<Duration>,
    /// sled in `data_dir`, or PostgreSQL.
    pub store: StoreConfig,
    /// Keys that only decrypt (records sealed before a key rotation).
    pub decrypt_keys: Vec<SecretBytes>,
    /// How long one replica may hold a binding's refresh before another may take over.
    pub refresh_lease: Duration,
    /// Base URL code hosts deliver webhooks to (`None`: the public URL).
    pub webhook_url: Option<String>,
    /// Where build events are pushed (`None`: only the feed).
    pub build_events: Option<BuildEventsPush>,
    /// How often each auto-build registration is checked and repaired at its code host
    /// (`None`: never; repairs only on request).
    pub reconcile_interval: Option<Duration>,
    /// How long one attempt at an unbind's follow-up work (`crate::jobs`) holds it; a replica
    /// that dies mid-way holds it no longer than this.
    pub cleanup_lease: Duration,
    /// Test hook: an unbind stops right after its commit, as if the process died there (the
    /// request answers 503 and the follow-up is left to the worker).
    #[doc(hidden)]
    pub stop_after_unbind_commit: bool,
}

impl Config {
    pub fn local_mode(&self) -> bool {
        self.identity_key.is_none()
    }

    /// Defaults for everything: local mode, `./data`.
    pub fn defaults() -> Self {
        Config {
            data_dir: PathBuf::from("./data"),
            identity_key: None,
            identity_previous_key: None,
            identity_audience: None,
            identity_issuer: None,
            encryption_key: None,
            build_node_cidrs: Vec::new(),
            allow_loopback: false,
            outbound_allow: OutboundAllow::default(),
            provider_timeout: MAX_PROVIDER_TIMEOUT,
            public_url: None,
            log_json: false,
            hosts: HostsConfig::default(),
            frame_ancestors: Vec::new(),
            widget_origins: Vec::new(),
            base_path: String::new(),
            build_url: None,
            widget_dir: PathBuf::from("target/widget"),
            pending_ttl: Duration::from_secs(10 * 60),
            service_token: None,
            audit_retention: Duration::from_secs(90 * 86_400),
            expiry_warning_days: 7,
            health_interval: Some(Duration::from_secs(3600)),
            store: StoreConfig::Sled,
            decrypt_keys: Vec::new(),
            // Three attempts of at most 10 s each, with back-off, fit well inside.
            refresh_lease: Duration::from_secs(60),
            webhook_url: None,
            build_events: None,
            reconcile_interval: Some(Duration::from_secs(3600)),
            cleanup_lease: Duration::from_secs(120),
            stop_after_unbind_commit: false,
        }
    }

    /// Loads the process configuration. Returns the config and warnings to log once logging is up.
    pub fn from_env() -> anyhow::Result<(Self, Vec<String>)> {
        let vars: HashMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with("CODESOURCE_"))
            .collect();
        Self::from_vars(&vars)
    }

    pub fn from_vars(vars: &HashMap<String, String>) -> anyhow::Result<(Self, Vec<String>)> {
        let host_vars = hosts::known_vars();
        let mut warnings: Vec<String> = vars
            .keys()
            .filter(|k| !KNOWN_VARS.contains(&k.as_str()) && !host_vars.contains(k))
            .map(|k| format!("unknown setting {k} is ignored (check the spelling; see README)"))
            .collect();
        warnings.sort();

        let mut file = FileConfig::default();
        if let Some(path) = vars.get("CODESOURCE_CONFIG") {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading config file {path}"))?;
            file = FileConfig::parse(&text, path)?;
        }
        let legacy_hosts = file.legacy_hosts();
        let host_sections = std::mem::take(&mut file.hosts);
        let var = |k: &str| {
            vars.get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };

        let mut c = Config::defaults();
        if let Some(d) = var("CODESOURCE_DATA_DIR").or(file.data_dir) {
            c.data_dir = PathBuf::from(d);
        }
        c.apply_identity(&var, file.identity)?;
        c.encryption_key = secret(
            var("CODESOURCE_ENCRYPTION_KEY").or(file.encryption_key),
            var("CODESOURCE_ENCRYPTION_KEY_FILE").or(file.encryption_key_file),
            "CODESOURCE_ENCRYPTION_KEY",
        )?
        .map(|s| crypto::parse_key(&s))
        .transpose()
        .context("CODESOURCE_ENCRYPTION_KEY must be 32 random bytes in base64 (e.g. `head -c 32 /dev/urandom | base64`)")?;

        let cidrs = match var("CODESOURCE_BUILD_NODE_CIDRS") {
            Some(v) => v
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            None => file.build_node_cidrs.unwrap_or_default(),
        };
        c.build_node_cidrs = parse_cidrs(&cidrs)?;
        if let Some(v) = var("CODESOURCE_ALLOW_LOOPBACK") {
            c.allow_loopback =
                parse_bool(&v).context("CODESOURCE_ALLOW_LOOPBACK must be true or false")?;
        } else if let Some(b) = file.allow_loopback {
            c.allow_loopback = b;
        }
        let allow = match var("CODESOURCE_OUTBOUND_ALLOW") {
            Some(v) => v.split(',').map(|s| s.trim().to_string()).collect(),
            None => file.outbound_allow.unwrap_or_default(),
        };
        c.outbound_allow = OutboundAllow::parse(&allow)?;
        if let Some(t) = var("CODESOURCE_PROVIDER_TIMEOUT_SECS")
            .map(|v| v.parse::<u64>())
            .transpose()
            .context("CODESOURCE_PROVIDER_TIMEOUT_SECS must be a whole number of seconds")?
            .or(file.provider_timeout_secs)
        {
            if t == 0 || Duration::from_secs(t) > MAX_PROVIDER_TIMEOUT {
                bail!("CODESOURCE_PROVIDER_TIMEOUT_SECS must be between 1 and 10");
            }
            c.provider_timeout = Duration::from_secs(t);
        }
        c.public_url = var("CODESOURCE_PUBLIC_URL")
            .or(file.public_url)
            .map(|u| u.trim_end_matches('/').to_string());
        c.log_json = matches!(
            var("CODESOURCE_LOG_FORMAT").or(file.log_format).as_deref(),
            Some("json")
        );
        c.hosts = HostsConfig::load(&var, host_sections, legacy_hosts)?;
        c.apply_embedding(&var, file.embedding)?;
        c.apply_storage(&var, file.storage)?;
        c.apply_autobuild(&var, file.autobuild)?;
        c.service_token = secret(
            var("CODESOURCE_SERVICE_TOKEN").or(file.service_token),
            var("CODESOURCE_SERVICE_TOKEN_FILE").or(file.service_token_file),
            "CODESOURCE_SERVICE_TOKEN",
        )?
        .map(SecretString::new);
        if c.service_token
            .as_ref()
            .is_some_and(|t| t.expose().len() < 32)
        {
            bail!("CODESOURCE_SERVICE_TOKEN must be at least 32 characters (e.g. `head -c 32 /dev/urandom | base64`)");
        }
        if let Some(days) = var("CODESOURCE_AUDIT_RETENTION_DAYS")
            .map(|v| v.parse::<u64>())
            .transpose()
            .context("CODESOURCE_AUDIT_RETENTION_DAYS must be a whole number of days")?
            .or(file.audit_retention_days)
        {
            if days == 0 {
                bail!("CODESOURCE_AUDIT_RETENTION_DAYS must be at least 1");
            }
            c.audit_retention = Duration::from_secs(days * 86_400);
        }
        if let Some(d) = var("CODESOURCE_EXPIRY_WARNING_DAYS")
            .or(file.expiry_warning_days.map(|d| d.to_string()))
        {
            c.expiry_warning_days = d
                .parse::<u16>()
                .context("CODESOURCE_EXPIRY_WARNING_DAYS must be a number of days")?
                as i64;
        }
        if let Some(s) = var("CODESOURCE_HEALTH_INTERVAL_SECS")
            .or(file.health_interval_secs.map(|s| s.to_string()))
        {
            let secs = s
                .parse::<u64>()
                .context("CODESOURCE_HEALTH_INTERVAL_SECS must be a number of seconds (0: off)")?;
            c.health_interval = (secs > 0).then(|| Duration::from_secs(secs.max(10)));
        }

        if !c.local_mode() && c.encryption_key.is_none() {
            bail!(
                "CODESOURCE_IDENTITY_KEY is set, so this is not local mode: set CODESOURCE_ENCRYPTION_KEY \
                 or CODESOURCE_ENCRYPTION_KEY_FILE to 32 random bytes in base64 \
                 (e.g. `head -c 32 /dev/urandom | base64`)"
            );
        }
        Ok((c, warnings))
    }
}

#[cfg(test)]
mod tests;
