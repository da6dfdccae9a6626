//! Bits the Bitbucket and Gitea fakes share: the origin a request came to (so `next` links and
//! `Link` headers are absolute, as the real hosts make them), a log of the `Authorization`
//! headers received (so tests can assert *how* a token was sent), and, for unit tests, a tiny
//! HTTP/1.1 client (fake-hosts has no HTTP client dependency and we do not add one for tests).

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use axum::Json;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

/// Marks requests that came over the HTTPS listener (inserted by `tls::serve`), so links the
/// fakes build point back at the same scheme.
#[derive(Clone, Copy)]
pub(crate) struct Https;

/// `scheme://host[:port]` of the listener the request came to.
pub(crate) struct Origin(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Origin {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        let scheme = if parts.extensions.get::<Https>().is_some() {
            "https"
        } else {
            "http"
        };
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("localhost");
        Ok(Origin(format!("{scheme}://{host}")))
    }
}

/// Requests one fake received: method, path and query, and the `Authorization` header exactly as
/// sent (every token here is fake, so keeping it whole is harmless and lets tests check the
/// scheme, e.g. Gitea's `token <PAT>` versus `Bearer <PAT>`).
#[derive(Clone, Default)]
pub struct AuthLog(Arc<Mutex<Vec<Value>>>);

impl AuthLog {
    pub fn entries(&self) -> Vec<Value> {
        self.0.lock().unwrap().clone()
    }
}

/// Middleware: appends every request except reads of the log itself.
pub(crate) async fn record(State(log): State<AuthLog>, req: Request, next: Next) -> Response {
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    if !path.ends_with("/__log") {
        let auth = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        log.0
            .lock()
            .unwrap()
            .push(json!({"method": req.method().as_str(), "path": path, "authorization": auth}));
    }
    next.run(req).await
}

pub(crate) async fn show_log(State(log): State<AuthLog>) -> Json<Value> {
    Json(Value::Array(log.entries()))
}

/// The query string with `key` set to `value` (replaced in place, or appended).
pub(crate) fn with_query_param(query: &str, key: &str, value: &str) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    match pairs.iter_mut().find(|(k, _)| k == key) {
        Some(pair) => pair.1 = value.to_string(),
        None => pairs.push((key.to_string(), value.to_string())),
    }
    pairs
}

#[cfg(test)]
pub(crate) mod testing {
    //! Serves a router on 127.0.0.1:0 and talks HTTP/1.1 to it with `std::net` (on the
    //! blocking pool, so the server keeps running on the test's runtime).

    use serde_json::Value;
    use std::io::{Read, Write};
    use std::net::SocketAddr;

    pub struct Reply {
        pub status: u16,
        pub headers: Vec<(String, String)>,
        pub body: String,
    }

    impl Reply {
        pub fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }

        pub fn json(&self) -> Value {
            serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
        }
    }

    pub async fn serve(app: axum::Router) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }

    pub async fn call(
        addr: SocketAddr,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Reply {
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(body);
        tokio::task::spawn_blocking(move || {
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.write_all(req.as_bytes()).unwrap();
            let mut raw = String::new();
            s.read_to_string(&mut raw).unwrap();
            let (head, body) = raw.split_once("\r\n\r\n").unwrap();
            let mut lines = head.lines();
            let status = lines.next().unwrap().split(' ').nth(1).unwrap();
            Reply {
                status: status.parse().unwrap(),
                headers: lines
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.to_string(), v.trim().to_string()))
                    .collect(),
                body: body.to_string(),
            }
        })
        .await
        .unwrap()
    }

    pub fn basic(user: &str, password: &str) -> String {
        use base64::Engine;
        let raw = format!("{user}:{password}");
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }
}
