//! PostgreSQL-only behavior: schema migrations across replicas, records written by a newer
//! version, and how an unreachable database is reported.

use super::{admin_sql, binding, entry, flow, older_record, options, pending, tag, TestDb};
use crate::store::{
    AuditLog, BindingStore, FlowStore, MigrateError, PendingStore, PgStore, Store, StoreError,
};
use app::api::Provider;
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_is_idempotent_concurrent_and_refuses_newer_schemas() {
    let db = TestDb::new(false).await;
    assert_eq!(db.store.migrate().await.unwrap(), [1, 2, 3, 4, 5]);
    assert!(
        db.store.migrate().await.unwrap().is_empty(),
        "second run is a no-op"
    );
    db.finish().await;

    // Two replicas starting together on a fresh database: both succeed, one applies.
    let db = TestDb::new(false).await;
    let other = db.replica().await;
    let (a, b) = tokio::join!(db.store.migrate(), other.migrate());
    let mut applied = a.unwrap();
    applied.extend(b.unwrap());
    // Each applied once, by either (one may apply 1 and the other 2, after 1 committed).
    applied.sort();
    assert_eq!(applied, [1, 2, 3, 4, 5]);
    db.store
        .put(&binding("t1", Provider::GitLab, "a"))
        .await
        .unwrap();
    drop(other);
    db.finish().await;

    let db = TestDb::new(true).await;
    let client = db.store.pool().get().await.unwrap();
    client
        .batch_execute("INSERT INTO codesource_schema (version, name) VALUES (999, 'future')")
        .await
        .unwrap();
    drop(client);
    let err = db.store.migrate().await.unwrap_err();
    assert!(
        matches!(
            err,
            MigrateError::DatabaseNewer {
                database: 999,
                binary: 5
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("version 999"), "{err}");
    db.finish().await;
}

/// The statement timeout bounds requests, not migrations: one that takes longer still applies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_may_take_longer_than_the_statement_timeout() {
    let db = TestDb::new(false).await;
    let mut url = url::Url::parse(&db.admin).unwrap();
    url.set_path(db.name());
    let impatient = PgStore::connect(&crate::store::PgOptions {
        statement_timeout: Duration::from_millis(200),
        ..options(url.as_str())
    })
    .await
    .unwrap();
    let migrations = [
        (1, "init", include_str!("../pg/migrations/0001_init.sql")),
        (2, "slow", "SELECT pg_sleep(0.5)"),
    ];
    assert_eq!(
        impatient.apply_migrations(&migrations).await.unwrap(),
        [1, 2]
    );
    drop(impatient);
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_newer_records() {
    let db = TestDb::new(true).await;
    db.store
        .put(&binding("t1", Provider::GitLab, "alice"))
        .await
        .unwrap();
    let mut newer = serde_json::to_value(binding("t9", Provider::GitLab, "x")).unwrap();
    newer["v"] = 99.into();
    let client = db.store.pool().get().await.unwrap();
    client
        .execute(
            "INSERT INTO bindings (tenant, provider, record, needs_reauth) \
             VALUES ('t9', 'gitlab', $1, false)",
            &[&newer.to_string()],
        )
        .await
        .unwrap();
    drop(client);
    assert_eq!(db.store.list("t1").await.unwrap()[0].account.login, "alice");
    assert!(matches!(
        db.store.get("t9", Provider::GitLab).await,
        Err(StoreError::NewerVersion(99))
    ));
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replace_matches_a_record_an_older_version_wrote() {
    let db = TestDb::new(true).await;
    let b = crate::store::StoredBinding {
        avatar: None,
        ..binding("t1", Provider::GitLab, "alice")
    };
    let client = db.store.pool().get().await.unwrap();
    client
        .execute(
            "INSERT INTO bindings (tenant, provider, record, needs_reauth) \
             VALUES ('t1', 'gitlab', $1, false)",
            &[&older_record(&b)],
        )
        .await
        .unwrap();
    drop(client);
    let read = db.store.get("t1", Provider::GitLab).await.unwrap().unwrap();
    assert_eq!(read, b);
    let next = crate::store::StoredBinding {
        last_checked_at: Some(42),
        ..read.clone()
    };
    assert!(
        db.store.replace(&read, &next).await.unwrap(),
        "the same record"
    );
    assert_eq!(
        db.store.get("t1", Provider::GitLab).await.unwrap(),
        Some(next.clone())
    );
    assert!(
        !db.store.replace(&read, &next).await.unwrap(),
        "no longer the same"
    );
    db.finish().await;
}

/// The retention sweep deletes a backlog larger than one statement's chunk, and one delete
/// that fails (here a trigger refuses the activity log's) does not keep the others from running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweep_clears_a_large_backlog_and_each_delete_runs_on_its_own() {
    let db = TestDb::new(true).await;
    let client = db.store.pool().get().await.unwrap();
    client
        .batch_execute(
            "INSERT INTO audit (tenant, at, entry) \
             SELECT 't1', g, '{}' FROM generate_series(1, 25000) g",
        )
        .await
        .unwrap();
    db.store
        .append(entry("t1", 1_000_000, "kept"))
        .await
        .unwrap();
    let swept = db.store.sweep_before(100_000, 0).await.unwrap();
    assert_eq!(swept.audit, 25_000);
    let (left, _) = db.store.page("t1", None, 10).await.unwrap();
    assert_eq!(left.iter().map(tag).collect::<Vec<_>>(), ["kept"]);

    client
        .batch_execute(
            "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; \
             END $$ LANGUAGE plpgsql; CREATE TRIGGER refuse BEFORE DELETE ON audit \
             FOR EACH ROW EXECUTE FUNCTION refuse()",
        )
        .await
        .unwrap();
    db.store
        .insert_pending(&pending("p1", "t1", Provider::GitLab, 0), 10, HOUR)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let now = db.store.now_ms().await.unwrap();
    assert!(db.store.sweep_before(2_000_000, now).await.is_err());
    assert!(
        db.store.all_pending().await.unwrap().is_empty(),
        "swept all the same"
    );
    drop(client);
    db.finish().await;
}

#[tokio::test]
async fn unreachable_database_is_unavailable() {
    // A port nothing listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://nobody@127.0.0.1:{port}/none?sslmode=disable");
    match PgStore::connect(&options(&url)).await {
        Err(e) => assert!(e.is_unavailable(), "{e:?}"),
        Ok(_) => panic!("connected to a closed port"),
    }
}

/// An activity entry that waits on a lock another session holds past the lock timeout is
/// "not now" (the credential API answers 503 and the build service tries again), not a bug.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_activity_write_that_cannot_get_its_lock_is_unavailable() {
    let db = TestDb::new(true).await;
    // New connections (the replica's) wait at most this long for a lock.
    admin_sql(
        &db.admin,
        &format!("ALTER DATABASE {} SET lock_timeout = '200ms'", db.name()),
    )
    .await;
    let writer = db.replica().await;
    let mut holder = db.store.pool().get().await.unwrap();
    let lock = holder.transaction().await.unwrap();
    lock.batch_execute("LOCK TABLE audit IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let err = writer.append(entry("t1", 1, "locked")).await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    lock.rollback().await.unwrap();
    writer.append(entry("t1", 2, "free")).await.unwrap();
    drop(holder);
    drop(writer);
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovers_when_connections_are_killed() {
    let db = TestDb::new(true).await;
    db.store
        .put(&binding("t1", Provider::GitLab, "a"))
        .await
        .unwrap();
    // What a database restart does to the pool: every connection it holds is cut.
    let client = tokio_postgres::connect(
        &std::env::var("CODESOURCE_TEST_DATABASE_URL").unwrap(),
        tokio_postgres::NoTls,
    )
    .await
    .map(|(client, conn)| {
        tokio::spawn(conn);
        client
    })
    .unwrap();
    let killed = client
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
            &[&db.name()],
        )
        .await
        .unwrap();
    assert!(killed > 0);
    drop(client);
    // A cut connection may fail one request (as `Unavailable`); the pool then reconnects.
    let mut ok = false;
    for _ in 0..5 {
        match db.store.get("t1", Provider::GitLab).await {
            Ok(b) => {
                assert_eq!(b.unwrap().account.login, "a");
                ok = true;
                break;
            }
            Err(e) => assert!(e.is_unavailable(), "{e:?}"),
        }
    }
    assert!(ok, "the pool did not recover");
    assert!(db.store.ready().await);
    db.finish().await;
}

/// Entries appended together are written together (`audit_batch`): every one is written once,
/// and one the database refuses (a NUL byte, which PostgreSQL text cannot hold) fails alone
/// instead of taking its batch with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_are_all_written_and_a_refused_one_fails_alone() {
    let db = TestDb::new(true).await;
    let outcomes = futures_util::future::join_all((0..64).map(|i| {
        let mut e = entry("t1", 1_000 + i, &i.to_string());
        if i == 40 {
            e.tenant = "t1\0bad".into();
        }
        db.store.append(e)
    }))
    .await;
    for (i, outcome) in outcomes.iter().enumerate() {
        match (i, outcome) {
            (40, Err(StoreError::Backend(_))) => {}
            (40, other) => panic!("the refused entry: {other:?}"),
            (_, Ok(())) => {}
            (i, Err(e)) => panic!("entry {i}: {e:?}"),
        }
    }
    let (page, next) = db.store.page("t1", None, 100).await.unwrap();
    assert_eq!(next, None);
    let mut tags: Vec<i64> = page.iter().map(|e| tag(e).parse().unwrap()).collect();
    tags.sort();
    assert_eq!(tags, (0..64).filter(|i| *i != 40).collect::<Vec<_>>());
    db.finish().await;
}

/// Two replicas recording the same delivery at once: the database's unique keys decide, so
/// exactly one emits; and events appended by both are numbered without repeats.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_recording_one_delivery_emit_once() {
    use super::autobuild::{event, reg_key, registration};
    use crate::store::{AutoBuildStore, DeliveryLogEntry, DeliveryOutcome};
    let db = TestDb::new(true).await;
    let other = db.replica().await;
    let key = reg_key("t1", Provider::GitHub, "1");
    db.store
        .put_registration(&registration("r1", key.clone()))
        .await
        .unwrap();
    let event = |commit: &str| event(&key, commit, 1_000);
    let entry = |d: &str| DeliveryLogEntry {
        rid: "r1".into(),
        tenant: "t1".into(),
        at_ms: 1_000,
        delivery_id: Some(d.into()),
        event: "push".into(),
        git_ref: None,
        commit: None,
        outcome: DeliveryOutcome::Built,
    };
    for round in 0..10 {
        let (e, d) = (event(&format!("c{round}")), entry(&format!("d{round}")));
        let (a, b) = tokio::join!(
            db.store.record_delivery(&d, std::slice::from_ref(&e), true),
            other.record_delivery(&d, std::slice::from_ref(&e), true)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.emitted.len() + b.emitted.len(), 1, "round {round}");
        assert!(a.duplicate_delivery ^ b.duplicate_delivery);
    }
    let events = other.events_after(0, 100).await.unwrap();
    assert_eq!(events.len(), 10);
    assert!(events.windows(2).all(|w| w[0].0 < w[1].0));
    drop(other);
    db.finish().await;
}

/// Deliveries recorded in one transaction (the group commit of `delivery_batch`) keep the
/// meaning each has alone: of two equal delivery ids in one batch the first is new and the
/// second a duplicate, an event repeated by a later delivery of the batch is that delivery's
/// duplicate, and the numbers follow the batch's order.
#[tokio::test]
async fn one_batch_of_deliveries_means_what_each_means_alone() {
    use super::autobuild::{event, reg_key, registration};
    use crate::store::{AutoBuildStore, DeliveryLogEntry, DeliveryOutcome};
    let db = TestDb::new(true).await;
    let key = reg_key("t1", Provider::GitHub, "1");
    for (rid, key) in [
        ("r1", key.clone()),
        ("r2", reg_key("t1", Provider::GitHub, "2")),
    ] {
        db.store
            .put_registration(&registration(rid, key))
            .await
            .unwrap();
    }
    let event = |commit: &str| event(&key, commit, 1_000);
    let entry = |rid: &str, d: &str, at_ms: i64| DeliveryLogEntry {
        rid: rid.into(),
        tenant: "t1".into(),
        at_ms,
        delivery_id: Some(d.into()),
        event: "push".into(),
        git_ref: None,
        commit: None,
        outcome: DeliveryOutcome::Built,
    };
    let batch = [
        (entry("r2", "d1", 2_000), vec![event("a"), event("b")]),
        (entry("r1", "d1", 1_000), vec![event("c")]),
        (entry("r2", "d1", 3_000), vec![event("z")]),
        (entry("r1", "d2", 1_500), vec![event("b"), event("d")]),
    ];
    let recorded = db.store.record_deliveries_together(&batch).await.unwrap();
    let summary: Vec<_> = recorded
        .iter()
        .map(|r| (r.duplicate_delivery, r.emitted.len(), r.duplicate_events))
        .collect();
    assert_eq!(
        summary,
        [(false, 2, 0), (false, 1, 0), (true, 0, 0), (false, 1, 1)],
        "{recorded:?}"
    );
    let numbers: Vec<u64> = recorded.iter().flat_map(|r| r.emitted.clone()).collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
    let events = db.store.events_after(0, 100).await.unwrap();
    let commits: Vec<_> = events.iter().map(|(_, e)| e.commit.as_str()).collect();
    assert_eq!(commits, ["a", "b", "c", "d"]);
    // The duplicate is logged as one, and each registration's last delivery is its latest.
    let log = db.store.deliveries("r2", 10).await.unwrap();
    let outcomes: Vec<_> = log.iter().map(|e| e.outcome).collect();
    assert_eq!(
        outcomes,
        [DeliveryOutcome::Duplicate, DeliveryOutcome::Built],
        "{log:?}"
    );
    for (rid, at) in [("r1", 1_500), ("r2", 3_000)] {
        let stored = db.store.registration_by_rid(rid).await.unwrap().unwrap();
        assert_eq!(stored.last_delivery_at, Some(at), "{rid}");
    }
    db.finish().await;
}

/// Expired pending items and flows do not wait for the hourly sweep: a tenant's insert or take
/// removes its expired ones (by the database's clock).
#[tokio::test]
async fn expired_pending_items_and_flows_go_on_the_tenants_next_insert_or_take() {
    let db = TestDb::new(true).await;
    let s = &db.store;
    let short = Duration::from_millis(50);
    for id in ["e1", "e2"] {
        s.insert_pending(&pending(id, "t1", Provider::GitLab, 0), 10, HOUR)
            .await
            .unwrap();
    }
    s.insert_pending(&pending("o1", "t2", Provider::GitLab, 0), 10, HOUR)
        .await
        .unwrap();
    s.insert_flow(&flow("f1", "t1", 0), 10, HOUR).await.unwrap();
    tokio::time::sleep(short * 2).await;
    let ids = async || -> Vec<String> {
        let mut ids: Vec<_> = s
            .all_pending()
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.id)
            .collect();
        ids.sort();
        ids
    };
    assert!(s.take_pending("t1", "nope", short).await.unwrap().is_none());
    assert_eq!(
        ids().await,
        ["o1"],
        "t1's expired ones went on a take; t2's stay"
    );
    s.insert_pending(&pending("n2", "t2", Provider::GitLab, 0), 10, short)
        .await
        .unwrap();
    assert_eq!(ids().await, ["n2"], "and on an insert");
    s.insert_flow(&flow("f2", "t1", 0), 10, short)
        .await
        .unwrap();
    let flows: Vec<_> = s
        .all_flows()
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.state_hash)
        .collect();
    assert_eq!(flows, ["f2"]);
    db.finish().await;
}

/// Migration 4 moves the avatar images older versions kept inside binding records into table
/// `avatars`, leaving the records with the reference only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_moves_avatars_out_of_records() {
    let db = TestDb::new(false).await;
    let before: Vec<_> = crate::store::pg::MIGRATIONS
        .iter()
        .filter(|m| m.0 < 4)
        .copied()
        .collect();
    db.store.apply_migrations(&before).await.unwrap();
    let image = super::avatar();
    let b = binding("t1", Provider::GitLab, "alice");
    let mut older = serde_json::to_value(&b).unwrap();
    older["avatar"] = serde_json::to_value(&image).unwrap();
    let client = db.store.pool().get().await.unwrap();
    client
        .execute(
            "INSERT INTO bindings (tenant, provider, record, needs_reauth) \
             VALUES ('t1', 'gitlab', $1, false)",
            &[&older.to_string()],
        )
        .await
        .unwrap();
    assert_eq!(db.store.migrate().await.unwrap(), [4, 5]);
    let raw: String = client
        .query_one("SELECT record FROM bindings", &[])
        .await
        .unwrap()
        .get(0);
    assert!(!raw.contains("data_b64"), "{raw}");
    drop(client);
    assert_eq!(db.store.get("t1", Provider::GitLab).await.unwrap(), Some(b));
    assert_eq!(
        db.store.avatar("t1", Provider::GitLab).await.unwrap(),
        Some(image)
    );
    db.finish().await;
}
