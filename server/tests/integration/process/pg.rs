//! PostgreSQL for the process tests: a fresh database per test on the shared cluster, or a
//! private cluster for a test that stops its database.

use super::*;

/// The admin URL of the test PostgreSQL.
pub fn admin_url() -> String {
    std::env::var("CODESOURCE_TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "CODESOURCE_TEST_DATABASE_URL is not set: run the tests with .ci/test.sh (which starts \
             PostgreSQL), or `bash .ci/postgres.sh start` and \
             CODESOURCE_TEST_DATABASE_URL=$(cat target/pg/url) cargo nextest run ..."
        )
    })
}

/// Creates an empty database `cs_it_<random hex>` on the cluster of `admin` (a URL of its
/// `postgres` database); returns the URL of the new one, for the servers.
pub async fn create_database(admin: &str) -> String {
    let (client, conn) = tokio_postgres::connect(admin, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("connecting to {admin}: {e}"));
    tokio::spawn(conn);
    let name = format!(
        "cs_it_{}",
        rand::random::<[u8; 8]>()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let (server, _db) = admin.split('?').next().unwrap().rsplit_once('/').unwrap();
    // Plain TCP: these tests are not about TLS, and a cluster with a self-signed certificate
    // would fail the server's (always verifying) TLS under the default `prefer`.
    format!("{server}/{name}?sslmode=disable")
}

/// A fresh database on the shared test cluster.
pub async fn fresh_database() -> String {
    create_database(&admin_url()).await
}

/// A private PostgreSQL cluster (`.ci/postgres.sh` with its own state directory), for a test
/// that stops its database; stopped and deleted on drop.
pub struct PrivatePg {
    state: tempfile::TempDir,
    pub admin: String,
}

impl PrivatePg {
    pub async fn start() -> PrivatePg {
        let state = tempfile::tempdir().unwrap();
        let mut pg = PrivatePg {
            state,
            admin: String::new(),
        };
        pg.admin = pg.script("start").await;
        pg
    }

    /// Stops the server, keeping its data.
    pub async fn pause(&self) {
        self.script("pause").await;
    }

    /// Starts it again (same data, same port).
    pub async fn resume(&self) {
        self.script("resume").await;
    }

    /// Stops its processes without closing anything: connections stay open and get no
    /// answer, as when the network drops packets.
    pub async fn freeze(&self) {
        self.script("freeze").await;
    }

    /// Lets a frozen server go on.
    pub async fn thaw(&self) {
        self.script("thaw").await;
    }

    async fn script(&self, what: &str) -> String {
        let mut cmd = Command::new("bash");
        cmd.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../.ci/postgres.sh"))
            .arg(what)
            .env("PG_STATE_DIR", self.state.path());
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        assert!(
            out.status.success(),
            ".ci/postgres.sh {what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        stdout.lines().last().unwrap_or_default().trim().to_string()
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../.ci/postgres.sh"))
            .arg("stop")
            .env("PG_STATE_DIR", self.state.path())
            .output();
    }
}
