//! One conformance suite for every backend: each case is written once against `&dyn Store`
//! and `cases!` runs it on sled (a temporary directory) and on PostgreSQL (a fresh database
//! per test in the cluster `CODESOURCE_TEST_DATABASE_URL` points at; `.ci/postgres.sh start`
//! makes one). Tests named `<case>::sled` and `<case>::pg`; the PostgreSQL-only ones (schema
//! migrations, raw rows) are in `pg_only`.

use super::*;
use crate::crypto::Sealed;
use app::api::Account;
use futures_util::future::join_all;
use std::collections::BTreeSet;

pub(super) mod autobuild;
pub(crate) use autobuild::{held_push, reg_key, registration};
pub(crate) use jobs::job;
mod avatars;
mod cases;
mod ephemeral;
mod jobs;
mod pg_only;

/// A PostgreSQL database made for one test, dropped by `finish` (left behind if it panics:
/// the test cluster is throwaway).
pub(crate) struct TestDb {
    pub store: PgStore,
    admin: String,
    name: String,
}

impl TestDb {
    /// A new empty database; `migrate` applies the schema.
    pub async fn new(migrate: bool) -> TestDb {
        let admin = std::env::var("CODESOURCE_TEST_DATABASE_URL").unwrap_or_else(|_| {
            panic!(
                "CODESOURCE_TEST_DATABASE_URL is not set: run the tests with .ci/test.sh, or start \
                 a throwaway PostgreSQL with `.ci/postgres.sh start` and set \
                 CODESOURCE_TEST_DATABASE_URL=$(cat target/pg/url)"
            )
        });
        let name = format!("cs_test_{}", crate::util::hex(&rand::random::<[u8; 8]>()));
        admin_sql(&admin, &format!("CREATE DATABASE {name}")).await;
        let mut url = url::Url::parse(&admin).expect("CODESOURCE_TEST_DATABASE_URL is a URL");
        url.set_path(&name);
        let store = PgStore::connect(&options(url.as_str()))
            .await
            .expect("connecting");
        if migrate {
            assert_eq!(store.migrate().await.expect("migrating"), [1, 2, 3, 4, 5]);
        }
        TestDb { store, admin, name }
    }

    /// Another store on the same database (a second replica).
    pub async fn replica(&self) -> PgStore {
        let mut url = url::Url::parse(&self.admin).unwrap();
        url.set_path(&self.name);
        PgStore::connect(&options(url.as_str())).await.unwrap()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub async fn finish(self) {
        self.store.pool().close();
        drop(self.store);
        admin_sql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        )
        .await;
    }
}

pub(super) fn options(url: &str) -> PgOptions {
    PgOptions {
        url: url.into(),
        ca_file: None,
        pool_size: 4,
        connect_timeout: std::time::Duration::from_secs(5),
        statement_timeout: std::time::Duration::from_secs(10),
    }
}

async fn admin_sql(admin: &str, sql: &str) {
    let (client, conn) = tokio_postgres::connect(admin, tokio_postgres::NoTls)
        .await
        .expect("connecting to CODESOURCE_TEST_DATABASE_URL");
    let conn = tokio::spawn(conn);
    client.batch_execute(sql).await.expect(sql);
    drop(client);
    let _ = conn.await;
}

/// For each case: `mod <case> { sled, pg }`, or only the backends listed after `:`.
macro_rules! cases {
    ($($case:ident $(: $($backend:ident),+)?;)*) => {
        $(cases!(@one $case $(: $($backend),+)?);)*
    };
    (@one $case:ident) => {
        cases!(@one $case: sled, pg);
    };
    (@one $case:ident: $($backend:ident),+) => {
        mod $case {
            $(cases!(@backend $case $backend);)+
        }
    };
    (@backend $case:ident sled) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn sled() {
            let dir = tempfile::tempdir().unwrap();
            let store = crate::store::SledStore::open(dir.path()).unwrap();
            super::cases::$case(&store).await;
        }
    };
    (@backend $case:ident pg) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn pg() {
            let db = super::TestDb::new(true).await;
            super::cases::$case(&db.store).await;
            db.finish().await;
        }
    };
}

cases! {
    unbind_and_its_job_are_one_write;
    jobs_are_claimed_once_saved_and_finished;
    jobs_import_once_and_swap_only_as_read;
    counts_follow_unbind_and_rebind_with_a_job;
    bindings_are_tenant_scoped;
    replace_only_when_unchanged;
    scan_pages_in_key_order;
    claim_due_rules;
    concurrent_claims_hand_out_each_once;
    counts_by_provider_and_reauth;
    bindings_import;
    audit_pages_newest_first;
    audit_scan_copies_everything;
    pending_single_use_and_tenant_bound;
    pending_expiry_bound_and_latest;
    pending_concurrent_takes_one_wins;
    pending_replace;
    flows_take_once_and_bound;
    flows_concurrent_takes_one_wins;
    leases_exclusive_reentrant_expiring;
    sweep_counts;
    autobuild_registrations;
    autobuild_record_delivery_dedup_and_order;
    autobuild_log_is_trimmed;
    autobuild_outbox_claims_leases_and_retries;
    autobuild_concurrent_deliveries;
    autobuild_sweep;
    autobuild_held_pushes;
    avatars_apart_and_removed_with_binding;
}

// ---- records for the cases ----

pub(crate) fn binding(tenant: &str, provider: Provider, login: &str) -> StoredBinding {
    StoredBinding {
        v: RECORD_VERSION,
        tenant: tenant.into(),
        provider,
        account: account(login),
        address: Some("https://gitlab.com".into()),
        ca_pem: None,
        scopes: vec!["read_repository".into()],
        token_expires_at: None,
        bound_at: 1_700_000_000,
        bound_by: "u1".into(),
        token: sealed("token"),
        refresh_token: None,
        access_expires_at: None,
        refreshed_at: None,
        reauth_reason: None,
        last_checked_at: None,
        check_claimed_until: None,
        // Round-trips through every backend with the rest of the record.
        avatar: Some(avatar().reference()),
    }
}

/// `b` as a version before the optional fields existed wrote it: without them (they read back
/// as their defaults, and re-encoding the record adds them).
pub(crate) fn older_record(b: &StoredBinding) -> String {
    let mut v = serde_json::to_value(b).unwrap();
    let fields = v.as_object_mut().unwrap();
    for added in [
        "refresh_token",
        "access_expires_at",
        "refreshed_at",
        "reauth_reason",
        "last_checked_at",
        "check_claimed_until",
        "avatar",
    ] {
        fields.remove(added);
    }
    v.to_string()
}

pub(crate) fn avatar() -> StoredAvatar {
    StoredAvatar {
        content_type: "image/png".into(),
        data_b64: "iVBORw0KGgo=".into(),
        sha256: "ab".repeat(32),
    }
}

fn account(login: &str) -> Account {
    Account {
        login: login.into(),
        name: Some(format!("{login} (name)")),
        avatar_url: None,
        web_url: Some(format!("https://gitlab.com/{login}")),
    }
}

pub(super) fn sealed(what: &str) -> Sealed {
    Sealed {
        kid: "k1".into(),
        nonce: format!("nonce-{what}"),
        ct: format!("ct-{what}"),
    }
}

pub(crate) fn pending(
    id: &str,
    tenant: &str,
    provider: Provider,
    created_at: i64,
) -> PendingRecord {
    PendingRecord {
        id: id.into(),
        tenant: tenant.into(),
        created_at,
        item: PendingItem {
            provider,
            account: account(&format!("login-{id}")),
            address: None,
            ca_pem: None,
            scopes: vec!["repo".into()],
            scopes_unknown: false,
            expires_at: None,
            access_expires_at: Some(1_800_000_000),
            missing_scopes: vec![],
            token: sealed(id),
            refresh_token: Some(sealed("refresh")),
            avatar: Some(avatar()),
        },
    }
}

pub(crate) fn flow(state_hash: &str, tenant: &str, created_at: i64) -> FlowRecord {
    FlowRecord {
        state_hash: state_hash.into(),
        tenant: tenant.into(),
        provider: Provider::Gitee,
        verifier: Some(sealed("verifier")),
        browser_hash: "b".repeat(64),
        popup: false,
        created_at,
        extra_scopes: Vec::new(),
    }
}

/// An audit entry told apart from others by `tag` (its request id is `req-<tag>`).
pub(crate) fn entry(tenant: &str, at: i64, tag: &str) -> AuditEntry {
    AuditEntry {
        at,
        tenant: tenant.into(),
        actor: "u1".into(),
        actor_name: None,
        action: app::api::ActivityAction::Bind,
        provider: Some(Provider::GitLab),
        account: Some("alice".into()),
        outcome: app::api::ActivityOutcome::Ok,
        request_id: format!("req-{tag}"),
    }
}

/// The tag an [`entry`] was made with.
pub(crate) fn tag(e: &AuditEntry) -> &str {
    e.request_id.trim_start_matches("req-")
}

/// (tenant, provider) of bindings, for comparing sets.
pub(super) fn keys(bindings: &[StoredBinding]) -> BTreeSet<(String, &'static str)> {
    bindings
        .iter()
        .map(|b| (b.tenant.clone(), b.provider.as_str()))
        .collect()
}

/// Runs `n` copies of `f` at once and returns how many got something.
pub(super) async fn winners<F, Fut, T>(n: usize, f: F) -> usize
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, StoreError>>,
{
    join_all((0..n).map(|_| f()))
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .filter(Option::is_some)
        .count()
}
