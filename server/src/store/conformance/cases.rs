//! The case bodies, each run against every backend (see `cases!` in the parent): bindings,
//! health-check claims and the activity log. Pending items, flows, leases and sweeps are in
//! `ephemeral`.

use super::{binding, entry, keys};
use crate::store::{Store, StoredBinding};
use app::api::Provider::{self, DevCloud, GitHub, GitLab, Gitee};
use app::api::ReauthReason;
use std::time::Duration;

pub use super::autobuild::*;
pub use super::avatars::*;
pub use super::ephemeral::*;
pub use super::jobs::*;

pub async fn bindings_are_tenant_scoped(s: &dyn Store) {
    assert!(
        !s.put(&binding("t1", GitLab, "alice")).await.unwrap(),
        "new"
    );
    assert!(!s.put(&binding("t10", GitLab, "bob")).await.unwrap());
    assert!(
        s.put(&binding("t1", GitLab, "alice2")).await.unwrap(),
        "replaced"
    );
    s.put(&binding("t1", GitHub, "alice-gh")).await.unwrap();
    let t1 = s.list("t1").await.unwrap();
    assert_eq!(
        keys(&t1),
        keys(&[binding("t1", GitLab, ""), binding("t1", GitHub, "")]),
        "t1 must not see t10 (prefix overlap)"
    );
    let got = s.get("t1", GitLab).await.unwrap().unwrap();
    assert_eq!(got, binding("t1", GitLab, "alice2"), "read back as written");
    assert!(s.get("t2", GitLab).await.unwrap().is_none());
    assert!(s.get("t1", Gitee).await.unwrap().is_none());
    assert_eq!(
        s.delete("t1", GitLab).await.unwrap().unwrap().account.login,
        "alice2"
    );
    assert!(s.delete("t1", GitLab).await.unwrap().is_none());
    assert_eq!(s.list("t10").await.unwrap().len(), 1);
    assert_eq!(s.list("t1").await.unwrap().len(), 1);
    assert!(s.list("t").await.unwrap().is_empty());
    assert!(s.ready().await);
}

pub async fn replace_only_when_unchanged(s: &dyn Store) {
    let a = binding("t1", GitLab, "alice");
    assert!(!s.replace(&a, &a).await.unwrap(), "no row yet");
    s.put(&a).await.unwrap();
    let b = StoredBinding {
        scopes: vec!["api".into()],
        ..a.clone()
    };
    assert!(s.replace(&a, &b).await.unwrap());
    assert_eq!(s.get("t1", GitLab).await.unwrap().unwrap(), b);
    let c = StoredBinding {
        reauth_reason: Some(ReauthReason::TokenRevoked),
        ..a.clone()
    };
    assert!(!s.replace(&a, &c).await.unwrap(), "stale old must lose");
    assert_eq!(s.get("t1", GitLab).await.unwrap().unwrap(), b);

    // A claim changes the record: the claimed binding is the current `old`.
    let claimed = s.claim_due(None, HOUR, HOUR, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(!s.replace(&b, &c).await.unwrap(), "claimed since read");
    let checked = StoredBinding {
        last_checked_at: Some(60),
        ..claimed[0].clone()
    };
    assert!(s.replace(&claimed[0], &checked).await.unwrap());
    assert_eq!(s.get("t1", GitLab).await.unwrap().unwrap(), checked);
}

pub async fn scan_pages_in_key_order(s: &dyn Store) {
    let mut all = Vec::new();
    for tenant in ["t2", "t1", "t10", "t3"] {
        for p in [GitLab, DevCloud, Gitee] {
            let b = binding(tenant, p, tenant);
            s.put(&b).await.unwrap();
            all.push(b);
        }
    }
    // Key order: tenant, then the provider's name.
    all.sort_by(|a, b| (&a.tenant, a.provider.as_str()).cmp(&(&b.tenant, b.provider.as_str())));
    let mut seen = Vec::new();
    let mut after: Option<(String, Provider)> = None;
    loop {
        let page = s.scan(after.clone(), 5).await.unwrap();
        assert!(page.len() <= 5);
        let Some(last) = page.last() else { break };
        after = Some((last.tenant.clone(), last.provider));
        seen.extend(page);
        assert!(seen.len() <= all.len(), "scan must end");
    }
    assert_eq!(seen, all);
    assert_eq!(s.scan(None, 100).await.unwrap(), all);
    let after_t1_gitlab = s.scan(Some(("t1".into(), GitLab)), 2).await.unwrap();
    assert_eq!(
        keys(&after_t1_gitlab),
        keys(&all[3..5]),
        "after is exclusive"
    );
}

const HOUR: Duration = Duration::from_secs(3600);

/// A fixed time for records whose time only orders them (Unix seconds).
const NOW: i64 = 1_800_000_000;

pub async fn claim_due_rules(s: &dyn Store) {
    // The store's clock decides (see `Leases`); the process's is close enough to set rows up.
    let now = crate::util::now_secs();
    let with = |tenant: &str, p: Provider, f: &dyn Fn(&mut StoredBinding)| {
        let mut b = binding(tenant, p, "x");
        f(&mut b);
        b
    };
    let rows = [
        with("t1", GitLab, &|_| {}), // never checked: due
        with("t1", GitHub, &|b| b.last_checked_at = Some(now - 7200)), // due
        with("t1", Gitee, &|b| b.last_checked_at = Some(now - 10)), // checked recently
        with("t1", DevCloud, &|b| b.check_claimed_until = Some(now - 1)), // claim ended: due
        with("t3", GitLab, &|b| {
            b.reauth_reason = Some(ReauthReason::TokenRevoked)
        }),
        with("t3", GitHub, &|b| b.check_claimed_until = Some(now + 100)), // claimed
        with("t2", GitLab, &|_| {}),                                      // due, another tenant
    ];
    for b in &rows {
        s.put(b).await.unwrap();
    }
    let second = Duration::from_secs(1);
    let t1 = s.claim_due(Some("t1"), HOUR, second, 10).await.unwrap();
    assert_eq!(
        keys(&t1),
        keys(&[rows[0].clone(), rows[1].clone(), rows[3].clone()])
    );
    let until = t1[0].check_claimed_until.expect("claimed");
    assert!((now + 1..=now + 3).contains(&until), "{until} vs {now}");
    assert!(t1.iter().all(|b| b.check_claimed_until == Some(until)));
    assert_eq!(
        s.get("t1", GitLab)
            .await
            .unwrap()
            .unwrap()
            .check_claimed_until,
        Some(until),
        "the claim is stored"
    );
    let again = s.claim_due(Some("t1"), HOUR, second, 10);
    assert!(again.await.unwrap().is_empty(), "claimed until {until}");
    let rest = s.claim_due(None, HOUR, second, 10).await.unwrap();
    assert_eq!(keys(&rest), keys(&rows[6..7]));

    // Once the claims have run out (whole seconds), the same rows are due again; the one
    // claimed for another 100 s is not.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let one = s.claim_due(None, HOUR, HOUR, 1).await.unwrap();
    assert_eq!(one.len(), 1, "limit");
    assert_eq!(one[0].last_checked_at, None, "least recently checked first");
    let mut later = s.claim_due(None, HOUR, HOUR, 10).await.unwrap();
    later.extend(one);
    let expected = [0, 1, 3, 6].map(|i| rows[i].clone());
    assert_eq!(keys(&later), keys(&expected));
}

pub async fn concurrent_claims_hand_out_each_once(s: &dyn Store) {
    for i in 0..20 {
        s.put(&binding(&format!("c{i:02}"), GitLab, "x"))
            .await
            .unwrap();
    }
    let (a, b) = tokio::join!(
        s.claim_due(None, Duration::ZERO, HOUR, 20),
        s.claim_due(None, Duration::ZERO, HOUR, 20),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        a.len() + b.len(),
        20,
        "each row once: {} + {}",
        a.len(),
        b.len()
    );
    let mut all = keys(&a);
    all.extend(keys(&b));
    assert_eq!(all.len(), 20);
}

pub async fn counts_by_provider_and_reauth(s: &dyn Store) {
    assert!(s.counts().await.unwrap().is_empty());
    s.put(&binding("t1", GitLab, "a")).await.unwrap();
    s.put(&binding("t2", GitLab, "b")).await.unwrap();
    s.put(&binding("t1", GitHub, "c")).await.unwrap();
    let mut broken = binding("t3", GitLab, "d");
    broken.reauth_reason = Some(ReauthReason::RefreshRefused("invalid_grant".into()));
    s.put(&broken).await.unwrap();
    assert_eq!(
        sorted_counts(s).await,
        [(GitHub, false, 1), (GitLab, false, 2), (GitLab, true, 1)]
    );
    // Marked for re-authorization (the health check's replace), then re-bound over (put).
    let ok = s.get("t1", GitHub).await.unwrap().unwrap();
    let mut refused = ok.clone();
    refused.reauth_reason = Some(ReauthReason::RefreshRefused("invalid_grant".into()));
    assert!(s.replace(&ok, &refused).await.unwrap());
    assert_eq!(
        sorted_counts(s).await,
        [(GitHub, true, 1), (GitLab, false, 2), (GitLab, true, 1)]
    );
    assert!(
        !s.replace(&ok, &refused).await.unwrap(),
        "changed meanwhile"
    );
    assert_eq!(
        sorted_counts(s).await,
        [(GitHub, true, 1), (GitLab, false, 2), (GitLab, true, 1)]
    );
    s.put(&binding("t3", GitLab, "d")).await.unwrap();
    assert_eq!(
        sorted_counts(s).await,
        [(GitHub, true, 1), (GitLab, false, 3)]
    );
    s.delete("t1", GitHub).await.unwrap();
    s.delete("t1", GitLab).await.unwrap();
    assert_eq!(sorted_counts(s).await, [(GitLab, false, 2)]);
    s.put(&broken).await.unwrap();
    s.delete("t3", GitLab).await.unwrap();
    assert_eq!(sorted_counts(s).await, [(GitLab, false, 1)]);
}

pub async fn audit_pages_newest_first(s: &dyn Store) {
    // Two entries in the same second: insertion order breaks the tie.
    for (i, at) in [100, 101, 101, 102, 103].into_iter().enumerate() {
        s.append(entry("t1", NOW + at, &format!("a{i}")))
            .await
            .unwrap();
    }
    s.append(entry("t10", NOW + 200, "other")).await.unwrap();
    let actions = |page: &[crate::store::AuditEntry]| -> Vec<String> {
        page.iter().map(|e| super::tag(e).to_string()).collect()
    };
    let (first, cursor) = s.page("t1", None, 2).await.unwrap();
    assert_eq!(actions(&first), ["a4", "a3"]);
    let (second, cursor) = s.page("t1", cursor, 2).await.unwrap();
    assert_eq!(actions(&second), ["a2", "a1"]);
    let (last, cursor) = s.page("t1", cursor, 2).await.unwrap();
    assert_eq!(actions(&last), ["a0"]);
    assert!(cursor.is_none(), "nothing older");
    let (exact, cursor) = s.page("t1", None, 5).await.unwrap();
    assert_eq!(exact.len(), 5);
    assert!(cursor.is_none(), "a full last page has no cursor");
    assert_eq!(
        exact[0],
        entry("t1", NOW + 103, "a4"),
        "read back as written"
    );
    assert_eq!(
        actions(&s.page("t10", None, 10).await.unwrap().0),
        ["other"]
    );
    assert!(s.page("t", None, 10).await.unwrap().0.is_empty());
}

pub async fn audit_scan_copies_everything(s: &dyn Store) {
    let mut written = Vec::new();
    for i in 0..7 {
        let e = entry(&format!("t{}", i % 3), NOW + 10 - i, &format!("a{i}"));
        s.append(e.clone()).await.unwrap();
        written.push(e);
    }
    let mut copied = Vec::new();
    let mut cursor = None;
    for _ in 0..10 {
        let (page, next) = s.scan_audit(cursor, 3).await.unwrap();
        assert!(page.len() <= 3);
        copied.extend(page);
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(copied.len(), written.len(), "each entry once");
    copied.sort_by(|a, b| a.request_id.cmp(&b.request_id));
    assert_eq!(copied, written);
    let (again, _) = s.scan_audit(None, 100).await.unwrap();
    assert_eq!(again.len(), 7);
}

/// A bulk import (`copy-from-sled`, the benchmark's seeding) inserts and replaces by key, keeps
/// the re-authorization index right, and reads back like rows written by `put`.
pub async fn bindings_import(s: &dyn Store) {
    s.put(&binding("t1", GitLab, "old")).await.unwrap();
    let mut broken = binding("t2", GitHub, "c");
    broken.reauth_reason = Some(ReauthReason::RefreshRefused("invalid_grant".into()));
    let rows = [
        binding("t1", GitLab, "new"),
        binding("t1", Gitee, "b"),
        broken.clone(),
    ];
    s.import_bindings(&rows).await.unwrap();
    let t1 = s.list("t1").await.unwrap();
    assert_eq!(t1, rows[..2].iter().rev().cloned().collect::<Vec<_>>());
    assert_eq!(s.get("t2", GitHub).await.unwrap().as_ref(), Some(&broken));
    assert_eq!(
        sorted_counts(s).await,
        [(GitHub, true, 1), (GitLab, false, 1), (Gitee, false, 1)]
    );
    // Imported again without the reason: out of the index.
    s.import_bindings(&[binding("t2", GitHub, "c")])
        .await
        .unwrap();
    assert_eq!(
        sorted_counts(s).await,
        [(GitHub, false, 1), (GitLab, false, 1), (Gitee, false, 1)]
    );
    s.import_bindings(&[]).await.unwrap();
}

/// The store's binding counts in one order (backends may list them in any).
async fn sorted_counts(s: &dyn Store) -> Vec<(Provider, bool, u64)> {
    let mut counts = s.counts().await.unwrap();
    counts.sort();
    counts
}
