//! Cleanup jobs, run against every backend: the binding's removal (or replacement) and its
//! job are one write, conditional on the binding as read; claims lease each job to one
//! worker; progress is saved and the lease ends; finishing removes the job.

use super::{binding, sealed};
use crate::store::{CleanupJob, Store, RECORD_VERSION};
use app::api::Provider::GitLab;
use futures_util::future::join_all;

pub fn job(id: &str, tenant: &str, account: &str) -> CleanupJob {
    CleanupJob {
        v: RECORD_VERSION,
        id: id.into(),
        tenant: tenant.into(),
        provider: GitLab,
        account: account.into(),
        address: Some("https://gitlab.com".into()),
        ca_pem: None,
        token: Some(sealed("job")),
        revoke: true,
        activity: None,
        hooks: true,
        attempts: 0,
        next_at_ms: 1_000,
        created_at_ms: 1_000,
    }
}

pub async fn unbind_and_its_job_are_one_write(s: &dyn Store) {
    let old = binding("t1", GitLab, "alice");
    s.put(&old).await.unwrap();
    let j = job("j1", "t1", "alice");

    // A binding that changed since it was read is left alone, and no job is written.
    let stale = binding("t1", GitLab, "bob");
    assert!(!s.unbind_with_job(&stale, &j, 0).await.unwrap());
    assert_eq!(s.get("t1", GitLab).await.unwrap(), Some(old.clone()));
    assert!(s.jobs().await.unwrap().is_empty());

    // Leased by the unbinding request: no worker claims it before the lease ends.
    assert!(s.unbind_with_job(&old, &j, 5_000).await.unwrap());
    assert_eq!(s.get("t1", GitLab).await.unwrap(), None);
    assert_eq!(s.jobs().await.unwrap(), std::slice::from_ref(&j));
    assert!(s.claim_jobs(4_999, 9_000, 10).await.unwrap().is_empty());
    // Gone already: a second unbind writes nothing.
    assert!(!s
        .unbind_with_job(&old, &job("j2", "t1", "alice"), 0)
        .await
        .unwrap());
    assert_eq!(s.jobs().await.unwrap().len(), 1);

    // Re-binding another account: the replacement and the job together.
    let bob = binding("t1", GitLab, "bob");
    s.put(&bob).await.unwrap();
    let carol = binding("t1", GitLab, "carol");
    assert!(!s
        .rebind_with_job(&old, &carol, &job("j3", "t1", "bob"), 0)
        .await
        .unwrap());
    assert!(s
        .rebind_with_job(&bob, &carol, &job("j3", "t1", "bob"), 0)
        .await
        .unwrap());
    assert_eq!(s.get("t1", GitLab).await.unwrap(), Some(carol));
    assert_eq!(s.jobs().await.unwrap().len(), 2);
}

/// The counts `/metrics` reads follow an unbind or re-bind made with a job.
pub async fn counts_follow_unbind_and_rebind_with_a_job(s: &dyn Store) {
    let reauth = |account: &str| crate::store::StoredBinding {
        reauth_reason: Some(app::api::ReauthReason::TokenRevoked),
        ..binding("t1", GitLab, account)
    };
    let old = reauth("alice");
    s.put(&old).await.unwrap();
    assert_eq!(s.counts().await.unwrap(), vec![(GitLab, true, 1)]);
    let fresh = binding("t1", GitLab, "bob");
    assert!(s
        .rebind_with_job(&old, &fresh, &job("c1", "t1", "alice"), 0)
        .await
        .unwrap());
    assert_eq!(s.counts().await.unwrap(), vec![(GitLab, false, 1)]);
    let again = reauth("bob");
    assert!(s.replace(&fresh, &again).await.unwrap());
    assert!(s
        .unbind_with_job(&again, &job("c2", "t1", "bob"), 0)
        .await
        .unwrap());
    assert_eq!(s.counts().await.unwrap(), vec![]);
}

/// Copying a store imports each job once; key rotation swaps a job only as it was read.
pub async fn jobs_import_once_and_swap_only_as_read(s: &dyn Store) {
    let mut j = job("j1", "t1", "alice");
    j.attempts = 2;
    j.next_at_ms = 3_000;
    assert!(s.import_job(&j).await.unwrap());
    assert!(
        !s.import_job(&job("j1", "t1", "bob")).await.unwrap(),
        "imported once"
    );
    assert_eq!(s.jobs().await.unwrap(), [j.clone()]);
    // Imported as it was: not leased, due when it was due.
    assert!(s.claim_jobs(2_999, 9_000, 10).await.unwrap().is_empty());

    let mut resealed = j.clone();
    resealed.token = Some(sealed("job, re-sealed"));
    assert!(s.replace_job(&j, &resealed).await.unwrap());
    assert!(
        !s.replace_job(&j, &resealed).await.unwrap(),
        "no longer as read"
    );
    assert_eq!(s.jobs().await.unwrap(), [resealed.clone()]);
    // A worker's save in between wins.
    let claimed = s.claim_jobs(3_000, 9_000, 10).await.unwrap();
    assert_eq!(claimed, [resealed.clone()]);
    let mut saved = resealed.clone();
    saved.attempts = 3;
    s.save_job(&saved).await.unwrap();
    assert!(!s.replace_job(&resealed, &j).await.unwrap());
    assert_eq!(s.jobs().await.unwrap(), [saved]);
    let gone = job("gone", "t1", "alice");
    assert!(!s.replace_job(&gone, &gone).await.unwrap(), "not stored");
}

pub async fn jobs_are_claimed_once_saved_and_finished(s: &dyn Store) {
    for (id, tenant) in [("a", "t1"), ("b", "t2"), ("c", "t3")] {
        let b = binding(tenant, GitLab, "alice");
        s.put(&b).await.unwrap();
        assert!(s
            .unbind_with_job(&b, &job(id, tenant, "alice"), 0)
            .await
            .unwrap());
    }
    // Not due yet.
    assert!(s.claim_jobs(999, 5_000, 10).await.unwrap().is_empty());
    // Concurrent claims hand each job to one claimer.
    let claims = join_all((0..4).map(|_| s.claim_jobs(1_000, 5_000, 10))).await;
    let mut ids: Vec<String> = claims
        .into_iter()
        .flat_map(|c| c.unwrap())
        .map(|j| j.id)
        .collect();
    ids.sort();
    assert_eq!(ids, ["a", "b", "c"]);
    // Leased: nobody else gets them until the lease ends.
    assert!(s.claim_jobs(4_999, 9_000, 10).await.unwrap().is_empty());

    // Progress saved, the lease ended, due again later.
    let mut a = job("a", "t1", "alice");
    a.revoke = false;
    a.token = None;
    a.attempts = 1;
    a.next_at_ms = 2_000;
    s.save_job(&a).await.unwrap();
    assert!(s.claim_jobs(1_999, 9_000, 10).await.unwrap().is_empty());
    assert_eq!(s.claim_jobs(2_000, 9_000, 10).await.unwrap(), [a.clone()]);

    // Finished: gone, and saving it again does not bring it back.
    s.finish_job("a").await.unwrap();
    s.save_job(&a).await.unwrap();
    let left: Vec<String> = s.jobs().await.unwrap().into_iter().map(|j| j.id).collect();
    assert_eq!(left, ["b", "c"]);
    // A lease that ran out (its holder died) lets another worker claim the job.
    let again = s.claim_jobs(5_000, 10_000, 10).await.unwrap();
    assert_eq!(again.len(), 2);
}
