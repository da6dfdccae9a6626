//! Test harness: the real server on port 0 with a temp data dir, beside the fake GitLab.

#![allow(dead_code)]

pub use app::api::Provider;
use codesource_server::identity::sign_hs256;
use codesource_server::Config;
use leptos::prelude::LeptosOptions;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;

mod oauth;
mod service;
pub use oauth::*;
pub use service::fake_json;

pub const IDENTITY_KEY: &str = "integration-test-identity-key-0123456789";
pub const SERVICE_TOKEN: &str = "integration-service-token-0123456789abcdef";
pub const ENCRYPTION_KEY: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";

pub struct TestApp {
    /// Where the app is: origin plus any base path.
    pub base: String,
    /// Our origin (what the page's requests carry in `Origin`).
    pub origin: String,
    pub http: reqwest::Client,
    pub fake: fake_hosts::Running,
    pub data_dir: tempfile::TempDir,
    /// `Authorization` header value for requests, if any.
    pub bearer: Option<String>,
}

pub struct Options {
    pub identity: bool,
    pub allow_loopback: bool,
    /// Register the fake GitHub and Gitee OAuth apps.
    pub oauth: bool,
    /// Use a wrong GitHub client secret.
    pub wrong_github_secret: bool,
    pub pending_ttl: Option<Duration>,
    pub expiry_warning_days: Option<i64>,
    /// Re-validate bindings this often (off by default in tests).
    pub health_interval: Option<Duration>,
    /// Last word on the configuration (base path, embedding origins, ...).
    pub tweak: fn(&mut Config),
    /// The built site (bundle, stylesheet) and widget to serve; none by default.
    pub site_root: Option<std::path::PathBuf>,
    pub widget_dir: Option<std::path::PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            identity: false,
            allow_loopback: true,
            oauth: true,
            wrong_github_secret: false,
            pending_ttl: None,
            expiry_warning_days: None,
            health_interval: None,
            tweak: |_| {},
            site_root: None,
            widget_dir: None,
        }
    }
}

/// The server with console identity required (tenants come from signed tokens).
pub async fn spawn_identity_app() -> TestApp {
    spawn_app(Options {
        identity: true,
        ..Default::default()
    })
    .await
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
    let listener = tokio::net::TcpListener::bind(any_port()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    config.public_url = Some(format!("http://{addr}"));
    if opts.oauth {
        let fake = fake.http_url();
        let secret = if opts.wrong_github_secret {
            "not-the-secret"
        } else {
            fake_hosts::GITHUB_APP.1
        };
        let hosts = &mut config.hosts;
        let github = hosts.get_mut(Provider::GitHub);
        github.url = Some(format!("{fake}/github"));
        github.api_url = Some(format!("{fake}/github-api"));
        github.app = Some(app(fake_hosts::GITHUB_APP.0, secret));
        let gitee = hosts.get_mut(Provider::Gitee);
        gitee.url = Some(format!("{fake}/gitee"));
        gitee.app = Some(app(fake_hosts::GITEE_APP.0, fake_hosts::GITEE_APP.1));
        let bitbucket = hosts.get_mut(Provider::Bitbucket);
        bitbucket.url = Some(format!("{fake}/bitbucket"));
        bitbucket.api_url = Some(format!("{fake}/bitbucket-api"));
        bitbucket.app = Some(app(
            fake_hosts::BITBUCKET_APP.0,
            fake_hosts::BITBUCKET_APP.1,
        ));
    }
    config.service_token = Some(codesource_server::secret::SecretString::new(
        SERVICE_TOKEN.into(),
    ));
    config.health_interval = opts.health_interval;
    if let Some(days) = opts.expiry_warning_days {
        config.expiry_warning_days = days;
    }
    if let Some(ttl) = opts.pending_ttl {
        config.pending_ttl = ttl;
    }
    if let Some(dir) = &opts.widget_dir {
        config.widget_dir = dir.clone();
    }
    (opts.tweak)(&mut config);
    let mut leptos = LeptosOptions::builder().output_name("codesource").build();
    if let Some(root) = &opts.site_root {
        leptos.site_root = root.to_string_lossy().as_ref().into();
    }
    let router = codesource_server::build(&config, leptos)
        .await
        .expect("server builds");
    tokio::spawn(codesource_server::serve(listener, router));
    TestApp {
        base: format!("http://{addr}{}", config.base_path),
        origin: format!("http://{addr}"),
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        fake,
        data_dir,
        bearer: None,
    }
}

fn app(id: &str, secret: &str) -> codesource_server::config::OAuthApp {
    codesource_server::config::OAuthApp {
        client_id: id.into(),
        client_secret: codesource_server::secret::SecretString::new(secret.into()),
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
        self.call_with(self.bearer.as_deref(), endpoint, body).await
    }

    /// `call` as a user of `tenant`, whoever this app is signed in as.
    pub async fn call_as(&self, tenant: &str, endpoint: &str, body: Value) -> (u16, Value) {
        let bearer = identity(tenant, &format!("user-of-{tenant}"));
        self.call_with(Some(&bearer), endpoint, body).await
    }

    async fn call_with(&self, bearer: Option<&str>, endpoint: &str, body: Value) -> (u16, Value) {
        let mut req = self
            .http
            .post(format!("{}/api/{endpoint}", self.base))
            .header("origin", &self.origin)
            .header("sec-fetch-site", "same-origin")
            .json(&body);
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        json_answer(req.send().await.expect("server answers")).await
    }

    /// `/metrics` as Prometheus scrapes it (with the service token).
    pub async fn metrics(&self) -> String {
        let resp = self
            .http
            .get(format!("{}/metrics", self.base))
            .bearer_auth(SERVICE_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        resp.text().await.unwrap()
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
            "code-sources/token/check",
            json!({"provider": "gitlab", "address": address, "token": token, "ca_pem": null}),
        )
        .await
    }

    /// Checks and confirms a GitLab binding; returns the confirmed row.
    pub async fn bind_gitlab(&self, token: &str) -> Value {
        let address = self.fake.http_url();
        self.bind_token("gitlab", &address, token).await
    }

    /// Checks `token` at an access-token host's `address` and confirms it; returns the row.
    pub async fn bind_token(&self, provider: &str, address: &str, token: &str) -> Value {
        let (status, pending) = self
            .call(
                "code-sources/token/check",
                json!({"provider": provider, "address": address, "token": token, "ca_pem": null}),
            )
            .await;
        assert_eq!(status, 200, "{pending}");
        self.confirm_pending(&pending["id"]).await
    }

    /// Confirms a checked or authorized account (which must succeed); returns the row.
    pub async fn confirm_pending(&self, id: &Value) -> Value {
        let (status, row) = self
            .call("code-sources/confirm", json!({"pending_id": id}))
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

/// An answer's status and JSON body (the raw text as a JSON string when it is not JSON).
pub async fn json_answer(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The wire form of a host error, e.g. `{"Host": "TokenExpired"}`.
pub fn host_error(v: &Value) -> Value {
    v["Host"].clone()
}
