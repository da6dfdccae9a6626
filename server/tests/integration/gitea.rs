//! Gitea (and Forgejo) by address and personal access token against the fake Gitea: the check
//! (`Authorization: token …`, `GET /api/v1/user`, the repository scope proven by a one-item
//! listing), each failure class, the credential's shape, repositories by `Link` and
//! `X-Total-Count`, branches, and unbinding (no revocation API).

use crate::support::*;
use serde_json::{json, Value};

fn address(app: &TestApp) -> String {
    format!("{}/gitea", app.fake.http_url())
}

async fn check(app: &TestApp, address: &str, token: &str) -> (u16, Value) {
    app.call(
        "code-sources/token/check",
        json!({"provider": "gitea", "address": address, "token": token, "ca_pem": null}),
    )
    .await
}

#[tokio::test]
async fn gitea_binds_by_address_and_token() {
    let app = spawn_app(Options::default()).await;
    let addr = address(&app);
    let (status, pending) = check(&app, &addr, "gitea-fake-alice").await;
    assert_eq!(status, 200, "{pending}");
    assert_eq!(pending["account"]["login"], "gitea-alice");
    assert_eq!(pending["account"]["name"], "Alice Gitea");
    assert_eq!(pending["scopes"], json!(["read:user", "read:repository"]));
    assert_eq!(pending["bind"], "AccessToken");
    assert_eq!(pending["address"], addr);
    // The token went as Gitea wants it, and only to the Gitea.
    let log = app.fake_json("gitea/__log").await;
    let auths: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["authorization"].as_str())
        .collect();
    assert!(!auths.is_empty());
    assert!(
        auths.iter().all(|a| *a == "token gitea-fake-alice"),
        "{auths:?}"
    );

    let row = app.confirm_pending(&pending["id"]).await;
    assert_eq!(row["status"], "Bound");
    assert_eq!(row["address"], addr);
    let (status, c, _) = app.credential("local", "gitea", Some(SERVICE_TOKEN)).await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["base_url"], addr);
    assert_eq!(c["api_url"], format!("{addr}/api/v1"));
    assert_eq!(c["git_username"], "gitea-alice");
    assert_eq!(c["access_token"], "gitea-fake-alice");

    let list = |page: u32, search: &str| {
        app.call(
            "code-sources/repositories",
            json!({"provider": "gitea", "search": search, "page": page}),
        )
    };
    let (status, p1) = list(1, "").await;
    assert_eq!(status, 200, "{p1}");
    assert_eq!(p1["items"].as_array().unwrap().len(), 20);
    assert_eq!(p1["next_page"], 2);
    assert_eq!(p1["items"][0]["id"], p1["items"][0]["full_name"]);
    let (_, p2) = list(2, "").await;
    assert_eq!(p2["items"].as_array().unwrap().len(), 5);
    assert_eq!(
        p2["next_page"],
        json!(null),
        "no next link on the last page"
    );
    let (_, found) = list(1, "REPO-03").await;
    assert_eq!(found["items"][0]["full_name"], "gitea-alice/repo-03");
    let (status, branches) = app
        .call(
            "code-sources/branches",
            json!({"provider": "gitea", "repo_id": "gitea-alice/repo-03"}),
        )
        .await;
    assert_eq!(status, 200, "{branches}");
    let names: Vec<&str> = branches
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"main") && names.contains(&"develop"),
        "{names:?}"
    );
    assert!(branches
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b["name"] == "main" && b["default"] == true));

    let (status, revocation) = app
        .call(
            "code-sources/unbind",
            json!({"provider": "gitea", "revoke": true}),
        )
        .await;
    assert_eq!(
        (status, revocation),
        (200, json!({"revocation": "Manual", "hooks_left": []})),
        "Gitea cannot revoke a token without the user's password"
    );
}

#[tokio::test]
async fn gitea_failures_say_what_is_wrong() {
    let app = spawn_app(Options::default()).await;
    let addr = address(&app);
    let cases = [
        ("gitea-fake-revoked", json!("TokenInvalid")),
        // Gitea names the scope the token lacks: the dialog says which to add.
        (
            "gitea-fake-user-only",
            json!({"MissingScopes": {"needed": ["read:repository"]}}),
        ),
        (
            "gitea-fake-repo-only",
            json!({"MissingScopes": {"needed": ["read:user"]}}),
        ),
    ];
    for (token, want) in cases {
        let (status, body) = check(&app, &addr, token).await;
        assert_eq!((status, host_error(&body)), (422, want), "{token}");
    }
    // A web server that is not a Gitea.
    let other = format!("{}/not-gitlab", app.fake.http_url());
    let (status, body) = check(&app, &other, "gitea-fake-alice").await;
    assert_eq!(
        (status, host_error(&body)),
        (502, json!("UnexpectedAnswer"))
    );
    // Input mistakes never leave the server.
    let (status, body) = check(&app, "ftp://gitea.example", "gitea-fake-alice").await;
    assert_eq!((status, body), (422, json!({"Invalid": "AddressScheme"})));
    // An OAuth host has no token check.
    let (status, body) = app
        .call(
            "code-sources/token/check",
            json!({"provider": "bitbucket", "address": addr, "token": "x", "ca_pem": null}),
        )
        .await;
    assert_eq!((status, body), (409, json!("Unsupported")));
}
