//! The webhook ingress route, `POST <base>/hooks/{rid}`: what code hosts deliver pushes to.
//! Public by nature (code hosts carry no identity of ours): the signature is the
//! authentication, checked by [`AutoBuild::receive`](crate::autobuild::AutoBuild::receive).
//! Here the request is bounded before anything else: the registration id's shape, the body's
//! size ([`MAX_BODY`], 413 past it) and the time to read it ([`READ_TIMEOUT`]).

use crate::autobuild::ingress::{Answer, MAX_BODY};
use crate::autobuild::{plausible_rid, AutoBuild};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use http_body_util::BodyExt;
use std::sync::Arc;
use std::time::Duration;

/// Longest a delivery may take to arrive (hosts send it in one go; a trickle is an attack).
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

pub fn routes(autobuild: Arc<AutoBuild>) -> Router {
    Router::new()
        .route("/hooks/{rid}", post(deliver))
        .with_state(autobuild)
}

async fn deliver(
    State(autobuild): State<Arc<AutoBuild>>,
    Path(rid): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if !plausible_rid(&rid) {
        return answer(Answer::Refused);
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return too_large();
    }
    let limited = http_body_util::Limited::new(body, MAX_BODY);
    let bytes = match tokio::time::timeout(READ_TIMEOUT, limited.collect()).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => return too_large(),
        Ok(Err(_)) => return (StatusCode::BAD_REQUEST, "unreadable body\n").into_response(),
        Err(_) => return (StatusCode::REQUEST_TIMEOUT, "body too slow\n").into_response(),
    };
    answer(autobuild.receive(&rid, &headers, &bytes).await)
}

fn too_large() -> Response {
    (StatusCode::PAYLOAD_TOO_LARGE, "delivery too large\n").into_response()
}

/// A short text answer: hosts show it in their delivery logs, so it says what happened, and
/// nothing about why a signature failed or whether the registration exists.
fn answer(a: Answer) -> Response {
    let text = match a {
        Answer::Accepted { .. } => "accepted\n",
        Answer::Duplicate => "duplicate\n",
        Answer::Ignored => "ignored\n",
        Answer::Refused => "unauthorized\n",
        Answer::Malformed => "malformed payload\n",
        Answer::RateLimited => "too many deliveries\n",
        Answer::Unavailable => "unavailable, retry later\n",
    };
    let status = StatusCode::from_u16(a.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (status, text).into_response();
    if matches!(a, Answer::RateLimited | Answer::Unavailable) {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_ids_reach_the_store() {
        assert!(plausible_rid("AAAAAAAAAAAAAAAAAAAAAA"));
        assert!(plausible_rid("abc-_0123456789xyzXYZq"));
        assert!(!plausible_rid("short"));
        assert!(!plausible_rid("AAAAAAAAAAAAAAAAAAAA/A"));
        assert!(!plausible_rid(&"A".repeat(23)));
    }
}
