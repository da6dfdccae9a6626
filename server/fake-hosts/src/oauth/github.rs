//! The fake GitHub: authorize, the token endpoint (errors as HTTP 200 with an `error` field),
//! refresh of expiring tokens, the user endpoint and grant revocation.

use super::*;

const CONSENT: Consent = Consent {
    title: "Authorize CodeSource",
    approve: "Authorize",
    deny: "Cancel",
    narrow_link: true,
    code_prefix: "ghcode",
    narrow_scope: "read:user",
};

pub(super) async fn github_authorize(
    State(st): State<OAuthState>,
    uri: axum::http::Uri,
    Query(q): Query<AuthorizeQuery>,
) -> Response {
    if q.client_id != GITHUB_APP.0 {
        return (StatusCode::NOT_FOUND, "Not Found").into_response();
    }
    authorize(&st, &uri, &q, &CONSENT)
}

fn github_error(error: &str, description: &str) -> Response {
    // GitHub answers token errors with HTTP 200.
    Json(json!({"error": error, "error_description": description, "error_uri": format!("https://docs.github.com/apps/troubleshooting#{error}")}))
        .into_response()
}

pub(super) async fn github_token(
    State(st): State<OAuthState>,
    Form(f): Form<TokenForm>,
) -> Response {
    if f.client_id != GITHUB_APP.0 || f.client_secret != GITHUB_APP.1 {
        return github_error(
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
        );
    }
    if f.grant_type.as_deref() == Some("refresh_token") {
        return github_refresh(&st, f.refresh_token.as_deref().unwrap_or(""));
    }
    let Some(grant) = st.codes.lock().unwrap().remove(&f.code) else {
        return github_error(
            "bad_verification_code",
            "The code passed is incorrect or expired.",
        );
    };
    if grant.redirect_uri != f.redirect_uri {
        return github_error(
            "redirect_uri_mismatch",
            "The redirect_uri MUST match the registered callback URL for this application.",
        );
    }
    if let Some(challenge) = grant.challenge {
        if f.code_verifier.as_deref().map(s256) != Some(challenge) {
            return github_error(
                "bad_verification_code",
                "The code passed is incorrect or expired.",
            );
        }
    }
    github_tokens(&st, &grant.scope.replace(' ', ","), grant.short)
}

/// A GitHub token; `expiring` imitates a GitHub App user token (expires, rotating refresh token).
fn github_tokens(st: &OAuthState, scope: &str, expiring: bool) -> Response {
    let token = st.next("gho_fake-");
    let mut codes = st.codes.lock().unwrap();
    codes.insert(
        format!("token:{token}"),
        Grant {
            scope: scope.to_string(),
            ..grant_blank()
        },
    );
    if !expiring {
        return Json(json!({"access_token": token, "token_type": "bearer", "scope": scope}))
            .into_response();
    }
    let refresh = st.next("ghr_fake-");
    codes.insert(
        format!("refresh:{refresh}"),
        Grant {
            scope: scope.to_string(),
            ..grant_blank()
        },
    );
    Json(json!({
        "access_token": token, "token_type": "bearer", "scope": scope,
        "expires_in": 60,
        "refresh_token": refresh, "refresh_token_expires_in": 15_897_600
    }))
    .into_response()
}

/// GitHub App user-token refresh: HTTP 200 with `bad_refresh_token` when it is unknown.
fn github_refresh(st: &OAuthState, refresh_token: &str) -> Response {
    let grant = take_refresh(st, refresh_token);
    let Some(grant) = grant else {
        return github_error(
            "bad_refresh_token",
            "The refresh token passed is incorrect or expired.",
        );
    };
    *st.refreshes.lock().unwrap() += 1;
    let token = st.next("gho_fake-");
    let refresh = st.next("ghr_fake-");
    let mut codes = st.codes.lock().unwrap();
    codes.insert(
        format!("token:{token}"),
        Grant {
            scope: grant.scope.clone(),
            ..grant_blank()
        },
    );
    codes.insert(
        format!("refresh:{refresh}"),
        Grant {
            scope: grant.scope.clone(),
            ..grant_blank()
        },
    );
    Json(json!({
        "access_token": token, "token_type": "bearer", "scope": grant.scope,
        "expires_in": 28_800, "refresh_token": refresh, "refresh_token_expires_in": 15_897_600
    }))
    .into_response()
}

pub(super) async fn github_user(State(st): State<OAuthState>, h: HeaderMap) -> Response {
    if !h.contains_key(header::USER_AGENT) {
        return (StatusCode::FORBIDDEN, "Request forbidden by administrative rules. Please make sure your request has a User-Agent header.").into_response();
    }
    let scope = bearer(&h).and_then(|t| {
        st.codes
            .lock()
            .unwrap()
            .get(&format!("token:{t}"))
            .map(|g| g.scope.clone())
    });
    let Some(scope) = scope else {
        return (StatusCode::UNAUTHORIZED, Json(json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"}))).into_response();
    };
    let scopes = scope
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    (
        [("x-oauth-scopes", scopes), ("x-accepted-oauth-scopes", String::new()), ("x-github-media-type", "github.v3".into())],
        Json(json!({
            "login": "octo-alice", "id": 583231, "name": "Octo Alice", "type": "User",
            "avatar_url": format!("http://{host}/avatars/alice.png"), "html_url": "https://github.com/octo-alice"
        })),
    )
        .into_response()
}

/// `DELETE /applications/{client_id}/grant`: Basic auth with the app's id and secret, the token
/// in a JSON body; 204, and the token stops working.
pub(super) async fn github_revoke(
    State(st): State<OAuthState>,
    axum::extract::Path(client_id): axum::extract::Path<String>,
    h: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> Response {
    use base64::Engine;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", GITHUB_APP.0, GITHUB_APP.1))
    );
    let auth = h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if client_id != GITHUB_APP.0 || auth != Some(expected.as_str()) {
        return (StatusCode::NOT_FOUND, Json(json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest/apps/oauth-applications#delete-an-app-authorization"}))).into_response();
    }
    let token = body["access_token"].as_str().unwrap_or_default();
    let removed = st.codes.lock().unwrap().remove(&format!("token:{token}"));
    match removed {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"message": "Validation Failed"})),
        )
            .into_response(),
    }
}
