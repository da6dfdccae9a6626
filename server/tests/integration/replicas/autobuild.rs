//! Auto-build across processes: a delivery may reach any replica and the de-duplication holds
//! across them; a reader waiting on one replica is woken by a delivery stored on the other;
//! and an acknowledged delivery survives `kill -9`. Deliveries are signed here as GitHub signs
//! them, with the secret a manual setup hands out once.

use super::{any, T};
use crate::process::*;
use crate::support::SERVICE_TOKEN;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::time::{Duration, Instant};

const SHA: &str = "d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4";

/// Turns auto-build on for `octo-alice/repo-01` with manual setup; the hook's id and secret.
async fn manual_registration(r: &Replica) -> (String, String) {
    let resp = r
        .http
        .put(format!(
            "{}/api/v1/tenants/{T}/code-sources/github/repositories/octo-alice%2Frepo-01/auto-build",
            r.base
        ))
        .bearer_auth(SERVICE_TOKEN)
        .json(&json!({"branches": ["main"], "manual": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let reg: Value = resp.json().await.unwrap();
    let url = reg["manual_setup"]["payload_url"].as_str().unwrap();
    let rid = url.rsplit('/').next().unwrap().to_string();
    let secret = reg["manual_setup"]["secret"].as_str().unwrap().to_string();
    (rid, secret)
}

/// A GitHub push delivery of `main` at `SHA`, as GitHub signs it.
async fn deliver(r: &Replica, rid: &str, secret: &str, delivery: &str) -> u16 {
    let body = json!({
        "ref": "refs/heads/main", "before": "0000000000000000000000000000000000000000",
        "after": SHA, "created": true, "deleted": false,
        "repository": {"id": 1001, "full_name": "octo-alice/repo-01", "clone_url": "https://github.com/octo-alice/repo-01.git"},
        "pusher": {"name": "octo-alice"}
    })
    .to_string();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    let sig: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    r.http
        .post(format!("{}/hooks/{rid}", r.base))
        .header("content-type", "application/json")
        .header("x-github-event", "push")
        .header("x-github-delivery", delivery)
        .header("x-hub-signature-256", format!("sha256={sig}"))
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn feed(r: &Replica, after: u64, wait: u64) -> Value {
    let resp = r
        .http
        .get(format!(
            "{}/api/v1/build-events?after={after}&wait={wait}",
            r.base
        ))
        .bearer_auth(SERVICE_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn deliveries_to_either_replica_are_one_event_and_wake_a_reader_on_the_other() {
    let p = super::pair(&[]).await;
    p.a.bind_oauth(T, "github", "approve").await;
    let (rid, secret) = manual_registration(&p.a).await;

    // B waits; the delivery lands on A.
    let reader = {
        let base = p.b.base.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let resp = client()
                .get(format!("{base}/api/v1/build-events?after=0&wait=10"))
                .bearer_auth(SERVICE_TOKEN)
                .send()
                .await
                .unwrap();
            let page: Value = resp.json().await.unwrap();
            (page, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent_at = Instant::now();
    assert_eq!(deliver(&p.a, &rid, &secret, "d-1").await, 202);
    let (page, _) = reader.await.unwrap();
    let woke_after = sent_at.elapsed();
    assert_eq!(page["events"].as_array().unwrap().len(), 1, "{page}");
    assert!(
        woke_after < Duration::from_secs(3),
        "woken by the other replica's event, not the timeout: {woke_after:?}"
    );

    // The same delivery on B, and the same commit under other delivery ids on both, at once.
    assert_eq!(deliver(&p.b, &rid, &secret, "d-1").await, 200);
    let (rid, secret) = (rid.as_str(), secret.as_str());
    let ids: Vec<String> = (0..8).map(|i| format!("d-race-{i}")).collect();
    let racing = ids.iter().enumerate().map(|(i, id)| {
        let r = if i % 2 == 0 { &p.a } else { &p.b };
        deliver(r, rid, secret, id)
    });
    let statuses = futures_util::future::join_all(racing).await;
    assert!(
        statuses.iter().all(|s| *s == 200),
        "all duplicates: {statuses:?}"
    );
    for r in [&p.a, &p.b] {
        assert_eq!(feed(r, 0, 0).await["events"].as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn an_acknowledged_delivery_survives_kill_9_on_sled() {
    let fake = fake_hosts::start(any(), any()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let env = env(&fake, dir.path(), None);
    let mut first = Replica::start(&env).await;
    first.bind_oauth(T, "github", "approve").await;
    let (rid, secret) = manual_registration(&first).await;
    assert_eq!(deliver(&first, &rid, &secret, "d-kill").await, 202);
    first.kill();
    let second = Replica::start(&env).await;
    let page = feed(&second, 0, 0).await;
    let events = page["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{page}");
    assert_eq!(events[0]["commit"], SHA);
    assert_eq!(events[0]["delivery_id"], "d-kill");
    // And it is still a duplicate after the restart.
    assert_eq!(deliver(&second, &rid, &secret, "d-kill").await, 200);
}
