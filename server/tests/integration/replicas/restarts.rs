//! One `codesource` process at a time: restarted between an OAuth start and its callback (on
//! sled), serving through a database outage (PostgreSQL), refusing a credential it cannot
//! record, and re-keyed while it serves.

use super::{any, login, T};
use crate::process::*;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn a_restart_between_oauth_start_and_callback_loses_nothing_on_sled() {
    let fake = fake_hosts::start(any(), any()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let env = env(&fake, dir.path(), None);
    let mut first = Replica::start(&env).await;
    let flow = first.start_oauth(T, "github").await;
    let back = crate::support::decide(&first.http, &flow.authorize_url, "approve").await;
    first.kill();
    let second = Replica::start(&env).await;
    let id = second
        .callback(T, &back, &flow.cookie)
        .await
        .expect("callback");
    let (status, row) = second.confirm(T, &json!(id)).await;
    assert_eq!(status, 200, "{row}");
    assert_eq!(login(&second.row(T, "github").await), "octo-alice");
}

/// A replica on a private PostgreSQL cluster (which the test may stop or freeze) with GitLab
/// bound for `T`, waiting at most a second for a connection.
struct Outage {
    pg: PrivatePg,
    r: Replica,
    _fake: fake_hosts::Running,
    _dir: tempfile::TempDir,
}

async fn on_private_pg(extra: &[(&'static str, &str)]) -> Outage {
    let fake = fake_hosts::start(any(), any()).await.unwrap();
    let pg = PrivatePg::start().await;
    let db = create_database(&pg.admin).await;
    let dir = tempfile::tempdir().unwrap();
    let mut env = env(&fake, dir.path(), Some(&db));
    env.insert("CODESOURCE_DATABASE_TIMEOUT_SECS", "1".into());
    env.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    let r = Replica::start(&env).await;
    r.bind_gitlab(T, &fake.http_url(), "glpat-fake-alice").await;
    Outage {
        pg,
        r,
        _fake: fake,
        _dir: dir,
    }
}

#[tokio::test]
async fn a_database_outage_answers_503_and_heals_without_a_restart() {
    // Bound whole: the fake hosts and the data directory live as long as the test.
    let Outage { pg, r, _fake, _dir } = on_private_pg(&[]).await;

    pg.pause().await;
    assert_eq!(r.readyz().await, 503);
    // The page says so, having asked the store once: the render is handed the page cache's
    // failed read instead of waiting for the store a second time.
    let page = r
        .http
        .get(format!("{}/", r.base))
        .bearer_auth(crate::support::identity(T, "user-of-tenant-a"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    let status = page.status();
    let request_id = page.headers()["x-request-id"].to_str().unwrap().to_string();
    let html = page.text().await.unwrap();
    assert_eq!(status, 503, "{html}");
    assert!(html.contains("Storage is unavailable right now."), "{html}");
    // The log reaches the test through a reader thread: wait for the first line, and a
    // moment more for a second one, were there one.
    let reads = || {
        r.log_text()
            .lines()
            .filter(|l| l.contains(&request_id) && l.contains("listing bindings failed"))
            .count()
    };
    for _ in 0..50 {
        if reads() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(reads(), 1, "{}", r.log_text());
    let (status, body) = r.call(T, "code-sources/page", json!({})).await;
    assert_eq!((status, body), (503, json!("StorageUnavailable")));
    let (status, body) = r.credential(T, "gitlab").await;
    assert_eq!(
        (status, &body["error"]),
        (503, &json!("storage_unavailable"))
    );

    pg.resume().await;
    let mut ready = 0;
    for _ in 0..50 {
        ready = r.readyz().await;
        if ready == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ready, 200, "ready within 5 s of the database coming back");
    assert_eq!(login(&r.row(T, "gitlab").await), "alice");
    let (status, body) = r.credential(T, "gitlab").await;
    assert_eq!(
        (status, &body["access_token"]),
        (200, &json!("glpat-fake-alice"))
    );
}

/// Ten seconds without PostgreSQL under a steady load (the build service asking for
/// credentials and pages loading at once): every request is answered, 200 or 503 and never a
/// 500, each within the database timeout (1 s here) plus a margin, never a hang; the process
/// lives on, and once the database is back every request succeeds again without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_seconds_without_the_database_under_load() {
    use std::sync::atomic::{AtomicBool, AtomicU8, Ordering::SeqCst};
    use std::sync::Arc;
    const UP: u8 = 0;
    const DOWN: u8 = 1;
    const BACK: u8 = 2;
    /// While `resume` runs: the database may already answer.
    const RESUMING: u8 = 3;
    let Outage { pg, r, _fake, _dir } = on_private_pg(&[]).await;
    let r = Arc::new(r);
    let phase = Arc::new(AtomicU8::new(UP));
    let stop = Arc::new(AtomicBool::new(false));
    // (phase when sent, what, status, how long it took)
    let workers: Vec<_> = (0..4)
        .map(|i| {
            let (r, phase, stop) = (r.clone(), phase.clone(), stop.clone());
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut n = i;
                while !stop.load(SeqCst) {
                    let at = phase.load(SeqCst);
                    let started = std::time::Instant::now();
                    let (what, status, body) = if n % 2 == 0 {
                        let (status, body) = r.credential(T, "gitlab").await;
                        ("credential", status, body)
                    } else {
                        let (status, body) = r.call(T, "code-sources/page", json!({})).await;
                        ("page", status, body)
                    };
                    // Counted as during the outage only if it was sent and answered in it.
                    let at = if phase.load(SeqCst) == at {
                        at
                    } else {
                        RESUMING
                    };
                    seen.push((at, what, status, body, started.elapsed()));
                    n += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                seen
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_secs(1)).await;
    pg.pause().await;
    phase.store(DOWN, SeqCst);
    tokio::time::sleep(Duration::from_secs(10)).await;
    phase.store(RESUMING, SeqCst);
    pg.resume().await;
    phase.store(BACK, SeqCst);
    // Healed within a few seconds: a pooled connection that broke is dropped and replaced.
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop.store(true, SeqCst);
    let mut seen = Vec::new();
    for w in workers {
        seen.extend(w.await.unwrap());
    }

    let margin = Duration::from_secs(2);
    for (at, what, status, body, took) in &seen {
        assert!(
            *status == 200 || *status == 503,
            "{what} in phase {at}: {status} {body}"
        );
        if *status == 503 {
            let expected = match *what {
                "credential" => body["error"] == json!("storage_unavailable"),
                _ => *body == json!("StorageUnavailable"),
            };
            assert!(expected, "{what}: {body}");
        }
        assert!(
            *took <= Duration::from_secs(1) + margin,
            "{what} in phase {at} took {took:?}"
        );
    }
    let count = |phase: u8, status: u16| {
        seen.iter()
            .filter(|(at, _, s, _, _)| *at == phase && *s == status)
            .count()
    };
    // (One sent just before the stop may be answered after it: a 503 there is fine.)
    assert!(count(UP, 200) > 0, "served before the outage");
    assert!(
        count(DOWN, 503) > 10,
        "the outage was seen: {}",
        count(DOWN, 503)
    );
    assert!(count(DOWN, 200) == 0, "nothing served without the database");
    // The last second of each worker's requests all succeeded.
    let last: Vec<_> = seen.iter().rev().take(8).collect();
    assert!(
        last.iter().all(|(_, _, s, _, _)| *s == 200),
        "recovered without a restart: {:?}",
        last.iter()
            .map(|(_, w, s, _, _)| (w, s))
            .collect::<Vec<_>>()
    );
    let mut r = Arc::try_unwrap(r).ok().expect("the workers are done");
    assert!(r.running(), "no crash:\n{}", r.stderr_text());
    assert_eq!(r.readyz().await, 200);
}

/// A database that stops answering without closing anything (the network drops packets):
/// each call gives up after the store's deadline (statement timeout plus connect timeout)
/// with a 503 instead of hanging, and the server heals once the database answers again.
#[tokio::test]
async fn a_silent_database_answers_503_within_the_deadline() {
    let Outage { pg, r, _fake, _dir } =
        on_private_pg(&[("CODESOURCE_DATABASE_STATEMENT_TIMEOUT_SECS", "1")]).await;

    pg.freeze().await;
    // Without a deadline of our own these would wait for the system to give up on TCP
    // (minutes; the test's client gives up after 30 s).
    let (status, body) = r.credential(T, "gitlab").await;
    assert_eq!(
        (status, &body["error"]),
        (503, &json!("storage_unavailable")),
        "{body}"
    );
    let (status, body) = r.call(T, "code-sources/page", json!({})).await;
    assert_eq!((status, body), (503, json!("StorageUnavailable")));

    pg.thaw().await;
    let mut status = 0;
    for _ in 0..50 {
        status = r.credential(T, "gitlab").await.0;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "the server heals once the database answers");
}

/// The activity entry of an issued credential is written before the token leaves: when the
/// database refuses it (here a trigger), the build service gets an error and no token, and
/// the next call, with the log writable again, gets the token and its entry.
#[tokio::test]
async fn a_credential_whose_activity_entry_cannot_be_written_is_not_handed_out() {
    let fake = fake_hosts::start(any(), any()).await.unwrap();
    let db = fresh_database().await;
    let dir = tempfile::tempdir().unwrap();
    let r = Replica::start(&env(&fake, dir.path(), Some(&db))).await;
    r.bind_gitlab(T, &fake.http_url(), "glpat-fake-alice").await;
    let (sql, conn) = tokio_postgres::connect(&db, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    sql.batch_execute(
        "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END \
         $$ LANGUAGE plpgsql; CREATE TRIGGER refuse BEFORE INSERT ON audit \
         FOR EACH ROW EXECUTE FUNCTION refuse()",
    )
    .await
    .unwrap();
    let (status, body) = r.credential(T, "gitlab").await;
    assert_eq!(
        (status, &body["error"]),
        (500, &json!("internal")),
        "{body}"
    );
    assert!(!body.to_string().contains("glpat"), "{body}");

    sql.batch_execute("DROP TRIGGER refuse ON audit")
        .await
        .unwrap();
    let (status, body) = r.credential(T, "gitlab").await;
    assert_eq!(
        (status, &body["access_token"]),
        (200, &json!("glpat-fake-alice"))
    );
    let issued: i64 = sql
        .query_one(
            "SELECT count(*) FROM audit WHERE entry LIKE '%credential_issued%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(issued, 1, "only the credential handed out is on record");
}

#[tokio::test]
async fn rotate_key_reseals_everything_while_the_server_runs() {
    use base64::Engine;
    let k2 = base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>());
    let k1 = crate::support::ENCRYPTION_KEY.to_string();
    let fake = fake_hosts::start(any(), any()).await.unwrap();
    let db = fresh_database().await;
    let dir = tempfile::tempdir().unwrap();
    let k1_env = env(&fake, dir.path(), Some(&db));
    let mut server = Replica::start(&k1_env).await;
    server
        .bind_gitlab(T, &fake.http_url(), "glpat-fake-alice")
        .await;
    // Expiring: the first credential call below refreshes with the re-sealed refresh token.
    server.bind_oauth(T, "gitee", "approve-short").await;

    let mut k2_env = k1_env.clone();
    k2_env.insert("CODESOURCE_ENCRYPTION_KEY", k2);
    k2_env.insert("CODESOURCE_DECRYPT_KEYS", k1);
    let (code, out, err) = run(&k2_env, &["rotate-key"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains(": 2 records re-sealed"), "{out}");

    server.kill();
    let mut server = Replica::start(&k2_env).await;
    let (status, c) = server.credential(T, "gitlab").await;
    assert_eq!(
        (status, &c["access_token"]),
        (200, &json!("glpat-fake-alice"))
    );

    server.kill();
    k2_env.remove("CODESOURCE_DECRYPT_KEYS");
    let server = Replica::start(&k2_env).await;
    for provider in ["gitlab", "gitee"] {
        let (status, c) = server.credential(T, provider).await;
        assert_eq!(status, 200, "{provider}: {c}");
    }
    assert_eq!(gitee_stats(&fake).await["refreshes"], 1);
}
