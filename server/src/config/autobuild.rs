//! Settings of auto-build: where code hosts deliver pushes (the ingress may be published on
//! another address than the console: code hosts must reach it, users need not), and where
//! build events are pushed to the build service, with the Standard Webhooks secret; how often
//! registrations are reconciled with their code host.

use super::sources::secret;
use super::Config;
use crate::secret::SecretString;
use anyhow::{bail, Context};
use serde::Deserialize;
use std::time::Duration;

/// The auto-build keys of the TOML file (flattened into it).
#[derive(Default, Deserialize)]
pub(super) struct AutoBuildFile {
    webhook_url: Option<String>,
    build_events_url: Option<String>,
    build_events_secret: Option<String>,
    build_events_secret_file: Option<String>,
    reconcile_interval_secs: Option<u64>,
}

/// Where build events are pushed.
#[derive(Debug)]
pub struct BuildEventsPush {
    pub url: String,
    /// `whsec_` + base64, as Standard Webhooks libraries take it.
    pub secret: SecretString,
}

impl Config {
    pub(super) fn apply_autobuild(
        &mut self,
        var: &dyn Fn(&str) -> Option<String>,
        file: AutoBuildFile,
    ) -> anyhow::Result<()> {
        self.webhook_url = var("CODESOURCE_WEBHOOK_URL")
            .or(file.webhook_url)
            .map(|u| u.trim_end_matches('/').to_string());
        if let Some(u) = &self.webhook_url {
            if !(u.starts_with("https://") || u.starts_with("http://")) || u.contains(['?', '#']) {
                bail!("CODESOURCE_WEBHOOK_URL: {u:?} is not a base URL such as https://hooks.example.com");
            }
        }
        let url = var("CODESOURCE_BUILD_EVENTS_URL").or(file.build_events_url);
        let secret = secret(
            var("CODESOURCE_BUILD_EVENTS_SECRET").or(file.build_events_secret),
            var("CODESOURCE_BUILD_EVENTS_SECRET_FILE").or(file.build_events_secret_file),
            "CODESOURCE_BUILD_EVENTS_SECRET",
        )?;
        self.build_events = match (url, secret) {
            (None, None) => None,
            (Some(url), Some(secret)) => {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    bail!("CODESOURCE_BUILD_EVENTS_URL: {url:?} is not an http(s) URL");
                }
                if secret.len() < 24 {
                    bail!("CODESOURCE_BUILD_EVENTS_SECRET must be at least 24 characters (e.g. `echo whsec_$(head -c 32 /dev/urandom | base64)`)");
                }
                Some(BuildEventsPush {
                    url,
                    secret: SecretString::new(secret),
                })
            }
            (Some(_), None) => bail!("CODESOURCE_BUILD_EVENTS_URL is set: set CODESOURCE_BUILD_EVENTS_SECRET (or _FILE) too, so the build service can verify what it gets"),
            (None, Some(_)) => bail!("CODESOURCE_BUILD_EVENTS_SECRET is set without CODESOURCE_BUILD_EVENTS_URL"),
        };
        if let Some(s) = var("CODESOURCE_RECONCILE_INTERVAL_SECS")
            .or(file.reconcile_interval_secs.map(|s| s.to_string()))
        {
            let secs = s.parse::<u64>().context(
                "CODESOURCE_RECONCILE_INTERVAL_SECS must be a number of seconds (0: off)",
            )?;
            // At least a minute: each check costs a few calls against the host's rate limit.
            self.reconcile_interval = (secs > 0).then(|| Duration::from_secs(secs.max(60)));
        }
        Ok(())
    }
}
