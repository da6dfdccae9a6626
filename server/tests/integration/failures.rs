//! Every way a GitLab check can fail maps to its own error.

use crate::support::*;
use serde_json::{json, Value};

async fn failure(app: &TestApp, address: &str, token: &str) -> (u16, Value) {
    let (status, body) = app.check(address, token).await;
    (status, body)
}

#[tokio::test]
async fn token_problems() {
    let app = spawn_app(Options::default()).await;
    let url = app.fake.http_url();
    for (token, expected) in [
        ("glpat-fake-unknown", json!("TokenInvalid")),
        ("glpat-fake-expired", json!("TokenExpired")),
        ("glpat-fake-revoked", json!("TokenRevoked")),
        (
            "glpat-fake-registry",
            json!({"InsufficientScope": {"scopes": []}}),
        ),
        (
            "glpat-fake-readuser",
            json!({"InsufficientScope": {"scopes": ["read_user"]}}),
        ),
        (
            "glpat-fake-ratelimit",
            json!({"RateLimited": {"retry_after_secs": 30}}),
        ),
    ] {
        let (status, body) = failure(&app, &url, token).await;
        // The token was refused (the user's to fix); the rate limit is the host's.
        let want = if token == "glpat-fake-ratelimit" {
            502
        } else {
            422
        };
        assert_eq!(status, want, "{token}: {body}");
        assert_eq!(host_error(&body), expected, "{token}");
        assert!(
            !body.to_string().contains(token),
            "the token is never echoed"
        );
    }
    assert_eq!(app.row("gitlab").await["status"], "Unbound");
}

#[tokio::test]
async fn input_problems() {
    let app = spawn_app(Options::default()).await;
    let url = app.fake.http_url();
    for (address, token, expected) in [
        (
            "https://",
            "glpat-fake-alice",
            json!({"Invalid": "AddressMalformed"}),
        ),
        (
            "ftp://gitlab.example",
            "glpat-fake-alice",
            json!({"Invalid": "AddressScheme"}),
        ),
        (url.as_str(), "   ", json!({"Invalid": "TokenEmpty"})),
        (
            url.as_str(),
            "two words",
            json!({"Invalid": "TokenMalformed"}),
        ),
    ] {
        let (status, body) = failure(&app, address, token).await;
        assert_eq!((status, body), (422, expected), "{address} {token}");
    }
    let (status, body) = app
        .call(
            "code-sources/token/check",
            json!({"provider": "gitlab", "address": url, "token": "glpat-fake-alice", "ca_pem": "not a cert"}),
        )
        .await;
    assert_eq!((status, body), (422, json!({"Invalid": "CaInvalid"})));
}

#[tokio::test]
async fn servers_that_are_not_gitlab() {
    let app = spawn_app(Options::default()).await;
    let url = app.fake.http_url();
    let (_, b) = failure(&app, &format!("{url}/not-gitlab"), "glpat-fake-alice").await;
    assert_eq!(host_error(&b), json!("UnexpectedAnswer"));
    let (_, b) = failure(&app, &format!("{url}/redirect"), "glpat-fake-alice").await;
    assert_eq!(
        host_error(&b),
        json!({"Redirected": {"location": "https://gitlab.example.invalid"}})
    );
    // The redirect was not followed: the fake saw one request, and nothing went elsewhere.
    let (status, b) = failure(&app, &format!("{url}/slow"), "glpat-fake-alice").await;
    assert_eq!((status, host_error(&b)), (504, json!("Timeout")));
}

#[tokio::test]
async fn old_gitlab_without_token_introspection_still_binds() {
    let app = spawn_app(Options::default()).await;
    let (status, pending) = app
        .check(&format!("{}/old", app.fake.http_url()), "glpat-fake-alice")
        .await;
    assert_eq!(status, 200, "{pending}");
    assert_eq!(pending["scopes_unknown"], true);
}

#[tokio::test]
async fn network_problems() {
    let app = spawn_app(Options::default()).await;
    // Port 1 on loopback: nothing listens there.
    let (_, b) = failure(&app, "http://127.0.0.1:1", "glpat-fake-alice").await;
    assert_eq!(host_error(&b), json!("ConnectionRefused"));
    // `.invalid` never resolves (RFC 2606).
    let (_, b) = failure(
        &app,
        "https://gitlab.nonexistent.invalid",
        "glpat-fake-alice",
    )
    .await;
    assert_eq!(host_error(&b), json!("DnsFailed"));
}

#[tokio::test]
async fn tls_needs_the_private_ca() {
    let app = spawn_app(Options::default()).await;
    let url = app.fake.https_url();
    let (_, b) = failure(&app, &url, "glpat-fake-alice").await;
    assert_eq!(host_error(&b), json!("Tls"), "{b}");
    let (status, pending) = app
        .call(
            "code-sources/token/check",
            json!({"provider": "gitlab", "address": url, "token": "glpat-fake-alice", "ca_pem": fake_hosts::TEST_CA_PEM}),
        )
        .await;
    assert_eq!(status, 200, "{pending}");
    let _ = app.confirm_pending(&pending["id"]).await;
    assert_eq!(app.row("gitlab").await["address"], url);
}

#[tokio::test]
async fn metadata_and_loopback_addresses_are_refused() {
    let app = spawn_app(Options::default()).await;
    for address in [
        "http://169.254.169.254",
        "http://[::ffff:169.254.169.254]",
        "http://100.100.100.200",
        "http://[fd00:ec2::254]",
    ] {
        let (status, b) = failure(&app, address, "glpat-fake-alice").await;
        assert_eq!(
            (status, host_error(&b)),
            (422, json!("AddressForbidden")),
            "{address}"
        );
    }
    let strict = spawn_app(Options {
        allow_loopback: false,
        ..Default::default()
    })
    .await;
    let url = strict.fake.http_url();
    let (_, b) = failure(&strict, &url, "glpat-fake-alice").await;
    assert_eq!(
        host_error(&b),
        json!("AddressForbidden"),
        "loopback IP literal"
    );
    let by_name = url.replace("127.0.0.1", "localhost");
    let (_, b) = failure(&strict, &by_name, "glpat-fake-alice").await;
    assert_eq!(
        host_error(&b),
        json!("AddressForbidden"),
        "loopback by DNS name"
    );
    assert!(
        strict.fake.log.entries().is_empty(),
        "nothing reached the loopback host"
    );
}
