//! Moving up: copies every binding (with its avatar image), pending item, OAuth flow, activity
//! entry and auto-build registration from one store into another (sled → PostgreSQL, for a
//! deployment that outgrows one machine), and the work still owed: the cleanup jobs unbinds left
//! (revocations, hook removals) and the pushes held for their code host's confirmation. Build
//! events, their outbox and the delivery log are not copied: the feed's sequence numbers belong
//! to the store that handed them out. Idempotent: bindings, registrations, pending items, jobs
//! and held pushes are written by key, and a tenant's activity entries already in the target are
//! not added twice, so an interrupted copy can simply run again.

use super::{AuditEntry, Store, StoreError};
use std::collections::HashMap;
use std::time::Duration;

/// A TTL under which nothing stored counts as expired (copying takes everything along).
const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

const PAGE: usize = 500;

/// What a copy wrote (records already in the target are counted as skipped).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Copied {
    pub bindings: u64,
    pub pending: u64,
    pub flows: u64,
    pub audit: u64,
    pub audit_skipped: u64,
    pub registrations: u64,
    /// Cleanup jobs (the work an unbind left to do).
    pub jobs: u64,
    /// Pushes held for their code host's confirmation.
    pub held_pushes: u64,
}

pub async fn copy_all(from: &dyn Store, to: &dyn Store) -> Result<Copied, StoreError> {
    let mut copied = Copied::default();
    let mut after = None;
    loop {
        let page = from.scan(after.take(), PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some((last.tenant.clone(), last.provider));
        // A page in one write (the store's bulk import), not a durable `put` each.
        to.import_bindings(&page).await?;
        for b in &page {
            // The image is kept apart from the record; after it, as the target keeps one only
            // for an existing binding.
            if b.avatar.is_some() {
                let image = from.avatar(&b.tenant, b.provider).await?;
                to.put_avatar(&b.tenant, b.provider, image.as_ref()).await?;
            }
            copied.bindings += 1;
        }
    }
    for p in from.all_pending().await? {
        if to.peek_pending(&p.tenant, &p.id, FOREVER).await?.is_none() {
            // No per-tenant bound while copying: everything that was there comes along.
            // Stamped anew by the target: a copied entry lives its TTL again from here.
            to.insert_pending(&p, usize::MAX, FOREVER).await?;
            copied.pending += 1;
        }
    }
    let existing_flows: Vec<String> = to
        .all_flows()
        .await?
        .into_iter()
        .map(|f| f.state_hash)
        .collect();
    for f in from.all_flows().await? {
        if !existing_flows.contains(&f.state_hash) {
            to.insert_flow(&f, usize::MAX, FOREVER).await?;
            copied.flows += 1;
        }
    }
    let mut after = None;
    loop {
        let page = from.scan_registrations(after.take(), PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.rid.clone());
        for r in &page {
            to.put_registration(r).await?;
            copied.registrations += 1;
        }
    }
    for job in from.jobs().await? {
        copied.jobs += u64::from(to.import_job(&job).await?);
    }
    // Due at once in the target; its attempts and age come along (it still gives up on time).
    for push in from.held_pushes().await? {
        copied.held_pushes += u64::from(to.hold_push(&push, Duration::ZERO).await?);
    }
    copy_audit(from, to, &mut copied).await?;
    Ok(copied)
}

/// An entry's identity for de-duplication (entries have no id of their own).
fn identity(e: &AuditEntry) -> String {
    serde_json::to_string(e).unwrap_or_default()
}

async fn copy_audit(
    from: &dyn Store,
    to: &dyn Store,
    copied: &mut Copied,
) -> Result<(), StoreError> {
    // What the target already holds, per tenant, loaded when the tenant first shows up.
    let mut present: HashMap<String, HashMap<String, u32>> = HashMap::new();
    let mut cursor = None;
    loop {
        let (entries, next) = from.scan_audit(cursor.take(), PAGE).await?;
        for e in entries {
            if !present.contains_key(&e.tenant) {
                let mut seen = HashMap::new();
                let mut before = None;
                loop {
                    let (page, older) = to.page(&e.tenant, before.take(), PAGE).await?;
                    for t in &page {
                        *seen.entry(identity(t)).or_insert(0) += 1;
                    }
                    match older {
                        Some(c) => before = Some(c),
                        None => break,
                    }
                }
                present.insert(e.tenant.clone(), seen);
            }
            let seen = present.get_mut(&e.tenant).expect("loaded above");
            match seen.get_mut(&identity(&e)) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    copied.audit_skipped += 1;
                }
                _ => {
                    to.append(e).await?;
                    copied.audit += 1;
                }
            }
        }
        match next {
            Some(c) => cursor = Some(c),
            None => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::conformance::{
        binding, entry, flow, held_push, job, pending, reg_key, registration, TestDb,
    };
    use super::*;
    use crate::store::{
        AuditLog, AutoBuildStore, BindingStore, FlowStore, JobStore, PendingStore, SledStore,
    };
    use app::api::Provider;

    #[tokio::test]
    async fn copies_sled_into_postgres_once() {
        let dir = tempfile::tempdir().unwrap();
        let sled = SledStore::open(dir.path()).unwrap();
        for (t, p) in [
            ("t1", Provider::GitLab),
            ("t1", Provider::Gitee),
            ("t2", Provider::GitHub),
        ] {
            sled.put(&binding(t, p, &format!("{t}-user")))
                .await
                .unwrap();
        }
        let now = crate::util::now_millis();
        sled.insert_pending(
            &pending("a".repeat(32).as_str(), "t1", Provider::GitLab, now),
            16,
            FOREVER,
        )
        .await
        .unwrap();
        sled.insert_flow(&flow("f1", "t2", now), 16, FOREVER)
            .await
            .unwrap();
        let mut reg = registration("rid-1", reg_key("t1", Provider::GitHub, "42"));
        reg.last_delivery_at = Some(now);
        sled.put_registration(&reg).await.unwrap();
        let owed = job("j1", "t1", "gone-user");
        assert!(sled.import_job(&owed).await.unwrap());
        let held = held_push(&reg.key, "d1");
        assert!(sled
            .hold_push(&held, Duration::from_secs(60))
            .await
            .unwrap());
        for (i, t) in ["t1", "t1", "t2", "t1", "t2"].into_iter().enumerate() {
            sled.append(entry(t, 1_800_000_000 + i as i64, "bind"))
                .await
                .unwrap();
        }
        // Two identical entries (same second, same everything) must both arrive, once.
        sled.append(entry("t2", 1_800_000_100, "unbind"))
            .await
            .unwrap();
        sled.append(entry("t2", 1_800_000_100, "unbind"))
            .await
            .unwrap();

        let db = TestDb::new(true).await;
        let first = copy_all(&sled, &db.store).await.unwrap();
        assert_eq!(
            first,
            Copied {
                bindings: 3,
                pending: 1,
                flows: 1,
                audit: 7,
                audit_skipped: 0,
                registrations: 1,
                jobs: 1,
                held_pushes: 1,
            }
        );
        let again = copy_all(&sled, &db.store).await.unwrap();
        assert_eq!(
            (
                again.pending,
                again.flows,
                again.audit,
                again.jobs,
                again.held_pushes
            ),
            (0, 0, 0, 0, 0)
        );
        assert_eq!(db.store.jobs().await.unwrap(), [owed]);
        // Held pushes are due at once in the target (leased in the source, which stopped).
        assert_eq!(
            db.store
                .claim_held_pushes(Duration::from_secs(60), 10)
                .await
                .unwrap(),
            [held]
        );
        assert_eq!(again.audit_skipped, 7, "nothing added twice");

        assert_eq!(db.store.list("t1").await.unwrap().len(), 2);
        assert_eq!(db.store.page("t2", None, 50).await.unwrap().0.len(), 4);
        assert!(db
            .store
            .take_pending("t1", &"a".repeat(32), FOREVER)
            .await
            .unwrap()
            .is_some());
        assert!(db.store.take_flow("f1", FOREVER).await.unwrap().is_some());
        assert_eq!(
            db.store.registration_by_rid("rid-1").await.unwrap(),
            Some(reg)
        );
        assert_eq!(again.registrations, 1, "written again by key, not added");
        assert_eq!(db.store.registrations("t1", None).await.unwrap().len(), 1);
        db.finish().await;
    }
}
