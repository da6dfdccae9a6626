//! The fake Gitee: authorize, the token endpoint (401 `invalid_grant`, 403 without a
//! `User-Agent`), refreshes that can be short, slow, flaky or dead, the user endpoint and a
//! statistics endpoint for the tests.

use super::*;

const CONSENT: Consent = Consent {
    title: "授权 CodeSource",
    approve: "同意授权",
    deny: "取消",
    narrow_link: false,
    code_prefix: "gteecode",
    narrow_scope: "user_info",
};

pub(super) async fn gitee_authorize(
    State(st): State<OAuthState>,
    uri: axum::http::Uri,
    Query(q): Query<AuthorizeQuery>,
) -> Response {
    if q.client_id != GITEE_APP.0 {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_client", "error_description": "client_id 无效"})),
        )
            .into_response();
    }
    authorize(&st, &uri, &q, &CONSENT)
}

fn gitee_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

pub(super) async fn gitee_token(
    State(st): State<OAuthState>,
    h: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    body: String,
) -> Response {
    if !h.contains_key(header::USER_AGENT) {
        return (
            StatusCode::FORBIDDEN,
            Html("<html><body><h1>403 Forbidden</h1></body></html>"),
        )
            .into_response();
    }
    // Gitee takes the parameters in the query string or in the form body.
    let mut params: HashMap<String, String> = serde_urlencoded::from_str(&body).unwrap_or_default();
    params.extend(q);
    let get = |k: &str| params.get(k).cloned().unwrap_or_default();
    if get("client_id") != GITEE_APP.0 || get("client_secret") != GITEE_APP.1 {
        return gitee_error(StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.");
    }
    if get("grant_type") == "refresh_token" {
        return gitee_refresh(&st, &get("refresh_token")).await;
    }
    if get("grant_type") != "authorization_code" {
        return gitee_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
        );
    }
    let grant = st.codes.lock().unwrap().remove(&get("code"));
    let Some(grant) =
        grant.filter(|g| g.redirect_uri == get("redirect_uri") && g.client_id == GITEE_APP.0)
    else {
        return gitee_error(StatusCode::UNAUTHORIZED, "invalid_grant", "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.");
    };
    gitee_tokens(
        &st,
        &grant.scope,
        grant.short,
        grant.dead_refresh,
        grant.flaky,
        grant.slow,
        grant.tiny,
    )
}

/// Issues an access/refresh pair (the refresh token is remembered unless it is born dead).
fn gitee_tokens(
    st: &OAuthState,
    scope: &str,
    short: bool,
    dead_refresh: bool,
    flaky: bool,
    slow: bool,
    tiny: bool,
) -> Response {
    let token = st.next("gitee-fake-access-");
    let refresh = st.next("gitee-fake-refresh-");
    let mut codes = st.codes.lock().unwrap();
    codes.insert(
        format!("token:{token}"),
        Grant {
            scope: scope.to_string(),
            ..grant_blank()
        },
    );
    if !dead_refresh {
        codes.insert(
            format!("refresh:{refresh}"),
            Grant {
                scope: scope.to_string(),
                flaky,
                slow,
                tiny,
                ..grant_blank()
            },
        );
    }
    let expires_in = match (tiny, short) {
        (true, _) => 120,
        (false, true) => 60,
        (false, false) => 86400,
    };
    Json(json!({
        "access_token": token, "token_type": "bearer", "expires_in": expires_in,
        "refresh_token": refresh, "scope": scope, "created_at": 1764000000
    }))
    .into_response()
}

/// `grant_type=refresh_token`: the refresh token rotates (the old one stops working).
async fn gitee_refresh(st: &OAuthState, refresh_token: &str) -> Response {
    *st.refresh_requests.lock().unwrap() += 1;
    // Only the next refresh of a slow grant is slow (the flag is taken, the grant stays).
    let slow = st
        .codes
        .lock()
        .unwrap()
        .get_mut(&format!("refresh:{refresh_token}"))
        .is_some_and(|g| std::mem::take(&mut g.slow));
    if slow {
        // When the caller's connection closes, hyper drops this future mid-sleep: the guard
        // counts that, and the refresh token is never taken.
        let mut guard = CountOnDrop(Some(st.slow_abandoned.clone()));
        tokio::time::sleep(SLOW_REFRESH).await;
        guard.0 = None;
    }
    let grant = take_refresh(st, refresh_token);
    let Some(grant) = grant else {
        return gitee_error(StatusCode::UNAUTHORIZED, "invalid_grant", "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.");
    };
    if grant.flaky {
        // Still valid: a later attempt could succeed.
        st.codes
            .lock()
            .unwrap()
            .insert(format!("refresh:{refresh_token}"), grant);
        return (
            StatusCode::BAD_GATEWAY,
            Html("<html><body><h1>502 Bad Gateway</h1></body></html>"),
        )
            .into_response();
    }
    *st.refreshes.lock().unwrap() += 1;
    gitee_tokens(st, &grant.scope, false, false, false, false, grant.tiny)
}

/// Adds one to its counter when dropped, unless disarmed (its `Option` emptied).
struct CountOnDrop(Option<Arc<Mutex<u64>>>);

impl Drop for CountOnDrop {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            *c.lock().unwrap() += 1;
        }
    }
}

/// Test counters: refreshes Gitee performed, refresh requests received, slow refreshes whose
/// caller went away mid-wait.
pub(super) async fn gitee_stats(State(st): State<OAuthState>) -> Json<serde_json::Value> {
    Json(json!({
        "refreshes": *st.refreshes.lock().unwrap(),
        "refresh_requests": *st.refresh_requests.lock().unwrap(),
        "slow_abandoned": *st.slow_abandoned.lock().unwrap(),
    }))
}

pub(super) async fn gitee_user(
    State(st): State<OAuthState>,
    h: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let token = bearer(&h).or_else(|| q.get("access_token").cloned());
    let known = token.is_some_and(|t| st.codes.lock().unwrap().contains_key(&format!("token:{t}")));
    if !known {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "401 Unauthorized: Access token does not exist"})),
        )
            .into_response();
    }
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    Json(json!({
        "id": 1234567, "login": "gitee-bob", "name": "码云 Bob", "avatar_url": format!("http://{host}/avatars/bob.svg"),
        "html_url": "https://gitee.com/gitee-bob", "type": "User"
    }))
    .into_response()
}
