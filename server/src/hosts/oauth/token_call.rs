//! The token endpoint's transport and its failures: the `oauth2` crate's requests go through
//! the one HTTP helper on our client (timeouts, no redirects, answers read within
//! [`crate::outbound::limits::MAX_ANSWER`]), and a failed exchange or refresh becomes a
//! [`HostError`] whose code is safe to show.

use crate::outbound::http;
use crate::outbound::instance::classify;
use app::api::HostError;
use oauth2::RequestTokenError;
use serde::Deserialize;

/// An OAuth error answer, `{"error": "…"}` (GitHub's comes with HTTP 200).
#[derive(Deserialize)]
pub(super) struct ErrorBody {
    pub(super) error: String,
}

/// Why a token request (code exchange, refresh) got no usable answer.
#[derive(Debug, thiserror::Error)]
#[error("the token request failed: {0:?}")]
pub(super) struct TokenCallFailed(HostError);

pub(super) type TokenFuture = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<oauth2::HttpResponse, TokenCallFailed>> + Send>,
>;

/// The HTTP client the `oauth2` crate makes its token requests with: ours (timeouts, no
/// redirects), reading the answer within the bound. (The crate's own reqwest integration
/// reads the whole body, however large.)
pub(super) async fn token_call(
    http: reqwest::Client,
    req: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, TokenCallFailed> {
    let req = reqwest::Request::try_from(req).map_err(|e| TokenCallFailed(classify(&e)))?;
    let answer = http::execute(&http, req).await.map_err(TokenCallFailed)?;
    let mut out = oauth2::HttpResponse::new(answer.body);
    // Any status reqwest read is one `http` can hold.
    *out.status_mut() =
        reqwest::StatusCode::from_u16(answer.status).unwrap_or(reqwest::StatusCode::BAD_GATEWAY);
    *out.headers_mut() = answer.headers;
    Ok(out)
}

/// Maps a failed exchange. GitHub answers errors with HTTP 200 and an `error` field, which the
/// `oauth2` crate reports as a parse failure of the token response: the body says which error.
pub(super) fn exchange_error(
    e: RequestTokenError<
        TokenCallFailed,
        oauth2::StandardErrorResponse<oauth2::basic::BasicErrorResponseType>,
    >,
) -> HostError {
    match e {
        RequestTokenError::ServerResponse(r) => HostError::OAuthExchange {
            error: clip_code(r.error().as_ref()),
        },
        RequestTokenError::Parse(_, body) => match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(b) => HostError::OAuthExchange {
                error: clip_code(&b.error),
            },
            Err(_) => HostError::OAuthExchange {
                error: "unexpected_response".into(),
            },
        },
        RequestTokenError::Request(TokenCallFailed(e)) => e,
        RequestTokenError::Other(_) => HostError::OAuthExchange {
            error: "unexpected_response".into(),
        },
    }
}

/// Error codes are shown to the user: keep them short and plain.
pub(super) fn clip_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect()
}
