//! Short-lived state in PostgreSQL: pending accounts (`pending`), OAuth flows (`oauth_flows`)
//! and leases (`leases`). Every take is one `DELETE ... RETURNING`, so of two replicas taking
//! the same row only one gets it; a lease is one conditional upsert.

use super::{decode, encode, limit, millis, PgStore, NOW_MS};
use crate::store::{
    FlowRecord, FlowStore, Leases, PendingRecord, PendingStore, Store, StoreError, TakenFlow,
};
use app::api::Provider;
use std::time::Duration;
use tokio_postgres::Row;

fn records<T: serde::de::DeserializeOwned>(rows: &[Row]) -> Result<Vec<T>, StoreError> {
    rows.iter().map(|r| decode(r.get(0))).collect()
}

fn first<T: serde::de::DeserializeOwned>(rows: &[Row]) -> Result<Option<T>, StoreError> {
    rows.first().map(|r| decode(r.get(0))).transpose()
}

/// A table of per-tenant rows bounded in number and age, and its key column.
struct Bounded {
    table: &'static str,
    key: &'static str,
}

const PENDING: Bounded = Bounded {
    table: "pending",
    key: "id",
};
const FLOWS: Bounded = Bounded {
    table: "oauth_flows",
    key: "state_hash",
};

impl PgStore {
    /// Deletes the tenant's rows of `table` older than `ttl` and its oldest ones so that
    /// `keep` remain, then runs `insert`, in one transaction. Concurrent inserts may leave a few more for a moment; the next
    /// insert or the sweep trims them.
    async fn insert_bounded(
        &self,
        Bounded { table, key }: Bounded,
        tenant: &str,
        keep: usize,
        ttl: Duration,
        insert: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<(), StoreError> {
        let trim = format!(
            "DELETE FROM {table} WHERE tenant = $1 AND (created_at <= {NOW_MS} - $3 OR {key} IN \
             (SELECT {key} FROM {table} WHERE tenant = $1 \
             ORDER BY created_at DESC, {key} DESC OFFSET $2))"
        );
        self.with_client(async |client| {
            let tx = client.transaction().await?;
            let trim = tx.prepare_cached(&trim).await?;
            tx.execute(&trim, &[&tenant, &limit(keep), &millis(ttl)])
                .await?;
            let insert = tx.prepare_cached(insert).await?;
            tx.execute(&insert, params).await?;
            tx.commit().await
        })
        .await
    }
}

#[async_trait::async_trait]
impl PendingStore for PgStore {
    async fn insert_pending(
        &self,
        record: &PendingRecord,
        max_per_tenant: usize,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let record = &PendingRecord {
            // The database's now: every replica measures its age on one clock.
            created_at: self.now_ms().await?,
            ..record.clone()
        };
        let json = encode(record)?;
        self.insert_bounded(
            PENDING,
            &record.tenant,
            max_per_tenant.saturating_sub(1),
            ttl,
            "INSERT INTO pending (id, tenant, provider, created_at, record) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET tenant = EXCLUDED.tenant, \
             provider = EXCLUDED.provider, created_at = EXCLUDED.created_at, \
             record = EXCLUDED.record",
            &[
                &record.id,
                &record.tenant,
                &record.item.provider.as_str(),
                &record.created_at,
                &json,
            ],
        )
        .await
    }

    async fn take_pending(
        &self,
        tenant: &str,
        id: &str,
        ttl: Duration,
    ) -> Result<Option<PendingRecord>, StoreError> {
        // Another tenant's id matches nothing and stays where it is. The tenant's expired
        // entries go on the way (at most its bound of them), so they do not wait for the
        // hourly sweep; one of them may be the one asked for, which is not handed out.
        let sql = format!(
            "DELETE FROM pending WHERE tenant = $2 AND (id = $1 OR created_at <= {NOW_MS} - $3) \
             RETURNING record, id = $1 AND created_at > {NOW_MS} - $3"
        );
        let rows = self.query(&sql, &[&id, &tenant, &millis(ttl)]).await?;
        rows.iter()
            .find(|r| r.get::<_, bool>(1))
            .map(|r| decode(r.get(0)))
            .transpose()
    }

    async fn peek_pending(
        &self,
        tenant: &str,
        id: &str,
        ttl: Duration,
    ) -> Result<Option<PendingRecord>, StoreError> {
        let sql = format!(
            "SELECT record FROM pending WHERE id = $1 AND tenant = $2 \
             AND created_at > {NOW_MS} - $3"
        );
        let rows = self.query(&sql, &[&id, &tenant, &millis(ttl)]).await?;
        first(&rows)
    }

    async fn latest_pending(
        &self,
        tenant: &str,
        provider: Provider,
        ttl: Duration,
    ) -> Result<Option<PendingRecord>, StoreError> {
        let sql = format!(
            "SELECT record FROM pending WHERE tenant = $1 AND provider = $2 \
             AND created_at > {NOW_MS} - $3 ORDER BY created_at DESC, id DESC LIMIT 1"
        );
        let rows = self
            .query(&sql, &[&tenant, &provider.as_str(), &millis(ttl)])
            .await?;
        first(&rows)
    }

    async fn all_pending(&self) -> Result<Vec<PendingRecord>, StoreError> {
        let rows = self
            .query(
                "SELECT record FROM pending ORDER BY tenant, created_at, id",
                &[],
            )
            .await?;
        records(&rows)
    }

    async fn replace_pending(
        &self,
        old: &PendingRecord,
        new: &PendingRecord,
    ) -> Result<bool, StoreError> {
        // Same serializer as the stored JSON, so text equality is record equality.
        let (old_json, new_json) = (encode(old)?, encode(new)?);
        let changed = self
            .execute(
                "UPDATE pending SET tenant = $3, provider = $4, created_at = $5, record = $6 \
                 WHERE id = $1 AND record = $2",
                &[
                    &old.id,
                    &old_json,
                    &new.tenant,
                    &new.item.provider.as_str(),
                    &new.created_at,
                    &new_json,
                ],
            )
            .await?;
        Ok(changed == 1)
    }
}

#[async_trait::async_trait]
impl FlowStore for PgStore {
    async fn insert_flow(
        &self,
        record: &FlowRecord,
        max_per_tenant: usize,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let record = &FlowRecord {
            // The database's now: every replica measures its age on one clock.
            created_at: self.now_ms().await?,
            ..record.clone()
        };
        let json = encode(record)?;
        self.insert_bounded(
            FLOWS,
            &record.tenant,
            max_per_tenant.saturating_sub(1),
            ttl,
            "INSERT INTO oauth_flows (state_hash, tenant, created_at, record) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (state_hash) DO UPDATE SET \
             tenant = EXCLUDED.tenant, created_at = EXCLUDED.created_at, record = EXCLUDED.record",
            &[
                &record.state_hash,
                &record.tenant,
                &record.created_at,
                &json,
            ],
        )
        .await
    }

    async fn take_flow(
        &self,
        state_hash: &str,
        ttl: Duration,
    ) -> Result<Option<TakenFlow>, StoreError> {
        // An expired flow is consumed too; its age is measured on the database's clock.
        let sql = format!(
            "DELETE FROM oauth_flows WHERE state_hash = $1 \
             RETURNING record, created_at > {NOW_MS} - $2"
        );
        let rows = self.query(&sql, &[&state_hash, &millis(ttl)]).await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        Ok(Some(if row.get::<_, bool>(1) {
            TakenFlow::Fresh(decode(row.get(0))?)
        } else {
            TakenFlow::Expired
        }))
    }

    async fn all_flows(&self) -> Result<Vec<FlowRecord>, StoreError> {
        let rows = self
            .query(
                "SELECT record FROM oauth_flows ORDER BY tenant, created_at, state_hash",
                &[],
            )
            .await?;
        records(&rows)
    }

    async fn replace_flow(&self, old: &FlowRecord, new: &FlowRecord) -> Result<bool, StoreError> {
        let (old_json, new_json) = (encode(old)?, encode(new)?);
        let changed = self
            .execute(
                "UPDATE oauth_flows SET tenant = $3, created_at = $4, record = $5 \
                 WHERE state_hash = $1 AND record = $2",
                &[
                    &old.state_hash,
                    &old_json,
                    &new.tenant,
                    &new.created_at,
                    &new_json,
                ],
            )
            .await?;
        Ok(changed == 1)
    }
}

#[async_trait::async_trait]
impl Leases for PgStore {
    async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        lease_for: Duration,
    ) -> Result<bool, StoreError> {
        // One upsert: a free name is inserted; a held one is taken only if its lease ran out
        // or is already ours (extending it). Otherwise the `WHERE` leaves it and 0 rows count.
        // Both the end and the comparison are the database's time, not this replica's.
        let sql = format!(
            "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, {NOW_MS} + $3) \
             ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, \
             expires_at = EXCLUDED.expires_at \
             WHERE leases.expires_at <= {NOW_MS} OR leases.holder = $2"
        );
        let changed = self
            .execute(&sql, &[&name, &holder, &millis(lease_for)])
            .await?;
        Ok(changed == 1)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        self.execute(
            "DELETE FROM leases WHERE name = $1 AND holder = $2",
            &[&name, &holder],
        )
        .await?;
        Ok(())
    }
}
