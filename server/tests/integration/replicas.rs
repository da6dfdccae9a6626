//! Several `codesource` processes (the real binary) on one PostgreSQL database: a flow may hop
//! replicas at every step, a token is refreshed once whoever asks, a replica killed while it
//! refreshes blocks nobody for longer than its lease, and health checks are shared out. Also
//! a restart mid-flow on sled, a database outage, and key rotation while serving.

use crate::process::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const T: &str = "tenant-a";

/// Fake hosts, a fresh database, and two replicas A and B on it (same keys; `extra` settings).
struct Pair {
    fake: fake_hosts::Running,
    a: Replica,
    b: Replica,
    _dirs: [tempfile::TempDir; 2],
}

async fn pair(extra: &[(&'static str, &str)]) -> Pair {
    let fake = fake_hosts::start(any(), any()).await.unwrap();
    let db = fresh_database().await;
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let envs: Vec<Env> = dirs
        .iter()
        .map(|d| {
            let mut e = env(&fake, d.path(), Some(&db));
            e.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
            e
        })
        .collect();
    // Started together: both migrate the fresh database at once.
    let (a, b) = tokio::join!(Replica::start(&envs[0]), Replica::start(&envs[1]));
    Pair {
        fake,
        a,
        b,
        _dirs: dirs,
    }
}

fn any() -> std::net::SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn login(row: &Value) -> &str {
    row["account"]["login"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_gitlab_check_on_one_replica_is_confirmed_on_the_other() {
    let p = pair(&[]).await;
    let (status, pending) = p.a.check(T, &p.fake.http_url(), "glpat-fake-alice").await;
    assert_eq!(status, 200, "{pending}");
    let (status, row) = p.b.confirm(T, &pending["id"]).await;
    assert_eq!(status, 200, "{row}");
    for r in [&p.a, &p.b] {
        let row = r.row(T, "gitlab").await;
        assert_eq!(
            (row["status"].as_str(), login(&row)),
            (Some("Bound"), "alice")
        );
    }
}

#[tokio::test]
async fn an_oauth_flow_hops_replicas_and_its_callback_works_once() {
    let p = pair(&[]).await;
    let flow = p.a.start_oauth(T, "github").await;
    let back = crate::support::decide(&p.a.http, &flow.authorize_url, "approve").await;
    let id =
        p.b.callback(T, &back, &flow.cookie)
            .await
            .expect("callback on B");
    let (status, row) = p.a.confirm(T, &json!(id)).await;
    assert_eq!(status, 200, "{row}");
    assert_eq!(
        p.a.callback(T, &back, &flow.cookie).await.unwrap_err(),
        json!("OAuthState"),
        "replay on A"
    );
    assert_eq!(login(&p.b.row(T, "github").await), "octo-alice");
}

#[tokio::test]
async fn concurrent_credential_calls_on_both_replicas_refresh_once() {
    let p = pair(&[]).await;
    p.a.bind_oauth(T, "gitee", "approve-short").await;
    let calls = (0..12).map(|i| {
        let r = if i % 2 == 0 { &p.a } else { &p.b };
        r.credential(T, "gitee")
    });
    let answers = futures_util::future::join_all(calls).await;
    assert_eq!(gitee_stats(&p.fake).await["refreshes"], 1);
    let first = &answers[0].1;
    let floor = crate::support::now() + 300;
    for (status, c) in &answers {
        assert_eq!(*status, 200, "{c}");
        assert_eq!(c["access_token"], first["access_token"]);
        assert!(c["expires_at"].as_i64().unwrap() > floor, "{c}");
    }
}

#[tokio::test]
async fn a_replica_killed_while_refreshing_holds_the_binding_only_for_its_lease() {
    let lease = Duration::from_secs(3);
    let mut p = pair(&[("CODESOURCE_REFRESH_LEASE_SECS", "3")]).await;
    p.a.bind_oauth(T, "gitee", "approve-short-slow").await;
    let on_a = tokio::spawn(p.a.credential_request(T, "gitee").send());
    tokio::time::sleep(Duration::from_millis(500)).await;
    // A holds the lease and waits on the (slow, ~4 s) code host (a loaded machine may take
    // longer to get there).
    for _ in 0..50 {
        if gitee_stats(&p.fake).await["refresh_requests"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(gitee_stats(&p.fake).await["refresh_requests"], 1);
    p.a.kill();
    assert!(on_a.await.unwrap().is_err(), "A died before answering");

    let started = Instant::now();
    let (status, c) = p.b.credential(T, "gitee").await;
    let waited = started.elapsed();
    assert_eq!(status, 200, "{c}");
    // B waited for A's lease to run out (~2.5 s left), then refreshed at once.
    assert!(
        waited > Duration::from_millis(1500) && waited < lease + Duration::from_secs(2),
        "{waited:?}"
    );
    let stats = gitee_stats(&p.fake).await;
    // A's request was dropped mid-wait, so the refresh token it carried was never taken and
    // B's refresh with it was the only one.
    assert_eq!(
        (
            &stats["refreshes"],
            &stats["refresh_requests"],
            &stats["slow_abandoned"]
        ),
        (&json!(1), &json!(2), &json!(1)),
        "{stats}"
    );
    let (status, again) = p.b.credential(T, "gitee").await;
    assert_eq!((status, &again["access_token"]), (200, &c["access_token"]));
    assert_eq!(gitee_stats(&p.fake).await["refreshes"], 1);
}

#[tokio::test]
async fn replicas_share_the_health_checks() {
    let p = pair(&[("CODESOURCE_HEALTH_INTERVAL_SECS", "10")]).await;
    let tenants: Vec<String> = (0..6).map(|i| format!("tenant-{i}")).collect();
    let mut bound_at = Vec::new();
    for (i, t) in tenants.iter().enumerate() {
        let (on, confirm) = if i % 2 == 0 {
            (&p.a, &p.b)
        } else {
            (&p.b, &p.a)
        };
        let (status, pending) = on.check(t, &p.fake.http_url(), "glpat-fake-alice").await;
        assert_eq!(status, 200, "{pending}");
        let (status, row) = confirm.confirm(t, &pending["id"]).await;
        assert_eq!(status, 200, "{row}");
        bound_at.push(row["last_checked_at"].as_i64().expect("checked at bind"));
    }
    let spread = bound_at[5] - bound_at[0];
    assert!(
        spread < 5,
        "binding took {spread} s: the window below needs < 5"
    );
    let seen = p.fake.log.entries().len();
    // Due 10 s after its bind, claimed within a tick (1-2 s); due again only 10 s later.
    tokio::time::sleep(Duration::from_secs(15)).await;
    let log = p.fake.log.entries();
    let count = |path: &str| log[seen..].iter().filter(|(p, _)| p == path).count();
    assert_eq!(count("/api/v4/user"), 6, "{:?}", &log[seen..]);
    assert_eq!(count("/api/v4/personal_access_tokens/self"), 6);
    // Six checks in all, and every binding's last check moved: one each.
    for (t, at) in tenants.iter().zip(bound_at) {
        let row = p.a.row(t, "gitlab").await;
        assert_eq!(row["status"], "Bound", "{row}");
        assert!(row["last_checked_at"].as_i64().unwrap() >= at + 10, "{row}");
    }
}

/// One process restarted mid-flow (sled), a database outage, key rotation.
mod autobuild;
mod restarts;
