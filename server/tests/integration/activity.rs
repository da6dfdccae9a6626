//! The activity log: binds, unbinds and issued credentials, per tenant, newest first.

use crate::support::*;
use serde_json::json;

#[tokio::test]
async fn records_binds_unbinds_and_credentials_per_tenant() {
    let mut app = spawn_identity_app().await;
    app.as_tenant("tenant-a");
    app.bind_gitlab("glpat-fake-alice").await;
    let (status, _, _) = app
        .credential("tenant-a", "gitlab", Some(SERVICE_TOKEN))
        .await;
    assert_eq!(status, 200);
    app.call("code-sources/unbind", json!({"provider": "gitlab"}))
        .await;

    let (status, page) = app
        .call("code-sources/activity", json!({"before": null}))
        .await;
    assert_eq!(status, 200, "{page}");
    let actions: Vec<&str> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["unbind", "credential_issued", "bind"]);
    let first = &page["entries"][2];
    assert_eq!(
        (
            first["actor"].as_str(),
            first["account"].as_str(),
            first["provider"].as_str()
        ),
        (Some("user-of-tenant-a"), Some("alice"), Some("gitlab"))
    );
    // The display name from the identity at the time of the action, beside the id.
    assert_eq!(first["actor_name"], "user-of-tenant-a name");
    assert_eq!(page["entries"][0]["actor_name"], "user-of-tenant-a name");
    assert_eq!(page["entries"][1]["actor"], "build-service");
    assert!(
        page["entries"][1].get("actor_name").is_none(),
        "the build service keeps its label: {page}"
    );
    assert!(!page.to_string().contains("glpat"), "no token in the log");

    // Binding again over an existing binding is a re-authorization.
    app.bind_gitlab("glpat-fake-alice").await;
    app.bind_gitlab("glpat-fake-bob").await;
    let (_, page) = app
        .call("code-sources/activity", json!({"before": null}))
        .await;
    assert_eq!(page["entries"][0]["action"], "reauthorize");
    assert_eq!(page["entries"][1]["action"], "bind");

    app.as_tenant("tenant-b");
    let (_, page) = app
        .call("code-sources/activity", json!({"before": null}))
        .await;
    assert_eq!(page["entries"], json!([]), "another tenant sees nothing");
}

#[tokio::test]
async fn pages_through_older_entries() {
    let app = spawn_app(Options::default()).await;
    for _ in 0..11 {
        app.bind_gitlab("glpat-fake-bob").await;
        app.call("code-sources/unbind", json!({"provider": "gitlab"}))
            .await;
    }
    let (_, first) = app
        .call("code-sources/activity", json!({"before": null}))
        .await;
    assert_eq!(first["entries"].as_array().unwrap().len(), 20);
    let (_, second) = app
        .call("code-sources/activity", json!({"before": first["next"]}))
        .await;
    assert_eq!(second["entries"].as_array().unwrap().len(), 2);
    assert_eq!(second["next"], json!(null));
}
