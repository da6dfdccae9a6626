//! The outbound policy seen from the API: an address that is not globally routable is refused
//! before any connection, with one answer whatever listens there (issue #25: no map of the
//! internal network), in every IPv6 form that carries it; the operator's allow-list opens it.
//! Nothing here sends traffic to a private range: refused addresses are never dialled, and the
//! allow-list is checked through the policy itself.

use crate::support::*;
use codesource_server::config::Config;
use codesource_server::outbound::policy::OutboundPolicy;
use serde_json::json;
use std::collections::HashMap;

#[tokio::test]
async fn internal_addresses_get_one_answer_without_a_connection() {
    let app = spawn_app(Options {
        allow_loopback: false,
        ..Default::default()
    })
    .await;
    let port = app.fake.http.port();
    // The fake GitLab listens on 127.0.0.1:port: in the IPv4-translated (SIIT) form the
    // address was dialled before (502/504 instead of the refusal).
    let siit = format!("http://[::ffff:0:7f00:1]:{port}");
    let (status, siit_body) = app.check(&siit, "glpat-fake-alice").await;
    assert_eq!(
        (status, host_error(&siit_body)),
        (422, json!("AddressForbidden")),
        "{siit}: {siit_body}"
    );
    assert!(
        app.fake.log.entries().is_empty(),
        "nothing reached the loopback host"
    );
    let loopback = format!("http://127.0.0.1:{port}");
    let (_, loopback_body) = app.check(&loopback, "glpat-fake-alice").await;
    // Private, shared, benchmarking, documentation, reserved: refused first, never dialled,
    // and answered exactly as the loopback address where a GitLab does listen.
    for address in [
        "http://10.255.255.1",
        "http://[::ffff:10.255.255.1]",
        "http://[::ffff:0:a00:1]:8443",
        "https://172.16.0.1",
        "http://192.168.0.1:22",
        "http://100.64.0.1",
        "http://198.18.0.1",
        "http://192.0.2.1",
        "http://240.0.0.1",
        "http://[fd12::1]",
        "http://[2002:a00:1::1]",
        siit.as_str(),
    ] {
        let (status, body) = app.check(address, "glpat-fake-alice").await;
        assert_eq!(status, 422, "{address}: {body}");
        assert_eq!(body, loopback_body, "{address}: the same answer");
    }
    assert!(app.fake.log.entries().is_empty());
}

#[test]
fn the_allow_list_opens_a_private_range_for_the_policy() {
    let vars = |allow: Option<&str>| {
        let mut v: HashMap<String, String> = HashMap::new();
        if let Some(a) = allow {
            v.insert("CODESOURCE_OUTBOUND_ALLOW".into(), a.into());
        }
        let (config, warnings) = Config::from_vars(&v).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        OutboundPolicy::from_config(&config)
    };
    let private = "10.255.255.1".parse().unwrap();
    assert!(vars(None).check(private).is_err());
    let allowed = vars(Some("10.255.255.0/24, gitlab.corp.example"));
    assert!(allowed.check(private).is_ok());
    assert!(allowed.check("10.255.254.1".parse().unwrap()).is_err());
    assert!(allowed
        .check_resolved("gitlab.corp.example", "192.168.3.4".parse().unwrap())
        .is_ok());
    // Metadata stays refused whatever the list says.
    let everything = vars(Some("169.254.0.0/16,0.0.0.0/0"));
    assert!(everything
        .check("169.254.169.254".parse().unwrap())
        .is_err());
    assert!(everything
        .check("::ffff:0:a9fe:a9fe".parse().unwrap())
        .is_err());
}
