//! Layering, validation and secrets of the configuration.

use super::*;
use app::api::Provider;

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
    assert_eq!(
        c.hosts.get(Provider::GitLab).url,
        None,
        "the host's own default applies"
    );
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
    assert_eq!(
        c.hosts
            .get(Provider::GitHub)
            .app
            .as_ref()
            .unwrap()
            .client_id,
        "id"
    );
    assert_eq!(
        c.hosts.get(Provider::GitHub).url.as_deref(),
        Some("https://ghe.example")
    );
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
    assert_eq!(c.hosts.get(Provider::DevCloud).url, None);
    let (c, w) = Config::from_vars(&vars(&[(
        "CODESOURCE_DEVCLOUD_URL",
        "https://codehub.devcloud.cn-east-3.huaweicloud.com/",
    )]))
    .unwrap();
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(
        c.hosts.get(Provider::DevCloud).url.as_deref(),
        Some("https://codehub.devcloud.cn-east-3.huaweicloud.com")
    );
    let err = Config::from_vars(&vars(&[("CODESOURCE_DEVCLOUD_URL", "devcloud")])).unwrap_err();
    assert!(format!("{err:#}").contains("CODESOURCE_DEVCLOUD_URL"));
}

/// Hosts are configured as data: `[hosts.<id>]` sections and the same five variables per
/// host; the flat keys of earlier versions still work, and the environment wins.
#[test]
fn hosts_are_sections_and_old_names_still_work() {
    let dir = tempfile::tempdir().unwrap();
    let toml_path = dir.path().join("c.toml");
    std::fs::write(
        &toml_path,
        r#"
gitlab_url = "https://gitlab.old-style.example"
github_client_id = "old-id"
github_client_secret = "old-secret"

[hosts.bitbucket]
client_id = "bb-id"
client_secret = "bb-secret"
api_url = "https://bb-api.example/"

[hosts.gitea]
url = "https://gitea.example"
"#,
    )
    .unwrap();
    let path = toml_path.to_str().unwrap();
    let (c, w) = Config::from_vars(&vars(&[
        ("CODESOURCE_CONFIG", path),
        ("CODESOURCE_BITBUCKET_URL", "https://bb.example"),
    ]))
    .unwrap();
    assert!(w.is_empty(), "every host variable is known: {w:?}");
    let bb = c.hosts.get(Provider::Bitbucket);
    assert_eq!(bb.url.as_deref(), Some("https://bb.example"));
    assert_eq!(bb.api_url.as_deref(), Some("https://bb-api.example"));
    assert_eq!(bb.app.as_ref().unwrap().client_id, "bb-id");
    let gitea = c.hosts.get(Provider::Gitea);
    assert_eq!(gitea.url.as_deref(), Some("https://gitea.example"));
    assert_eq!(
        c.hosts.get(Provider::GitLab).url.as_deref(),
        Some("https://gitlab.old-style.example")
    );
    assert_eq!(
        c.hosts
            .get(Provider::GitHub)
            .app
            .as_ref()
            .unwrap()
            .client_id,
        "old-id"
    );
    std::fs::write(
        &toml_path,
        "[hosts.sourceforge]\nurl = \"https://x.example\"\n",
    )
    .unwrap();
    let err = Config::from_vars(&vars(&[("CODESOURCE_CONFIG", path)])).unwrap_err();
    assert!(format!("{err:#}").contains("no such code host"), "{err:#}");
    let bad = Config::from_vars(&vars(&[("CODESOURCE_GITEA_URL", "gitea.example")]));
    assert!(bad.is_err(), "not an http(s) URL");
}

/// A mistake in the TOML file is located (line, column, key) without quoting the file: the
/// line or the value could be a secret.
#[test]
fn a_bad_config_file_is_reported_without_its_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("codesource.toml");
    for (text, expected) in [
        (
            "data_dir = \"/tmp\"\nservice_token = s3cr3t-unquoted\n",
            "line 2, column 17 (key service_token)",
        ),
        (
            "service_token = 4242424242\n",
            "line 1, column 17 (key service_token): invalid type",
        ),
        (
            "database_pool_size = \"s3cr3t\"\n",
            "(key database_pool_size): invalid type: string",
        ),
        (
            "identity_key = \"s3cr3t\"\nsurprise = 1\n",
            "unknown field `surprise`",
        ),
    ] {
        std::fs::write(&path, text).unwrap();
        let err =
            Config::from_vars(&vars(&[("CODESOURCE_CONFIG", path.to_str().unwrap())])).unwrap_err();
        let shown = format!("{err:#}");
        assert!(shown.contains(expected), "{shown}");
        for secret in ["s3cr3t", "4242424242"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}

#[test]
fn reads_the_outbound_allow_list_from_the_environment_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let toml_path = dir.path().join("c.toml");
    std::fs::write(
        &toml_path,
        "outbound_allow = [\"10.20.0.0/16\", \"gitlab.corp.example\"]\n",
    )
    .unwrap();
    let file = toml_path.to_str().unwrap();
    let (c, w) = Config::from_vars(&vars(&[("CODESOURCE_CONFIG", file)])).unwrap();
    assert!(w.is_empty(), "{w:?}");
    assert!(c.outbound_allow.contains("10.20.3.4".parse().unwrap()));
    assert!(c.outbound_allow.has_name("gitlab.corp.example"));
    // The environment wins over the file.
    let (c, w) = Config::from_vars(&vars(&[
        ("CODESOURCE_CONFIG", file),
        (
            "CODESOURCE_OUTBOUND_ALLOW",
            "192.168.7.0/24, gitea.corp.example",
        ),
    ]))
    .unwrap();
    assert!(w.is_empty(), "{w:?}");
    assert!(!c.outbound_allow.contains("10.20.3.4".parse().unwrap()));
    assert!(c.outbound_allow.contains("192.168.7.9".parse().unwrap()));
    assert!(c.outbound_allow.has_name("gitea.corp.example"));
    assert!(Config::defaults().outbound_allow.is_empty());
    let err =
        Config::from_vars(&vars(&[("CODESOURCE_OUTBOUND_ALLOW", "10.0.0.0/40")])).unwrap_err();
    assert!(format!("{err:#}").contains("CODESOURCE_OUTBOUND_ALLOW"));
}

/// docs/operating.md's configuration table is the declaration's: a setting added, renamed or
/// re-documented in one and not the other fails here (the message has the rows to paste).
#[test]
fn the_docs_table_is_the_declaration() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/operating.md");
    let docs = std::fs::read_to_string(path).unwrap();
    let documented: Vec<&str> = docs
        .lines()
        .filter(|l| l.starts_with("| `CODESOURCE_"))
        .collect();
    let declared = Config::docs_table();
    assert!(
        documented == declared,
        "docs/operating.md's settings differ from config/mod.rs; the declaration's rows:\n{}",
        declared.join("\n")
    );
}

/// Every declared setting is a known variable, and so is `*_FILE` for exactly the secrets.
#[test]
fn every_declared_variable_is_known() {
    let known = known_vars();
    for s in Config::SETTINGS {
        let name = sources::env_name(s.key);
        assert!(known.contains(&name), "{name}");
        assert_eq!(
            known.contains(&format!("{name}_FILE")),
            s.secret,
            "{name}_FILE"
        );
    }
}
