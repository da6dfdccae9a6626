//! The activity log in PostgreSQL: table `audit`, one row per entry with a generated `id`.
//! A tenant's page is ordered by (at, id) newest first, and its cursor is the last row's
//! `at:id`; copying walks all rows by `id`. Old entries are dropped by `Store::sweep`.

use super::{decode, encode, limit, PgStore};
use crate::store::{AuditEntry, AuditLog, StoreError};
use tokio_postgres::Row;

/// Entries of rows `(id, entry)`, and whether a row beyond `n` came back (more remain).
fn entries(rows: &[Row], n: usize) -> Result<(Vec<(i64, AuditEntry)>, bool), StoreError> {
    let out = rows
        .iter()
        .take(n)
        .map(|r| Ok((r.get(0), decode(r.get(1))?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok((out, rows.len() > n))
}

fn parse_page_cursor(cursor: &str) -> Option<(i64, i64)> {
    let (at, id) = cursor.split_once(':')?;
    Some((at.parse().ok()?, id.parse().ok()?))
}

#[async_trait::async_trait]
impl AuditLog for PgStore {
    async fn append(&self, entry: AuditEntry) -> Result<(), StoreError> {
        let record = encode(&entry)?;
        self.audit_writer
            .append(entry.tenant, entry.at, record)
            .await
    }

    async fn page(
        &self,
        tenant: &str,
        before: Option<String>,
        n: usize,
    ) -> Result<(Vec<AuditEntry>, Option<String>), StoreError> {
        // A cursor that does not parse starts from the newest entry, as in sled.
        let (at, id) = before
            .as_deref()
            .and_then(parse_page_cursor)
            .unwrap_or((i64::MAX, i64::MAX));
        // One row more than asked tells whether there is a next page.
        let rows = self
            .query(
                "SELECT id, entry FROM audit WHERE tenant = $1 AND (at, id) < ($2, $3) \
                 ORDER BY at DESC, id DESC LIMIT $4",
                &[&tenant, &at, &id, &limit(n.saturating_add(1))],
            )
            .await?;
        let (page, more) = entries(&rows, n)?;
        let cursor = match page.last() {
            Some((id, e)) if more => Some(format!("{}:{id}", e.at)),
            _ => None,
        };
        Ok((page.into_iter().map(|(_, e)| e).collect(), cursor))
    }

    async fn scan_audit(
        &self,
        after: Option<String>,
        n: usize,
    ) -> Result<(Vec<AuditEntry>, Option<String>), StoreError> {
        let after: i64 = after.and_then(|c| c.parse().ok()).unwrap_or(i64::MIN);
        let rows = self
            .query(
                "SELECT id, entry FROM audit WHERE id > $1 ORDER BY id LIMIT $2",
                &[&after, &limit(n.saturating_add(1))],
            )
            .await?;
        let (page, more) = entries(&rows, n)?;
        let cursor = match page.last() {
            Some((id, _)) if more => Some(id.to_string()),
            _ => None,
        };
        Ok((page.into_iter().map(|(_, e)| e).collect(), cursor))
    }
}
