//! Test-only: every fake host down at once. `POST /_fake/outage` `{"down": true}` makes every
//! request answer 503 except the `/_fake/…` controls (which keep working, so a test can look
//! at a host's hooks while it is "down"); `{"down": false}` brings the hosts back.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Clone, Default)]
pub(crate) struct Outage(Arc<AtomicBool>);

#[derive(Deserialize)]
struct Switch {
    down: bool,
}

/// The control endpoint.
pub(crate) fn router(outage: Outage) -> axum::Router {
    axum::Router::new()
        .route("/_fake/outage", axum::routing::post(switch))
        .with_state(outage)
}

async fn switch(State(outage): State<Outage>, Json(s): Json<Switch>) -> StatusCode {
    outage.0.store(s.down, Ordering::SeqCst);
    StatusCode::NO_CONTENT
}

/// The layer in front of every host.
pub(crate) async fn gate(State(outage): State<Outage>, req: Request, next: Next) -> Response {
    if outage.0.load(Ordering::SeqCst) && !req.uri().path().starts_with("/_fake/") {
        return (StatusCode::SERVICE_UNAVAILABLE, "down for maintenance").into_response();
    }
    next.run(req).await
}
