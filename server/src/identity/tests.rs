//! Unit tests of the identity token verifier: one test per rule, each with a token that breaks it.

use super::*;
use serde_json::json;

const KEY: &[u8] = b"test-identity-key-test-identity-key";
const NOW: i64 = 1_800_000_000;

fn verifier() -> IdentityVerifier {
    IdentityVerifier::new(SecretBytes::new(KEY.to_vec()))
}

fn claims(exp: i64) -> serde_json::Value {
    json!({"sub": "u1", "tenant": "t1", "name": "Alice", "exp": exp})
}

#[test]
fn accepts_a_valid_token() {
    let c = verifier()
        .verify(&sign_hs256(KEY, &claims(NOW + 60)), NOW)
        .unwrap();
    assert_eq!((c.sub.as_str(), c.tenant.as_str()), ("u1", "t1"));
    assert_eq!(c.name.as_deref(), Some("Alice"));
}

#[test]
fn rejects_expired_and_future_tokens() {
    let v = verifier();
    assert_eq!(
        v.verify(&sign_hs256(KEY, &claims(NOW - 60)), NOW),
        Err(IdentityError::Expired)
    );
    let future = json!({"sub": "u1", "tenant": "t1", "exp": NOW + 600, "nbf": NOW + 300});
    assert_eq!(
        v.verify(&sign_hs256(KEY, &future), NOW),
        Err(IdentityError::NotYetValid)
    );
}

#[test]
fn rejects_wrong_key_and_tampering() {
    let v = verifier();
    let other = sign_hs256(b"another-key", &claims(NOW + 60));
    assert_eq!(v.verify(&other, NOW), Err(IdentityError::Signature));
    let token = sign_hs256(KEY, &claims(NOW + 60));
    let mut parts: Vec<&str> = token.split('.').collect();
    let forged = B64URL.encode(json!({"sub": "u1", "tenant": "t2", "exp": NOW + 60}).to_string());
    parts[1] = &forged;
    assert_eq!(
        v.verify(&parts.join("."), NOW),
        Err(IdentityError::Signature)
    );
}

#[test]
fn rejects_alg_none_and_garbage() {
    let v = verifier();
    let h = B64URL.encode(br#"{"alg":"none"}"#);
    let p = B64URL.encode(claims(NOW + 60).to_string());
    assert_eq!(
        v.verify(&format!("{h}.{p}."), NOW),
        Err(IdentityError::Algorithm)
    );
    assert_eq!(v.verify("a.b", NOW), Err(IdentityError::Malformed));
    assert_eq!(v.verify("", NOW), Err(IdentityError::Malformed));
}

#[test]
fn rejects_bad_tenant_ids() {
    let bad = json!({"sub": "u1", "tenant": "t1/../t2", "exp": NOW + 60});
    assert_eq!(
        verifier().verify(&sign_hs256(KEY, &bad), NOW),
        Err(IdentityError::BadClaims)
    );
    assert!(!valid_id(""));
    assert!(!valid_id("a\0b"));
    assert!(valid_id("tenant-42"));
}

const PREVIOUS: &[u8] = b"previous-identity-key-previous-key!";
const THIRD: &[u8] = b"a-third-identity-key-nobody-configured";

fn with_kid(key: &[u8], kid: &str, claims: &serde_json::Value) -> String {
    sign_with_header(
        key,
        &json!({"alg": "HS256", "typ": "JWT", "kid": kid}),
        claims,
    )
}

fn with(extra: serde_json::Value) -> serde_json::Value {
    let mut c = claims(NOW + 60);
    c.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    c
}

#[test]
fn the_key_id_is_the_documented_hash() {
    // `printf %s test-identity-key-test-identity-key | sha256sum | cut -c1-8`
    assert_eq!(key_id(KEY), "54fb8602");
}

#[test]
fn audience_is_required_when_configured() {
    let v = verifier().with_audience("code-sources");
    let ok = |c| v.verify(&sign_hs256(KEY, &c), NOW);
    assert!(ok(with(json!({"aud": "code-sources"}))).is_ok());
    assert_eq!(
        ok(with(json!({"aud": "billing"}))),
        Err(IdentityError::Audience)
    );
    assert_eq!(ok(claims(NOW + 60)), Err(IdentityError::Audience), "no aud");
    assert_eq!(ok(with(json!({"aud": null}))), Err(IdentityError::Audience));
    assert_eq!(
        ok(with(json!({"aud": "Code-Sources"}))),
        Err(IdentityError::Audience),
        "compared exactly"
    );
}

#[test]
fn audience_may_be_an_array() {
    let v = verifier().with_audience("code-sources");
    let ok = |c| v.verify(&sign_hs256(KEY, &c), NOW);
    assert!(ok(with(json!({"aud": ["billing", "code-sources"]}))).is_ok());
    assert_eq!(
        ok(with(json!({"aud": ["billing", "builds"]}))),
        Err(IdentityError::Audience)
    );
    assert_eq!(ok(with(json!({"aud": []}))), Err(IdentityError::Audience));
    // Neither a string nor strings: not a JWT we understand, configured or not.
    assert_eq!(ok(with(json!({"aud": 7}))), Err(IdentityError::Malformed));
    assert_eq!(
        verifier().verify(&sign_hs256(KEY, &with(json!({"aud": [7]}))), NOW),
        Err(IdentityError::Malformed)
    );
}

#[test]
fn unconfigured_audience_and_issuer_are_not_checked() {
    let c = with(json!({"aud": "billing", "iss": "someone"}));
    assert!(verifier().verify(&sign_hs256(KEY, &c), NOW).is_ok());
}

#[test]
fn issuer_is_required_when_configured() {
    let v = verifier().with_issuer("https://console.example.com");
    let ok = |c| v.verify(&sign_hs256(KEY, &c), NOW);
    assert!(ok(with(json!({"iss": "https://console.example.com"}))).is_ok());
    assert_eq!(
        ok(with(json!({"iss": "https://other.example.com"}))),
        Err(IdentityError::Issuer)
    );
    assert_eq!(ok(claims(NOW + 60)), Err(IdentityError::Issuer), "no iss");
}

#[test]
fn both_audience_and_issuer_must_match() {
    let v = verifier().with_audience("cs").with_issuer("console");
    let ok = |c| v.verify(&sign_hs256(KEY, &c), NOW);
    assert!(ok(with(json!({"aud": "cs", "iss": "console"}))).is_ok());
    assert_eq!(
        ok(with(json!({"aud": "cs", "iss": "other"}))),
        Err(IdentityError::Issuer)
    );
    assert_eq!(
        ok(with(json!({"aud": "other", "iss": "console"}))),
        Err(IdentityError::Audience)
    );
}

#[test]
fn the_previous_key_is_accepted_during_a_rotation() {
    let v = verifier().with_previous_key(SecretBytes::new(PREVIOUS.to_vec()));
    let c = claims(NOW + 60);
    assert!(v.verify(&sign_hs256(KEY, &c), NOW).is_ok());
    assert!(v.verify(&sign_hs256(PREVIOUS, &c), NOW).is_ok());
    assert!(v
        .verify(&with_kid(PREVIOUS, &key_id(PREVIOUS), &c), NOW)
        .is_ok());
    assert!(v.verify(&with_kid(KEY, &key_id(KEY), &c), NOW).is_ok());
    // A `kid` of the console's own naming: every key is tried.
    assert!(v.verify(&with_kid(PREVIOUS, "2024-06", &c), NOW).is_ok());
    // Without the previous key configured, its tokens are refused.
    assert_eq!(
        verifier().verify(&sign_hs256(PREVIOUS, &c), NOW),
        Err(IdentityError::Signature)
    );
}

#[test]
fn a_kid_naming_one_key_selects_only_that_key() {
    let v = verifier().with_previous_key(SecretBytes::new(PREVIOUS.to_vec()));
    let c = claims(NOW + 60);
    assert_eq!(
        v.verify(&with_kid(PREVIOUS, &key_id(KEY), &c), NOW),
        Err(IdentityError::Signature)
    );
    assert_eq!(
        v.verify(&with_kid(KEY, &key_id(PREVIOUS), &c), NOW),
        Err(IdentityError::Signature)
    );
}

#[test]
fn a_third_key_is_refused() {
    let v = verifier().with_previous_key(SecretBytes::new(PREVIOUS.to_vec()));
    let c = claims(NOW + 60);
    for token in [
        sign_hs256(THIRD, &c),
        with_kid(THIRD, &key_id(THIRD), &c),
        with_kid(THIRD, &key_id(KEY), &c),
        with_kid(THIRD, &key_id(PREVIOUS), &c),
    ] {
        assert_eq!(v.verify(&token, NOW), Err(IdentityError::Signature));
    }
}

#[test]
fn skew_within_the_leeway_is_accepted() {
    let v = verifier();
    let ok = |c| v.verify(&sign_hs256(KEY, &c), NOW);
    let edge = LEEWAY_SECS - 1;
    assert!(ok(json!({"sub": "u1", "tenant": "t1", "exp": NOW - edge})).is_ok());
    assert!(ok(with(json!({"nbf": NOW + edge}))).is_ok());
    assert!(ok(with(json!({"iat": NOW + edge}))).is_ok());
    assert!(ok(with(json!({"iat": NOW - 3600, "nbf": NOW - 3600}))).is_ok());
}

#[test]
fn skew_beyond_the_leeway_is_refused() {
    let v = verifier();
    let ok = |c| v.verify(&sign_hs256(KEY, &c), NOW);
    let past = LEEWAY_SECS + 1;
    assert_eq!(
        ok(json!({"sub": "u1", "tenant": "t1", "exp": NOW - past})),
        Err(IdentityError::Expired)
    );
    assert_eq!(
        ok(with(json!({"nbf": NOW + past}))),
        Err(IdentityError::NotYetValid)
    );
    assert_eq!(
        ok(with(json!({"iat": NOW + past}))),
        Err(IdentityError::IssuedInFuture)
    );
    assert_eq!(
        ok(with(json!({"iat": NOW + 86_400 * 365}))),
        Err(IdentityError::IssuedInFuture)
    );
}

#[test]
fn exp_is_required() {
    let c = json!({"sub": "u1", "tenant": "t1"});
    assert_eq!(
        verifier().verify(&sign_hs256(KEY, &c), NOW),
        Err(IdentityError::Malformed)
    );
}

#[test]
fn warns_about_the_unchecked_claims() {
    let w = verifier().start_up_warning().unwrap();
    assert!(w.contains("CODESOURCE_IDENTITY_AUDIENCE") && w.contains("CODESOURCE_IDENTITY_ISSUER"));
    let w = verifier().with_audience("cs").start_up_warning().unwrap();
    assert!(!w.contains("AUDIENCE") && w.contains("CODESOURCE_IDENTITY_ISSUER"));
    let w = verifier().with_issuer("c").start_up_warning().unwrap();
    assert!(w.contains("CODESOURCE_IDENTITY_AUDIENCE") && !w.contains("ISSUER"));
    assert_eq!(
        verifier()
            .with_audience("cs")
            .with_issuer("c")
            .start_up_warning(),
        None
    );
}
