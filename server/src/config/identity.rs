//! The console identity settings: the HS256 key (whose presence leaves local mode), the previous
//! key still accepted during a rotation, and the `aud` / `iss` every token must carry. Checked
//! here, so a short key or an empty audience stops the start instead of weakening the check.

use super::sources::secret;
use super::Config;
use crate::secret::SecretBytes;
use anyhow::bail;
use serde::Deserialize;

/// HMAC-SHA-256 keys shorter than its output are guessable more cheaply than the MAC.
const MIN_KEY_LEN: usize = 32;

/// The identity keys of the TOML file (flattened into it).
#[derive(Default, Deserialize)]
pub(super) struct IdentityFile {
    identity_key: Option<String>,
    identity_key_file: Option<String>,
    identity_previous_key: Option<String>,
    identity_previous_key_file: Option<String>,
    identity_audience: Option<String>,
    identity_issuer: Option<String>,
}

fn key(
    var: &dyn Fn(&str) -> Option<String>,
    name: &str,
    value: Option<String>,
    file: Option<String>,
) -> anyhow::Result<Option<SecretBytes>> {
    let Some(k) = secret(
        var(name).or(value),
        var(&format!("{name}_FILE")).or(file),
        name,
    )?
    else {
        return Ok(None);
    };
    if k.len() < MIN_KEY_LEN {
        bail!("{name} must be at least {MIN_KEY_LEN} bytes (the console's HS256 key)");
    }
    Ok(Some(SecretBytes::new(k.into_bytes())))
}

impl Config {
    pub(super) fn apply_identity(
        &mut self,
        var: &dyn Fn(&str) -> Option<String>,
        file: IdentityFile,
    ) -> anyhow::Result<()> {
        self.identity_key = key(
            var,
            "CODESOURCE_IDENTITY_KEY",
            file.identity_key,
            file.identity_key_file,
        )?;
        self.identity_previous_key = key(
            var,
            "CODESOURCE_IDENTITY_PREVIOUS_KEY",
            file.identity_previous_key,
            file.identity_previous_key_file,
        )?;
        // Blank file values count as unset, like blank variables (`var` drops those).
        let given = |v: Option<String>| v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        self.identity_audience =
            given(var("CODESOURCE_IDENTITY_AUDIENCE").or(file.identity_audience));
        self.identity_issuer = given(var("CODESOURCE_IDENTITY_ISSUER").or(file.identity_issuer));
        if self.identity_key.is_none() {
            for (name, set) in [
                (
                    "CODESOURCE_IDENTITY_PREVIOUS_KEY",
                    self.identity_previous_key.is_some(),
                ),
                (
                    "CODESOURCE_IDENTITY_AUDIENCE",
                    self.identity_audience.is_some(),
                ),
                ("CODESOURCE_IDENTITY_ISSUER", self.identity_issuer.is_some()),
            ] {
                // Local mode checks no token: a setting that would check one is a mistake.
                if set {
                    bail!("{name} is set but CODESOURCE_IDENTITY_KEY is not (local mode checks no identity)");
                }
            }
        }
        Ok(())
    }
}
