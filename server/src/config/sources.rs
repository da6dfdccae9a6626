//! Where settings come from besides the environment: the optional TOML file, `*_FILE` secrets,
//! and the small parsers shared by the settings.

use super::hosts::HostFile;
use super::{autobuild, embedding, identity, storage, OAuthApp};
use crate::secret::SecretString;
use anyhow::{bail, Context};
use app::api::Provider;
use ipnet::IpNet;
use serde::Deserialize;

/// The optional TOML file. Same names as the variables, lowercase, without the prefix.
/// Not `Debug` (nor are the sections flattened into it): it holds secrets as plain strings
/// until `Config` wraps them.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileConfig {
    pub(super) data_dir: Option<String>,
    #[serde(flatten)]
    pub(super) identity: identity::IdentityFile,
    pub(super) encryption_key: Option<String>,
    pub(super) encryption_key_file: Option<String>,
    pub(super) build_node_cidrs: Option<Vec<String>>,
    pub(super) allow_loopback: Option<bool>,
    pub(super) outbound_allow: Option<Vec<String>>,
    pub(super) provider_timeout_secs: Option<u64>,
    pub(super) public_url: Option<String>,
    pub(super) log_format: Option<String>,
    /// `[hosts.<id>]` sections (see `super::hosts`).
    #[serde(default)]
    pub(super) hosts: std::collections::HashMap<String, HostFile>,
    // The flat host keys of earlier versions, still read (see `legacy_hosts`).
    pub(super) gitlab_url: Option<String>,
    pub(super) github_url: Option<String>,
    pub(super) github_api_url: Option<String>,
    pub(super) github_client_id: Option<String>,
    pub(super) github_client_secret: Option<String>,
    pub(super) github_client_secret_file: Option<String>,
    pub(super) gitee_url: Option<String>,
    pub(super) gitee_client_id: Option<String>,
    pub(super) gitee_client_secret: Option<String>,
    pub(super) gitee_client_secret_file: Option<String>,
    pub(super) devcloud_url: Option<String>,
    #[serde(flatten)]
    pub(super) embedding: embedding::EmbeddingFile,
    #[serde(flatten)]
    pub(super) storage: storage::StorageFile,
    #[serde(flatten)]
    pub(super) autobuild: autobuild::AutoBuildFile,
    pub(super) service_token: Option<String>,
    pub(super) service_token_file: Option<String>,
    pub(super) audit_retention_days: Option<u64>,
    pub(super) expiry_warning_days: Option<u16>,
    pub(super) health_interval_secs: Option<u64>,
}

impl FileConfig {
    /// The flat keys of earlier versions, as host sections.
    pub(super) fn legacy_hosts(&mut self) -> std::collections::HashMap<Provider, HostFile> {
        let mut m = std::collections::HashMap::new();
        m.insert(
            Provider::GitLab,
            HostFile {
                url: self.gitlab_url.take(),
                ..HostFile::default()
            },
        );
        m.insert(
            Provider::GitHub,
            HostFile {
                url: self.github_url.take(),
                api_url: self.github_api_url.take(),
                client_id: self.github_client_id.take(),
                client_secret: self.github_client_secret.take(),
                client_secret_file: self.github_client_secret_file.take(),
            },
        );
        m.insert(
            Provider::Gitee,
            HostFile {
                url: self.gitee_url.take(),
                client_id: self.gitee_client_id.take(),
                client_secret: self.gitee_client_secret.take(),
                client_secret_file: self.gitee_client_secret_file.take(),
                ..HostFile::default()
            },
        );
        m.insert(
            Provider::DevCloud,
            HostFile {
                url: self.devcloud_url.take(),
                ..HostFile::default()
            },
        );
        m
    }

    /// Parses the file. An error names the line, the column and the key there, and what kind
    /// of mistake it is, but never shows the file's text: `toml`'s own message quotes the line
    /// and the offending value, which may be a secret.
    pub(super) fn parse(text: &str, path: &str) -> anyhow::Result<FileConfig> {
        toml::from_str(text).map_err(|e| {
            // Where: a span within one line is a value or a key; a longer one is a whole table
            // (fields unknown to a table are reported at the table), which says nothing.
            let place = e
                .span()
                .filter(|s| text.get(s.clone()).is_some_and(|t| !t.contains('\n')))
                .map(|s| {
                    let before = &text[..s.start];
                    let line = before.matches('\n').count() + 1;
                    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                    let key = text
                        .lines()
                        .nth(line - 1)
                        .and_then(|l| l.split_once('='))
                        .map(|(k, _)| format!(" (key {})", k.trim()))
                        .unwrap_or_default();
                    format!("line {line}, column {column}{key}: ")
                })
                .unwrap_or_default();
            // What: the message up to its first quoted value (serde quotes a string value with
            // `"`, others with backticks), except for an unknown field,
            // whose quoted name is no secret and is the point.
            let message = e.message();
            let kind = match message.strip_prefix("unknown field `") {
                Some(rest) => format!("unknown field `{}`", rest.split('`').next().unwrap_or("")),
                None => message
                    .split(['`', '"'])
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            };
            let kind = kind.trim().trim_end_matches([':', ',']);
            anyhow::anyhow!("parsing config file {path}: {place}{kind}")
        })
    }
}

/// Both halves of an OAuth app, or neither.
pub(super) fn oauth_app(
    id: Option<String>,
    secret: Option<String>,
    prefix: &str,
) -> anyhow::Result<Option<OAuthApp>> {
    match (id, secret) {
        (Some(client_id), Some(s)) => Ok(Some(OAuthApp {
            client_id,
            client_secret: SecretString::new(s),
        })),
        (None, None) => Ok(None),
        _ => bail!("set both {prefix}_CLIENT_ID and {prefix}_CLIENT_SECRET (or _FILE), or neither"),
    }
}

/// A secret from its variable or from the file `*_FILE` names (not both).
pub(super) fn secret(
    value: Option<String>,
    file: Option<String>,
    name: &str,
) -> anyhow::Result<Option<String>> {
    match (value, file) {
        (Some(_), Some(_)) => bail!("set either {name} or {name}_FILE, not both"),
        (Some(v), None) => Ok(Some(v)),
        (None, Some(path)) => {
            let v = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {name}_FILE {path}"))?;
            Ok(Some(v.trim().to_string()))
        }
        (None, None) => Ok(None),
    }
}

pub fn parse_cidrs(items: &[String]) -> anyhow::Result<Vec<IpNet>> {
    items
        .iter()
        .map(|s| {
            s.parse::<IpNet>().map(|n| n.trunc()).with_context(|| {
                format!("CODESOURCE_BUILD_NODE_CIDRS: {s:?} is not a CIDR such as 10.0.0.0/24")
            })
        })
        .collect()
}

pub(super) fn parse_bool(v: &str) -> anyhow::Result<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => bail!("not a boolean: {v}"),
    }
}
