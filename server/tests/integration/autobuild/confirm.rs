//! GitLab's (and Gitee's) pushes are confirmed at the host before they build. A host that is
//! down or slow when the delivery comes neither loses the push nor holds up the answer: the
//! push is held, answered 202, and built once the host confirms it.

use super::*;
use serde_json::json;
use std::time::{Duration, Instant};

/// Every fake host down (503), slow (`delay_ms`), or back.
async fn hosts(app: &TestApp, down: bool, delay_ms: u64) {
    let resp = app
        .http
        .post(format!("{}/_fake/outage", app.fake.http_url()))
        .json(&json!({"down": down, "delay_ms": delay_ms}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
}

/// Waits (up to 30 s: the worker looks every 5 s, a retry waits 5 s) until `done` holds.
async fn eventually<F: AsyncFn() -> bool>(what: &str, done: F) {
    for _ in 0..300 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never happened: {what}");
}

async fn outcomes(app: &TestApp) -> Vec<String> {
    let (status, log) = app
        .service(
            reqwest::Method::GET,
            &format!(
                "tenants/local/code-sources/gitlab/repositories/{}/auto-build/deliveries",
                GITLAB.repo
            ),
            None,
        )
        .await;
    assert_eq!(status, 200, "{log}");
    log["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["outcome"].as_str().unwrap().to_string())
        .collect()
}

/// How many GitLab calls `/metrics` has recorded with `outcome`.
async fn gitlab_calls(app: &TestApp, outcome: &str) -> u64 {
    let prefix = format!(
        "codesource_provider_call_seconds_count{{provider=\"gitlab\",outcome=\"{outcome}\"}} "
    );
    app.metrics()
        .await
        .lines()
        .find_map(|l| l.strip_prefix(&prefix)?.parse().ok())
        .unwrap_or(0)
}

async fn turn_on(app: &TestApp) {
    app.bind_gitlab("glpat-fake-bob").await;
    let (status, reg) = app
        .auto_build(
            &GITLAB,
            reqwest::Method::PUT,
            Some(json!({"branches": ["main"]})),
        )
        .await;
    assert_eq!(status, 200, "{reg}");
}

#[tokio::test]
async fn a_push_the_host_cannot_confirm_yet_is_held_then_built_once() {
    let app = spawn_app(Options::default()).await;
    turn_on(&app).await;

    hosts(&app, true, 0).await;
    let failed_before = gitlab_calls(&app, "error").await;
    let sent = app
        .fake_push(&GITLAB, json!({"ref": "refs/heads/main", "after": SHA_A}))
        .await;
    assert_eq!(statuses(&sent), vec![202], "held: {sent:?}");
    assert!(
        gitlab_calls(&app, "error").await > failed_before,
        "the failed confirmation is a recorded call to the host"
    );
    assert!(app.events(0).await.is_empty(), "nothing unconfirmed builds");
    assert!(outcomes(&app).await.is_empty(), "nothing settled yet");
    // A redelivery while it is held: a duplicate, not a second held push.
    let again = app.fake_push(&GITLAB, json!({"redeliver": true})).await;
    assert_eq!(statuses(&again), vec![200], "{again:?}");
    assert!(
        app.metrics()
            .await
            .contains("\ncodesource_webhook_pushes_held 1\n"),
        "the held push is counted"
    );

    hosts(&app, false, 0).await;
    let ok_before = gitlab_calls(&app, "ok").await;
    eventually("the held push is confirmed and built", async || {
        app.events(0).await.len() == 1
    })
    .await;
    let events = app.events(0).await;
    assert_eq!(events[0]["commit"], SHA_A);
    assert_eq!(events[0]["ref"], "refs/heads/main");
    assert_eq!(outcomes(&app).await, ["built", "duplicate"]);
    assert!(gitlab_calls(&app, "ok").await > ok_before, "recorded too");
    assert!(app
        .metrics()
        .await
        .contains("\ncodesource_webhook_pushes_held 0\n"));

    // Redelivered after it was built: still one event.
    let again = app.fake_push(&GITLAB, json!({"redeliver": true})).await;
    assert_eq!(statuses(&again), vec![200], "{again:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.events(0).await.len(), 1);
}

#[tokio::test]
async fn a_slow_host_does_not_hold_up_the_answer() {
    let app = spawn_app(Options::default()).await;
    turn_on(&app).await;

    // Every call to the host takes 3 s: the delivery is answered long before that.
    hosts(&app, false, 3_000).await;
    let started = Instant::now();
    let sent = app
        .fake_push(&GITLAB, json!({"ref": "refs/heads/main", "after": SHA_B}))
        .await;
    let took = started.elapsed();
    assert_eq!(statuses(&sent), vec![202], "{sent:?}");
    assert!(
        took < Duration::from_millis(2_500),
        "answered without waiting for the host: {took:?}"
    );
    hosts(&app, false, 0).await;
    eventually("the held push is built", async || {
        app.events(0).await.len() == 1
    })
    .await;
    assert_eq!(app.events(0).await[0]["commit"], SHA_B);
}

#[tokio::test]
async fn a_push_the_host_does_not_confirm_builds_nothing() {
    let app = spawn_app(Options::default()).await;
    turn_on(&app).await;
    // The fake moves main to SHA_A; a forged body naming another commit (the token is the
    // real one, which is all GitLab's check proves) is not what the host says main is.
    app.fake_push(&GITLAB, json!({"ref": "refs/heads/main", "after": SHA_A}))
        .await;
    let sent = app
        .fake_push(
            &GITLAB,
            json!({"ref": "refs/heads/main", "after": SHA_C, "move_refs": false}),
        )
        .await;
    assert!(statuses(&sent).iter().all(|s| *s == 200), "{sent:?}");
    let commits: Vec<Value> = app
        .events(0)
        .await
        .iter()
        .map(|e| e["commit"].clone())
        .collect();
    assert_eq!(commits, [json!(SHA_A)]);
    assert_eq!(outcomes(&app).await, ["ignored", "built"]);
}
