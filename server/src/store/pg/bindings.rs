//! Bindings in PostgreSQL: table `bindings`, one row per (tenant, provider). The health-check
//! claim lives only in the `check_claimed_until` column (the JSON is always written with it
//! empty and it is filled in from the column when a row is read), so a claim is one small
//! `UPDATE` and needs no JSON rewriting in SQL. Avatar images are in table `avatars`, apart
//! from the records (which hold an `AvatarRef`), and go with their binding by foreign key.

use super::{decode_versioned, encode, limit, PgStore, NOW_SECS};
use crate::store::{BindingStore, StoreError, StoredAvatar, StoredBinding};
use app::api::Provider;
use std::time::Duration;
use tokio_postgres::Row;

/// The columns a binding is read from, in `from_row` order.
pub(super) const COLS: &str = "record, check_claimed_until";

pub(super) fn from_row(row: &Row) -> Result<StoredBinding, StoreError> {
    let mut b: StoredBinding = decode_versioned(row.get(0))?;
    b.check_claimed_until = row.get(1);
    Ok(b)
}

fn from_rows(rows: &[Row]) -> Result<Vec<StoredBinding>, StoreError> {
    rows.iter().map(from_row).collect()
}

/// The stored form: the JSON without the claim, and the columns queries use.
pub(super) struct Columns {
    pub(super) record: String,
    pub(super) needs_reauth: bool,
    pub(super) last_checked_at: Option<i64>,
    pub(super) check_claimed_until: Option<i64>,
}

impl Columns {
    pub(super) fn of(b: &StoredBinding) -> Result<Columns, StoreError> {
        let record = encode(&StoredBinding {
            check_claimed_until: None,
            ..b.clone()
        })?;
        Ok(Columns {
            record,
            needs_reauth: b.reauth_reason.is_some(),
            last_checked_at: b.last_checked_at,
            check_claimed_until: b.check_claimed_until,
        })
    }
}

pub(super) const UPDATE: &str =
    "UPDATE bindings SET record = $3, needs_reauth = $4, last_checked_at = $5, \
     check_claimed_until = $6 WHERE tenant = $1 AND provider = $2";

/// Rows due for a health check (`StoredBinding::is_due`) by the database's clock: $1 the
/// interval in seconds.
const DUE: &str = concat!(
    "NOT needs_reauth AND COALESCE(last_checked_at, 0) < ",
    db_now_secs!(),
    " - $1 AND COALESCE(check_claimed_until, 0) <= ",
    db_now_secs!()
);

impl PgStore {
    /// `import_bindings`: one statement (arrays unnested into rows), replacing rows with the
    /// same key.
    async fn put_batch(&self, bindings: &[StoredBinding]) -> Result<(), StoreError> {
        let cols = bindings
            .iter()
            .map(Columns::of)
            .collect::<Result<Vec<_>, _>>()?;
        let tenants: Vec<&str> = bindings.iter().map(|b| b.tenant.as_str()).collect();
        let providers: Vec<&str> = bindings.iter().map(|b| b.provider.as_str()).collect();
        let records: Vec<&str> = cols.iter().map(|c| c.record.as_str()).collect();
        let reauth: Vec<bool> = cols.iter().map(|c| c.needs_reauth).collect();
        let checked: Vec<Option<i64>> = cols.iter().map(|c| c.last_checked_at).collect();
        let claimed: Vec<Option<i64>> = cols.iter().map(|c| c.check_claimed_until).collect();
        self.execute(
            "INSERT INTO bindings (tenant, provider, record, needs_reauth, last_checked_at, \
             check_claimed_until) SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], \
             $4::bool[], $5::int8[], $6::int8[]) ON CONFLICT (tenant, provider) DO UPDATE SET \
             record = EXCLUDED.record, needs_reauth = EXCLUDED.needs_reauth, \
             last_checked_at = EXCLUDED.last_checked_at, \
             check_claimed_until = EXCLUDED.check_claimed_until",
            &[&tenants, &providers, &records, &reauth, &checked, &claimed],
        )
        .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl BindingStore for PgStore {
    async fn import_bindings(&self, bindings: &[StoredBinding]) -> Result<(), StoreError> {
        self.put_batch(bindings).await
    }

    async fn list(&self, tenant: &str) -> Result<Vec<StoredBinding>, StoreError> {
        let sql = format!("SELECT {COLS} FROM bindings WHERE tenant = $1 ORDER BY provider");
        from_rows(&self.query(&sql, &[&tenant]).await?)
    }

    async fn get(
        &self,
        tenant: &str,
        provider: Provider,
    ) -> Result<Option<StoredBinding>, StoreError> {
        let sql = format!("SELECT {COLS} FROM bindings WHERE tenant = $1 AND provider = $2");
        let rows = self.query(&sql, &[&tenant, &provider.as_str()]).await?;
        rows.first().map(from_row).transpose()
    }

    async fn put(&self, b: &StoredBinding) -> Result<bool, StoreError> {
        // Update-then-insert instead of PostgreSQL's `RETURNING (xmax <> 0)` trick: each
        // statement is atomic on its own, and whichever one takes effect says whether a row
        // was there. A concurrent insert or delete between them sends us round again.
        let c = Columns::of(b)?;
        let provider = b.provider.as_str();
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 6] = [
            &b.tenant,
            &provider,
            &c.record,
            &c.needs_reauth,
            &c.last_checked_at,
            &c.check_claimed_until,
        ];
        self.with_client(async |client| {
            let update = client.prepare_cached(UPDATE).await?;
            let insert = client
                .prepare_cached(
                    "INSERT INTO bindings (tenant, provider, record, needs_reauth, \
                     last_checked_at, check_claimed_until) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (tenant, provider) DO NOTHING",
                )
                .await?;
            loop {
                if client.execute(&update, &params).await? == 1 {
                    return Ok(true);
                }
                if client.execute(&insert, &params).await? == 1 {
                    return Ok(false);
                }
            }
        })
        .await
    }

    async fn replace(&self, old: &StoredBinding, new: &StoredBinding) -> Result<bool, StoreError> {
        debug_assert!(old.tenant == new.tenant && old.provider == new.provider);
        let n = Columns::of(new)?;
        let provider = old.provider.as_str();
        let read = format!("SELECT {COLS} FROM bindings WHERE tenant = $1 AND provider = $2");
        let write =
            format!("{UPDATE} AND record = $7 AND check_claimed_until IS NOT DISTINCT FROM $8");
        // Compared as records, not as text: a record an older version wrote lacks the fields
        // added since, which re-encoding `old` would add, and it would never match. The update
        // is conditional on the text read, so a change in between is seen (and looked at again).
        self.with_client(async |client| {
            let read = client.prepare_cached(&read).await?;
            let write = client.prepare_cached(&write).await?;
            loop {
                let Some(row) = client.query_opt(&read, &[&old.tenant, &provider]).await? else {
                    return Ok(Ok(false));
                };
                match from_row(&row) {
                    Ok(current) if current == *old => {}
                    Ok(_) => return Ok(Ok(false)),
                    Err(e) => return Ok(Err(e)),
                }
                let (text, claimed): (&str, Option<i64>) = (row.get(0), row.get(1));
                let params: [&(dyn tokio_postgres::types::ToSql + Sync); 8] = [
                    &old.tenant,
                    &provider,
                    &n.record,
                    &n.needs_reauth,
                    &n.last_checked_at,
                    &n.check_claimed_until,
                    &text,
                    &claimed,
                ];
                if client.execute(&write, &params).await? == 1 {
                    return Ok(Ok(true));
                }
            }
        })
        .await?
    }

    async fn delete(
        &self,
        tenant: &str,
        provider: Provider,
    ) -> Result<Option<StoredBinding>, StoreError> {
        let sql =
            format!("DELETE FROM bindings WHERE tenant = $1 AND provider = $2 RETURNING {COLS}");
        let rows = self.query(&sql, &[&tenant, &provider.as_str()]).await?;
        rows.first().map(from_row).transpose()
    }

    async fn avatar(
        &self,
        tenant: &str,
        provider: Provider,
    ) -> Result<Option<StoredAvatar>, StoreError> {
        let rows = self
            .query(
                "SELECT record FROM avatars WHERE tenant = $1 AND provider = $2",
                &[&tenant, &provider.as_str()],
            )
            .await?;
        rows.first()
            .map(|r| serde_json::from_str(r.get(0)).map_err(StoreError::Corrupt))
            .transpose()
    }

    async fn put_avatar(
        &self,
        tenant: &str,
        provider: Provider,
        avatar: Option<&StoredAvatar>,
    ) -> Result<(), StoreError> {
        let provider = provider.as_str();
        match avatar {
            Some(a) => {
                let record = encode(a)?;
                // Nothing when the binding is gone (the foreign key would refuse the row).
                self.execute(
                    "INSERT INTO avatars (tenant, provider, record) \
                     SELECT $1::TEXT, $2::TEXT, $3::TEXT WHERE EXISTS \
                     (SELECT 1 FROM bindings WHERE tenant = $1 AND provider = $2) \
                     ON CONFLICT (tenant, provider) DO UPDATE SET record = EXCLUDED.record",
                    &[&tenant, &provider, &record],
                )
                .await?;
            }
            None => {
                self.execute(
                    "DELETE FROM avatars WHERE tenant = $1 AND provider = $2",
                    &[&tenant, &provider],
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn scan(
        &self,
        after: Option<(String, Provider)>,
        n: usize,
    ) -> Result<Vec<StoredBinding>, StoreError> {
        let rows = match after {
            None => {
                let sql = format!("SELECT {COLS} FROM bindings ORDER BY tenant, provider LIMIT $1");
                self.query(&sql, &[&limit(n)]).await?
            }
            Some((tenant, provider)) => {
                let sql = format!(
                    "SELECT {COLS} FROM bindings WHERE (tenant, provider) > ($1, $2) \
                     ORDER BY tenant, provider LIMIT $3"
                );
                self.query(&sql, &[&tenant, &provider.as_str(), &limit(n)])
                    .await?
            }
        };
        from_rows(&rows)
    }

    async fn claim_due(
        &self,
        tenant: Option<&str>,
        checked_within: Duration,
        claim_for: Duration,
        n: usize,
    ) -> Result<Vec<StoredBinding>, StoreError> {
        // One statement, and the due condition twice: a replica claiming at the same moment
        // picked the same candidates, but when it gets their row locks it re-checks the outer
        // condition on the rows as we left them, sees them claimed and skips them. So each
        // row is handed out once, without SKIP LOCKED.
        let sql = format!(
            "UPDATE bindings SET check_claimed_until = {NOW_SECS} + $2 \
             WHERE (tenant, provider) IN ( \
                 SELECT tenant, provider FROM bindings \
                 WHERE {DUE} AND ($3::TEXT IS NULL OR tenant = $3) \
                 ORDER BY last_checked_at NULLS FIRST, tenant, provider LIMIT $4) \
             AND {DUE} RETURNING {COLS}"
        );
        let secs = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        let rows = self
            .query(
                &sql,
                &[&secs(checked_within), &secs(claim_for), &tenant, &limit(n)],
            )
            .await?;
        let mut claimed = from_rows(&rows)?;
        claimed.sort_by(|a, b| {
            (a.last_checked_at, &a.tenant, a.provider).cmp(&(
                b.last_checked_at,
                &b.tenant,
                b.provider,
            ))
        });
        Ok(claimed)
    }

    async fn counts(&self) -> Result<Vec<(Provider, bool, u64)>, StoreError> {
        let rows = self
            .query(
                "SELECT provider, needs_reauth, count(*) FROM bindings \
                 GROUP BY provider, needs_reauth ORDER BY provider, needs_reauth",
                &[],
            )
            .await?;
        rows.iter()
            .map(|r| {
                // Through serde, so an unknown provider is a `Corrupt` record like elsewhere.
                let name = serde_json::Value::String(r.get(0));
                let provider: Provider =
                    serde_json::from_value(name).map_err(StoreError::Corrupt)?;
                Ok((provider, r.get(1), r.get::<_, i64>(2) as u64))
            })
            .collect()
    }

    async fn ready(&self) -> bool {
        // The activity log's writer too: without it no credential can be handed out.
        self.audit_writer.running()
            && self.delivery_writer.running()
            && super::connect::ping(self).await
    }
}
