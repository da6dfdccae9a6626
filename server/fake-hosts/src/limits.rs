//! Misbehaving GitLab servers for the resource-limit tests:
//!
//! | base address    | behaves like                                                          |
//! |-----------------|-----------------------------------------------------------------------|
//! | `/huge`         | answers any call (any method) with 64 MiB of JSON-ish bytes (Content-Length) |
//! | `/huge-chunked` | the same, chunked (no Content-Length)                                 |
//! | `/huge-list`    | a normal account and token, but a 64 MiB repository/branch listing   |
//! | `/held`         | holds every call [`HELD_FOR`] before a 404, counting calls in flight  |
//!
//! `GET /limits/__stats`: bytes the huge answers actually produced (they are made lazily,
//! so a client that stops reading stops them), and the most `/held` calls in flight at once.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Size of every huge answer.
pub const HUGE: u64 = 64 * 1024 * 1024;
const CHUNK: usize = 64 * 1024;
/// How long `/held` holds a call (below the test server's 2 s provider timeout).
pub const HELD_FOR: Duration = Duration::from_millis(1500);

#[derive(Clone, Default)]
struct Stats {
    /// Bytes of huge answers produced so far.
    produced: Arc<AtomicU64>,
    held_now: Arc<AtomicU64>,
    held_max: Arc<AtomicU64>,
    held_total: Arc<AtomicU64>,
}

pub fn router() -> Router {
    Router::new()
        .route("/huge/{*rest}", any(huge_sized))
        .route("/huge-chunked/{*rest}", any(huge_chunked))
        .route("/huge-list/api/v4/user", get(list_user))
        .route(
            "/huge-list/api/v4/personal_access_tokens/self",
            get(list_token),
        )
        .route("/huge-list/api/v4/projects", get(huge_list))
        .route(
            "/huge-list/api/v4/projects/{id}/repository/branches",
            get(huge_list),
        )
        .route("/held/{*rest}", get(held))
        .route("/limits/__stats", get(stats))
        .with_state(Stats::default())
}

/// `len` bytes of an endless JSON array of objects, made one chunk at a time.
fn huge_body(stats: &Stats, len: u64) -> Body {
    let item = br#"{"id":1,"path_with_namespace":"huge/repo","username":"huge","name":"main"},"#;
    let mut chunk = Vec::with_capacity(CHUNK);
    chunk.push(b'[');
    while chunk.len() + item.len() <= CHUNK {
        chunk.extend_from_slice(item);
    }
    chunk.resize(CHUNK, b' ');
    let chunk = Bytes::from(chunk);
    let produced = stats.produced.clone();
    let stream = futures_util::stream::unfold(0u64, move |sent| {
        let (chunk, produced) = (chunk.clone(), produced.clone());
        async move {
            if sent >= len {
                return None;
            }
            let n = (len - sent).min(CHUNK as u64);
            produced.fetch_add(n, Ordering::Relaxed);
            Some((Ok::<_, std::io::Error>(chunk.slice(..n as usize)), sent + n))
        }
    });
    Body::from_stream(stream)
}

async fn huge_sized(State(s): State<Stats>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (header::CONTENT_LENGTH, HUGE.to_string()),
        ],
        huge_body(&s, HUGE),
    )
        .into_response()
}

async fn huge_chunked(State(s): State<Stats>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        huge_body(&s, HUGE),
    )
        .into_response()
}

async fn huge_list(State(s): State<Stats>, h: HeaderMap) -> Response {
    if !h.contains_key("private-token") {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    huge_chunked(State(s)).await
}

async fn list_user(h: HeaderMap, uri: Uri) -> Response {
    crate::gitlab::user(h, uri).await
}

async fn list_token(h: HeaderMap) -> Response {
    crate::gitlab::token_self(h).await
}

async fn held(State(s): State<Stats>) -> Response {
    let now = s.held_now.fetch_add(1, Ordering::SeqCst) + 1;
    s.held_max.fetch_max(now, Ordering::SeqCst);
    s.held_total.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(HELD_FOR).await;
    s.held_now.fetch_sub(1, Ordering::SeqCst);
    (
        StatusCode::NOT_FOUND,
        Json(json!({"message": "404 Not Found"})),
    )
        .into_response()
}

async fn stats(State(s): State<Stats>) -> Json<serde_json::Value> {
    Json(json!({
        "huge_bytes_produced": s.produced.load(Ordering::SeqCst),
        "held_max_in_flight": s.held_max.load(Ordering::SeqCst),
        "held_total": s.held_total.load(Ordering::SeqCst),
    }))
}
