//! Property tests for the identity token verifier: whatever arrives in `Authorization` or the
//! cookie, only an unaltered HS256 token signed with our key, in date, with clean ids (and the
//! configured audience) passes.

use super::*;
use proptest::prelude::*;
use serde_json::json;

const KEY: &[u8] = b"test-identity-key-test-identity-key";
const NOW: i64 = 1_800_000_000;

fn verifier() -> IdentityVerifier {
    IdentityVerifier::new(SecretBytes::new(KEY.to_vec()))
}

/// Ids the verifier accepts.
fn id() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._@:-]{1,128}"
}

/// A valid token's claims.
fn claims() -> impl Strategy<Value = serde_json::Value> {
    (
        id(),
        id(),
        proptest::option::of(any::<String>()),
        1i64..100_000,
    )
        .prop_map(|(sub, tenant, name, ttl)| {
            json!({"sub": sub, "tenant": tenant, "name": name, "exp": NOW + ttl})
        })
}

/// Base64url of arbitrary bytes (a token part that decodes, to anything).
fn part() -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<u8>(), 0..96).prop_map(|b| B64URL.encode(b))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn garbage_never_panics_and_is_refused(token in prop_oneof![
        any::<String>(),
        "[A-Za-z0-9_.=+/-]{0,200}",
        (part(), part(), part()).prop_map(|(h, p, s)| format!("{h}.{p}.{s}")),
        (claims(), part()).prop_map(|(c, s)| {
            let h = B64URL.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
            format!("{h}.{}.{s}", B64URL.encode(c.to_string()))
        }),
    ]) {
        prop_assert!(verifier().verify(&token, NOW).is_err());
    }

    #[test]
    fn valid_tokens_round_trip(c in claims()) {
        let got = verifier().verify(&sign_hs256(KEY, &c), NOW).unwrap();
        prop_assert_eq!(got.sub.as_str(), c["sub"].as_str().unwrap());
        prop_assert_eq!(got.tenant.as_str(), c["tenant"].as_str().unwrap());
        prop_assert_eq!(got.name.as_deref(), c["name"].as_str());
    }

    /// Any single character changed, anywhere: refused.
    #[test]
    fn any_altered_character_is_refused(
        c in claims(),
        at in any::<prop::sample::Index>(),
        with in prop_oneof![proptest::char::range('!', '~'), any::<char>()],
    ) {
        let token = sign_hs256(KEY, &c);
        let i = at.index(token.len());
        let original = token.as_bytes()[i] as char;
        prop_assume!(with != original);
        let mut altered = token.clone();
        altered.replace_range(i..=i, with.encode_utf8(&mut [0; 4]));
        prop_assert!(verifier().verify(&altered, NOW).is_err(), "{} accepted", altered);
    }

    #[test]
    fn other_keys_are_refused(c in claims(), key in proptest::collection::vec(any::<u8>(), 0..64)) {
        prop_assume!(key != KEY);
        prop_assert_eq!(
            verifier().verify(&sign_hs256(&key, &c), NOW),
            Err(IdentityError::Signature)
        );
    }

    /// Signed by us but with hostile ids (separators, paths, markup, empty, huge): the ids
    /// become storage keys, so only clean ones pass.
    #[test]
    fn only_clean_ids_pass(sub in any::<String>(), tenant in prop_oneof![any::<String>(), id(), "[ -~]{0,200}"]) {
        let c = json!({"sub": sub, "tenant": tenant, "exp": NOW + 60});
        match verifier().verify(&sign_hs256(KEY, &c), NOW) {
            Ok(got) => {
                prop_assert!(valid_id(&got.tenant) && valid_id(&got.sub));
                prop_assert_eq!(got.tenant, tenant);
            }
            Err(e) => {
                prop_assert_eq!(e, IdentityError::BadClaims);
                prop_assert!(!valid_id(&sub) || !valid_id(&tenant));
            }
        }
    }

    /// Only HS256: any other `alg` (however the token is signed) is refused.
    #[test]
    fn other_algorithms_are_refused(alg in any::<String>(), c in claims()) {
        prop_assume!(alg != "HS256");
        let h = B64URL.encode(json!({"alg": alg, "typ": "JWT"}).to_string());
        let p = B64URL.encode(c.to_string());
        let mut mac = Hmac::<Sha256>::new_from_slice(KEY).unwrap();
        mac.update(format!("{h}.{p}").as_bytes());
        let s = B64URL.encode(mac.finalize().into_bytes());
        prop_assert_eq!(
            verifier().verify(&format!("{h}.{p}.{s}"), NOW),
            Err(IdentityError::Algorithm)
        );
    }

    /// With an audience configured, a token passes exactly when its `aud` (a string or an
    /// array) names it.
    #[test]
    fn only_our_audience_passes(
        c in claims(),
        auds in proptest::collection::vec(any::<String>(), 0..4),
        ours_at in proptest::option::of(any::<prop::sample::Index>()),
        as_string in any::<bool>(),
    ) {
        const OURS: &str = "code-sources";
        let mut auds = auds;
        if let Some(at) = ours_at {
            auds.insert(at.index(auds.len() + 1), OURS.to_string());
        }
        let named = auds.iter().any(|a| a == OURS);
        let aud = match (as_string, auds.as_slice()) {
            (true, [one]) => json!(one),
            _ => json!(auds),
        };
        let mut c = c;
        c["aud"] = aud;
        let got = verifier().with_audience(OURS).verify(&sign_hs256(KEY, &c), NOW);
        if named {
            prop_assert!(got.is_ok(), "{:?}", got);
        } else {
            prop_assert_eq!(got, Err(IdentityError::Audience));
        }
    }

    #[test]
    fn expired_tokens_are_refused(c in claims(), late in LEEWAY_SECS..1_000_000) {
        let token = sign_hs256(KEY, &c);
        let exp = c["exp"].as_i64().unwrap();
        prop_assert_eq!(verifier().verify(&token, exp + late), Err(IdentityError::Expired));
    }
}

#[test]
fn oversized_tokens_are_refused_before_decoding() {
    let name = "n".repeat(MAX_TOKEN_LEN);
    let token = sign_hs256(
        KEY,
        &json!({"sub": "u", "tenant": "t", "name": name, "exp": NOW + 60}),
    );
    assert!(token.len() > MAX_TOKEN_LEN);
    assert_eq!(
        verifier().verify(&token, NOW),
        Err(IdentityError::Malformed)
    );
}
