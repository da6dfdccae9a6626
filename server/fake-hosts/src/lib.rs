//! Fake code hosts for tests. A fake GitLab that answers like GitLab's REST API v4 does
//! (status codes, JSON bodies, `WWW-Authenticate` and `Retry-After` headers), over HTTP and
//! over HTTPS with a test CA, plus a few misbehaving "servers" under path prefixes:
//!
//! | base address            | behaves like                                            |
//! |-------------------------|---------------------------------------------------------|
//! | `/`                     | a current GitLab                                        |
//! | `/old`                  | GitLab before 15.5 (no `personal_access_tokens/self`)  |
//! | `/not-gitlab`           | a web server that is not GitLab (HTML 200)              |
//! | `/redirect`             | a server that redirects to another host                 |
//! | `/slow`                 | a server that never answers in time                     |
//! | `/huge`, `/held`, …     | oversized answers, held calls: see the `limits` module  |
//! | `/bitbucket`, `/bitbucket-api` | Bitbucket Cloud (OAuth consumer, REST API 2.0): see the `bitbucket` module |
//! | `/gitea`                | a Gitea 1.22 (or Forgejo) instance, API at `/gitea/api/v1`: see the `gitea` module |
//!
//! Webhooks: every fake host serves its documented webhook API (create, list, delete, the scope
//! and role refusals, GitHub's 20-hook limit), repository lookup by name with the stable id, and
//! a ref-head lookup; the test-only `/_fake/{host}/…` endpoints make a host push (signed as that
//! host signs) or change things behind the server's back: see the `hooks` module.
//! `POST /_fake/outage` takes every host down (503) and back: see the `outage` module.
//!
//! Tokens (all obviously fake): see [`TOKENS`]. Fake GitHub (`/github`, API `/github-api`) and
//! Gitee (`/gitee`) OAuth apps: see the `oauth` module. Console pages that embed the page in an
//! iframe (`/embed`) or mount the widget (`/widget-host`): see the `console` module.

mod bitbucket;
mod console;
mod gitea;
mod gitlab;
mod hooks;
mod limits;
mod oauth;
mod outage;
mod repos;
mod support;
mod tls;

pub use bitbucket::{BITBUCKET_APP, BITBUCKET_TOKENS};
pub use gitea::GITEA_TOKENS;
pub use gitlab::{RequestLog, AVATAR_PNG, TOKENS};
pub use hooks::Host;
pub use limits::{HELD_FOR, HUGE};
pub use oauth::{GITEE_APP, GITHUB_APP, GITHUB_HOOK_LIMIT};

/// All fake hosts on one router (GitLab at the root, the others under their prefixes), sharing
/// one webhook registry.
pub fn router(log: RequestLog) -> axum::Router {
    let registry = hooks::Hooks::default();
    let outage = outage::Outage::default();
    gitlab::router(log)
        .merge(gitlab::hook_routes(registry.clone()))
        .merge(oauth::router(registry.clone()))
        .merge(console::router())
        .merge(repos::router())
        .merge(limits::router())
        .merge(bitbucket::router(registry.clone()))
        .merge(gitea::router(registry.clone()))
        .merge(hooks::control::router(registry))
        .merge(outage::router(outage.clone()))
        .layer(axum::middleware::from_fn_with_state(outage, outage::gate))
}

use std::net::SocketAddr;

pub struct Running {
    pub http: SocketAddr,
    pub https: SocketAddr,
    pub log: RequestLog,
}

impl Running {
    pub fn http_url(&self) -> String {
        format!("http://{}", self.http)
    }

    /// HTTPS with the test CA's certificate for `localhost` / `127.0.0.1`.
    pub fn https_url(&self) -> String {
        format!("https://localhost:{}", self.https.port())
    }
}

/// The test CA that signed the HTTPS listener's certificate (for the CA field).
pub const TEST_CA_PEM: &str = include_str!("../tls/ca.pem");

/// Starts the fake hosts on the given addresses (port 0 for any) in the current runtime.
pub async fn start(http: SocketAddr, https: SocketAddr) -> std::io::Result<Running> {
    let log = RequestLog::default();
    let app = router(log.clone());
    let http_listener = tokio::net::TcpListener::bind(http).await?;
    let https_listener = tokio::net::TcpListener::bind(https).await?;
    let running = Running {
        http: http_listener.local_addr()?,
        https: https_listener.local_addr()?,
        log,
    };
    let plain = app.clone();
    tokio::spawn(async move {
        let _ = axum::serve(http_listener, plain).await;
    });
    tokio::spawn(tls::serve(https_listener, app));
    Ok(running)
}
