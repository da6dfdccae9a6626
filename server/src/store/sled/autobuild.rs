//! Auto-build in sled, one tree per kind of row:
//! - `autobuild/registrations/v1`: `tenant \0 provider \0 account \0 repo id` → the record;
//! - `autobuild/rids/v1`: rid → the registration's key (the webhook URL's lookup);
//! - `autobuild/delivery-ids/v1`: `rid \0 delivery id` → when (ms, big-endian);
//! - `autobuild/event-ids/v1`: event id → its sequence number;
//! - `autobuild/events/v1` and `autobuild/outbox/v1`: sequence number (big-endian) → the
//!   event / its push state;
//! - `autobuild/log/v1`: `rid \0 n` (the registration's n-th entry, big-endian) → the entry;
//! - `autobuild/meta/v1`: the counters (the last event sequence number, and each rid's n);
//! - `autobuild/held/v1`: held push id → the push waiting for its confirmation, and its lease.
//!
//! Every write that touches more than one tree is a sled transaction across them, so a crash
//! leaves all of a delivery or none of it, and concurrent deliveries serialize on the
//! counters they read (sled retries a transaction that conflicts). Flushed before returning.
//! Numbering the log per rid makes trimming it one `remove` in the same transaction: the
//! entry `MAX_DELIVERY_LOG` places back goes when one is added.

use super::SledStore;
use super::{backend, blocking, claim_due, Leased};
use crate::store::autobuild::*;
use crate::store::{AutoBuildStore, StoreError, RECORD_VERSION};
use app::api::Provider;
use serde::{Deserialize, Serialize};
use sled::transaction::{
    ConflictableTransactionError, ConflictableTransactionResult, TransactionError,
    TransactionalTree,
};
use sled::Transactional;
use std::ops::Bound;

#[derive(Clone)]
pub(super) struct Trees {
    db: sled::Db,
    registrations: sled::Tree,
    rids: sled::Tree,
    delivery_ids: sled::Tree,
    event_ids: sled::Tree,
    events: sled::Tree,
    outbox: sled::Tree,
    log: sled::Tree,
    meta: sled::Tree,
    held: sled::Tree,
}

impl Trees {
    pub(super) fn open(db: &sled::Db) -> Result<Trees, StoreError> {
        let tree = |name: &str| {
            db.open_tree(format!("autobuild/{name}/v1"))
                .map_err(backend)
        };
        Ok(Trees {
            db: db.clone(),
            registrations: tree("registrations")?,
            rids: tree("rids")?,
            delivery_ids: tree("delivery-ids")?,
            event_ids: tree("event-ids")?,
            events: tree("events")?,
            outbox: tree("outbox")?,
            log: tree("log")?,
            meta: tree("meta")?,
            held: tree("held")?,
        })
    }
}

const EVENT_SEQ: &[u8] = b"event-seq";

/// An event's push state.
#[derive(Serialize, Deserialize)]
struct OutboxRow {
    attempts: u32,
    next_at_ms: i64,
    /// 0: not leased.
    leased_until_ms: i64,
}

/// A held push and when it may be tried.
#[derive(Serialize, Deserialize)]
struct HeldRow {
    push: HeldPush,
    next_at_ms: i64,
    /// 0: not leased.
    leased_until_ms: i64,
}

impl Leased for OutboxRow {
    fn due_at_ms(&self) -> i64 {
        self.next_at_ms
    }
    fn leased_until_ms(&mut self) -> &mut i64 {
        &mut self.leased_until_ms
    }
}

impl Leased for HeldRow {
    fn due_at_ms(&self) -> i64 {
        self.next_at_ms
    }
    fn leased_until_ms(&mut self) -> &mut i64 {
        &mut self.leased_until_ms
    }
}

/// Now and the end of a lease taken now for `lease_for` (one process, so one clock: its own).
fn lease_from_now(lease_for: std::time::Duration) -> (i64, i64) {
    let now_ms = crate::util::now_millis();
    (now_ms, now_ms.saturating_add(lease_for.as_millis() as i64))
}

type Tx<T> = ConflictableTransactionResult<T, StoreError>;

fn abort<T>(e: StoreError) -> Tx<T> {
    Err(ConflictableTransactionError::Abort(e))
}

fn tx_err(e: TransactionError<StoreError>) -> StoreError {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => backend(e),
    }
}

/// Transactions and flushes block: off the async workers.
async fn off_thread<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(join) => std::panic::resume_unwind(join.into_panic()),
    }
}

fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(v).map_err(StoreError::Corrupt)
}

fn decode<T: serde::de::DeserializeOwned>(v: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(v).map_err(StoreError::Corrupt)
}

/// A registration, refusing a newer record format rather than misreading it.
fn decode_registration(v: &[u8]) -> Result<StoredRegistration, StoreError> {
    #[derive(Deserialize)]
    struct Version {
        v: u32,
    }
    let version: Version = decode(v)?;
    if version.v > RECORD_VERSION {
        return Err(StoreError::NewerVersion(version.v));
    }
    decode(v)
}

fn be_u64(v: &[u8]) -> u64 {
    v.try_into().map_or(0, u64::from_be_bytes)
}

/// Key parts never hold NUL (tenant ids, provider names, logins, host ids), so prefixes
/// cannot overlap.
fn reg_prefix(tenant: &str, provider: Option<Provider>) -> Vec<u8> {
    let mut k = tenant.as_bytes().to_vec();
    k.push(0);
    if let Some(p) = provider {
        k.extend_from_slice(p.as_str().as_bytes());
        k.push(0);
    }
    k
}

fn reg_key(key: &RegistrationKey) -> Vec<u8> {
    let mut k = reg_prefix(&key.tenant, Some(key.provider));
    k.extend_from_slice(key.account.as_bytes());
    k.push(0);
    k.extend_from_slice(key.repo_id.as_bytes());
    k
}

fn rid_prefix(rid: &str) -> Vec<u8> {
    let mut k = rid.as_bytes().to_vec();
    k.push(0);
    k
}

fn delivery_key(rid: &str, delivery_id: &str) -> Vec<u8> {
    let mut k = rid_prefix(rid);
    k.extend_from_slice(delivery_id.as_bytes());
    k
}

fn log_key(rid: &str, n: u64) -> Vec<u8> {
    let mut k = rid_prefix(rid);
    k.extend_from_slice(&n.to_be_bytes());
    k
}

fn log_counter(rid: &str) -> Vec<u8> {
    [b"log/".as_slice(), rid.as_bytes()].concat()
}

/// Adds `entry` (already encoded) as the rid's next entry and drops the one that falls out.
fn append_log(
    log: &TransactionalTree,
    meta: &TransactionalTree,
    rid: &str,
    entry: &[u8],
) -> Tx<()> {
    let counter = log_counter(rid);
    let n = meta.get(&counter)?.map_or(0, |v| be_u64(&v)) + 1;
    meta.insert(counter, &n.to_be_bytes())?;
    log.insert(log_key(rid, n), entry)?;
    if let Some(gone) = n.checked_sub(MAX_DELIVERY_LOG as u64).filter(|g| *g > 0) {
        log.remove(log_key(rid, gone))?;
    }
    Ok(())
}

/// Sets the registration's `last_delivery_at` (a record that cannot be read is left alone).
fn touch(regs: &TransactionalTree, rids: &TransactionalTree, rid: &str, at_ms: i64) -> Tx<()> {
    let Some(key) = rids.get(rid)? else {
        return Ok(());
    };
    let Some(raw) = regs.get(&key)? else {
        return Ok(());
    };
    let Ok(mut r) = decode_registration(&raw) else {
        return Ok(());
    };
    r.last_delivery_at = Some(r.last_delivery_at.map_or(at_ms, |t| t.max(at_ms)));
    match encode(&r) {
        Ok(v) => regs.insert(key, v).map(drop).map_err(Into::into),
        Err(e) => abort(e),
    }
}

impl SledStore {
    /// Removes build events, delivery ids and log entries older than `before_ms`: (events,
    /// delivery ids, log entries) removed.
    pub(super) fn sweep_autobuild(&self, before_ms: i64) -> Result<(u64, u64, u64), StoreError> {
        #[derive(Deserialize)]
        struct Received {
            id: String,
            received_at: i64,
        }
        let t = &self.autobuild;
        let mut swept = (0, 0, 0);
        // Sequence order is arrival order (one process, one clock): stop at the first event
        // still kept instead of reading them all.
        for item in t.events.iter() {
            let (k, v) = item.map_err(backend)?;
            let e: Received = decode(&v)?;
            if e.received_at >= before_ms {
                break;
            }
            t.event_ids.remove(e.id.as_bytes()).map_err(backend)?;
            t.outbox.remove(&k).map_err(backend)?;
            t.events.remove(&k).map_err(backend)?;
            swept.0 += 1;
        }
        for item in t.delivery_ids.iter() {
            let (k, v) = item.map_err(backend)?;
            if (be_u64(&v) as i64) < before_ms
                && t.delivery_ids.remove(&k).map_err(backend)?.is_some()
            {
                swept.1 += 1;
            }
        }
        for item in t.log.iter() {
            let (k, v) = item.map_err(backend)?;
            let e: DeliveryLogEntry = decode(&v)?;
            if e.at_ms < before_ms && t.log.remove(&k).map_err(backend)?.is_some() {
                swept.2 += 1;
            }
        }
        Ok(swept)
    }
}

#[async_trait::async_trait]
impl AutoBuildStore for SledStore {
    async fn put_registration(
        &self,
        r: &StoredRegistration,
    ) -> Result<Option<StoredRegistration>, StoreError> {
        let t = self.autobuild.clone();
        let (key, value, rid) = (reg_key(&r.key), encode(r)?, r.rid.clone());
        off_thread(move || {
            let old = (&t.registrations, &t.rids)
                .transaction(|(regs, rids)| {
                    let old = regs.insert(key.as_slice(), value.as_slice())?;
                    let old = match old.map(|v| decode_registration(&v)).transpose() {
                        Ok(old) => old,
                        Err(e) => return abort(e),
                    };
                    if let Some(o) = &old {
                        rids.remove(o.rid.as_bytes())?;
                    }
                    rids.insert(rid.as_bytes(), key.as_slice())?;
                    Ok(old)
                })
                .map_err(tx_err)?;
            t.db.flush().map_err(backend)?;
            Ok(old)
        })
        .await
    }

    async fn registration(
        &self,
        key: &RegistrationKey,
    ) -> Result<Option<StoredRegistration>, StoreError> {
        let raw = self
            .autobuild
            .registrations
            .get(reg_key(key))
            .map_err(backend)?;
        raw.map(|v| decode_registration(&v)).transpose()
    }

    async fn registration_by_rid(
        &self,
        rid: &str,
    ) -> Result<Option<StoredRegistration>, StoreError> {
        let t = &self.autobuild;
        let Some(key) = t.rids.get(rid).map_err(backend)? else {
            return Ok(None);
        };
        let raw = t.registrations.get(key).map_err(backend)?;
        // Index and record are written in one transaction; a record under another rid would
        // be a damaged index, not this registration.
        Ok(raw
            .map(|v| decode_registration(&v))
            .transpose()?
            .filter(|r| r.rid == rid))
    }

    async fn registrations(
        &self,
        tenant: &str,
        provider: Option<Provider>,
    ) -> Result<Vec<StoredRegistration>, StoreError> {
        self.autobuild
            .registrations
            .scan_prefix(reg_prefix(tenant, provider))
            .values()
            .map(|v| decode_registration(&v.map_err(backend)?))
            .collect()
    }

    async fn delete_registration(
        &self,
        key: &RegistrationKey,
    ) -> Result<Option<StoredRegistration>, StoreError> {
        let t = self.autobuild.clone();
        let key = reg_key(key);
        off_thread(move || {
            let old = (&t.registrations, &t.rids)
                .transaction(|(regs, rids)| {
                    let Some(raw) = regs.remove(key.as_slice())? else {
                        return Ok(None);
                    };
                    match decode_registration(&raw) {
                        Ok(old) => {
                            rids.remove(old.rid.as_bytes())?;
                            Ok(Some(old))
                        }
                        Err(e) => abort(e),
                    }
                })
                .map_err(tx_err)?;
            t.db.flush().map_err(backend)?;
            Ok(old)
        })
        .await
    }

    async fn replace_registration(
        &self,
        old: &StoredRegistration,
        new: &StoredRegistration,
    ) -> Result<bool, StoreError> {
        debug_assert_eq!(old.key, new.key);
        let t = self.autobuild.clone();
        let (old, key, value, rid) = (
            old.clone(),
            reg_key(&new.key),
            encode(new)?,
            new.rid.clone(),
        );
        off_thread(move || {
            // Compared as records, not bytes (a record an older version wrote lacks fields).
            let done = (&t.registrations, &t.rids)
                .transaction(|(regs, rids)| {
                    let Some(raw) = regs.get(key.as_slice())? else {
                        return Ok(false);
                    };
                    match decode_registration(&raw) {
                        Ok(current) if current == old => {}
                        Ok(_) => return Ok(false),
                        Err(e) => return abort(e),
                    }
                    regs.insert(key.as_slice(), value.as_slice())?;
                    if old.rid != rid {
                        rids.remove(old.rid.as_bytes())?;
                        rids.insert(rid.as_bytes(), key.as_slice())?;
                    }
                    Ok(true)
                })
                .map_err(tx_err)?;
            if done {
                t.db.flush().map_err(backend)?;
            }
            Ok(done)
        })
        .await
    }

    async fn scan_registrations(
        &self,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<StoredRegistration>, StoreError> {
        let t = &self.autobuild;
        let from = match after {
            Some(rid) => Bound::Excluded(rid.into_bytes()),
            None => Bound::Unbounded,
        };
        let mut out = Vec::new();
        for item in t.rids.range::<Vec<u8>, _>((from, Bound::Unbounded)) {
            if out.len() == limit {
                break;
            }
            let (rid, key) = item.map_err(backend)?;
            let Some(raw) = t.registrations.get(key).map_err(backend)? else {
                continue;
            };
            let r = decode_registration(&raw)?;
            if r.rid.as_bytes() == &rid[..] {
                out.push(r);
            }
        }
        Ok(out)
    }

    async fn record_delivery(
        &self,
        entry: &DeliveryLogEntry,
        events: &[BuildEvent],
        outbox: bool,
    ) -> Result<Recorded, StoreError> {
        let t = self.autobuild.clone();
        let as_given = encode(entry)?;
        let as_duplicate = encode(&DeliveryLogEntry {
            outcome: DeliveryOutcome::Duplicate,
            ..entry.clone()
        })?;
        let encoded: Vec<(String, Vec<u8>)> = events
            .iter()
            .map(|e| Ok((e.id.clone(), encode(e)?)))
            .collect::<Result<_, StoreError>>()?;
        let row = encode(&OutboxRow {
            attempts: 0,
            next_at_ms: entry.at_ms,
            leased_until_ms: 0,
        })?;
        let (rid, at_ms) = (entry.rid.clone(), entry.at_ms);
        let delivery = entry.delivery_id.as_deref().map(|d| delivery_key(&rid, d));
        off_thread(move || {
            let trees = (
                &t.registrations,
                &t.rids,
                &t.delivery_ids,
                &t.event_ids,
                &t.events,
                &t.outbox,
                &t.log,
                &t.meta,
            );
            let recorded = trees
                .transaction(|(regs, rids, dids, evids, evs, out, log, meta)| {
                    let mut recorded = Recorded::default();
                    if let Some(d) = &delivery {
                        if dids.get(d.as_slice())?.is_some() {
                            recorded.duplicate_delivery = true;
                            append_log(log, meta, &rid, &as_duplicate)?;
                            touch(regs, rids, &rid, at_ms)?;
                            return Ok(recorded);
                        }
                        dids.insert(d.as_slice(), &at_ms.to_be_bytes())?;
                    }
                    let mut seq = meta.get(EVENT_SEQ)?.map_or(0, |v| be_u64(&v));
                    for (id, event) in &encoded {
                        if evids.get(id.as_bytes())?.is_some() {
                            recorded.duplicate_events += 1;
                            continue;
                        }
                        seq += 1;
                        let k = seq.to_be_bytes();
                        evs.insert(&k, event.as_slice())?;
                        evids.insert(id.as_bytes(), &k)?;
                        if outbox {
                            out.insert(&k, row.as_slice())?;
                        }
                        recorded.emitted.push(seq);
                    }
                    if !recorded.emitted.is_empty() {
                        meta.insert(EVENT_SEQ, &seq.to_be_bytes())?;
                    }
                    let none_new = recorded.emitted.is_empty() && !encoded.is_empty();
                    let logged = if none_new { &as_duplicate } else { &as_given };
                    append_log(log, meta, &rid, logged)?;
                    touch(regs, rids, &rid, at_ms)?;
                    Ok(recorded)
                })
                .map_err(tx_err)?;
            t.db.flush().map_err(backend)?;
            Ok(recorded)
        })
        .await
    }

    async fn log_delivery(&self, entry: &DeliveryLogEntry) -> Result<(), StoreError> {
        let t = self.autobuild.clone();
        let (rid, value) = (entry.rid.clone(), encode(entry)?);
        off_thread(move || {
            (&t.log, &t.meta)
                .transaction(|(log, meta)| append_log(log, meta, &rid, &value))
                .map_err(tx_err)?;
            t.db.flush().map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn deliveries(
        &self,
        rid: &str,
        limit: usize,
    ) -> Result<Vec<DeliveryLogEntry>, StoreError> {
        self.autobuild
            .log
            .scan_prefix(rid_prefix(rid))
            .values()
            .rev()
            .take(limit)
            .map(|v| decode(&v.map_err(backend)?))
            .collect()
    }

    async fn events_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, BuildEvent)>, StoreError> {
        let from = Bound::Excluded(after.to_be_bytes().to_vec());
        self.autobuild
            .events
            .range::<Vec<u8>, _>((from, Bound::Unbounded))
            .take(limit)
            .map(|item| {
                let (k, v) = item.map_err(backend)?;
                Ok((be_u64(&k), decode(&v)?))
            })
            .collect()
    }

    async fn last_event_seq(&self) -> Result<u64, StoreError> {
        let v = self.autobuild.meta.get(EVENT_SEQ).map_err(backend)?;
        Ok(v.map_or(0, |v| be_u64(&v)))
    }

    async fn claim_outbox(
        &self,
        lease_for: std::time::Duration,
        limit: usize,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let t = &self.autobuild;
        let claim = lease_from_now(lease_for);
        claim_due(&t.outbox, claim, limit, decode::<OutboxRow>, |key, row| {
            let Some(event) = t.events.get(key).map_err(backend)? else {
                return Ok(None);
            };
            Ok(Some(OutboxItem {
                seq: be_u64(key),
                event: decode(&event)?,
                attempts: row.attempts,
            }))
        })
    }

    async fn finish_outbox(&self, seq: u64) -> Result<(), StoreError> {
        let tree = self.autobuild.outbox.clone();
        blocking(move || {
            tree.remove(seq.to_be_bytes())?;
            tree.flush().map(drop)
        })
        .await
    }

    async fn retry_outbox(
        &self,
        seq: u64,
        attempts: u32,
        retry_in: std::time::Duration,
    ) -> Result<(), StoreError> {
        let tree = self.autobuild.outbox.clone();
        let next_at_ms = crate::util::now_millis().saturating_add(retry_in.as_millis() as i64);
        let row = encode(&OutboxRow {
            attempts,
            next_at_ms,
            leased_until_ms: 0,
        })?;
        let k = seq.to_be_bytes();
        blocking(move || {
            // Only a row still there: a finished (or swept) event stays gone.
            let _ = tree.fetch_and_update(k, |old| old.map(|_| row.clone()))?;
            tree.flush().map(drop)
        })
        .await
    }

    async fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        let mut counts = OutboxCounts::default();
        for v in self.autobuild.outbox.iter().values() {
            let row: OutboxRow = decode(&v.map_err(backend)?)?;
            counts.pending += 1;
            counts.failing += u64::from(row.attempts > 0);
        }
        Ok(counts)
    }

    async fn hold_push(
        &self,
        push: &HeldPush,
        lease_for: std::time::Duration,
    ) -> Result<bool, StoreError> {
        let t = self.autobuild.clone();
        let now_ms = crate::util::now_millis();
        let row = encode(&HeldRow {
            push: push.clone(),
            next_at_ms: now_ms,
            leased_until_ms: now_ms.saturating_add(lease_for.as_millis() as i64),
        })?;
        let id = push.id.clone();
        let delivery = push
            .entry
            .delivery_id
            .as_deref()
            .map(|d| delivery_key(&push.entry.rid, d));
        off_thread(move || {
            let held = (&t.delivery_ids, &t.held)
                .transaction(|(dids, held)| {
                    if let Some(d) = &delivery {
                        if dids.get(d.as_slice())?.is_some() {
                            return Ok(false);
                        }
                    }
                    if held.get(id.as_bytes())?.is_some() {
                        return Ok(false);
                    }
                    held.insert(id.as_bytes(), row.as_slice())?;
                    Ok(true)
                })
                .map_err(tx_err)?;
            if held {
                t.db.flush().map_err(backend)?;
            }
            Ok(held)
        })
        .await
    }

    async fn claim_held_pushes(
        &self,
        lease_for: std::time::Duration,
        limit: usize,
    ) -> Result<Vec<HeldPush>, StoreError> {
        let claim = lease_from_now(lease_for);
        claim_due(
            &self.autobuild.held,
            claim,
            limit,
            decode::<HeldRow>,
            |_, row| Ok(Some(row.push.clone())),
        )
    }

    async fn retry_held_push(
        &self,
        push: &HeldPush,
        retry_in: std::time::Duration,
    ) -> Result<(), StoreError> {
        let tree = self.autobuild.held.clone();
        let row = encode(&HeldRow {
            push: push.clone(),
            next_at_ms: crate::util::now_millis().saturating_add(retry_in.as_millis() as i64),
            leased_until_ms: 0,
        })?;
        let id = push.id.clone();
        blocking(move || {
            // Only one still held: a released push stays gone.
            let _ = tree.fetch_and_update(id.as_bytes(), |old| old.map(|_| row.clone()))?;
            tree.flush().map(drop)
        })
        .await
    }

    async fn release_held_push(&self, id: &str) -> Result<(), StoreError> {
        let (tree, id) = (self.autobuild.held.clone(), id.to_string());
        blocking(move || {
            tree.remove(id.as_bytes())?;
            tree.flush().map(drop)
        })
        .await
    }

    async fn held_pushes(&self) -> Result<Vec<HeldPush>, StoreError> {
        self.autobuild
            .held
            .iter()
            .values()
            .map(|v| Ok(decode::<HeldRow>(&v.map_err(backend)?)?.push))
            .collect()
    }

    async fn held_push_count(&self) -> Result<u64, StoreError> {
        Ok(self.autobuild.held.len() as u64)
    }
}
