//! Auto-build's storage cases, run against every backend: registrations, recording
//! deliveries (de-duplication by delivery id and by event id, sequence order), the delivery
//! log, the outbox and the retention sweep.

use super::sealed;
use crate::store::{
    build_event_id, held_push_id, BuildEvent, DeliveryLogEntry, DeliveryOutcome, EventRepository,
    HeldPush, OutboxCounts, Recorded, RefType, RegistrationKey, Store, StoredRegistration,
    MAX_DELIVERY_LOG, RECORD_VERSION,
};
use app::api::Provider::{self, GitHub, GitLab};
use futures_util::future::join_all;
use std::time::Duration;

pub(crate) fn reg_key(tenant: &str, provider: Provider, repo_id: &str) -> RegistrationKey {
    RegistrationKey {
        tenant: tenant.into(),
        provider,
        account: "octo".into(),
        repo_id: repo_id.into(),
    }
}

/// A push of registration `r1` (for `key`) held for its confirmation, from delivery `d`.
pub(crate) fn held_push(key: &RegistrationKey, d: &str) -> HeldPush {
    HeldPush {
        v: RECORD_VERSION,
        id: held_push_id("r1", Some(d)),
        entry: entry("r1", Some(d), 1_000),
        events: vec![event(key, d, 1_000)],
        attempts: 0,
        created_at_ms: 1_000,
    }
}

pub(crate) fn registration(rid: &str, key: RegistrationKey) -> StoredRegistration {
    StoredRegistration {
        v: RECORD_VERSION,
        rid: rid.into(),
        full_name: format!("octo/repo-{}", key.repo_id),
        listing_id: format!("octo/repo-{}", key.repo_id),
        key,
        clone_url: Some("https://github.com/octo/repo.git".into()),
        branches: vec!["main".into()],
        tags: vec!["v*".into()],
        hook_id: Some("77".into()),
        secret: sealed("hook-secret"),
        previous_secret: None,
        previous_until_ms: None,
        created_at: 1_800_000_000,
        created_by: "u1".into(),
        last_delivery_at: None,
        status: None,
        checked_at_ms: None,
        orphaned: false,
    }
}

/// A build event of `main` at `commit` for the registration `key`.
pub(crate) fn event(key: &RegistrationKey, commit: &str, at_ms: i64) -> BuildEvent {
    let git_ref = "refs/heads/main";
    BuildEvent {
        id: build_event_id(key, git_ref, commit),
        tenant: key.tenant.clone(),
        provider: key.provider,
        account: key.account.clone(),
        repository: EventRepository {
            id: key.repo_id.clone(),
            full_name: "octo/repo".into(),
            clone_url: None,
        },
        git_ref: git_ref.into(),
        ref_type: RefType::Branch,
        ref_name: "main".into(),
        commit: commit.into(),
        before: None,
        pusher: Some("octo".into()),
        delivery_id: None,
        received_at: at_ms,
        manual: false,
    }
}

fn entry(rid: &str, delivery: Option<&str>, at_ms: i64) -> DeliveryLogEntry {
    DeliveryLogEntry {
        rid: rid.into(),
        tenant: "t1".into(),
        at_ms,
        delivery_id: delivery.map(Into::into),
        event: "push".into(),
        git_ref: Some("refs/heads/main".into()),
        commit: None,
        outcome: DeliveryOutcome::Built,
    }
}

fn outcomes(log: &[DeliveryLogEntry]) -> Vec<DeliveryOutcome> {
    log.iter().map(|e| e.outcome).collect()
}

pub async fn autobuild_registrations(s: &dyn Store) {
    let a = registration("rid-a", reg_key("t1", GitHub, "1"));
    assert_eq!(s.put_registration(&a).await.unwrap(), None, "new");
    assert_eq!(s.registration(&a.key).await.unwrap(), Some(a.clone()));
    assert_eq!(
        s.registration_by_rid("rid-a").await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(s.registration_by_rid("nope").await.unwrap(), None);

    // The same key again: replaced, and the old rid stops resolving.
    let a2 = StoredRegistration {
        branches: vec!["*".into()],
        ..registration("rid-a2", a.key.clone())
    };
    assert_eq!(s.put_registration(&a2).await.unwrap(), Some(a.clone()));
    assert_eq!(s.registration_by_rid("rid-a").await.unwrap(), None);
    assert_eq!(
        s.registration_by_rid("rid-a2").await.unwrap(),
        Some(a2.clone())
    );

    let others = [
        registration("rid-c", reg_key("t1", GitLab, "9")),
        registration("rid-b", reg_key("t1", GitHub, "2")),
        registration("rid-d", reg_key("t10", GitHub, "1")),
    ];
    for r in &others {
        s.put_registration(r).await.unwrap();
    }
    let t1 = s.registrations("t1", None).await.unwrap();
    assert_eq!(
        t1,
        [a2.clone(), others[1].clone(), others[0].clone()],
        "key order, t10 apart"
    );
    let gh = s.registrations("t1", Some(GitHub)).await.unwrap();
    assert_eq!(gh, [a2.clone(), others[1].clone()]);
    assert!(s.registrations("t", None).await.unwrap().is_empty());

    // Compare-and-swap.
    let newer = StoredRegistration {
        hook_id: None,
        ..a2.clone()
    };
    assert!(!s.replace_registration(&a, &newer).await.unwrap(), "stale");
    assert!(s.replace_registration(&a2, &newer).await.unwrap());
    assert_eq!(s.registration(&a.key).await.unwrap(), Some(newer.clone()));
    // What a reconcile found is kept with the record (and a stale check loses).
    let checked = StoredRegistration {
        status: Some(app::api::AutoBuildStatus::HookMissing),
        checked_at_ms: Some(1_800_000_000_123),
        ..newer.clone()
    };
    assert!(s.replace_registration(&newer, &checked).await.unwrap());
    assert_eq!(s.registration(&a.key).await.unwrap(), Some(checked.clone()));
    assert!(!s.replace_registration(&newer, &checked).await.unwrap());
    assert!(s.replace_registration(&checked, &newer).await.unwrap());
    let rerid = StoredRegistration {
        rid: "rid-a3".into(),
        ..newer.clone()
    };
    assert!(s.replace_registration(&newer, &rerid).await.unwrap());
    assert_eq!(s.registration_by_rid("rid-a2").await.unwrap(), None);
    assert_eq!(
        s.registration_by_rid("rid-a3").await.unwrap(),
        Some(rerid.clone())
    );

    // Scan in rid order, paged, `after` exclusive.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = s.scan_registrations(after.take(), 2).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.rid.clone());
        seen.extend(page.into_iter().map(|r| r.rid));
        assert!(seen.len() <= 4, "scan must end");
    }
    assert_eq!(seen, ["rid-a3", "rid-b", "rid-c", "rid-d"]);

    assert_eq!(s.delete_registration(&a.key).await.unwrap(), Some(rerid));
    assert_eq!(s.delete_registration(&a.key).await.unwrap(), None);
    assert_eq!(s.registration_by_rid("rid-a3").await.unwrap(), None);
    assert_eq!(s.registrations("t1", None).await.unwrap().len(), 2);
}

pub async fn autobuild_record_delivery_dedup_and_order(s: &dyn Store) {
    let key = reg_key("t1", GitHub, "1");
    s.put_registration(&registration("r1", key.clone()))
        .await
        .unwrap();
    let (e1, e2, e3) = (
        event(&key, "c1", 1_000),
        event(&key, "c2", 1_000),
        event(&key, "c3", 2_000),
    );

    let first = s
        .record_delivery(
            &entry("r1", Some("d1"), 1_000),
            &[e1.clone(), e2.clone()],
            false,
        )
        .await
        .unwrap();
    assert!(!first.duplicate_delivery);
    assert_eq!(first.emitted, [1, 2]);
    assert_eq!(first.duplicate_events, 0);

    // The same delivery again (a redelivery): nothing but a log entry.
    let again = s
        .record_delivery(
            &entry("r1", Some("d1"), 1_500),
            std::slice::from_ref(&e3),
            false,
        )
        .await
        .unwrap();
    assert!(again.duplicate_delivery);
    assert!(again.emitted.is_empty());

    // Another delivery of one known and one new event.
    let mixed = s
        .record_delivery(
            &entry("r1", Some("d2"), 2_000),
            &[e2.clone(), e3.clone()],
            false,
        )
        .await
        .unwrap();
    assert_eq!(
        (mixed.emitted.as_slice(), mixed.duplicate_events),
        (&[3][..], 1)
    );
    // Only known events: logged as a duplicate.
    let known = s
        .record_delivery(
            &entry("r1", Some("d3"), 2_500),
            std::slice::from_ref(&e1),
            false,
        )
        .await
        .unwrap();
    assert!(!known.duplicate_delivery);
    assert_eq!((known.emitted.len(), known.duplicate_events), (0, 1));
    // No delivery id (a manual build): de-duplicated by event only.
    let e4 = event(&key, "c4", 3_000);
    let manual = s
        .record_delivery(&entry("r1", None, 3_000), &[e4.clone(), e4.clone()], false)
        .await
        .unwrap();
    assert_eq!(
        (manual.emitted.as_slice(), manual.duplicate_events),
        (&[4][..], 1)
    );
    // The same delivery id on another registration is another delivery.
    let other = s
        .record_delivery(&entry("r2", Some("d1"), 3_000), &[], false)
        .await
        .unwrap();
    assert!(!other.duplicate_delivery);

    assert_eq!(s.last_event_seq().await.unwrap(), 4);
    let page = s.events_after(0, 3).await.unwrap();
    assert_eq!(
        page,
        [(1, e1.clone()), (2, e2.clone()), (3, e3.clone())],
        "in sequence order, as written"
    );
    assert_eq!(s.events_after(3, 3).await.unwrap(), [(4, e4)]);
    assert!(s.events_after(4, 3).await.unwrap().is_empty());

    let log = s.deliveries("r1", 10).await.unwrap();
    use DeliveryOutcome::{Built, Duplicate};
    assert_eq!(
        outcomes(&log),
        [Built, Duplicate, Built, Duplicate, Built],
        "newest first"
    );
    assert_eq!(log[0].at_ms, 3_000);
    assert_eq!(s.deliveries("r1", 2).await.unwrap(), log[..2]);
    let r = s.registration(&key).await.unwrap().unwrap();
    assert_eq!(r.last_delivery_at, Some(3_000));
    assert_eq!(
        s.outbox_counts().await.unwrap(),
        OutboxCounts::default(),
        "outbox: false"
    );
}

pub async fn autobuild_log_is_trimmed(s: &dyn Store) {
    let key = reg_key("t1", GitHub, "1");
    s.put_registration(&registration("r1", key.clone()))
        .await
        .unwrap();
    for i in 0..MAX_DELIVERY_LOG as i64 + 7 {
        let mut e = entry("r1", None, i);
        e.outcome = DeliveryOutcome::Refused;
        s.log_delivery(&e).await.unwrap();
    }
    s.log_delivery(&entry("other", None, 5)).await.unwrap();
    s.record_delivery(
        &entry("r1", Some("d"), 1_000),
        &[event(&key, "c", 1_000)],
        true,
    )
    .await
    .unwrap();
    let log = s.deliveries("r1", 100).await.unwrap();
    assert_eq!(log.len(), MAX_DELIVERY_LOG);
    assert_eq!(log[0].at_ms, 1_000);
    let at: Vec<i64> = log[1..].iter().map(|e| e.at_ms).collect();
    let want: Vec<i64> = (8..MAX_DELIVERY_LOG as i64 + 7).rev().collect();
    assert_eq!(at, want, "the newest kept, newest first");
    assert_eq!(s.deliveries("other", 100).await.unwrap().len(), 1);
}

pub async fn autobuild_outbox_claims_leases_and_retries(s: &dyn Store) {
    let key = reg_key("t1", GitHub, "1");
    let events: Vec<_> = (0..3)
        .map(|i| event(&key, &format!("c{i}"), 1_000))
        .collect();
    let rec = s
        .record_delivery(&entry("r1", Some("d"), 1_000), &events, true)
        .await
        .unwrap();
    assert_eq!(rec.emitted, [1, 2, 3]);
    let counts = |pending, failing| OutboxCounts { pending, failing };
    assert_eq!(s.outbox_counts().await.unwrap(), counts(3, 0));
    let (long, short) = (Duration::from_secs(60), Duration::from_millis(300));

    let seqs = |items: &[crate::store::OutboxItem]| items.iter().map(|i| i.seq).collect::<Vec<_>>();
    let first = s.claim_outbox(long, 2).await.unwrap();
    assert_eq!(seqs(&first), [1, 2], "due at once");
    assert_eq!(first[0].event, events[0]);
    assert_eq!(first[0].attempts, 0);
    let second = s.claim_outbox(short, 10).await.unwrap();
    assert_eq!(seqs(&second), [3], "1 and 2 are leased");

    s.finish_outbox(2).await.unwrap();
    s.retry_outbox(1, 1, short).await.unwrap();
    assert_eq!(s.outbox_counts().await.unwrap(), counts(2, 1));
    assert!(
        s.claim_outbox(long, 10).await.unwrap().is_empty(),
        "1 waits for its retry time, 3 is leased"
    );
    tokio::time::sleep(short + Duration::from_millis(100)).await;
    let third = s.claim_outbox(long, 10).await.unwrap();
    assert_eq!(seqs(&third), [1, 3], "3's lease ran out unfinished");
    assert_eq!((third[0].attempts, third[1].attempts), (1, 0));
    s.finish_outbox(1).await.unwrap();
    s.finish_outbox(3).await.unwrap();
    s.retry_outbox(3, 2, Duration::ZERO).await.unwrap();
    assert_eq!(
        s.outbox_counts().await.unwrap(),
        counts(0, 0),
        "a finished row stays gone"
    );
    assert!(s.claim_outbox(long, 10).await.unwrap().is_empty());
    assert_eq!(s.events_after(0, 10).await.unwrap().len(), 3, "events stay");
}

pub async fn autobuild_concurrent_deliveries(s: &dyn Store) {
    let key = reg_key("t1", GitHub, "1");
    s.put_registration(&registration("r1", key.clone()))
        .await
        .unwrap();
    // The same delivery eight times at once: exactly one emits.
    let (e, delivery) = (event(&key, "same", 1_000), entry("r1", Some("d"), 1_000));
    let same =
        join_all((0..8).map(|_| s.record_delivery(&delivery, std::slice::from_ref(&e), true)))
            .await;
    let same: Vec<Recorded> = same.into_iter().map(Result::unwrap).collect();
    let emitted: Vec<_> = same.iter().map(|r| &r.emitted).collect();
    assert_eq!(
        emitted.iter().filter(|e| !e.is_empty()).count(),
        1,
        "{emitted:?}"
    );
    assert_eq!(same.iter().filter(|r| r.duplicate_delivery).count(), 7);
    // Different deliveries of one event: one emits.
    let by_event = join_all((0..8).map(|i| {
        let d = format!("other-{i}");
        let e = event(&key, "shared", 1_000);
        async move {
            s.record_delivery(&entry("r1", Some(&d), 1_000), &[e], true)
                .await
        }
    }))
    .await;
    let emitted = by_event
        .into_iter()
        .filter(|r| !r.as_ref().unwrap().emitted.is_empty());
    assert_eq!(emitted.count(), 1);
    // Distinct events at once: each once, numbers strictly increasing.
    let distinct = join_all((0..16).map(|i| {
        let e = event(&key, &format!("c{i}"), 1_000);
        async move {
            s.record_delivery(&entry("r1", Some(&format!("x{i}")), 1_000), &[e], true)
                .await
        }
    }))
    .await;
    assert!(distinct
        .iter()
        .all(|r| r.as_ref().unwrap().emitted.len() == 1));
    // Deliveries of two registrations at once, several events each, some shared between
    // them: every event once, and each delivery counts the ones it did not add.
    let key2 = reg_key("t1", GitHub, "2");
    s.put_registration(&registration("r2", key2.clone()))
        .await
        .unwrap();
    let mixed = join_all((0..12).map(|i| {
        let (rid, key) = if i % 2 == 0 {
            ("r1", &key)
        } else {
            ("r2", &key2)
        };
        let events = [
            event(key, &format!("m{i}"), 1_000),
            event(key, &format!("shared-{}", i % 4), 1_000),
        ];
        async move {
            s.record_delivery(&entry(rid, Some(&format!("m{i}")), 1_000), &events, false)
                .await
        }
    }))
    .await;
    let mixed: Vec<Recorded> = mixed.into_iter().map(Result::unwrap).collect();
    assert_eq!(mixed.iter().map(|r| r.emitted.len()).sum::<usize>(), 12 + 4);
    assert_eq!(
        mixed.iter().map(|r| r.duplicate_events).sum::<usize>(),
        12 - 4
    );
    let all = s.events_after(0, 100).await.unwrap();
    assert_eq!(all.len(), 18 + 16);
    assert!(all.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(s.outbox_counts().await.unwrap().pending, 18);
    for rid in ["r1", "r2"] {
        let stored = s.registration_by_rid(rid).await.unwrap().unwrap();
        assert_eq!(stored.last_delivery_at, Some(1_000), "{rid}");
    }
}

/// Pushes held for confirmation: one per delivery, never one whose delivery was recorded,
/// claimed one attempt at a time, retried later, released once.
pub async fn autobuild_held_pushes(s: &dyn Store) {
    let key = reg_key("t1", GitHub, "1");
    s.put_registration(&registration("r1", key.clone()))
        .await
        .unwrap();
    let held = |d: &str| held_push(&key, d);
    let long = Duration::from_secs(60);
    let (a, b) = (held("a"), held("b"));
    assert!(s.hold_push(&a, long).await.unwrap());
    assert!(
        !s.hold_push(&a, long).await.unwrap(),
        "the same delivery again"
    );
    assert_ne!(held_push_id("r1", Some("a")), held_push_id("r2", Some("a")));
    assert_ne!(held_push_id("r1", None), held_push_id("r1", None));
    // A delivery already recorded is not held.
    s.record_delivery(&entry("r1", Some("b"), 1_000), &[], false)
        .await
        .unwrap();
    assert!(!s.hold_push(&b, long).await.unwrap());
    assert_eq!(s.held_push_count().await.unwrap(), 1);
    let all = s.held_pushes().await.unwrap();
    assert_eq!(
        all.iter().map(|p| &p.id).collect::<Vec<_>>(),
        [&a.id],
        "leased ones too"
    );

    // Leased to its receiver: nobody else claims it until the lease ends.
    assert!(s.claim_held_pushes(long, 10).await.unwrap().is_empty());
    let c = held("c");
    assert!(s.hold_push(&c, Duration::ZERO).await.unwrap());
    let claimed = s.claim_held_pushes(long, 10).await.unwrap();
    assert_eq!(claimed, vec![c.clone()]);
    assert!(s.claim_held_pushes(long, 10).await.unwrap().is_empty());

    // Retried: due again after the wait, with its attempts.
    let mut again = c.clone();
    again.attempts = 3;
    s.retry_held_push(&again, Duration::ZERO).await.unwrap();
    let claimed = s.claim_held_pushes(long, 10).await.unwrap();
    assert_eq!(claimed.iter().map(|p| p.attempts).collect::<Vec<_>>(), [3]);
    s.retry_held_push(&again, long).await.unwrap();
    assert!(s.claim_held_pushes(long, 10).await.unwrap().is_empty());

    // Released: gone, and a retry does not bring it back.
    s.release_held_push(&c.id).await.unwrap();
    s.retry_held_push(&again, Duration::ZERO).await.unwrap();
    assert!(s.claim_held_pushes(long, 10).await.unwrap().is_empty());
    s.release_held_push(&a.id).await.unwrap();
    assert_eq!(s.held_push_count().await.unwrap(), 0);
}

pub async fn autobuild_sweep(s: &dyn Store) {
    let key = reg_key("t1", GitHub, "1");
    let t = 1_800_000_000; // seconds
    let (old_ms, new_ms) = ((t - 200) * 1000, t * 1000);
    let old = event(&key, "old", old_ms);
    s.record_delivery(
        &entry("r1", Some("d-old"), old_ms),
        std::slice::from_ref(&old),
        true,
    )
    .await
    .unwrap();
    let new = event(&key, "new", new_ms);
    s.record_delivery(
        &entry("r1", Some("d-new"), new_ms),
        std::slice::from_ref(&new),
        true,
    )
    .await
    .unwrap();
    let swept = s.sweep_before(t - 100, 0).await.unwrap();
    assert_eq!(
        (swept.build_events, swept.delivery_ids, swept.delivery_log),
        (1, 1, 1)
    );
    let again = s.sweep_before(t - 100, 0).await.unwrap();
    assert_eq!(
        (again.build_events, again.delivery_ids, again.delivery_log),
        (0, 0, 0)
    );
    assert_eq!(s.events_after(0, 10).await.unwrap(), [(2, new.clone())]);
    assert_eq!(
        s.outbox_counts().await.unwrap().pending,
        1,
        "the old one's row went too"
    );
    assert_eq!(s.deliveries("r1", 10).await.unwrap().len(), 1);
    // Forgotten: the old delivery and event count as new again; the kept ones do not.
    let redo = s
        .record_delivery(&entry("r1", Some("d-old"), new_ms), &[old], true)
        .await
        .unwrap();
    assert_eq!(
        (redo.duplicate_delivery, redo.emitted.as_slice()),
        (false, &[3][..])
    );
    let kept = s
        .record_delivery(&entry("r1", Some("d-new"), new_ms), &[new], true)
        .await
        .unwrap();
    assert!(kept.duplicate_delivery);
}
