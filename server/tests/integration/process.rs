//! Harness for the real `codesource` binary: child processes with a given environment (the port
//! is read from their stdout, which is their log and is kept for the test; stderr goes to a
//! file shown when a test fails), killed with SIGKILL on demand and on drop; and a fresh
//! PostgreSQL database per test.
//!
//! Every replica gets the same public URL, [`PUBLIC_URL`]: the one address a load balancer
//! would give them. OAuth redirects point there, and the test's "browser" sends a redirect
//! to whichever replica it picks (see [`Replica::callback`]).

#![allow(dead_code)]

use crate::support::{
    callback_report, identity, Flow, ENCRYPTION_KEY, IDENTITY_KEY, SERVICE_TOKEN,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

mod pg;
pub use pg::*;

/// The address every replica is "behind".
pub const PUBLIC_URL: &str = "http://codesource.test";

const BIN: &str = env!("CARGO_BIN_EXE_codesource");

pub type Env = BTreeMap<&'static str, String>;

/// The environment of a replica: identity mode, our keys, the fake code hosts, no periodic
/// health check, the given data directory (and PostgreSQL database, if any).
pub fn env(fake: &fake_hosts::Running, data_dir: &Path, database: Option<&str>) -> Env {
    let f = fake.http_url();
    let mut e: Env = [
        ("LEPTOS_SITE_ADDR", "127.0.0.1:0".to_string()),
        ("LEPTOS_OUTPUT_NAME", "codesource".into()),
        ("CODESOURCE_IDENTITY_KEY", IDENTITY_KEY.into()),
        ("CODESOURCE_ENCRYPTION_KEY", ENCRYPTION_KEY.into()),
        ("CODESOURCE_SERVICE_TOKEN", SERVICE_TOKEN.into()),
        ("CODESOURCE_ALLOW_LOOPBACK", "true".into()),
        ("CODESOURCE_PROVIDER_TIMEOUT_SECS", "2".into()),
        ("CODESOURCE_GITHUB_URL", format!("{f}/github")),
        ("CODESOURCE_GITHUB_API_URL", format!("{f}/github-api")),
        (
            "CODESOURCE_GITHUB_CLIENT_ID",
            fake_hosts::GITHUB_APP.0.into(),
        ),
        (
            "CODESOURCE_GITHUB_CLIENT_SECRET",
            fake_hosts::GITHUB_APP.1.into(),
        ),
        ("CODESOURCE_GITEE_URL", format!("{f}/gitee")),
        ("CODESOURCE_GITEE_CLIENT_ID", fake_hosts::GITEE_APP.0.into()),
        (
            "CODESOURCE_GITEE_CLIENT_SECRET",
            fake_hosts::GITEE_APP.1.into(),
        ),
        ("CODESOURCE_HEALTH_INTERVAL_SECS", "0".into()),
        ("CODESOURCE_PUBLIC_URL", PUBLIC_URL.into()),
        ("CODESOURCE_DATA_DIR", data_dir.display().to_string()),
    ]
    .into_iter()
    .collect();
    if let Some(db) = database {
        e.insert("CODESOURCE_DATABASE_URL", db.into());
    }
    e
}

/// The fake hosts, a data directory and the environment of a server in local mode (no
/// identity key: every request is the local tenant; the encryption key is generated).
pub async fn local_mode() -> (fake_hosts::Running, tempfile::TempDir, Env) {
    let any = || "127.0.0.1:0".parse().unwrap();
    let fake = fake_hosts::start(any(), any()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut e = env(&fake, dir.path(), None);
    e.remove("CODESOURCE_IDENTITY_KEY");
    e.remove("CODESOURCE_ENCRYPTION_KEY");
    (fake, dir, e)
}

/// Runs the binary to completion (a command such as `rotate-key`): exit code, stdout, stderr.
pub async fn run(env: &Env, args: &[&str]) -> (i32, String, String) {
    let mut cmd = command(env);
    cmd.args(args);
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("codesource runs"))
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn command(env: &Env) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
        )
        .envs(env.iter().map(|(k, v)| (*k, v)));
    cmd
}

/// One running `codesource` process.
pub struct Replica {
    /// Where this process listens (`http://127.0.0.1:PORT`).
    pub base: String,
    /// What the page's requests carry in `Origin`: the public URL.
    pub origin: String,
    pub http: reqwest::Client,
    child: Child,
    stderr: tempfile::NamedTempFile,
    /// What it wrote to stdout so far: its log (tracing writes there).
    stdout: std::sync::Arc<std::sync::Mutex<String>>,
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

impl Replica {
    /// Starts `codesource` and waits (at most 30 s) until it says where it listens.
    pub async fn start(env: &Env) -> Replica {
        let stderr = tempfile::NamedTempFile::new().unwrap();
        let mut child = command(env)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr.reopen().unwrap()))
            .spawn()
            .expect("codesource starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let kept = log.clone();
        // Reads stdout to the end (so the pipe never fills) and keeps it; the first address
        // goes to `rx`.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.split("console: ").nth(1) {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(addr.trim_end_matches('/').to_string());
                    }
                }
                let mut kept = kept.lock().unwrap();
                kept.push_str(&line);
                kept.push('\n');
            }
        });
        let mut replica = Replica {
            base: String::new(),
            origin: PUBLIC_URL.into(),
            http: client(),
            child,
            stderr,
            stdout: log,
        };
        match tokio::time::timeout(Duration::from_secs(30), rx).await {
            Ok(Ok(base)) => replica.base = base,
            other => panic!(
                "codesource did not start ({}):\n{}",
                if other.is_ok() {
                    "it exited"
                } else {
                    "timeout"
                },
                replica.stderr_text()
            ),
        }
        replica
    }

    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(self.stderr.path()).unwrap_or_default()
    }

    /// Its log so far (stdout).
    pub fn log_text(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    /// Whether the process is still running (it has not exited or crashed).
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// `kill -9`, then reaps the process.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Calls a server function as the page of `tenant` does (JSON POST, `Origin`: the public URL).
    pub async fn call(&self, tenant: &str, endpoint: &str, body: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}/api/{endpoint}", self.base))
            .header("origin", &self.origin)
            .bearer_auth(identity(tenant, &format!("user-of-{tenant}")))
            .json(&body)
            .send()
            .await
            .expect("server answers");
        crate::support::json_answer(resp).await
    }

    /// The tenant's row of `provider` on the page.
    pub async fn row(&self, tenant: &str, provider: &str) -> Value {
        let (status, page) = self.call(tenant, "code-sources/page", json!({})).await;
        assert_eq!(status, 200, "{page}");
        page["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["provider"] == provider)
            .unwrap()
            .clone()
    }

    pub async fn check(&self, tenant: &str, address: &str, token: &str) -> (u16, Value) {
        self.call(
            tenant,
            "code-sources/token/check",
            json!({"provider": "gitlab", "address": address, "token": token, "ca_pem": null}),
        )
        .await
    }

    pub async fn confirm(&self, tenant: &str, pending_id: &Value) -> (u16, Value) {
        self.call(
            tenant,
            "code-sources/confirm",
            json!({"pending_id": pending_id}),
        )
        .await
    }

    /// Checks and confirms a GitLab binding at `address`; returns the confirmed row.
    pub async fn bind_gitlab(&self, tenant: &str, address: &str, token: &str) -> Value {
        let (status, pending) = self.check(tenant, address, token).await;
        assert_eq!(status, 200, "{pending}");
        let (status, row) = self.confirm(tenant, &pending["id"]).await;
        assert_eq!(status, 200, "{row}");
        row
    }

    /// The build service's credential request (not sent: tests may run it in a task).
    pub fn credential_request(&self, tenant: &str, provider: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!(
                "{}/api/v1/tenants/{tenant}/code-sources/{provider}/credential",
                self.base
            ))
            .bearer_auth(SERVICE_TOKEN)
    }

    /// The build service asking for a credential: status and body.
    pub async fn credential(&self, tenant: &str, provider: &str) -> (u16, Value) {
        let resp = self
            .credential_request(tenant, provider)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn readyz(&self) -> u16 {
        let resp = self.http.get(format!("{}/readyz", self.base)).send();
        resp.await.unwrap().status().as_u16()
    }

    /// `GET /oauth/{provider}/start` as `tenant`'s browser would.
    pub async fn start_oauth(&self, tenant: &str, provider: &str) -> Flow {
        let resp = self
            .http
            .get(format!(
                "{}/oauth/{provider}/start?mode=redirect",
                self.base
            ))
            .bearer_auth(identity(tenant, &format!("user-of-{tenant}")))
            .send()
            .await
            .unwrap();
        Flow::started(&resp)
    }

    /// The browser arriving at the callback the code host sent it to (an address under the
    /// public URL), served by this replica; the pending id, or the error.
    pub async fn callback(&self, tenant: &str, url: &str, cookie: &str) -> Result<String, Value> {
        let path = url
            .strip_prefix(PUBLIC_URL)
            .unwrap_or_else(|| panic!("{url} is not under {PUBLIC_URL}"));
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(identity(tenant, &format!("user-of-{tenant}")))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        callback_report(resp).await
    }

    /// Start here, approve with `decision`, come back here, confirm here.
    pub async fn bind_oauth(&self, tenant: &str, provider: &str, decision: &str) {
        let flow = self.start_oauth(tenant, provider).await;
        let back = crate::support::decide(&self.http, &flow.authorize_url, decision).await;
        let id = self.callback(tenant, &back, &flow.cookie).await.unwrap();
        let (status, row) = self.confirm(tenant, &json!(id)).await;
        assert_eq!(status, 200, "{row}");
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "---- stderr of codesource at {} ----\n{}",
                self.base,
                self.stderr_text()
            );
        }
    }
}

/// The fake Gitee's counters (`refreshes`, `refresh_requests`, `slow_abandoned`).
pub async fn gitee_stats(fake: &fake_hosts::Running) -> Value {
    crate::support::fake_json(fake, "gitee/__stats").await
}
