//! Property tests for what GitLab input we parse: the token and CA a user types, and the JSON a
//! (possibly hostile) GitLab instance answers.

use super::*;
use crate::outbound::instance::{parse_ca, parse_token, InstanceClient};
use crate::outbound::policy::OutboundPolicy;
use crate::outbound::test_support::hostile_text;
use app::api::InputError;
use proptest::prelude::*;
use std::time::Duration;

const CA: &str = include_str!("../../../../fake-hosts/tls/ca.pem");

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig::with_cases(cases)
}

fn assert_safe_link(link: &Option<String>) {
    if let Some(u) = link {
        assert!(app::api::safe_http_url(u).is_some(), "{u}");
        let lower = u.to_ascii_lowercase();
        assert!(
            lower.starts_with("https://") || lower.starts_with("http://"),
            "{u}"
        );
        assert!(!u.contains(['<', '>', '"']) && u.len() <= 2048, "{u}");
        let authority = u.split('/').nth(2).unwrap_or_default();
        assert!(!authority.contains('@'), "{u}");
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn host_json_never_panics(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = serde_json::from_slice::<User>(&body);
        let _ = serde_json::from_slice::<TokenSelf>(&body);
        let _ = serde_json::from_slice::<ErrorBody>(&body);
    }

    #[test]
    fn error_answers_never_panic_and_map_by_status(
        status in 100u16..600,
        body in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..256),
            (hostile_text(), hostile_text()).prop_map(|(e, d)| {
                serde_json::json!({"error": e, "error_description": d}).to_string().into_bytes()
            }),
        ],
        is_json in any::<bool>(),
        www in proptest::option::of(hostile_text()),
    ) {
        let a = test_answer(status, &body, is_json, 3, www.as_deref());
        let e = status_error(&a);
        match status {
            401 => prop_assert!(matches!(
                e,
                HostError::TokenExpired | HostError::TokenRevoked | HostError::TokenInvalid
            )),
            429 => prop_assert_eq!(e, HostError::RateLimited { retry_after_secs: Some(3) }),
            300..=399 => prop_assert_eq!(e, HostError::Redirected { location: None }),
            404 | 405 => prop_assert_eq!(e, HostError::UnexpectedAnswer),
            // The host's scope list is never echoed from an error body.
            403 => {
                let echoed = matches!(e, HostError::InsufficientScope { ref scopes } if !scopes.is_empty());
                prop_assert!(!echoed, "{:?}", e);
            }
            _ => {}
        }
    }

    #[test]
    fn accounts_keep_bounded_text_and_only_safe_links(
        username in hostile_text(),
        name in proptest::option::of(hostile_text()),
        avatar_url in proptest::option::of(hostile_text()),
        web_url in proptest::option::of(hostile_text()),
    ) {
        let body = serde_json::json!({
            "username": username, "name": name, "avatar_url": avatar_url, "web_url": web_url,
        });
        let user: User = serde_json::from_slice(body.to_string().as_bytes()).unwrap();
        let a = user.into_account();
        prop_assert!(a.login.chars().count() <= 255);
        prop_assert!(username.starts_with(&a.login));
        prop_assert!(a.name.as_ref().is_none_or(|n| n.chars().count() <= 255));
        prop_assert_eq!(a.name.is_some(), name.is_some());
        assert_safe_link(&a.avatar_url);
        assert_safe_link(&a.web_url);
        // Plain links are kept as they came.
        if let Some(u) = web_url.filter(|u| app::api::safe_http_url(u).is_some()) {
            prop_assert_eq!(a.web_url, Some(u));
        }
    }

    #[test]
    fn only_dates_pass_as_expiry(s in prop_oneof!["[0-9-]{10}", "\\d{4}-\\d{2}-\\d{2}", any::<String>()]) {
        if is_date(&s) {
            prop_assert_eq!(s.len(), 10);
            prop_assert!(s.bytes().all(|b| b.is_ascii_digit() || b == b'-'));
        }
    }

    #[test]
    fn tokens_are_bounded_printable_ascii(raw in prop_oneof![any::<String>(), "[ -~]{0,600}"]) {
        match parse_token(&raw) {
            Ok(t) => {
                let t = t.expose();
                prop_assert!(!t.is_empty() && t.len() <= app::api::limits::TOKEN_MAX);
                prop_assert!(t.bytes().all(|b| b.is_ascii_graphic()));
                prop_assert_eq!(t, raw.trim());
            }
            Err(e) => prop_assert!(matches!(e, InputError::TokenEmpty | InputError::TokenMalformed)),
        }
    }
}

/// PEM-shaped input: the real CA, the real CA with its body damaged, and made-up bodies.
fn pem_like() -> impl Strategy<Value = String> {
    let body_len = CA.len();
    prop_oneof![
        any::<String>(),
        "[ -~\n]{0,200}".prop_map(|s| format!("-----BEGIN CERTIFICATE-----{s}")),
        "[A-Za-z0-9+/=\n]{0,400}".prop_map(|b| {
            format!("-----BEGIN CERTIFICATE-----\n{b}\n-----END CERTIFICATE-----\n")
        }),
        (0..body_len, any::<u8>()).prop_map(|(i, b)| {
            let mut bytes = CA.as_bytes().to_vec();
            bytes[i] = b'!' + b % 90;
            String::from_utf8(bytes).unwrap()
        }),
        (0..body_len).prop_map(|cut| CA[..cut].to_string()),
        "[ \t\n]{0,3}".prop_map(|ws| format!("{ws}{CA}{ws}")),
    ]
}

proptest! {
    // Each case builds an HTTP client (loading the web PKI roots): fewer cases.
    #![proptest_config(config(64))]

    /// What `parse_ca` accepts, the client takes: a bad CA is the user's input error, never an
    /// internal error when the client is built.
    #[test]
    fn accepted_cas_build_a_client(pem in pem_like()) {
        match parse_ca(Some(&pem)) {
            Ok(ca) => {
                let policy = OutboundPolicy::public_only(false);
                let built = InstanceClient::new(&policy, Duration::from_secs(1), ca);
                prop_assert!(built.is_ok(), "parse_ca accepted what the client refuses: {pem:?}");
            }
            Err(e) => prop_assert_eq!(e, InputError::CaInvalid),
        }
    }
}

#[test]
fn oversized_cas_are_refused() {
    let big = format!("{CA}{}", " x".repeat(app::api::limits::CA_PEM_MAX));
    assert_eq!(parse_ca(Some(&big)).unwrap_err(), InputError::CaInvalid);
    assert!(!parse_ca(Some(&format!("\n{CA}\n"))).unwrap().is_empty());
}
