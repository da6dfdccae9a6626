//! Schema migrations, embedded in the binary and applied in order. No advisory lock (not every
//! PostgreSQL-compatible database has them): each migration runs in one transaction that
//! first inserts its row into `codesource_schema`. When two replicas start together, the second
//! insert waits on the first one's row and, once that commits, inserts nothing, so the second
//! replica skips the migration; if the first one fails and rolls back, the second applies it.

use super::{pg_err, PgStore};
use crate::store::StoreError;

/// (version, name, SQL), oldest first. Versions only ever grow; a released migration is
/// never edited, a change is a new one.
pub(in crate::store) const MIGRATIONS: &[(u32, &str, &str)] = &[
    (1, "init", include_str!("migrations/0001_init.sql")),
    (
        2,
        "autobuild",
        include_str!("migrations/0002_autobuild.sql"),
    ),
    (3, "jobs", include_str!("migrations/0003_jobs.sql")),
    (4, "avatars", include_str!("migrations/0004_avatars.sql")),
    (
        5,
        "held_pushes",
        include_str!("migrations/0005_held_pushes.sql"),
    ),
];

const SCHEMA_TABLE: &str = "CREATE TABLE IF NOT EXISTS codesource_schema (
    version INT PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)";

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "the database schema is at version {database}, newer than this binary understands \
         ({binary}): run a newer codesource, or restore the database"
    )]
    DatabaseNewer { database: u32, binary: u32 },
    #[error("migrating the database schema failed")]
    Store(#[from] StoreError),
}

impl PgStore {
    /// Applies the embedded migrations the database does not have yet; returns the versions
    /// applied by this call (empty when the schema was current). Safe to run from every
    /// replica at once.
    pub async fn migrate(&self) -> Result<Vec<u32>, MigrateError> {
        self.apply_migrations(MIGRATIONS).await
    }

    /// `migrate` with the given migrations (the tests' own besides the embedded ones).
    pub(in crate::store) async fn apply_migrations(
        &self,
        migrations: &[(u32, &str, &str)],
    ) -> Result<Vec<u32>, MigrateError> {
        let mut client = self.client().await?;
        if let Err(e) = client.batch_execute(SCHEMA_TABLE).await {
            // Two concurrent `CREATE TABLE IF NOT EXISTS` can both miss the table and collide
            // in the catalog (unique violation, "relation exists", or "type exists" for the
            // table's row type); by the time the loser sees that, the table exists.
            let code = e.code().map(|c| c.code());
            if !matches!(code, Some("23505" | "42P07" | "42710")) {
                return Err(pg_err(e).into());
            }
            client.batch_execute(SCHEMA_TABLE).await.map_err(pg_err)?;
        }

        let binary = migrations.last().map_or(0, |m| m.0);
        let row = client
            .query_one("SELECT max(version) FROM codesource_schema", &[])
            .await
            .map_err(pg_err)?;
        let database = row.get::<_, Option<i32>>(0).unwrap_or(0).max(0) as u32;
        if database > binary {
            return Err(MigrateError::DatabaseNewer { database, binary });
        }

        let mut applied = Vec::new();
        for &(version, name, sql) in migrations {
            let tx = client.transaction().await.map_err(pg_err)?;
            // Without the connection's statement timeout: a migration may rewrite a large
            // table, and another replica's may hold the version row below until it commits.
            tx.batch_execute("SET LOCAL statement_timeout = 0")
                .await
                .map_err(pg_err)?;
            let inserted = tx
                .execute(
                    "INSERT INTO codesource_schema (version, name) VALUES ($1, $2) \
                     ON CONFLICT DO NOTHING",
                    &[&(version as i32), &name],
                )
                .await
                .map_err(pg_err)?;
            if inserted == 0 {
                // Applied before, or just now by another replica.
                tx.rollback().await.map_err(pg_err)?;
                continue;
            }
            tx.batch_execute(sql).await.map_err(pg_err)?;
            tx.commit().await.map_err(pg_err)?;
            applied.push(version);
        }
        Ok(applied)
    }
}
