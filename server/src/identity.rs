//! The console's identity: an HS256 JWT from `Authorization: Bearer` or the `console_identity`
//! cookie, with claims `sub`, `tenant`, `name`, `exp`. Verified here with a constant-time HMAC
//! check; only HS256 is accepted (no `none`, no algorithm switching).

use crate::secret::SecretBytes;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

pub const IDENTITY_COOKIE: &str = "console_identity";
/// Clock skew tolerated between the console and us.
const LEEWAY_SECS: i64 = 30;
const MAX_TOKEN_LEN: usize = 8 * 1024;

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub tenant: String,
    #[serde(default)]
    pub name: Option<String>,
    pub exp: i64,
    #[serde(default)]
    pub nbf: Option<i64>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("no identity token")]
    Missing,
    #[error("identity token is malformed")]
    Malformed,
    #[error("identity token uses an unsupported algorithm")]
    Algorithm,
    #[error("identity token signature is invalid")]
    Signature,
    #[error("identity token has expired")]
    Expired,
    #[error("identity token is not valid yet")]
    NotYetValid,
    #[error("identity token has an invalid subject or tenant")]
    BadClaims,
}

pub struct IdentityVerifier {
    key: SecretBytes,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

impl IdentityVerifier {
    pub fn new(key: SecretBytes) -> Self {
        IdentityVerifier { key }
    }

    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, IdentityError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(IdentityError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(IdentityError::Malformed);
        };
        let header: Header = decode_json(h)?;
        if header.alg != "HS256" {
            return Err(IdentityError::Algorithm);
        }
        let sig = B64URL.decode(s).map_err(|_| IdentityError::Malformed)?;
        let mut mac = Hmac::<Sha256>::new_from_slice(self.key.expose())
            .map_err(|_| IdentityError::Signature)?;
        mac.update(h.as_bytes());
        mac.update(b".");
        mac.update(p.as_bytes());
        mac.verify_slice(&sig)
            .map_err(|_| IdentityError::Signature)?;

        let claims: Claims = decode_json(p)?;
        if claims.exp + LEEWAY_SECS <= now {
            return Err(IdentityError::Expired);
        }
        if claims.nbf.is_some_and(|nbf| nbf - LEEWAY_SECS > now) {
            return Err(IdentityError::NotYetValid);
        }
        if !valid_id(&claims.tenant) || !valid_id(&claims.sub) {
            return Err(IdentityError::BadClaims);
        }
        Ok(claims)
    }
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, IdentityError> {
    let bytes = B64URL.decode(part).map_err(|_| IdentityError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| IdentityError::Malformed)
}

/// Tenant and user ids become storage keys: keep them short and free of separators.
pub fn valid_id(id: &str) -> bool {
    // One rule for tenant ids everywhere (`TenantId`), and the same for user ids.
    app::api::TenantId::parse(id).is_some()
}

/// Signs claims: used by tests and by the README's helper for local experiments.
pub fn sign_hs256(key: &[u8], claims: &serde_json::Value) -> String {
    let h = B64URL.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let p = B64URL.encode(claims.to_string());
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(format!("{h}.{p}").as_bytes());
    let s = B64URL.encode(mac.finalize().into_bytes());
    format!("{h}.{p}.{s}")
}

#[cfg(test)]
mod tests {
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
        let forged =
            B64URL.encode(json!({"sub": "u1", "tenant": "t2", "exp": NOW + 60}).to_string());
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
}

#[cfg(test)]
mod proptests;
