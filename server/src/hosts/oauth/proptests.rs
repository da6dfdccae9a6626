//! Property tests for the JSON GitHub and Gitee answer (possibly a hostile GitHub Enterprise
//! Server or a stand-in): account lookups, token responses and error bodies.

use super::token_call::{clip_code, ErrorBody};
use super::*;
use crate::outbound::test_support::hostile_text;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn host_json_never_panics(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = github_style_user(&body);
        let _ = serde_json::from_slice::<ErrorBody>(&body);
        let _ = serde_json::from_slice::<oauth2::basic::BasicTokenResponse>(&body);
    }

    #[test]
    fn accounts_keep_bounded_text_and_only_safe_links(
        login in hostile_text(),
        name in proptest::option::of(hostile_text()),
        avatar_url in proptest::option::of(hostile_text()),
        html_url in proptest::option::of(hostile_text()),
    ) {
        let body = serde_json::json!({
            "login": login, "name": name, "avatar_url": avatar_url, "html_url": html_url,
            "id": 1, "type": "User",
        });
        let a = github_style_user(body.to_string().as_bytes()).unwrap();
        prop_assert!(a.login.chars().count() <= 255);
        prop_assert!(login.starts_with(&a.login));
        prop_assert!(a.name.as_ref().is_none_or(|n| n.chars().count() <= 255));
        for link in [&a.avatar_url, &a.web_url].into_iter().flatten() {
            prop_assert!(app::api::safe_http_url(link).is_some(), "{}", link);
            let lower = link.to_ascii_lowercase();
            prop_assert!(lower.starts_with("https://") || lower.starts_with("http://"), "{}", link);
            prop_assert!(!link.contains(['<', '>', '"', ' ']) && link.len() <= 2048, "{}", link);
        }
        if let Some(u) = html_url.filter(|u| app::api::safe_http_url(u).is_some()) {
            prop_assert_eq!(a.web_url, Some(u));
        }
    }

    /// Error codes from a host are shown to the user: short and plain, whatever came.
    #[test]
    fn error_codes_are_clipped_to_plain_words(error in hostile_text()) {
        let body = serde_json::json!({"error": error, "error_description": error}).to_string();
        let parsed: ErrorBody = serde_json::from_str(&body).unwrap();
        let code = clip_code(&parsed.error);
        prop_assert!(code.chars().count() <= 64);
        prop_assert!(code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{}", code);
        // Plain codes pass unchanged.
        if error.len() <= 64 && error.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            prop_assert_eq!(code, error);
        }
    }

    #[test]
    fn token_responses_with_hostile_fields_never_panic(
        access in hostile_text(),
        kind in hostile_text(),
        expires in any::<i64>(),
        scope in hostile_text(),
    ) {
        let body = serde_json::json!({
            "access_token": access, "token_type": kind, "expires_in": expires, "scope": scope,
        });
        let _ = serde_json::from_slice::<oauth2::basic::BasicTokenResponse>(body.to_string().as_bytes());
    }
}
