//! Layering, validation and secrets of the configuration.

use super::*;

pub(super) fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn defaults_are_local_mode() {
    let (c, w) = Config::from_vars(&vars(&[])).unwrap();
    assert!(c.local_mode() && w.is_empty());
    assert_eq!(c.gitlab_url, "https://gitlab.com");
    assert_eq!(c.provider_timeout, MAX_PROVIDER_TIMEOUT);
}

#[test]
fn warns_about_unknown_variables() {
    let (_, w) = Config::from_vars(&vars(&[("CODESOURCE_DATADIR", "x")])).unwrap();
    assert_eq!(w.len(), 1);
    assert!(w[0].contains("CODESOURCE_DATADIR"));
}

#[test]
fn non_local_mode_requires_the_encryption_key() {
    let key = "k".repeat(32);
    let err = Config::from_vars(&vars(&[("CODESOURCE_IDENTITY_KEY", &key)])).unwrap_err();
    assert!(format!("{err:#}").contains("CODESOURCE_ENCRYPTION_KEY"));
    let enc = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
    let (c, _) = Config::from_vars(&vars(&[
        ("CODESOURCE_IDENTITY_KEY", &key),
        ("CODESOURCE_ENCRYPTION_KEY", enc),
    ]))
    .unwrap();
    assert!(!c.local_mode());
}

#[test]
fn parses_cidrs_timeouts_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let toml_path = dir.path().join("c.toml");
    std::fs::write(
        &toml_path,
        "build_node_cidrs = [\"192.168.1.7/24\"]\nprovider_timeout_secs = 3\n",
    )
    .unwrap();
    let (c, _) =
        Config::from_vars(&vars(&[("CODESOURCE_CONFIG", toml_path.to_str().unwrap())])).unwrap();
    assert_eq!(c.build_node_cidrs[0].to_string(), "192.168.1.0/24");
    assert_eq!(c.provider_timeout, Duration::from_secs(3));
    // the environment wins over the file
    let (c, _) = Config::from_vars(&vars(&[
        ("CODESOURCE_CONFIG", toml_path.to_str().unwrap()),
        ("CODESOURCE_BUILD_NODE_CIDRS", "10.0.0.0/8, 100.64.0.0/10"),
    ]))
    .unwrap();
    assert_eq!(c.build_node_cidrs.len(), 2);
    assert!(Config::from_vars(&vars(&[("CODESOURCE_BUILD_NODE_CIDRS", "10.0.0.0/33")])).is_err());
    assert!(Config::from_vars(&vars(&[("CODESOURCE_PROVIDER_TIMEOUT_SECS", "60")])).is_err());
    let (c, _) = Config::from_vars(&vars(&[
        ("CODESOURCE_GITHUB_CLIENT_ID", "id"),
        ("CODESOURCE_GITHUB_CLIENT_SECRET", "s"),
        ("CODESOURCE_GITHUB_URL", "https://ghe.example/"),
    ]))
    .unwrap();
    assert_eq!(c.github_app.unwrap().client_id, "id");
    assert_eq!(c.github_url, "https://ghe.example");
    assert!(
        Config::from_vars(&vars(&[("CODESOURCE_GITEE_CLIENT_ID", "id")])).is_err(),
        "half an app"
    );
    std::fs::write(&toml_path, "typo_key = 1\n").unwrap();
    assert!(
        Config::from_vars(&vars(&[("CODESOURCE_CONFIG", toml_path.to_str().unwrap())])).is_err()
    );
}

#[test]
fn devcloud_address_has_a_default_and_can_be_set() {
    let (c, _) = Config::from_vars(&vars(&[])).unwrap();
    assert_eq!(c.devcloud_url, DEFAULT_DEVCLOUD_URL);
    let (c, w) = Config::from_vars(&vars(&[(
        "CODESOURCE_DEVCLOUD_URL",
        "https://codehub.devcloud.cn-east-3.huaweicloud.com/",
    )]))
    .unwrap();
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(
        c.devcloud_url,
        "https://codehub.devcloud.cn-east-3.huaweicloud.com"
    );
    let err = Config::from_vars(&vars(&[("CODESOURCE_DEVCLOUD_URL", "devcloud")])).unwrap_err();
    assert!(format!("{err:#}").contains("CODESOURCE_DEVCLOUD_URL"));
}
