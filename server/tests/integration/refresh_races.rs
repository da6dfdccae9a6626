//! A token refresh meeting other changes of its binding. The fake Gitee's `approve-short-slow`
//! grant makes the next refresh wait ~4 s at the host, which leaves time to unbind, bind anew
//! or hang up while it runs.

use crate::support::*;
use serde_json::{json, Value};
use std::time::Duration;

/// Waits until the fake Gitee has received `n` refresh requests (the refresh is under way).
async fn refresh_started(app: &TestApp, n: u64) {
    for _ in 0..200 {
        if app.fake_json("gitee/__stats").await["refresh_requests"] == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the refresh did not reach the fake Gitee");
}

#[tokio::test]
async fn an_unbind_during_a_refresh_stays_unbound() {
    let app = spawn_app(Options::default()).await;
    app.bind_gitee("approve-short-slow").await;
    let unbind = async {
        refresh_started(&app, 1).await;
        app.call("code-sources/unbind", json!({"provider": "gitee"}))
            .await
    };
    let ((status, body, _), (unbound, _)) = tokio::join!(
        app.credential("local", "gitee", Some(SERVICE_TOKEN)),
        unbind
    );
    assert_eq!(unbound, 200);
    // The refresh finished after the unbind: its tokens belong to no binding any more.
    assert_eq!(
        (status, &body["error"]),
        (404, &json!("not_bound")),
        "{body}"
    );
    assert_eq!(app.row("gitee").await["status"], "Unbound");
    let (status, _, _) = app.credential("local", "gitee", Some(SERVICE_TOKEN)).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_binding_made_anew_during_a_refresh_is_kept() {
    let app = spawn_app(Options::default()).await;
    app.bind_gitee("approve-short-slow").await;
    let rebind = async {
        refresh_started(&app, 1).await;
        // A day-long token: the new binding is handed out at once, without a refresh.
        app.bind_gitee("approve").await;
        let (status, c, _) = app.credential("local", "gitee", Some(SERVICE_TOKEN)).await;
        assert_eq!(status, 200, "{c}");
        c["access_token"].clone()
    };
    let ((status, body, _), fresh) = tokio::join!(
        app.credential("local", "gitee", Some(SERVICE_TOKEN)),
        rebind
    );
    // The refresh of the old grant finished last; neither its caller nor anyone after gets
    // the old grant's token, and it was not stored over the new binding's.
    assert_eq!(app.fake_json("gitee/__stats").await["refreshes"], 1);
    assert_eq!((status, &body["access_token"]), (200, &fresh), "{body}");
    let (status, next, _) = app.credential("local", "gitee", Some(SERVICE_TOKEN)).await;
    assert_eq!((status, &next["access_token"]), (200, &fresh), "{next}");
}

#[tokio::test]
async fn a_refresh_goes_on_when_the_build_service_hangs_up() {
    let app = spawn_app(Options::default()).await;
    app.bind_gitee("approve-short-slow").await;
    // Gone before the host answers (the slow refresh outlasts even the server's timeout for
    // the host, so the refresh is retried once: two requests at the fake Gitee).
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(1000))
        .build()
        .unwrap();
    let url = format!(
        "{}/api/v1/tenants/local/code-sources/gitee/credential",
        app.base
    );
    let gave_up = impatient.get(url).bearer_auth(SERVICE_TOKEN).send().await;
    assert!(
        gave_up.is_err(),
        "the slow refresh outlasts the client's patience"
    );
    // The refresh the caller started finishes and is stored all the same.
    let mut stats = Value::Null;
    for _ in 0..100 {
        stats = app.fake_json("gitee/__stats").await;
        if stats["refreshes"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(stats["refreshes"], 1, "{stats}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, c, _) = app.credential("local", "gitee", Some(SERVICE_TOKEN)).await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(
        app.fake_json("gitee/__stats").await["refresh_requests"],
        stats["refresh_requests"],
        "the stored token is fresh: no more refreshes"
    );
}
