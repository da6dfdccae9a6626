//! Test harness: the real server on port 0 with a temp data dir, beside the fake GitLab.

#![allow(dead_code)]

use codesource_server::identity::sign_hs256;
use codesource_server::Config;
use leptos::prelude::LeptosOptions;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;

pub const IDENTITY_KEY: &str = "integration-test-identity-key-0123456789";
pub const ENCRYPTION_KEY: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub fake: fake_hosts::Running,
    pub data_dir: tempfile::TempDir,
    /// `Authorization` header value for requests, if any.
    pub bearer: Option<String>,
}

pub struct Options {
    pub identity: bool,
    pub allow_loopback: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            identity: false,
            allow_loopback: true,
        }
    }
}

pub async fn spawn_app(opts: Options) -> TestApp {
    let fake = fake_hosts::start(any_port(), any_port())
        .await
        .expect("fake hosts start");
    let data_dir = tempfile::tempdir().unwrap();
    let mut config = Config::defaults();
    config.data_dir = data_dir.path().to_path_buf();
    config.allow_loopback = opts.allow_loopback;
    config.provider_timeout = Duration::from_secs(2);
    config.build_node_cidrs =
        codesource_server::config::parse_cidrs(&["192.0.2.0/24".into()]).unwrap();
    if opts.identity {
        config.identity_key = Some(codesource_server::secret::SecretBytes::new(
            IDENTITY_KEY.as_bytes().to_vec(),
        ));
        config.encryption_key = Some(codesource_server::crypto::parse_key(ENCRYPTION_KEY).unwrap());
    }
    let leptos = LeptosOptions::builder().output_name("codesource").build();
    let router = codesource_server::build(&config, leptos).expect("server builds");
    let listener = tokio::net::TcpListener::bind(any_port()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(codesource_server::serve(listener, router));
    TestApp {
        base: format!("http://{addr}"),
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        fake,
        data_dir,
        bearer: None,
    }
}

fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// A console identity token for `tenant`, valid for an hour.
pub fn identity(tenant: &str, user: &str) -> String {
    identity_with(IDENTITY_KEY.as_bytes(), tenant, user, now() + 3600)
}

pub fn identity_with(key: &[u8], tenant: &str, user: &str, exp: i64) -> String {
    sign_hs256(
        key,
        &json!({"sub": user, "tenant": tenant, "name": format!("{user} name"), "exp": exp}),
    )
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

impl TestApp {
    pub fn as_tenant(&mut self, tenant: &str) -> &mut Self {
        self.bearer = Some(identity(tenant, &format!("user-of-{tenant}")));
        self
    }

    /// Calls a server function the way the page does (JSON POST from our own origin).
    pub async fn call(&self, endpoint: &str, body: Value) -> (u16, Value) {
        let mut req = self
            .http
            .post(format!("{}/api/{endpoint}", self.base))
            .header("origin", &self.base)
            .header("sec-fetch-site", "same-origin")
            .json(&body);
        if let Some(b) = &self.bearer {
            req = req.bearer_auth(b);
        }
        let resp = req.send().await.expect("server answers");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn page(&self) -> Value {
        let (status, v) = self.call("code-sources/page", json!({})).await;
        assert_eq!(status, 200, "{v}");
        v
    }

    pub async fn row(&self, provider: &str) -> Value {
        let page = self.page().await;
        page["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["provider"] == provider)
            .unwrap()
            .clone()
    }

    pub async fn check(&self, address: &str, token: &str) -> (u16, Value) {
        self.call(
            "code-sources/gitlab/check",
            json!({"address": address, "token": token, "ca_pem": null}),
        )
        .await
    }

    /// Checks and confirms a GitLab binding; returns the confirmed row.
    pub async fn bind_gitlab(&self, token: &str) -> Value {
        let (status, pending) = self.check(&self.fake.http_url(), token).await;
        assert_eq!(status, 200, "{pending}");
        let (status, row) = self
            .call("code-sources/confirm", json!({"pending_id": pending["id"]}))
            .await;
        assert_eq!(status, 200, "{row}");
        row
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(b) = &self.bearer {
            req = req.bearer_auth(b);
        }
        req.send().await.unwrap()
    }
}

/// The wire form of a host error, e.g. `{"Host": "TokenExpired"}`.
pub fn host_error(v: &Value) -> Value {
    v["Host"].clone()
}
