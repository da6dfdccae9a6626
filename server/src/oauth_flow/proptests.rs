//! Property tests for the OAuth callback: its query string is whatever the browser (or anyone)
//! sends, so parsing never panics, and only a state we issued, once, gets anywhere.

use super::*;
use axum::extract::Query;
use axum::http::Uri;
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestRunner};

use super::tests::flows;

fn caller() -> Caller {
    Caller {
        user_id: "u".into(),
        user_name: "U".into(),
        tenant: app::api::TenantId::parse("t1").unwrap(),
        local_mode: false,
        request_id: "r".into(),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn parse(query: &str) -> Option<CallbackQuery> {
    let uri: Uri = format!("/oauth/github/callback?{query}").parse().ok()?;
    Query::<CallbackQuery>::try_from_uri(&uri).ok().map(|q| q.0)
}

fn encode(pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// What a browser, a code host or an attacker might put in a callback's parameters.
fn hostile_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,100}",
        Just("<script>alert(1)</script>".to_string()),
        Just("access_denied".to_string()),
        Just("access_denied\u{0}".to_string()),
        "[A-Za-z0-9_-]{43}",
        (129usize..4096).prop_map(|n| "s".repeat(n)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn raw_query_strings_never_panic(q in prop_oneof![any::<String>(), "[ -~]{0,200}", "([a-z]{1,6}=[%0-9A-Za-z&=+]{0,12}&?){0,6}"]) {
        let _ = parse(&q);
    }

    #[test]
    fn encoded_parameters_arrive_as_sent(
        code in hostile_value(),
        state in hostile_value(),
        error in proptest::option::of(hostile_value()),
        extra in hostile_value(),
    ) {
        let mut pairs = vec![("code", code.as_str()), ("state", state.as_str()), ("x", extra.as_str())];
        if let Some(e) = &error {
            pairs.push(("error", e));
        }
        let q = parse(&encode(&pairs)).expect("a well-formed query parses");
        prop_assert_eq!(q.code.as_deref(), Some(code.as_str()));
        prop_assert_eq!(q.state.as_deref(), Some(state.as_str()));
        prop_assert_eq!(q.error, error);
    }
}

/// No flow was started: every state is refused, oversized and empty ones before the store is
/// asked at all.
#[test]
fn states_we_did_not_issue_are_refused() {
    let rt = runtime();
    let (f, _dir) = flows();
    let c = caller();
    let mut runner = TestRunner::new(RunnerConfig::with_cases(128));
    runner
        .run(&(hostile_value(), hostile_value()), |(state, browser)| {
            let got = rt.block_on(f.take(&c, Provider::GitHub, Some(&state), Some(&browser)));
            let want = if state.is_empty() || state.len() > 128 {
                Refused::Missing
            } else {
                Refused::Unknown
            };
            prop_assert_eq!(got.err(), Some(want));
            Ok(())
        })
        .unwrap();
}

/// A code host's (or anyone's) `error` parameter reaches the user only as a short, plain code.
#[test]
fn callback_errors_are_shown_only_as_plain_codes() {
    let rt = runtime();
    let (f, _dir) = flows();
    let c = caller();
    let mut runner = TestRunner::new(RunnerConfig::with_cases(64));
    runner
        .run(&hostile_value(), |error| {
            let finished = rt.block_on(async {
                let (url, browser) = f.start(&c, Provider::GitHub, false, false).await.unwrap();
                let state = url
                    .split("state=")
                    .nth(1)
                    .unwrap()
                    .split('&')
                    .next()
                    .unwrap()
                    .to_string();
                let q = CallbackQuery {
                    code: Some("code".into()),
                    state: Some(state),
                    error: Some(error.clone()),
                };
                f.finish(&c, Provider::GitHub, &q, Some(&browser)).await
            });
            match finished.result {
                Err(ApiError::Host(HostError::OAuthDenied)) => {
                    prop_assert_eq!(error.as_str(), "access_denied")
                }
                Err(ApiError::Host(HostError::OAuthExchange { error: shown })) => {
                    prop_assert!(shown.chars().count() <= 64);
                    prop_assert!(
                        shown
                            .chars()
                            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_'),
                        "{}",
                        shown
                    );
                }
                other => prop_assert!(false, "unexpected {:?}", other.err()),
            }
            Ok(())
        })
        .unwrap();
}
