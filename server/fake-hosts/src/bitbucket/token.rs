//! The fake consumer's token endpoint (`POST /bitbucket/site/oauth2/access_token`): client
//! authentication by HTTP Basic or form fields, the `authorization_code` and `refresh_token`
//! grants, and Bitbucket's token answers and errors (always HTTP 400).

use super::{Access, Bitbucket, Inner, BITBUCKET_APP, SHORT, TWO_HOURS};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// OAuth token errors: always HTTP 400 on Bitbucket (also for client authentication).
fn token_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error_description": description, "error": error})),
    )
        .into_response()
}

/// The client from HTTP Basic (what Bitbucket documents) or, failing that, the form body.
fn client(h: &HeaderMap, form: &HashMap<String, String>) -> Option<(String, String)> {
    use base64::Engine;
    let basic = h
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(a, b)| (a.to_string(), b.to_string()))
        });
    basic.or_else(|| {
        Some((
            form.get("client_id")?.clone(),
            form.get("client_secret")?.clone(),
        ))
    })
}

pub(super) async fn access_token(
    State(bb): State<Bitbucket>,
    h: HeaderMap,
    body: String,
) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_str(&body).unwrap_or_default();
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let Some((id, secret)) = client(&h, &form) else {
        return token_error("invalid_client", "Client credentials missing; this request needs to be authenticated with the OAuth client id and secret");
    };
    if (id.as_str(), secret.as_str()) != BITBUCKET_APP {
        return token_error("unauthorized_client", "Invalid OAuth client credentials");
    }
    let mut inner = bb.0.lock().unwrap();
    match get("grant_type") {
        "authorization_code" => {
            let Some(code) = inner.codes.remove(get("code")) else {
                // The error code is RFC 6749's; the description is not quoted from Bitbucket.
                return token_error("invalid_grant", "The specified code is not valid.");
            };
            // Only checked when sent: Bitbucket falls back to the consumer's callback URL.
            if form.contains_key("redirect_uri") && get("redirect_uri") != code.redirect_uri {
                return token_error(
                    "invalid_grant",
                    "The redirect_uri does not match the one used in the authorization request.",
                );
            }
            let refresh = Bitbucket::next(&mut inner, "bitbucket-fake-refresh-");
            if !code.dead_refresh {
                inner.refresh.insert(refresh.clone(), code.scopes);
            }
            let ttl = if code.short { SHORT } else { TWO_HOURS };
            issue(&mut inner, code.scopes, ttl, &refresh, "authorization_code")
        }
        "refresh_token" => {
            inner.refresh_requests += 1;
            let refresh = get("refresh_token").to_string();
            let Some(scopes) = inner.refresh.get(&refresh).copied() else {
                return token_error("invalid_request", "Invalid refresh_token");
            };
            inner.refreshes += 1;
            issue(&mut inner, scopes, TWO_HOURS, &refresh, "refresh_token")
        }
        other => token_error("invalid_grant", &format!("Unsupported grant type: {other}")),
    }
}

fn issue(inner: &mut Inner, scopes: &str, ttl: u64, refresh: &str, state: &str) -> Response {
    let token = Bitbucket::next(inner, "bitbucket-fake-access-");
    inner.access.insert(
        token.clone(),
        Access {
            scopes: scopes.into(),
            expires: Some(Instant::now() + Duration::from_secs(ttl)),
        },
    );
    Json(json!({
        "access_token": token, "scopes": scopes, "expires_in": ttl,
        "refresh_token": refresh, "token_type": "bearer", "state": state
    }))
    .into_response()
}
