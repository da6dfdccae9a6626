//! Key rotation: re-seals every stored token (bindings, pending items, OAuth flows' verifiers,
//! auto-build registrations' hook secrets, the tokens cleanup jobs still need to revoke) with
//! the active key, while servers keep running. Each record is swapped only if it is still
//! the one that was read (a concurrent refresh or unbind wins, and the record is read again),
//! and records already under the active key are skipped, so an interrupted run just runs again.
//! A last look counts what is still under an older key (a pending item confirmed into a
//! binding the scan had passed, a record that kept changing): the command then asks for
//! another run, rather than report success before the old key may go.

use crate::crypto::{Cipher, CryptoError, Sealed};
use crate::store::{
    aad, flow_aad, hook_aad, job_aad, CleanupJob, FlowRecord, PendingRecord, Store, StoreError,
    StoredBinding, StoredRegistration,
};

const PAGE: usize = 500;
/// Tries per record when concurrent writers keep changing it.
const TRIES: usize = 5;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rotated {
    /// Records re-sealed now.
    pub resealed: u64,
    /// Records already sealed with the active key.
    pub current: u64,
    /// Records sealed with a key that is not configured (left as they are).
    pub unreadable: u64,
    /// Readable records still under an older key after the run (written meanwhile).
    pub left: u64,
}

/// `Some(new)` if `s` needed re-sealing; `Err` when its key is unknown (or it is damaged).
fn reseal_opt(
    cipher: &Cipher,
    s: Option<&Sealed>,
    aad: &[u8],
) -> Result<Option<Option<Sealed>>, CryptoError> {
    match s {
        None => Ok(None),
        Some(s) => Ok(cipher.reseal(s, aad)?.map(Some)),
    }
}

/// The binding with its tokens under the active key; `None` if nothing needed doing.
fn resealed_binding(
    cipher: &Cipher,
    b: &StoredBinding,
) -> Result<Option<StoredBinding>, CryptoError> {
    let aad = aad(&b.tenant, b.provider);
    let token = cipher.reseal(&b.token, &aad)?;
    let refresh = reseal_opt(cipher, b.refresh_token.as_ref(), &aad)?;
    if token.is_none() && refresh.is_none() {
        return Ok(None);
    }
    let mut new = b.clone();
    if let Some(t) = token {
        new.token = t;
    }
    if let Some(r) = refresh {
        new.refresh_token = r;
    }
    Ok(Some(new))
}

/// The pending item with its tokens under the active key; `None` if nothing needed doing.
fn resealed_pending(
    cipher: &Cipher,
    p: &PendingRecord,
) -> Result<Option<PendingRecord>, CryptoError> {
    let aad = aad(&p.tenant, p.item.provider);
    let token = cipher.reseal(&p.item.token, &aad)?;
    let refresh = reseal_opt(cipher, p.item.refresh_token.as_ref(), &aad)?;
    if token.is_none() && refresh.is_none() {
        return Ok(None);
    }
    let mut new = p.clone();
    if let Some(t) = token {
        new.item.token = t;
    }
    if let Some(rt) = refresh {
        new.item.refresh_token = rt;
    }
    Ok(Some(new))
}

/// The flow with its PKCE verifier under the active key; `None` if nothing needed doing.
fn resealed_flow(cipher: &Cipher, f: &FlowRecord) -> Result<Option<FlowRecord>, CryptoError> {
    let verifier = reseal_opt(cipher, f.verifier.as_ref(), &flow_aad(&f.state_hash))?;
    Ok(verifier.map(|verifier| FlowRecord {
        verifier,
        ..f.clone()
    }))
}

/// The registration with its hook secrets (current and previous) under the active key;
/// `None` if nothing needed doing.
fn resealed_registration(
    cipher: &Cipher,
    r: &StoredRegistration,
) -> Result<Option<StoredRegistration>, CryptoError> {
    let aad = hook_aad(&r.rid);
    let secret = cipher.reseal(&r.secret, &aad)?;
    let previous = reseal_opt(cipher, r.previous_secret.as_ref(), &aad)?;
    if secret.is_none() && previous.is_none() {
        return Ok(None);
    }
    let mut new = r.clone();
    if let Some(s) = secret {
        new.secret = s;
    }
    if let Some(p) = previous {
        new.previous_secret = p;
    }
    Ok(Some(new))
}

/// The job with its token under the active key; `None` if nothing needed doing (or it holds
/// no token any more).
fn resealed_job(cipher: &Cipher, j: &CleanupJob) -> Result<Option<CleanupJob>, CryptoError> {
    let Some(token) = reseal_opt(cipher, j.token.as_ref(), &job_aad(&j.id))? else {
        return Ok(None);
    };
    let mut new = j.clone();
    new.token = token;
    Ok(Some(new))
}

/// How many readable records are still under an older key.
async fn still_old(store: &dyn Store, cipher: &Cipher) -> Result<u64, StoreError> {
    let mut n = 0;
    let mut after = None;
    loop {
        let page = store.scan(after.take(), PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some((last.tenant.clone(), last.provider));
        n += page
            .iter()
            .filter(|b| matches!(resealed_binding(cipher, b), Ok(Some(_))))
            .count() as u64;
    }
    for p in store.all_pending().await? {
        n += u64::from(matches!(resealed_pending(cipher, &p), Ok(Some(_))));
    }
    for f in store.all_flows().await? {
        n += u64::from(matches!(resealed_flow(cipher, &f), Ok(Some(_))));
    }
    for j in store.jobs().await? {
        n += u64::from(matches!(resealed_job(cipher, &j), Ok(Some(_))));
    }
    let mut after = None;
    loop {
        let page = store.scan_registrations(after.take(), PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.rid.clone());
        n += page
            .iter()
            .filter(|r| matches!(resealed_registration(cipher, r), Ok(Some(_))))
            .count() as u64;
    }
    Ok(n)
}

impl Rotated {
    fn count<T>(&mut self, r: &Result<Option<T>, CryptoError>, what: &str, key: &str) {
        match r {
            Ok(Some(_)) => self.resealed += 1,
            Ok(None) => self.current += 1,
            Err(e) => {
                tracing::error!(record = what, key, error = %e, "cannot re-seal: left as it is");
                self.unreadable += 1;
            }
        }
    }
}

pub async fn rotate(store: &dyn Store, cipher: &Cipher) -> Result<Rotated, StoreError> {
    let mut out = Rotated::default();
    let mut after = None;
    loop {
        let page = store.scan(after.take(), PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some((last.tenant.clone(), last.provider));
        for mut b in page {
            for _ in 0..TRIES {
                let r = resealed_binding(cipher, &b);
                let key = format!("{}/{}", b.tenant, b.provider.as_str());
                let Ok(Some(new)) = &r else {
                    out.count(&r, "binding", &key);
                    break;
                };
                if store.replace(&b, new).await? {
                    out.count(&r, "binding", &key);
                    break;
                }
                // Changed meanwhile: read it again (gone means nothing to do).
                match store.get(&b.tenant, b.provider).await? {
                    Some(fresh) => b = fresh,
                    None => break,
                }
            }
        }
    }
    for p in store.all_pending().await? {
        let r = resealed_pending(cipher, &p);
        if let Ok(Some(new)) = &r {
            // Taken (confirmed) meanwhile: it went into its binding, which the last look
            // below finds if the scan had passed it.
            store.replace_pending(&p, new).await?;
        }
        out.count(&r, "pending", &p.id);
    }
    for f in store.all_flows().await? {
        let r = resealed_flow(cipher, &f);
        if let Ok(Some(new)) = &r {
            store.replace_flow(&f, new).await?;
        }
        out.count(&r, "oauth flow", &f.state_hash[..8.min(f.state_hash.len())]);
    }
    rotate_jobs(store, cipher, &mut out).await?;
    rotate_registrations(store, cipher, &mut out).await?;
    out.left = still_old(store, cipher).await?;
    Ok(out)
}

/// A job whose token an old key sealed could not revoke it once that key is gone.
async fn rotate_jobs(
    store: &dyn Store,
    cipher: &Cipher,
    out: &mut Rotated,
) -> Result<(), StoreError> {
    for mut j in store.jobs().await? {
        for _ in 0..TRIES {
            let r = resealed_job(cipher, &j);
            let Ok(Some(new)) = &r else {
                out.count(&r, "cleanup job", &j.id);
                break;
            };
            if store.replace_job(&j, new).await? {
                out.count(&r, "cleanup job", &j.id);
                break;
            }
            // Saved by its worker meanwhile: read it again; finished means nothing to do.
            match store
                .jobs()
                .await?
                .into_iter()
                .find(|fresh| fresh.id == j.id)
            {
                Some(fresh) => j = fresh,
                None => break,
            }
        }
    }
    Ok(())
}

async fn rotate_registrations(
    store: &dyn Store,
    cipher: &Cipher,
    out: &mut Rotated,
) -> Result<(), StoreError> {
    let mut after = None;
    loop {
        let page = store.scan_registrations(after.take(), PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.rid.clone());
        for mut r in page {
            for _ in 0..TRIES {
                let result = resealed_registration(cipher, &r);
                let Ok(Some(new)) = &result else {
                    out.count(&result, "registration", &r.rid);
                    break;
                };
                if store.replace_registration(&r, new).await? {
                    out.count(&result, "registration", &r.rid);
                    break;
                }
                // Changed meanwhile (a delivery, a secret rotation): read it again; gone, or
                // registered anew under another rid (a new secret), means nothing to do.
                match store.registration(&r.key).await? {
                    Some(fresh) if fresh.rid == r.rid => r = fresh,
                    _ => break,
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::{SecretBytes, SecretString};
    use crate::store::conformance::{binding, flow, job, pending, reg_key, registration};
    use crate::store::{
        AutoBuildStore, BindingStore, FlowStore, JobStore, PendingStore, SledStore,
    };
    use app::api::Provider;

    const HOUR: std::time::Duration = std::time::Duration::from_secs(3600);

    fn key(b: u8) -> SecretBytes {
        SecretBytes::new(vec![b; 32])
    }

    /// The backend-independent part of rotation, on sled (the PostgreSQL run, with a server
    /// running beside it, is in the replicas integration tests).
    #[tokio::test]
    async fn reseals_every_record_once_and_reports_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let old = Cipher::new(&key(1)).unwrap();
        let secret = SecretString::new("glpat-secret".into());

        let mut b = binding("t1", Provider::GitLab, "alice");
        b.token = old.seal(&secret, &aad("t1", Provider::GitLab));
        b.refresh_token = None;
        store.put(&b).await.unwrap();
        let mut p = pending(
            &"a".repeat(32),
            "t1",
            Provider::Gitee,
            crate::util::now_millis(),
        );
        p.item.token = old.seal(&secret, &aad("t1", Provider::Gitee));
        p.item.refresh_token = Some(old.seal(&secret, &aad("t1", Provider::Gitee)));
        store.insert_pending(&p, 16, HOUR).await.unwrap();
        let mut f = flow("f1", "t1", crate::util::now_millis());
        f.verifier = Some(old.seal(&secret, &flow_aad("f1")));
        store.insert_flow(&f, 16, HOUR).await.unwrap();
        // Sealed with a key nobody configured.
        let mut lost = binding("t2", Provider::GitLab, "bob");
        lost.token = Cipher::new(&key(9))
            .unwrap()
            .seal(&secret, &aad("t2", Provider::GitLab));
        lost.refresh_token = None;
        store.put(&lost).await.unwrap();

        let mut r = registration("rid-1", reg_key("t1", Provider::GitHub, "42"));
        r.secret = old.seal(&secret, &hook_aad("rid-1"));
        r.previous_secret = Some(old.seal(&secret, &hook_aad("rid-1")));
        store.put_registration(&r).await.unwrap();
        // A cleanup job still owing a revocation, and one that needs its token no more.
        let mut owed = job("j1", "t1", "carol");
        owed.token = Some(old.seal(&secret, &job_aad("j1")));
        assert!(store.import_job(&owed).await.unwrap());
        let mut spent = job("j2", "t1", "dave");
        spent.token = None;
        assert!(store.import_job(&spent).await.unwrap());

        let ring = Cipher::with_older(&key(2), &[key(1)]).unwrap();
        assert_eq!(still_old(&store, &ring).await.unwrap(), 5);
        let first = rotate(&store, &ring).await.unwrap();
        assert_eq!(
            (first.resealed, first.unreadable, first.left),
            (5, 1, 0),
            "{first:?}"
        );
        let again = rotate(&store, &ring).await.unwrap();
        assert_eq!((again.resealed, again.current, again.unreadable), (0, 6, 1));

        // Without the old key, everything rotated still opens.
        let new_only = Cipher::new(&key(2)).unwrap();
        let b = store.get("t1", Provider::GitLab).await.unwrap().unwrap();
        assert_eq!(
            new_only
                .open(&b.token, &aad("t1", Provider::GitLab))
                .unwrap()
                .expose(),
            "glpat-secret"
        );
        let p = store
            .take_pending("t1", &"a".repeat(32), HOUR)
            .await
            .unwrap()
            .unwrap();
        let rt = p.item.refresh_token.unwrap();
        assert!(new_only.open(&rt, &aad("t1", Provider::Gitee)).is_ok());
        let Some(crate::store::TakenFlow::Fresh(f)) = store.take_flow("f1", HOUR).await.unwrap()
        else {
            panic!("the flow is there and fresh")
        };
        assert!(new_only.open(&f.verifier.unwrap(), &flow_aad("f1")).is_ok());
        let r = store.registration_by_rid("rid-1").await.unwrap().unwrap();
        assert!(new_only.open(&r.secret, &hook_aad("rid-1")).is_ok());
        let previous = r.previous_secret.unwrap();
        assert!(new_only.open(&previous, &hook_aad("rid-1")).is_ok());
        let jobs = store.jobs().await.unwrap();
        let owed = jobs.iter().find(|j| j.id == "j1").unwrap();
        assert!(new_only
            .open(owed.token.as_ref().unwrap(), &job_aad("j1"))
            .is_ok());
    }
}
