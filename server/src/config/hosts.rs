//! Code host settings as data: one section per host, `[hosts.<id>]` in the TOML file and
//! `CODESOURCE_<ID>_{URL,API_URL,CLIENT_ID,CLIENT_SECRET,CLIENT_SECRET_FILE}` in the
//! environment, the same five names for every host (a host ignores what it has no use for and
//! the start warns about it). The flat names of the first four hosts' era (`github_url = …`
//! at the top of the file) still work. Defaults are the host modules' (`crate::hosts`).

use super::sources::{oauth_app, secret, Layers};
use super::OAuthApp;
use anyhow::bail;
use app::api::Provider;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

/// The flat file keys of the first four hosts' era (`<host>_<field>`), still read.
const LEGACY: [(Provider, &[&str]); 4] = [
    (Provider::GitLab, &["url"]),
    (
        Provider::GitHub,
        &[
            "url",
            "api_url",
            "client_id",
            "client_secret",
            "client_secret_file",
        ],
    ),
    (
        Provider::Gitee,
        &["url", "client_id", "client_secret", "client_secret_file"],
    ),
    (Provider::DevCloud, &["url"]),
];

/// The keys of the TOML file that belong to the hosts: `hosts` and the flat ones.
pub(super) fn file_keys() -> impl Iterator<Item = String> {
    LEGACY
        .iter()
        .flat_map(|(p, fields)| fields.iter().map(move |f| format!("{}_{f}", p.as_str())))
        .chain(["hosts".to_string()])
}

/// One host's settings; `None` means the host's default.
#[derive(Debug, Default)]
pub struct HostConfig {
    /// Web base (OAuth hosts), the default address (access-token hosts), or the clone host
    /// (DevCloud).
    pub url: Option<String>,
    /// REST API base, where it is not the web base (GitHub, Bitbucket).
    pub api_url: Option<String>,
    /// The registered OAuth app (OAuth hosts).
    pub app: Option<OAuthApp>,
}

impl HostConfig {
    pub fn url_or(&self, default: &str) -> String {
        self.url.clone().unwrap_or_else(|| default.to_string())
    }

    pub fn api_url_or(&self, default: &str) -> String {
        self.api_url.clone().unwrap_or_else(|| default.to_string())
    }
}

/// Every host's settings.
#[derive(Debug, Default)]
pub struct HostsConfig {
    by_host: BTreeMap<Provider, HostConfig>,
}

/// A `[hosts.<id>]` section of the TOML file.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostFile {
    url: Option<String>,
    api_url: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    client_secret_file: Option<String>,
}

impl HostFile {
    /// A host's flat keys of earlier versions, as a section.
    fn legacy(layers: &Layers, p: Provider) -> anyhow::Result<HostFile> {
        let fields = LEGACY
            .iter()
            .find(|(host, _)| *host == p)
            .map_or(&[][..], |(_, f)| *f);
        let get = |field: &str| -> anyhow::Result<Option<String>> {
            if fields.contains(&field) {
                layers.file(&format!("{}_{field}", p.as_str()))
            } else {
                Ok(None)
            }
        };
        Ok(HostFile {
            url: get("url")?,
            api_url: get("api_url")?,
            client_id: get("client_id")?,
            client_secret: get("client_secret")?,
            client_secret_file: get("client_secret_file")?,
        })
    }
}

/// The variable-name stems every host has.
const STEMS: [&str; 5] = [
    "URL",
    "API_URL",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "CLIENT_SECRET_FILE",
];

/// The environment variables of every host.
pub fn known_vars() -> Vec<String> {
    Provider::ALL
        .iter()
        .flat_map(|p| STEMS.iter().map(move |s| var_name(*p, s)))
        .collect()
}

fn var_name(p: Provider, stem: &str) -> String {
    format!("CODESOURCE_{}_{stem}", p.as_str().to_ascii_uppercase())
}

impl HostsConfig {
    pub fn get(&self, p: Provider) -> &HostConfig {
        static NONE: HostConfig = HostConfig {
            url: None,
            api_url: None,
            app: None,
        };
        self.by_host.get(&p).unwrap_or(&NONE)
    }

    pub fn get_mut(&mut self, p: Provider) -> &mut HostConfig {
        self.by_host.entry(p).or_default()
    }

    /// Environment over `[hosts.<id>]` over the flat file keys of earlier versions.
    pub(super) fn load(layers: &Layers) -> anyhow::Result<HostsConfig> {
        let mut sections: HashMap<String, HostFile> = layers.file("hosts")?.unwrap_or_default();
        if let Some(unknown) = sections.keys().find(|k| Provider::parse(k).is_none()) {
            let known: Vec<&str> = Provider::ALL.iter().map(|p| p.as_str()).collect();
            bail!(
                "[hosts.{unknown}]: no such code host (known: {})",
                known.join(", ")
            );
        }
        let mut out = HostsConfig::default();
        for p in Provider::ALL {
            let file = sections.remove(p.as_str()).unwrap_or_default();
            let old = HostFile::legacy(layers, p)?;
            let pick = |stem: &str, f: Option<String>, o: Option<String>| {
                layers.var(&var_name(p, stem)).or(f).or(o)
            };
            let url = pick("URL", file.url, old.url).map(|u| u.trim_end_matches('/').to_string());
            let api_url = pick("API_URL", file.api_url, old.api_url)
                .map(|u| u.trim_end_matches('/').to_string());
            for u in url.iter().chain(api_url.iter()) {
                if !(u.starts_with("https://") || u.starts_with("http://"))
                    || url::Url::parse(u).is_err()
                {
                    bail!("{}: must be an http(s) URL, got {u:?}", var_name(p, "URL"));
                }
            }
            let prefix = format!("CODESOURCE_{}", p.as_str().to_ascii_uppercase());
            let app = oauth_app(
                pick("CLIENT_ID", file.client_id, old.client_id),
                secret(
                    pick("CLIENT_SECRET", file.client_secret, old.client_secret),
                    pick(
                        "CLIENT_SECRET_FILE",
                        file.client_secret_file,
                        old.client_secret_file,
                    ),
                    &format!("{prefix}_CLIENT_SECRET"),
                )?,
                &prefix,
            )?;
            out.by_host.insert(p, HostConfig { url, api_url, app });
        }
        Ok(out)
    }
}
