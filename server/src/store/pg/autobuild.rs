//! Auto-build in PostgreSQL (tables in `migrations/0002_autobuild.sql`). Unique keys are the
//! arbiters across replicas: a delivery id is remembered by an `INSERT ... ON CONFLICT DO
//! NOTHING` whose conflict a second replica waits on and then sees, and an event id likewise.
//!
//! `record_delivery` goes through `delivery_batch`: concurrent deliveries are recorded in one
//! transaction, taking locks in one order (the delivery ids' keys, the registrations' rows, the
//! sequence counter), so concurrent batches cannot deadlock. Events are numbered from the
//! one-row counter `build_event_seq`, updated in the same statement that appends them: the row
//! lock is held until commit, so appends commit in sequence order and a reader that saw number N
//! never later finds a smaller one appear. Numbers may skip (an event found new by the
//! statement's snapshot but committed by another replica meanwhile), never repeat.

use super::delivery_batch::Delivery;
use super::{decode, decode_versioned, encode, limit, millis, PgStore, NOW_MS, SWEEP_CHUNK};
use crate::store::{
    AutoBuildStore, BuildEvent, DeliveryLogEntry, DeliveryOutcome, HeldPush, OutboxCounts,
    OutboxItem, Recorded, RegistrationKey, StoreError, StoredRegistration, MAX_DELIVERY_LOG,
};
use app::api::Provider;
use std::time::Duration;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

/// The columns a registration is read from, in `from_row` order.
const COLS: &str = "record, last_delivery_at";

const KEY: &str = "tenant = $1 AND provider = $2 AND account = $3 AND repo_id = $4";

fn from_row(row: &Row) -> Result<StoredRegistration, StoreError> {
    let mut r: StoredRegistration = decode_versioned(row.get(0))?;
    r.last_delivery_at = row.get(1);
    Ok(r)
}

fn from_rows(rows: &[Row]) -> Result<Vec<StoredRegistration>, StoreError> {
    rows.iter().map(from_row).collect()
}

/// The JSON as stored: without `last_delivery_at`, whose column is authoritative.
fn record(r: &StoredRegistration) -> Result<String, StoreError> {
    encode(&StoredRegistration {
        last_delivery_at: None,
        ..r.clone()
    })
}

fn seq(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Appends a log entry ($1 rid, $2 at, $3 entry) and trims the rid's entries beyond the
/// newest $4 older ones. The trim does not see the row inserted beside it (one snapshot),
/// hence keeping `MAX_DELIVERY_LOG - 1` old ones. Concurrent appends may leave one or two
/// more for a moment; the next append trims them.
const LOG: &str = "WITH logged AS ( \
         INSERT INTO autobuild_delivery_log (rid, at_ms, entry) VALUES ($1, $2, $3)) \
     DELETE FROM autobuild_delivery_log WHERE rid = $1 AND id <= ( \
         SELECT id FROM autobuild_delivery_log WHERE rid = $1 ORDER BY id DESC OFFSET $4 LIMIT 1)";

/// A delivery as `delivery_batch` records it.
fn delivery(
    entry: &DeliveryLogEntry,
    events: &[BuildEvent],
    outbox: bool,
) -> Result<Delivery, StoreError> {
    Ok(Delivery {
        rid: entry.rid.clone(),
        at: entry.at_ms,
        delivery_id: entry.delivery_id.clone(),
        as_given: encode(entry)?,
        as_duplicate: encode(&DeliveryLogEntry {
            outcome: DeliveryOutcome::Duplicate,
            ..entry.clone()
        })?,
        ids: events.iter().map(|e| e.id.clone()).collect(),
        received: events.iter().map(|e| e.received_at).collect(),
        json: events.iter().map(encode).collect::<Result<Vec<_>, _>>()?,
        outbox,
        keep: limit(MAX_DELIVERY_LOG - 1),
    })
}

impl PgStore {
    /// Records the deliveries as one batch (see `delivery_batch::write_together`).
    #[cfg(test)]
    pub(crate) async fn record_deliveries_together(
        &self,
        deliveries: &[(DeliveryLogEntry, Vec<BuildEvent>)],
    ) -> Result<Vec<Recorded>, StoreError> {
        let batch = deliveries
            .iter()
            .map(|(entry, events)| delivery(entry, events, false))
            .collect::<Result<_, _>>()?;
        super::delivery_batch::write_together(&self.pool, self.deadline, batch).await
    }
    /// Runs a chunked delete (`$1` before, `$2` chunk; returns one row, the count) until a
    /// chunk comes back short: see `sweep_audit`.
    pub(super) async fn sweep_chunks(&self, sql: &str, before: i64) -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            let rows = self.query(sql, &[&before, &SWEEP_CHUNK]).await?;
            let deleted = rows.first().map_or(0, |r| r.get::<_, i64>(0)) as u64;
            total += deleted;
            if deleted < SWEEP_CHUNK as u64 {
                return Ok(total);
            }
        }
    }

    /// The sweep's part (see `Store::sweep`): (events, delivery ids, log entries) removed.
    pub(super) async fn sweep_autobuild(
        &self,
        before_ms: i64,
    ) -> (
        Result<u64, StoreError>,
        Result<u64, StoreError>,
        Result<u64, StoreError>,
    ) {
        let events = self
            .sweep_chunks(
                "WITH gone AS (DELETE FROM build_events WHERE seq IN \
                     (SELECT seq FROM build_events WHERE received_at < $1 LIMIT $2) \
                     RETURNING seq), \
                 queued AS (DELETE FROM build_event_outbox WHERE seq IN (SELECT seq FROM gone)) \
                 SELECT count(*) FROM gone",
                before_ms,
            )
            .await;
        let ids = self
            .sweep_chunks(
                "WITH gone AS (DELETE FROM autobuild_delivery_ids WHERE (rid, delivery_id) IN \
                     (SELECT rid, delivery_id FROM autobuild_delivery_ids WHERE at_ms < $1 \
                      LIMIT $2) RETURNING 1) \
                 SELECT count(*) FROM gone",
                before_ms,
            )
            .await;
        let log = self
            .sweep_chunks(
                "WITH gone AS (DELETE FROM autobuild_delivery_log WHERE id IN \
                     (SELECT id FROM autobuild_delivery_log WHERE at_ms < $1 LIMIT $2) \
                     RETURNING 1) \
                 SELECT count(*) FROM gone",
                before_ms,
            )
            .await;
        (events, ids, log)
    }
}

#[async_trait::async_trait]
impl AutoBuildStore for PgStore {
    async fn put_registration(
        &self,
        r: &StoredRegistration,
    ) -> Result<Option<StoredRegistration>, StoreError> {
        let text = record(r)?;
        let k = &r.key;
        let provider = k.provider.as_str();
        let params: [&(dyn ToSql + Sync); 7] = [
            &k.tenant,
            &provider,
            &k.account,
            &k.repo_id,
            &r.rid,
            &text,
            &r.last_delivery_at,
        ];
        let read = format!("SELECT {COLS} FROM autobuild_registrations WHERE {KEY} FOR UPDATE");
        let update = format!(
            "UPDATE autobuild_registrations SET rid = $5, record = $6, last_delivery_at = $7 \
             WHERE {KEY}"
        );
        // Read-and-lock, then update or insert, in one transaction: the replaced record is
        // the one that was there. An insert that loses to a concurrent one goes round again.
        self.with_client(async |client| {
            let tx = client.transaction().await?;
            let read = tx.prepare_cached(&read).await?;
            let update = tx.prepare_cached(&update).await?;
            let insert = tx
                .prepare_cached(
                    "INSERT INTO autobuild_registrations (tenant, provider, account, repo_id, \
                     rid, record, last_delivery_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (tenant, provider, account, repo_id) DO NOTHING",
                )
                .await?;
            loop {
                if let Some(row) = tx.query_opt(&read, &params[..4]).await? {
                    let old = from_row(&row);
                    if old.is_ok() {
                        tx.execute(&update, &params).await?;
                        tx.commit().await?;
                    }
                    return Ok(old.map(Some));
                }
                if tx.execute(&insert, &params).await? == 1 {
                    tx.commit().await?;
                    return Ok(Ok(None));
                }
            }
        })
        .await?
    }

    async fn registration(
        &self,
        key: &RegistrationKey,
    ) -> Result<Option<StoredRegistration>, StoreError> {
        let sql = format!("SELECT {COLS} FROM autobuild_registrations WHERE {KEY}");
        let provider = key.provider.as_str();
        let rows = self
            .query(&sql, &[&key.tenant, &provider, &key.account, &key.repo_id])
            .await?;
        rows.first().map(from_row).transpose()
    }

    async fn registration_by_rid(
        &self,
        rid: &str,
    ) -> Result<Option<StoredRegistration>, StoreError> {
        let sql = format!("SELECT {COLS} FROM autobuild_registrations WHERE rid = $1");
        let rows = self.query(&sql, &[&rid]).await?;
        rows.first().map(from_row).transpose()
    }

    async fn registrations(
        &self,
        tenant: &str,
        provider: Option<Provider>,
    ) -> Result<Vec<StoredRegistration>, StoreError> {
        let sql = format!(
            "SELECT {COLS} FROM autobuild_registrations \
             WHERE tenant = $1 AND ($2::TEXT IS NULL OR provider = $2) \
             ORDER BY provider, account, repo_id"
        );
        let provider = provider.map(Provider::as_str);
        from_rows(&self.query(&sql, &[&tenant, &provider]).await?)
    }

    async fn delete_registration(
        &self,
        key: &RegistrationKey,
    ) -> Result<Option<StoredRegistration>, StoreError> {
        let sql = format!("DELETE FROM autobuild_registrations WHERE {KEY} RETURNING {COLS}");
        let provider = key.provider.as_str();
        let rows = self
            .query(&sql, &[&key.tenant, &provider, &key.account, &key.repo_id])
            .await?;
        rows.first().map(from_row).transpose()
    }

    async fn replace_registration(
        &self,
        old: &StoredRegistration,
        new: &StoredRegistration,
    ) -> Result<bool, StoreError> {
        debug_assert_eq!(old.key, new.key);
        let text = record(new)?;
        let k = &old.key;
        let provider = k.provider.as_str();
        let read = format!("SELECT {COLS} FROM autobuild_registrations WHERE {KEY}");
        let write = format!(
            "UPDATE autobuild_registrations SET rid = $5, record = $6, last_delivery_at = $7 \
             WHERE {KEY} AND record = $8 AND last_delivery_at IS NOT DISTINCT FROM $9"
        );
        // Compared as records, not text (see `BindingStore::replace`); the update is
        // conditional on the text read, so a change in between sends us round again.
        self.with_client(async |client| {
            let read = client.prepare_cached(&read).await?;
            let write = client.prepare_cached(&write).await?;
            loop {
                let key: [&(dyn ToSql + Sync); 4] = [&k.tenant, &provider, &k.account, &k.repo_id];
                let Some(row) = client.query_opt(&read, &key).await? else {
                    return Ok(Ok(false));
                };
                match from_row(&row) {
                    Ok(current) if current == *old => {}
                    Ok(_) => return Ok(Ok(false)),
                    Err(e) => return Ok(Err(e)),
                }
                let (seen, at): (&str, Option<i64>) = (row.get(0), row.get(1));
                let params: [&(dyn ToSql + Sync); 9] = [
                    &k.tenant,
                    &provider,
                    &k.account,
                    &k.repo_id,
                    &new.rid,
                    &text,
                    &new.last_delivery_at,
                    &seen,
                    &at,
                ];
                if client.execute(&write, &params).await? == 1 {
                    return Ok(Ok(true));
                }
            }
        })
        .await?
    }

    async fn scan_registrations(
        &self,
        after: Option<String>,
        n: usize,
    ) -> Result<Vec<StoredRegistration>, StoreError> {
        let sql = format!(
            "SELECT {COLS} FROM autobuild_registrations WHERE ($1::TEXT IS NULL OR rid > $1) \
             ORDER BY rid LIMIT $2"
        );
        from_rows(&self.query(&sql, &[&after, &limit(n)]).await?)
    }

    async fn record_delivery(
        &self,
        entry: &DeliveryLogEntry,
        events: &[BuildEvent],
        outbox: bool,
    ) -> Result<Recorded, StoreError> {
        self.delivery_writer
            .record(delivery(entry, events, outbox)?)
            .await
    }

    async fn log_delivery(&self, entry: &DeliveryLogEntry) -> Result<(), StoreError> {
        let text = encode(entry)?;
        let keep = limit(MAX_DELIVERY_LOG - 1);
        self.execute(LOG, &[&entry.rid, &entry.at_ms, &text, &keep])
            .await?;
        Ok(())
    }

    async fn deliveries(&self, rid: &str, n: usize) -> Result<Vec<DeliveryLogEntry>, StoreError> {
        let rows = self
            .query(
                "SELECT entry FROM autobuild_delivery_log WHERE rid = $1 \
                 ORDER BY id DESC LIMIT $2",
                &[&rid, &limit(n.min(MAX_DELIVERY_LOG))],
            )
            .await?;
        rows.iter().map(|r| decode(r.get(0))).collect()
    }

    async fn events_after(
        &self,
        after: u64,
        n: usize,
    ) -> Result<Vec<(u64, BuildEvent)>, StoreError> {
        let rows = self
            .query(
                "SELECT seq, event FROM build_events WHERE seq > $1 ORDER BY seq LIMIT $2",
                &[&seq(after), &limit(n)],
            )
            .await?;
        rows.iter()
            .map(|r| Ok((r.get::<_, i64>(0) as u64, decode(r.get(1))?)))
            .collect()
    }

    async fn last_event_seq(&self) -> Result<u64, StoreError> {
        let rows = self
            .query("SELECT last FROM build_event_seq WHERE id = 1", &[])
            .await?;
        Ok(rows.first().map_or(0, |r| r.get::<_, i64>(0) as u64))
    }

    async fn claim_outbox(
        &self,
        lease_for: Duration,
        n: usize,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        // The due condition twice, like `claim_due`: a replica claiming the same candidates
        // at the same moment re-checks it on the rows as we left them (leased) and skips them.
        // Due and lease both by the database's clock (`NOW_MS`), never this replica's.
        let due = format!("next_at_ms <= {NOW_MS} AND leased_until_ms <= {NOW_MS}");
        let sql = format!(
            "WITH claimed AS ( \
                 UPDATE build_event_outbox SET leased_until_ms = {NOW_MS} + $1 \
                 WHERE seq IN (SELECT seq FROM build_event_outbox \
                     WHERE {due} ORDER BY seq LIMIT $2) \
                 AND {due} \
                 RETURNING seq, attempts) \
             SELECT c.seq, c.attempts, e.event FROM claimed c \
             JOIN build_events e ON e.seq = c.seq ORDER BY c.seq"
        );
        let rows = self.query(&sql, &[&millis(lease_for), &limit(n)]).await?;
        rows.iter()
            .map(|r| {
                Ok(OutboxItem {
                    seq: r.get::<_, i64>(0) as u64,
                    attempts: r.get::<_, i32>(1).max(0) as u32,
                    event: decode(r.get(2))?,
                })
            })
            .collect()
    }

    async fn finish_outbox(&self, n: u64) -> Result<(), StoreError> {
        self.execute("DELETE FROM build_event_outbox WHERE seq = $1", &[&seq(n)])
            .await?;
        Ok(())
    }

    async fn retry_outbox(
        &self,
        n: u64,
        attempts: u32,
        retry_in: Duration,
    ) -> Result<(), StoreError> {
        let attempts = i32::try_from(attempts).unwrap_or(i32::MAX);
        let sql = format!(
            "UPDATE build_event_outbox SET attempts = $2, next_at_ms = {NOW_MS} + $3, \
             leased_until_ms = 0 WHERE seq = $1"
        );
        self.execute(&sql, &[&seq(n), &attempts, &millis(retry_in)])
            .await?;
        Ok(())
    }

    async fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        let rows = self
            .query(
                "SELECT count(*), count(*) FILTER (WHERE attempts > 0) FROM build_event_outbox",
                &[],
            )
            .await?;
        Ok(rows
            .first()
            .map_or(OutboxCounts::default(), |r| OutboxCounts {
                pending: r.get::<_, i64>(0) as u64,
                failing: r.get::<_, i64>(1) as u64,
            }))
    }

    async fn hold_push(&self, push: &HeldPush, lease_for: Duration) -> Result<bool, StoreError> {
        let record = encode(push)?;
        // The delivery id's key is not locked here: a `record_delivery` of the same delivery
        // committing meanwhile is the settling of this very push (the worker records, then
        // releases), and whichever of the two a redelivery sees, it is answered a duplicate.
        let sql = format!(
            "INSERT INTO autobuild_held_pushes (id, record, next_at_ms, leased_until_ms) \
             SELECT $1, $2, {NOW_MS}, {NOW_MS} + $3 \
             WHERE $5::TEXT IS NULL OR NOT EXISTS (SELECT 1 FROM autobuild_delivery_ids \
                 WHERE rid = $4 AND delivery_id = $5) \
             ON CONFLICT DO NOTHING"
        );
        let held = self
            .execute(
                &sql,
                &[
                    &push.id,
                    &record,
                    &millis(lease_for),
                    &push.entry.rid,
                    &push.entry.delivery_id,
                ],
            )
            .await?;
        Ok(held == 1)
    }

    async fn claim_held_pushes(
        &self,
        lease_for: Duration,
        n: usize,
    ) -> Result<Vec<HeldPush>, StoreError> {
        // The due condition twice, like `claim_outbox` (no `SKIP LOCKED`, which distributed
        // PostgreSQL-compatible databases lack): a replica claiming the same candidates at the
        // same moment re-checks it on the rows as we left them (leased) and skips them.
        let due = format!("next_at_ms <= {NOW_MS} AND leased_until_ms <= {NOW_MS}");
        let sql = format!(
            "UPDATE autobuild_held_pushes SET leased_until_ms = {NOW_MS} + $1 \
             WHERE id IN (SELECT id FROM autobuild_held_pushes \
                 WHERE {due} ORDER BY next_at_ms LIMIT $2) \
             AND {due} RETURNING record"
        );
        let rows = self.query(&sql, &[&millis(lease_for), &limit(n)]).await?;
        rows.iter().map(|r| decode_versioned(r.get(0))).collect()
    }

    async fn retry_held_push(&self, push: &HeldPush, retry_in: Duration) -> Result<(), StoreError> {
        let sql = format!(
            "UPDATE autobuild_held_pushes SET record = $2, next_at_ms = {NOW_MS} + $3, \
             leased_until_ms = 0 WHERE id = $1"
        );
        self.execute(&sql, &[&push.id, &encode(push)?, &millis(retry_in)])
            .await?;
        Ok(())
    }

    async fn release_held_push(&self, id: &str) -> Result<(), StoreError> {
        self.execute("DELETE FROM autobuild_held_pushes WHERE id = $1", &[&id])
            .await?;
        Ok(())
    }

    async fn held_pushes(&self) -> Result<Vec<HeldPush>, StoreError> {
        let rows = self
            .query("SELECT record FROM autobuild_held_pushes ORDER BY id", &[])
            .await?;
        rows.iter().map(|r| decode_versioned(r.get(0))).collect()
    }

    async fn held_push_count(&self) -> Result<u64, StoreError> {
        let rows = self
            .query("SELECT count(*) FROM autobuild_held_pushes", &[])
            .await?;
        Ok(rows.first().map_or(0, |r| r.get::<_, i64>(0) as u64))
    }
}
