//! The registry: every code host is in it, each under its own name, with data the page can use.

use super::*;
use crate::config::OAuthApp;
use app::api::{BindMethod, RevocationPolicy};

/// What host modules' own tests build a host with (nothing here is called over the network).
pub(in crate::hosts) fn outbound() -> Outbound {
    Outbound {
        policy: OutboundPolicy::public_only(true),
        timeout: Duration::from_secs(5),
    }
}

/// A configuration with an OAuth app for every host that binds through OAuth.
fn full_config() -> Config {
    let mut c = Config::defaults();
    for p in Provider::ALL {
        c.hosts.get_mut(p).app = Some(OAuthApp {
            client_id: format!("{}-id", p.as_str()),
            client_secret: SecretString::new("secret".into()),
        });
    }
    c
}

/// Fails when a host is added to `Provider` but not to `Provider::ALL`: the match has no
/// catch-all, so a new variant does not compile here until it is listed.
fn listed(p: Provider) -> bool {
    match p {
        Provider::DevCloud
        | Provider::GitHub
        | Provider::GitLab
        | Provider::Gitee
        | Provider::Bitbucket
        | Provider::Gitea => Provider::ALL.contains(&p),
    }
}

/// Which hosts auto-build can put a webhook on (DevCloud has no API for it).
fn has_hooks(p: Provider) -> bool {
    match p {
        Provider::DevCloud => false,
        Provider::GitHub
        | Provider::GitLab
        | Provider::Gitee
        | Provider::Bitbucket
        | Provider::Gitea => true,
    }
}

#[test]
fn every_host_is_registered_under_its_own_name() {
    let hosts = Hosts::from_config(&full_config(), "https://cs.example").unwrap();
    assert_eq!(hosts.all().count(), Provider::ALL.len());
    for p in Provider::ALL {
        assert!(listed(p), "{p:?} is not in Provider::ALL");
        let h = hosts.get(p);
        assert_eq!(
            h.provider(),
            p,
            "the registry line for {p:?} builds another host"
        );
        assert_eq!(h.info().provider, p);
        assert!(h.configured(), "{p:?}");
        // What the page is told matches what the host can do.
        let info = h.info();
        match info.bind {
            BindMethod::OAuth => assert!(h.oauth().is_some(), "{p:?}"),
            BindMethod::AccessToken => assert!(h.access_token().is_some(), "{p:?}"),
            BindMethod::Default => {
                assert_eq!(info.revocation, RevocationPolicy::NotApplicable)
            }
        }
        assert_eq!(info.repositories, h.repos().is_some(), "{p:?}");
        assert_eq!(h.hooks().is_some(), has_hooks(p), "{p:?}");
    }
    // Table order: the seed's four, then Bitbucket and Gitea.
    let order: Vec<&str> = hosts.all().map(|h| h.provider().as_str()).collect();
    assert_eq!(
        order,
        [
            "devcloud",
            "github",
            "gitlab",
            "gitee",
            "bitbucket",
            "gitea"
        ]
    );
}

#[test]
fn oauth_hosts_without_an_app_are_not_configured() {
    let hosts = Hosts::from_config(&Config::defaults(), "https://cs.example").unwrap();
    for p in [Provider::GitHub, Provider::Gitee, Provider::Bitbucket] {
        assert!(!hosts.get(p).configured(), "{p:?}");
        assert!(hosts.get(p).oauth().is_none());
    }
    for p in [Provider::DevCloud, Provider::GitLab, Provider::Gitea] {
        assert!(hosts.get(p).configured(), "{p:?}");
    }
}

#[test]
fn credentials_have_each_hosts_shape() {
    let hosts = Hosts::from_config(&full_config(), "https://cs.example").unwrap();
    let at = Instance {
        address: Some("https://git.example"),
        ca_pem: None,
    };
    let shape = |p| hosts.get(p).credential(at, "alice");
    assert_eq!(
        shape(Provider::Bitbucket),
        CredentialShape {
            base_url: "https://bitbucket.org".into(),
            api_url: Some("https://api.bitbucket.org/2.0".into()),
            git_username: Some("x-token-auth".into()),
        }
    );
    assert_eq!(
        shape(Provider::Gitea),
        CredentialShape {
            base_url: "https://git.example".into(),
            api_url: Some("https://git.example/api/v1".into()),
            git_username: Some("alice".into()),
        }
    );
    assert_eq!(
        shape(Provider::GitLab).git_username.as_deref(),
        Some("oauth2")
    );
    assert_eq!(
        shape(Provider::GitHub).git_username.as_deref(),
        Some("x-access-token")
    );
    assert_eq!(
        shape(Provider::Gitee).git_username.as_deref(),
        Some("alice")
    );
    assert_eq!(shape(Provider::DevCloud).git_username, None);
}

#[test]
fn bitbucket_authorize_url_names_no_scopes_and_gitee_does() {
    let hosts = Hosts::from_config(&full_config(), "https://cs.example").unwrap();
    let (url, verifier) = hosts
        .get(Provider::Bitbucket)
        .oauth()
        .unwrap()
        .authorize_url("state123", &[]);
    assert!(
        url.starts_with("https://bitbucket.org/site/oauth2/authorize?"),
        "{url}"
    );
    assert!(!url.contains("scope="), "{url}");
    assert!(url.contains("redirect_uri=https%3A%2F%2Fcs.example%2Foauth%2Fbitbucket%2Fcallback"));
    assert!(verifier.is_none());
    let (url, _) = hosts
        .get(Provider::Gitee)
        .oauth()
        .unwrap()
        .authorize_url("s", &[]);
    assert!(url.contains("scope=user_info+projects"), "{url}");
}

#[test]
fn github_avatars_are_asked_for_at_row_size() {
    let hosts = Hosts::from_config(&full_config(), "https://cs.example").unwrap();
    let gh = hosts.get(Provider::GitHub);
    assert_eq!(
        gh.avatar_url("https://avatars.githubusercontent.com/u/1?v=4"),
        "https://avatars.githubusercontent.com/u/1?v=4&s=96"
    );
    let sized = "https://avatars.githubusercontent.com/u/1?s=40";
    assert_eq!(gh.avatar_url(sized), sized);
    let other = "https://gitlab.example/uploads/a.png";
    assert_eq!(hosts.get(Provider::GitLab).avatar_url(other), other);
}

fn ip_addr(s: &str) -> std::net::IpAddr {
    s.parse().unwrap()
}

/// The operator's default GitLab and Gitea instances are reachable by name and address; nothing
/// else is opened.
#[test]
fn configured_instances_are_allowed_by_name() {
    let mut c = Config::defaults();
    c.hosts.get_mut(Provider::GitLab).url = Some("https://gitlab.corp.example/gitlab".into());
    c.hosts.get_mut(Provider::Gitea).url = Some("http://10.9.8.7:3000".into());
    let p = outbound_policy(&c);
    assert!(p
        .check_resolved("gitlab.corp.example", ip_addr("10.1.1.1"))
        .is_ok());
    assert!(p.check(ip_addr("10.9.8.7")).is_ok());
    assert!(p.check(ip_addr("10.9.8.6")).is_err());
    assert!(p.check(ip_addr("127.0.0.1")).is_err());
    assert!(outbound_policy(&Config::defaults())
        .check(ip_addr("10.9.8.7"))
        .is_err());
}

/// A listing keeps the repositories our ids can carry and leaves out the others: neither their
/// branches nor auto-build could be asked for by that id.
#[test]
fn listings_leave_out_ids_we_cannot_carry() {
    for ok in ["octo/hello", "42", "ws/repo.name-1_x"] {
        assert_eq!(listed_id(ok).map(|id| id.to_string()).as_deref(), Some(ok));
    }
    for bad in ["octo/hé", "a b", "../etc", ""] {
        assert_eq!(listed_id(bad), None, "{bad}");
    }
}
