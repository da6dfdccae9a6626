//! Server functions and requests the page never sends: malformed bodies get a client error
//! status with the page's own `ApiError` (never server_fn's text, never a 5xx, also not in the
//! metrics), and what a form on another site can send is refused without a redirect.

use crate::support::*;
use app::api::{ApiError, InputError};
use serde_json::{json, Value};

/// Posts `body` to a server function as our own page would, but with any content type.
async fn post(
    app: &TestApp,
    endpoint: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> (u16, String) {
    let resp = app
        .http
        .post(format!("{}/api/{endpoint}", app.base))
        .header("origin", &app.origin)
        .header("sec-fetch-site", "same-origin")
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(
        !resp.headers().contains_key("location"),
        "{endpoint}: no redirect"
    );
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// The answer is the page's `ApiError`, with its status, and nothing of server_fn's.
#[track_caller]
fn assert_api_error(answer: (u16, String), status: u16, expected: ApiError) {
    let (got, text) = answer;
    for leak in ["server function", "Transport", "serverfn", "deserializ"] {
        assert!(
            !text.to_lowercase().contains(&leak.to_lowercase()),
            "{leak} in {text}"
        );
    }
    let err: ApiError = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!((got, err.clone()), (status, expected), "{text}");
    assert_eq!(err.status_code(), status);
}

#[tokio::test]
async fn malformed_server_function_calls_are_client_errors() {
    let app = spawn_app(Options::default()).await;
    let json = "application/json";
    let invalid = |e| ApiError::Invalid(e);

    // Not JSON at all, or cut off: 400.
    for body in ["{\"provider\": ", "", "provider=gitlab", "{\"a\":1}x"] {
        assert_api_error(
            post(&app, "code-sources/unbind", json, body).await,
            400,
            invalid(InputError::MalformedBody),
        );
    }
    // Not UTF-8 (in a string, where JSON parsers might let it through): 400.
    assert_api_error(
        post(
            &app,
            "preferences/locale",
            json,
            b"{\"tag\": \"en\xff\"}".to_vec(),
        )
        .await,
        400,
        invalid(InputError::MalformedBody),
    );
    // JSON, but the fields do not fit the function: 422 (the request was read; its content
    // is what is wrong, like a field that fails validation).
    for body in [
        json!({"provider": "gitlab", "search": ""}),
        json!({"provider": "gitlab", "search": "", "page": -1}),
        json!({"provider": "gitlab", "search": "", "page": "1"}),
        json!({"provider": 7, "search": "", "page": 1}),
        json!([1, 2]),
    ] {
        assert_api_error(
            post(&app, "code-sources/repositories", json, body.to_string()).await,
            422,
            invalid(InputError::InvalidArguments),
        );
    }
    // An array where the arguments object goes: serde would read `[null]` as `{before: null}`
    // (schemathesis found it); only an object is arguments.
    assert_api_error(
        post(&app, "code-sources/activity", json, "[null]".to_string()).await,
        422,
        invalid(InputError::InvalidArguments),
    );
    // Any other content type, even with a JSON body: 415.
    for content_type in [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        assert_api_error(
            post(&app, "preferences/locale", content_type, r#"{"tag":"en"}"#).await,
            415,
            invalid(InputError::UnsupportedContentType),
        );
    }
    let no_type = app
        .http
        .post(format!("{}/api/preferences/locale", app.base))
        .header("origin", &app.origin)
        .body(r#"{"tag":"en"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(no_type.status(), 415);

    // Over 64 KiB without a Content-Length (chunked): 413, like with one.
    let chunk = bytes_of(8 * 1024);
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = std::iter::once(Ok(b"{\"tag\":\"".to_vec()))
        .chain((0..10).map(|_| Ok(chunk.clone())))
        .chain(std::iter::once(Ok(b"\"}".to_vec())))
        .collect();
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    assert_api_error(
        post(&app, "preferences/locale", json, body).await,
        413,
        invalid(InputError::TooLarge),
    );
    // The same with a Content-Length (refused before anything is routed): the same answer.
    let mut sized = b"{\"tag\":\"".to_vec();
    sized.extend(bytes_of(80 * 1024));
    sized.extend(b"\"}");
    assert_api_error(
        post(&app, "preferences/locale", json, sized).await,
        413,
        invalid(InputError::TooLarge),
    );
    // A chunked body within the limit is read as usual.
    let chunks: Vec<Result<&'static [u8], std::io::Error>> = vec![Ok(b"{\"tag\":"), Ok(b"\"en\"}")];
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    assert_eq!(post(&app, "preferences/locale", json, body).await.0, 200);

    // The errors of the function itself keep their status.
    let (status, text) = post(
        &app,
        "code-sources/unbind",
        "application/json; charset=utf-8",
        r#"{"provider":"gitlab"}"#,
    )
    .await;
    assert_eq!((status, text.as_str()), (404, "\"NotBound\""));

    // None of it shows up as a server error in monitoring.
    let metrics = app.metrics().await;
    let statuses: Vec<u16> = metrics
        .lines()
        .filter(|l| {
            l.starts_with("codesource_http_requests_total{route=\"/api/") && !l.contains("/api/v1/")
        })
        .filter_map(|l| l.split("status=\"").nth(1)?.get(..3)?.parse().ok())
        .collect();
    for s in [400, 413, 415, 422] {
        assert!(statuses.contains(&s), "{s} counted:\n{metrics}");
    }
    assert!(
        statuses.iter().all(|s| *s < 500),
        "no server errors:\n{metrics}"
    );
}

fn bytes_of(n: usize) -> Vec<u8> {
    vec![b'x'; n]
}

/// A plain HTML form on another site: `text/plain` (or form-encoded), `Accept: text/html`, and
/// no `Origin` or `Sec-Fetch-Site` (older browsers), only the `Referer`.
#[tokio::test]
async fn cross_site_form_posts_are_refused_and_never_redirected() {
    let app = spawn_app(Options::default()).await;
    let form = |referer: &str, content_type: &str| {
        app.http
            .post(format!("{}/api/code-sources/unbind", app.base))
            .header("referer", referer)
            .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
            .header("content-type", content_type)
            .body(r#"{"provider":"gitlab"}"#)
            .send()
    };
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let resp = form("https://evil.example/form.html", content_type)
            .await
            .unwrap();
        assert!(!resp.headers().contains_key("location"));
        assert_eq!(resp.status(), 403);
        assert_eq!(resp.json::<Value>().await.unwrap(), json!("CrossSite"));
    }
    // A `Referer` of our own: the same form is still not something a server function takes.
    let ours = format!("{}/", app.base);
    let resp = form(&ours, "text/plain").await.unwrap();
    assert!(!resp.headers().contains_key("location"));
    assert_eq!(resp.status(), 415);

    // Even a JSON call that says it accepts HTML, with a foreign `Referer` (no browser sends
    // this, but nothing of ours follows a Referer anywhere): answered, not redirected.
    let resp = app
        .http
        .post(format!("{}/api/preferences/locale", app.base))
        .header("origin", &app.origin)
        .header("referer", "https://evil.example/")
        .header("accept", "text/html")
        .json(&json!({"tag": "en"}))
        .send()
        .await
        .unwrap();
    assert!(
        !resp.headers().contains_key("location"),
        "{:?}",
        resp.headers()
    );
    assert_eq!(resp.status(), 200);
    // And its errors the same way.
    let resp = app
        .http
        .post(format!("{}/api/code-sources/unbind", app.base))
        .header("origin", &app.origin)
        .header("accept", "text/html")
        .header("referer", "https://evil.example/")
        .json(&json!({"provider": "gitlab"}))
        .send()
        .await
        .unwrap();
    assert!(!resp.headers().contains_key("location"));
    assert_eq!(resp.status(), 404);
}

/// The page's own calls (the widget's are in `embedding`) pass with a same-origin `Referer`
/// and nothing else, as older browsers send them.
#[tokio::test]
async fn a_same_origin_referer_is_enough() {
    let app = spawn_app(Options::default()).await;
    let resp = app
        .http
        .post(format!("{}/api/preferences/locale", app.base))
        .header("referer", format!("{}/", app.base))
        .json(&json!({"tag": "en"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}
