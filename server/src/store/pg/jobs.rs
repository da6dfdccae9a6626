//! Cleanup jobs in PostgreSQL: table `cleanup_jobs` (migration 3). Enqueuing a job is one
//! transaction with the binding's removal (or replacement): the binding's statement is
//! conditional on the row as read, like `replace`, and the job's insert commits with it or
//! not at all. The claim is one conditional `UPDATE`, like the build-event outbox's.

use super::bindings::{from_row, Columns, COLS, UPDATE};
use super::{decode_versioned, encode, limit, PgStore};
use crate::store::jobs::{CleanupJob, JobStore};
use crate::store::{StoreError, StoredBinding};
use tokio_postgres::types::ToSql;

const INSERT_JOB: &str =
    "INSERT INTO cleanup_jobs (id, tenant, record, next_at_ms, leased_until_ms) \
     VALUES ($1, $2, $3, $4, $5)";

impl PgStore {
    /// Replaces the binding `old` by `new` (`None`: removes it) and stores the job, in one
    /// transaction, if the binding is still exactly `old`.
    async fn swap_with_job(
        &self,
        old: &StoredBinding,
        new: Option<&StoredBinding>,
        job: &CleanupJob,
        lease_until_ms: i64,
    ) -> Result<bool, StoreError> {
        let provider = old.provider.as_str();
        let new = new.map(Columns::of).transpose()?;
        let record = encode(job)?;
        let read = format!("SELECT {COLS} FROM bindings WHERE tenant = $1 AND provider = $2");
        let update =
            format!("{UPDATE} AND record = $7 AND check_claimed_until IS NOT DISTINCT FROM $8");
        let delete = "DELETE FROM bindings WHERE tenant = $1 AND provider = $2 AND record = $3 \
                      AND check_claimed_until IS NOT DISTINCT FROM $4";
        self.with_client(async |client| {
            loop {
                let tx = client.transaction().await?;
                let Some(row) = tx.query_opt(&read, &[&old.tenant, &provider]).await? else {
                    return Ok(Ok(false));
                };
                // Compared as records (an older version's record lacks newer fields).
                match from_row(&row) {
                    Ok(current) if current == *old => {}
                    Ok(_) => return Ok(Ok(false)),
                    Err(e) => return Ok(Err(e)),
                }
                let (text, claimed): (&str, Option<i64>) = (row.get(0), row.get(1));
                let changed = match &new {
                    Some(n) => {
                        let params: [&(dyn ToSql + Sync); 8] = [
                            &old.tenant,
                            &provider,
                            &n.record,
                            &n.needs_reauth,
                            &n.last_checked_at,
                            &n.check_claimed_until,
                            &text,
                            &claimed,
                        ];
                        tx.execute(&update, &params).await?
                    }
                    None => {
                        tx.execute(delete, &[&old.tenant, &provider, &text, &claimed])
                            .await?
                    }
                };
                if changed != 1 {
                    // Changed between the read and the write: look again.
                    tx.rollback().await?;
                    continue;
                }
                let params: [&(dyn ToSql + Sync); 5] = [
                    &job.id,
                    &job.tenant,
                    &record,
                    &job.next_at_ms,
                    &lease_until_ms,
                ];
                tx.execute(INSERT_JOB, &params).await?;
                tx.commit().await?;
                return Ok(Ok(true));
            }
        })
        .await?
    }
}

#[async_trait::async_trait]
impl JobStore for PgStore {
    async fn unbind_with_job(
        &self,
        old: &StoredBinding,
        job: &CleanupJob,
        lease_until_ms: i64,
    ) -> Result<bool, StoreError> {
        self.swap_with_job(old, None, job, lease_until_ms).await
    }

    async fn rebind_with_job(
        &self,
        old: &StoredBinding,
        new: &StoredBinding,
        job: &CleanupJob,
        lease_until_ms: i64,
    ) -> Result<bool, StoreError> {
        debug_assert!(old.tenant == new.tenant && old.provider == new.provider);
        self.swap_with_job(old, Some(new), job, lease_until_ms)
            .await
    }

    async fn claim_jobs(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        n: usize,
    ) -> Result<Vec<CleanupJob>, StoreError> {
        // The due condition twice, like `claim_outbox`: a replica claiming the same candidates
        // at the same moment re-checks it on the rows as we left them (leased) and skips them.
        let rows = self
            .query(
                "UPDATE cleanup_jobs SET leased_until_ms = $2 \
                 WHERE id IN (SELECT id FROM cleanup_jobs \
                     WHERE next_at_ms <= $1 AND leased_until_ms <= $1 ORDER BY next_at_ms LIMIT $3) \
                 AND next_at_ms <= $1 AND leased_until_ms <= $1 \
                 RETURNING record",
                &[&now_ms, &lease_until_ms, &limit(n)],
            )
            .await?;
        rows.iter().map(|r| decode_versioned(r.get(0))).collect()
    }

    async fn save_job(&self, job: &CleanupJob) -> Result<(), StoreError> {
        self.execute(
            "UPDATE cleanup_jobs SET record = $2, next_at_ms = $3, leased_until_ms = 0 \
             WHERE id = $1",
            &[&job.id, &encode(job)?, &job.next_at_ms],
        )
        .await?;
        Ok(())
    }

    async fn finish_job(&self, id: &str) -> Result<(), StoreError> {
        self.execute("DELETE FROM cleanup_jobs WHERE id = $1", &[&id])
            .await?;
        Ok(())
    }

    async fn jobs(&self) -> Result<Vec<CleanupJob>, StoreError> {
        let rows = self
            .query("SELECT record FROM cleanup_jobs ORDER BY id", &[])
            .await?;
        rows.iter().map(|r| decode_versioned(r.get(0))).collect()
    }

    async fn import_job(&self, job: &CleanupJob) -> Result<bool, StoreError> {
        let stored = self
            .execute(
                &format!("{INSERT_JOB} ON CONFLICT (id) DO NOTHING"),
                &[&job.id, &job.tenant, &encode(job)?, &job.next_at_ms, &0i64],
            )
            .await?;
        Ok(stored == 1)
    }

    async fn replace_job(&self, old: &CleanupJob, new: &CleanupJob) -> Result<bool, StoreError> {
        debug_assert_eq!(old.id, new.id);
        let rows = self
            .query("SELECT record FROM cleanup_jobs WHERE id = $1", &[&old.id])
            .await?;
        let Some(row) = rows.first() else {
            return Ok(false);
        };
        // Compared as records (an older version's record lacks newer fields), swapped as the
        // text that was read: a save in between makes the swap miss.
        let text: &str = row.get(0);
        if decode_versioned::<CleanupJob>(text)? != *old {
            return Ok(false);
        }
        let swapped = self
            .execute(
                "UPDATE cleanup_jobs SET record = $3 WHERE id = $1 AND record = $2",
                &[&old.id, &text, &encode(new)?],
            )
            .await?;
        Ok(swapped == 1)
    }
}
