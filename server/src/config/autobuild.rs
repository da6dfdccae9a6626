//! Settings of auto-build: where code hosts deliver pushes (the ingress may be published on
//! another address than the console: code hosts must reach it, users need not), and where
//! build events are pushed to the build service, with the Standard Webhooks secret; how often
//! registrations are reconciled with their code host.

use crate::secret::SecretString;
use anyhow::bail;

/// Where build events are pushed.
#[derive(Debug)]
pub struct BuildEventsPush {
    pub url: String,
    /// `whsec_` + base64, as Standard Webhooks libraries take it.
    pub secret: SecretString,
}

/// Reads `CODESOURCE_WEBHOOK_URL`: a base URL, without its trailing `/`.
pub(super) fn webhook_url(u: String, name: &str) -> anyhow::Result<Option<String>> {
    let u = u.trim_end_matches('/').to_string();
    if !(u.starts_with("https://") || u.starts_with("http://")) || u.contains(['?', '#']) {
        bail!("{name}: {u:?} is not a base URL such as https://hooks.example.com");
    }
    Ok(Some(u))
}

/// Reads `CODESOURCE_BUILD_EVENTS_URL`.
pub(super) fn build_events_url(url: String, name: &str) -> anyhow::Result<Option<String>> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        bail!("{name}: {url:?} is not an http(s) URL");
    }
    Ok(Some(url))
}

/// Reads `CODESOURCE_BUILD_EVENTS_SECRET`.
pub(super) fn build_events_secret(
    secret: String,
    name: &str,
) -> anyhow::Result<Option<SecretString>> {
    if secret.len() < 24 {
        bail!("{name} must be at least 24 characters (e.g. `echo whsec_$(head -c 32 /dev/urandom | base64)`)");
    }
    Ok(Some(SecretString::new(secret)))
}

/// The push, from its URL and secret: both or neither.
pub(super) fn build_events(
    url: Option<String>,
    secret: Option<SecretString>,
) -> anyhow::Result<Option<BuildEventsPush>> {
    match (url, secret) {
        (None, None) => Ok(None),
        (Some(url), Some(secret)) => Ok(Some(BuildEventsPush { url, secret })),
        (Some(_), None) => bail!("CODESOURCE_BUILD_EVENTS_URL is set: set CODESOURCE_BUILD_EVENTS_SECRET (or _FILE) too, so the build service can verify what it gets"),
        (None, Some(_)) => bail!("CODESOURCE_BUILD_EVENTS_SECRET is set without CODESOURCE_BUILD_EVENTS_URL"),
    }
}
