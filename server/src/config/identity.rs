//! The console identity settings: the HS256 key (whose presence leaves local mode), the previous
//! key still accepted during a rotation, and the `aud` / `iss` every token must carry. Checked
//! here, so a short key or an empty audience stops the start instead of weakening the check.

use crate::secret::SecretBytes;
use anyhow::bail;

/// HMAC-SHA-256 keys shorter than its output are guessable more cheaply than the MAC.
const MIN_KEY_LEN: usize = 32;

/// Reads `CODESOURCE_IDENTITY_KEY` or `_PREVIOUS_KEY` (`name`).
pub(super) fn key(k: String, name: &str) -> anyhow::Result<Option<SecretBytes>> {
    if k.len() < MIN_KEY_LEN {
        bail!("{name} must be at least {MIN_KEY_LEN} bytes (the console's HS256 key)");
    }
    Ok(Some(SecretBytes::new(k.into_bytes())))
}

/// Reads the audience or the issuer: blank file values count as unset, like blank variables.
pub(super) fn claim(v: String, _: &str) -> anyhow::Result<Option<String>> {
    Ok(Some(v.trim().to_string()).filter(|v| !v.is_empty()))
}

/// Local mode checks no token: a setting that would check one is a mistake. `set` names each
/// such setting and whether it is given.
pub(super) fn check_local_mode(set: [(&str, bool); 3]) -> anyhow::Result<()> {
    if let Some((name, _)) = set.iter().find(|(_, given)| *given) {
        bail!("{name} is set but CODESOURCE_IDENTITY_KEY is not (local mode checks no identity)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::tests::vars;
    use crate::config::Config;
    use crate::identity::{sign_hs256, IdentityError, IdentityVerifier};
    use serde_json::json;

    const KEY: &str = "current-identity-key-0123456789abcdef";
    const PREVIOUS: &str = "previous-identity-key-0123456789abcdef";
    const ENC: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

    fn with_identity(extra: &[(&str, &str)]) -> anyhow::Result<(Config, Vec<String>)> {
        let mut all = vec![
            ("CODESOURCE_IDENTITY_KEY", KEY),
            ("CODESOURCE_ENCRYPTION_KEY", ENC),
        ];
        all.extend_from_slice(extra);
        Config::from_vars(&vars(&all))
    }

    fn token(key: &str, extra: serde_json::Value) -> String {
        let mut c = json!({"sub": "u1", "tenant": "t1", "exp": crate::util::now_secs() + 60});
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        sign_hs256(key.as_bytes(), &c)
    }

    #[test]
    fn the_new_settings_are_known_and_reach_the_verifier() {
        let (c, w) = with_identity(&[
            ("CODESOURCE_IDENTITY_PREVIOUS_KEY", PREVIOUS),
            ("CODESOURCE_IDENTITY_AUDIENCE", " code-sources "),
            ("CODESOURCE_IDENTITY_ISSUER", "https://console.example.com"),
        ])
        .unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(c.identity_audience.as_deref(), Some("code-sources"));
        let v = IdentityVerifier::from_config(&c).unwrap();
        assert_eq!(v.start_up_warning(), None);
        let now = crate::util::now_secs();
        let right = json!({"aud": "code-sources", "iss": "https://console.example.com"});
        assert!(v.verify(&token(KEY, right.clone()), now).is_ok());
        assert!(v.verify(&token(PREVIOUS, right), now).is_ok());
        assert_eq!(
            v.verify(
                &token(
                    KEY,
                    json!({"aud": "billing", "iss": "https://console.example.com"})
                ),
                now
            ),
            Err(IdentityError::Audience)
        );
        assert_eq!(
            v.verify(&token(KEY, json!({"aud": "code-sources"})), now),
            Err(IdentityError::Issuer)
        );
    }

    #[test]
    fn unset_audience_and_issuer_check_nothing_and_warn() {
        let (c, _) = with_identity(&[]).unwrap();
        assert_eq!(
            (c.identity_audience.as_deref(), c.identity_issuer.as_deref()),
            (None, None)
        );
        let v = IdentityVerifier::from_config(&c).unwrap();
        assert!(v.start_up_warning().is_some());
        let any = json!({"aud": "billing", "iss": "elsewhere"});
        assert!(v.verify(&token(KEY, any), crate::util::now_secs()).is_ok());
        assert_eq!(
            v.verify(&token(PREVIOUS, json!({})), crate::util::now_secs()),
            Err(IdentityError::Signature),
            "no previous key configured"
        );
    }

    #[test]
    fn keys_must_be_long_enough() {
        let err = with_identity(&[("CODESOURCE_IDENTITY_PREVIOUS_KEY", "short")]).unwrap_err();
        assert!(format!("{err:#}").contains("CODESOURCE_IDENTITY_PREVIOUS_KEY must be at least 32"));
        let err = Config::from_vars(&vars(&[("CODESOURCE_IDENTITY_KEY", "short")])).unwrap_err();
        assert!(format!("{err:#}").contains("CODESOURCE_IDENTITY_KEY must be at least 32"));
    }

    #[test]
    fn identity_checks_without_an_identity_key_stop_the_start() {
        for name in [
            "CODESOURCE_IDENTITY_PREVIOUS_KEY",
            "CODESOURCE_IDENTITY_AUDIENCE",
            "CODESOURCE_IDENTITY_ISSUER",
        ] {
            let err = Config::from_vars(&vars(&[(name, PREVIOUS)])).unwrap_err();
            assert!(format!("{err:#}").contains(name), "{err:#}");
        }
    }

    #[test]
    fn reads_the_identity_keys_from_the_file_and_files() {
        let dir = tempfile::tempdir().unwrap();
        let previous = dir.path().join("previous");
        std::fs::write(&previous, format!("{PREVIOUS}\n")).unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            format!(
                "identity_key = \"{KEY}\"\nidentity_previous_key_file = {:?}\n\
                 identity_audience = \"cs\"\nidentity_issuer = \"console\"\n\
                 encryption_key = \"{ENC}\"\n",
                previous.to_str().unwrap()
            ),
        )
        .unwrap();
        let file = path.to_str().unwrap();
        let (c, _) = Config::from_vars(&vars(&[("CODESOURCE_CONFIG", file)])).unwrap();
        assert_eq!(
            c.identity_previous_key.as_ref().unwrap().expose(),
            PREVIOUS.as_bytes()
        );
        assert_eq!(c.identity_audience.as_deref(), Some("cs"));
        assert_eq!(c.identity_issuer.as_deref(), Some("console"));
        // The environment wins over the file.
        let (c, _) = Config::from_vars(&vars(&[
            ("CODESOURCE_CONFIG", file),
            ("CODESOURCE_IDENTITY_AUDIENCE", "other"),
        ]))
        .unwrap();
        assert_eq!(c.identity_audience.as_deref(), Some("other"));
        // A key and its file together: ambiguous.
        let both = Config::from_vars(&vars(&[
            ("CODESOURCE_CONFIG", file),
            ("CODESOURCE_IDENTITY_PREVIOUS_KEY", PREVIOUS),
        ]));
        assert!(both.is_err());
    }
}
