//! Configuration, layered: built-in defaults → optional TOML file (`CODESOURCE_CONFIG`) →
//! `CODESOURCE_*` environment variables. Secrets can also come from files (`*_FILE`), so they
//! need not sit in the environment. The listen address is Leptos' own `LEPTOS_SITE_ADDR`.
//!
//! Every setting is one row of the `settings!` table below (see `declare`): its field, default,
//! TOML key and variable, kind, reader and docs text. The code hosts' settings are data of
//! their own (`hosts`); what holds between settings is checked after them (`Config::finish`).

use crate::crypto;
use crate::secret::{SecretBytes, SecretString};
use anyhow::{bail, Context};
use ipnet::IpNet;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

#[macro_use]
mod declare;
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
use sources::{
    base_url, env_name, interval, seconds, Flag, Layers, List, Number, Secret, Text, Words,
};

/// Upper bound for any call to a code host, whatever the configuration says.
pub const MAX_PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

const DAY: u64 = 86_400;

/// The variable naming the TOML file: read before the file, so it is no row of the table.
const CONFIG_VAR: &str = "CODESOURCE_CONFIG";

/// An OAuth application registered at a code host.
#[derive(Debug)]
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: SecretString,
}

settings! {
    /// The process configuration. Each row: the doc comment is the meaning in
    /// docs/operating.md's table; `field: Type = default,` then `key: Kind, "default as the
    /// docs show it", reader;`. The variable is `CODESOURCE_` + the key in upper case; the
    /// reader gets the value (already of the kind's type) and the variable's name for its
    /// errors, and runs only when the setting is given.
    #[derive(Debug)]
    pub struct Config {
        /// sled database and, in local mode, the generated key.
        pub data_dir: PathBuf = PathBuf::from("./data"),
            data_dir: Text, "`./data`", |d, _| Ok(PathBuf::from(d));
        /// The console's HS256 key (≥ 32 bytes) for identity tokens. Setting it leaves local mode.
        /// Without it, every visitor is the one local tenant, so the server refuses to listen on
        /// anything but a loopback address.
        pub identity_key: Option<SecretBytes> = None,
            identity_key: Secret, "– (local mode)", identity::key;
        /// The console's previous HS256 key (≥ 32 bytes), still accepted while the console rotates
        /// its key (see [Rotating the identity key](#rotating-the-identity-key)).
        pub identity_previous_key: Option<SecretBytes> = None,
            identity_previous_key: Secret, "–", identity::key;
        /// The `aud` every identity token must carry (a string, or one of an array of strings).
        /// Unset, a warning at start-up says that tokens the console signs with the same key for
        /// other services are accepted here too.
        pub identity_audience: Option<String> = None,
            identity_audience: Text, "– (not checked)", identity::claim;
        /// The `iss` every identity token must carry (compared exactly). Unset, the same warning.
        pub identity_issuer: Option<String> = None,
            identity_issuer: Text, "– (not checked)", identity::claim;
        /// 32 random bytes, base64 (`head -c 32 /dev/urandom | base64`): encrypts tokens at rest.
        /// Required outside local mode.
        pub encryption_key: Option<SecretBytes> = None,
            encryption_key: Secret, "generated in local mode", |k, name| {
                crypto::parse_key(&k).map(Some).with_context(|| {
                    format!("{name} must be 32 random bytes in base64 (e.g. `head -c 32 /dev/urandom | base64`)")
                })
            };
        /// Comma-separated CIDRs of the build nodes, shown (with copy buttons) for a private
        /// instance's whitelist.
        pub build_node_cidrs: Vec<IpNet> = Vec::new(),
            build_node_cidrs: List, "–", |c, _| parse_cidrs(&c);
        /// Allow instance addresses on loopback (tests only).
        pub allow_loopback: bool = false,
            allow_loopback: Flag, "`false`", |b, _| Ok(b);
        /// Comma-separated CIDRs and/or host names (TOML `outbound_allow = ["10.20.0.0/16",
        /// "gitlab.corp.example"]`) that user-given addresses may reach although they are not
        /// globally routable: a private GitLab or Gitea the build nodes reach through its
        /// whitelist. A CIDR allows the addresses inside it; a host name allows the private
        /// addresses it resolves to, for that name only. By default every private, shared
        /// (100.64/10), documentation, benchmarking, reserved and other non-global address is
        /// refused, as GitLab's own "Allow requests to the local network from webhooks and
        /// integrations" is off by default and Gitea's `ALLOWED_HOST_LIST` defaults to `external`:
        /// otherwise any tenant could map this service's internal network. The hosts of a GitLab or
        /// Gitea URL set in this configuration are allowed as if listed. Loopback still needs
        /// `CODESOURCE_ALLOW_LOOPBACK`; cloud metadata and link-local addresses are never allowed.
        /// An allowed address gets the detailed errors (connection refused, timeout, TLS), so list
        /// the instances (names or narrow CIDRs), not whole networks.
        pub outbound_allow: OutboundAllow = OutboundAllow::default(),
            outbound_allow: List, "– (globally routable addresses only)",
            |a, _| OutboundAllow::parse(&a);
        /// Timeout for each call to a code host (1–10).
        pub provider_timeout: Duration = MAX_PROVIDER_TIMEOUT,
            provider_timeout_secs: Number<u64>, "`10`",
            |s, name| seconds(s, name, 1..=MAX_PROVIDER_TIMEOUT.as_secs());
        /// External base URL (`https://console.example.com`). OAuth redirect URIs are built from
        /// it, and the webhook URLs code hosts deliver pushes to unless `CODESOURCE_WEBHOOK_URL` is
        /// set; state-changing requests must come from its origin (without it, `Origin` must match
        /// `Host`).
        pub public_url: Option<String> = None,
            public_url: Text, "`http://` + listen address", |u, _| Ok(Some(base_url(&u)));
        /// `json` for structured JSON logs. `RUST_LOG` filters (default `info`).
        pub log_json: bool = false,
            log_format: Text, "`text`", |f, _| Ok(f == "json");
        /// Bearer token of the build service for `/api/v1/…` and `/metrics` (≥ 32 characters).
        pub service_token: Option<SecretString> = None,
            service_token: Secret, "– (API refuses all calls)", |t, name| {
                if t.len() < 32 {
                    bail!("{name} must be at least 32 characters (e.g. `head -c 32 /dev/urandom | base64`)");
                }
                Ok(Some(SecretString::new(t)))
            };
        /// How long the activity log keeps entries. Auto-build's build events, remembered delivery
        /// ids and delivery logs are swept after the same time.
        pub audit_retention: Duration = Duration::from_secs(90 * DAY),
            audit_retention_days: Number<u64>, "`90`", |d, name| {
                if d == 0 {
                    bail!("{name} must be at least 1");
                }
                Ok(Duration::from_secs(d * DAY))
            };
        /// A personal access token expiring within this many days shows as "Expiring soon".
        pub expiry_warning_days: i64 = 7,
            expiry_warning_days: Number<u16>, "`7`", |d, _| Ok(i64::from(d));
        /// How often every binding is re-validated at its code host (checkers claim due bindings
        /// every tenth of it, 4 checks at a time, so each binding is checked once per interval
        /// across all replicas; `0` turns it off; at least 10). Opening the page also re-checks a
        /// tenant whose last check is older.
        pub health_interval: Option<Duration> = Some(Duration::from_secs(3600)),
            health_interval_secs: Number<u64>, "`3600`", |s, _| Ok(interval(s, 10));
        /// `postgres://user:password@host:5432/db?sslmode=require`: PostgreSQL shared by every
        /// replica. `sslmode=disable`, `prefer` (the default) or `require`: TLS through rustls, and
        /// the certificate is always verified (against the web PKI roots, or only against
        /// `CODESOURCE_DATABASE_CA_FILE` when it is set, like libpq's `sslrootcert`), so a
        /// self-signed database certificate needs the CA file.
        database_url: Option<SecretString> = None,
            database_url: Secret, "– (sled in the data directory)", storage::database_url;
        /// PEM file with the CA(s) of the database's certificate (managed databases); replaces the
        /// web PKI roots.
        database_ca_file: Option<PathBuf> = None,
            database_ca_file: Text, "–", |f, _| Ok(Some(PathBuf::from(f)));
        /// Connections per replica.
        database_pool_size: usize = 16,
            database_pool_size: Number<usize>, "`16`", |n, name| {
                if !(1..=1000).contains(&n) {
                    bail!("{name} must be between 1 and 1000");
                }
                Ok(n)
            };
        /// Connecting, and waiting for a free connection; past it a request answers 503 "storage
        /// unavailable".
        database_timeout: Duration = Duration::from_secs(5),
            database_timeout_secs: Number<u64>, "`5`", |s, name| seconds(s, name, 1..=300);
        /// PostgreSQL `statement_timeout` of every connection.
        database_statement_timeout: Duration = Duration::from_secs(10),
            database_statement_timeout_secs: Number<u64>, "`10`",
            |s, name| seconds(s, name, 1..=300);
        /// Older encryption keys (base64, comma-separated) that only decrypt, during a key
        /// rotation.
        pub decrypt_keys: Vec<SecretBytes> = Vec::new(),
            decrypt_keys: Secret, "–", storage::decrypt_keys;
        /// How long one replica may hold a binding's token refresh before another may take it over
        /// (2–600).
        // Three attempts of at most 10 s each, with back-off, fit well inside.
        pub refresh_lease: Duration = Duration::from_secs(60),
            refresh_lease_secs: Number<u64>, "`60`", |s, name| seconds(s, name, 2..=600);
        /// Origins, comma-separated, allowed to embed the page in a frame (CSP `frame-ancestors`);
        /// the page talks to its parent only at these.
        pub frame_ancestors: Vec<String> = Vec::new(),
            frame_ancestors: Words, "– (same origin only)", embedding::frame_ancestors;
        /// Origins, comma-separated, exactly `scheme://host[:port]`, whose pages may mount the
        /// widget: CORS with credentials, and their requests pass the cross-site check.
        pub widget_origins: Vec<String> = Vec::new(),
            widget_origins: Words, "– (no CORS)", embedding::widget_origins;
        /// Path prefix everything is served under, e.g. `/console/code-sources` (pages, assets,
        /// server functions, OAuth callbacks, the API, health, the webhook ingress).
        pub base_path: String = String::new(),
            base_path: Text, "– (the root)", |p, _| embedding::base_path(&p);
        /// The widget's files (`trunk build` output), served as `<base>/widget/`; read into memory
        /// at start, like the site.
        pub widget_dir: PathBuf = PathBuf::from("target/widget"),
            widget_dir: Text, "`target/widget`", |d, _| Ok(PathBuf::from(d));
        /// The console's "build an image" page (a console path such as `/console/builds/new`, or an
        /// https URL), linked from the page.
        pub build_url: Option<String> = None,
            build_url: Text, "– (no link)", embedding::build_url;
        /// Base URL code hosts deliver pushes to (auto-build), when it is not the console's: code
        /// hosts must reach it, users need not (e.g. `https://hooks.example.com`). A hook delivers
        /// to `<this><base path>/hooks/{id}`. An `http(s)://` URL without `?` or `#`; a trailing
        /// `/` is dropped. Hooks already registered keep the address they were made with until the
        /// repository's auto-build is turned on again (which replaces its hook at the old address)
        /// or repaired.
        pub webhook_url: Option<String> = None,
            webhook_url: Text, "– (`CODESOURCE_PUBLIC_URL`)", autobuild::webhook_url;
        /// Where build events are POSTed, signed per Standard Webhooks ([the push
        /// contract](api.md#build-events-pushed-to-the-build-service)). An `http(s)://` URL; needs
        /// the secret below.
        build_events_url: Option<String> = None,
            build_events_url: Text, "– (no push; the feed only)", autobuild::build_events_url;
        /// The push's signing secret, `whsec_` + base64 as Standard Webhooks libraries take it
        /// (`echo whsec_$(head -c 32 /dev/urandom | base64)`); at least 24 characters. The HMAC key
        /// is the base64-decoded part; a string without `whsec_` is used as it is. Set both or
        /// neither: one without the other stops the start.
        build_events_secret: Option<SecretString> = None,
            build_events_secret: Secret, "–", autobuild::build_events_secret;
        /// How often each auto-build registration is checked at its code host and repaired (a
        /// missing or disabled hook re-created, duplicates removed, a rename followed; see
        /// [Auto-build](auto-build.md)). Each registration at its own point of the interval, shared
        /// across replicas by a lease; `0` turns it off (repairs then only on request); at least
        /// 60.
        pub reconcile_interval: Option<Duration> = Some(Duration::from_secs(3600)),
            // At least a minute: each check costs a few calls against the host's rate limit.
            reconcile_interval_secs: Number<u64>, "`3600`", |s, _| Ok(interval(s, 60));

    }
    derived {
        /// The code hosts' settings, one section per host.
        pub hosts: HostsConfig = HostsConfig::default();
        /// sled in `data_dir`, or PostgreSQL (from the `database_*` rows).
        pub store: StoreConfig = StoreConfig::Sled;
        /// Where build events are pushed (`None`: only the feed).
        pub build_events: Option<BuildEventsPush> = None;
        /// How long a checked or authorized account waits for Confirm.
        pub pending_ttl: Duration = Duration::from_secs(10 * 60);
        /// How long one attempt at an unbind's follow-up work (`crate::jobs`) holds it; a
        /// replica that dies mid-way holds it no longer than this.
        pub cleanup_lease: Duration = Duration::from_secs(120);
        /// Test hook: an unbind stops right after its commit, as if the process died there (the
        /// request answers 503 and the follow-up is left to the worker).
        #[doc(hidden)]
        pub stop_after_unbind_commit: bool = false;
    }
}

impl Config {
    pub fn local_mode(&self) -> bool {
        self.identity_key.is_none()
    }

    /// Loads the process configuration. Returns the config and warnings to log once logging is up.
    pub fn from_env() -> anyhow::Result<(Self, Vec<String>)> {
        let vars: HashMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with("CODESOURCE_"))
            .collect();
        Self::from_vars(&vars)
    }

    pub fn from_vars(vars: &HashMap<String, String>) -> anyhow::Result<(Self, Vec<String>)> {
        let known = known_vars();
        let mut warnings: Vec<String> = vars
            .keys()
            .filter(|k| !known.contains(k))
            .map(|k| format!("unknown setting {k} is ignored (check the spelling; see README)"))
            .collect();
        warnings.sort();

        let layers = Layers::new(vars, &file_keys())?;
        let mut c = Config::defaults();
        c.read_settings(&layers)?;
        c.hosts = HostsConfig::load(&layers)?;
        c.finish()?;
        Ok((c, warnings))
    }

    /// What holds between settings.
    fn finish(&mut self) -> anyhow::Result<()> {
        if self.identity_key.is_none() {
            identity::check_local_mode([
                (
                    "CODESOURCE_IDENTITY_PREVIOUS_KEY",
                    self.identity_previous_key.is_some(),
                ),
                (
                    "CODESOURCE_IDENTITY_AUDIENCE",
                    self.identity_audience.is_some(),
                ),
                ("CODESOURCE_IDENTITY_ISSUER", self.identity_issuer.is_some()),
            ])?;
        }
        if !self.local_mode() && self.encryption_key.is_none() {
            bail!(
                "CODESOURCE_IDENTITY_KEY is set, so this is not local mode: set CODESOURCE_ENCRYPTION_KEY \
                 or CODESOURCE_ENCRYPTION_KEY_FILE to 32 random bytes in base64 \
                 (e.g. `head -c 32 /dev/urandom | base64`)"
            );
        }
        if let Some(url) = self.database_url.take() {
            self.store = StoreConfig::Postgres(Database {
                url,
                ca_file: self.database_ca_file.clone(),
                pool_size: self.database_pool_size,
                connect_timeout: self.database_timeout,
                statement_timeout: self.database_statement_timeout,
            });
        }
        self.build_events = autobuild::build_events(
            self.build_events_url.take(),
            self.build_events_secret.take(),
        )?;
        Ok(())
    }

    /// docs/operating.md's rows for these settings, as the table declares them.
    #[cfg(test)]
    fn docs_table() -> Vec<String> {
        let config = format!("| `{CONFIG_VAR}` | – | Path of an optional TOML file. |");
        let rows = Self::SETTINGS.iter().map(|s| {
            let file = if s.secret { " / `_FILE`" } else { "" };
            let meaning = s
                .meaning
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
                .replace('|', "\\|");
            format!(
                "| `{}`{file} | {} | {meaning} |",
                env_name(s.key),
                s.default
            )
        });
        std::iter::once(config).chain(rows).collect()
    }
}

/// Every variable we read; anything else starting with `CODESOURCE_` is a typo.
fn known_vars() -> Vec<String> {
    let settings = Config::SETTINGS.iter().flat_map(|s| {
        let name = env_name(s.key);
        let file = s.secret.then(|| format!("{name}_FILE"));
        std::iter::once(name).chain(file)
    });
    std::iter::once(CONFIG_VAR.to_string())
        .chain(settings)
        .chain(hosts::known_vars())
        .collect()
}

/// Every key the TOML file may hold.
fn file_keys() -> Vec<String> {
    let settings = Config::SETTINGS.iter().flat_map(|s| {
        let file = s.secret.then(|| format!("{}_file", s.key));
        std::iter::once(s.key.to_string()).chain(file)
    });
    settings.chain(hosts::file_keys()).collect()
}

#[cfg(test)]
mod tests;
