//! Test-only: every fake host down at once. `POST /_fake/outage` `{"down": true}` makes every
//! request answer 503 except the `/_fake/…` controls (which keep working, so a test can look
//! at a host's hooks while it is "down"); `{"down": false}` brings the hosts back. With
//! `"delay_ms": n` every such request is answered only after n milliseconds instead: a host
//! that is up but slow (0 ends it).

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Default)]
pub(crate) struct Outage(Arc<(AtomicBool, AtomicU64)>);

#[derive(Deserialize)]
struct Switch {
    down: bool,
    #[serde(default)]
    delay_ms: u64,
}

/// The control endpoint.
pub(crate) fn router(outage: Outage) -> axum::Router {
    axum::Router::new()
        .route("/_fake/outage", axum::routing::post(switch))
        .with_state(outage)
}

async fn switch(State(outage): State<Outage>, Json(s): Json<Switch>) -> StatusCode {
    outage.0 .0.store(s.down, Ordering::SeqCst);
    outage.0 .1.store(s.delay_ms, Ordering::SeqCst);
    StatusCode::NO_CONTENT
}

/// The layer in front of every host.
pub(crate) async fn gate(State(outage): State<Outage>, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/_fake/") {
        return next.run(req).await;
    }
    if outage.0 .0.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "down for maintenance").into_response();
    }
    let delay = outage.0 .1.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    next.run(req).await
}
