//! The signatures the hosts put on deliveries: HMAC-SHA256 of the body (GitHub
//! `X-Hub-Signature-256`, Bitbucket `X-Hub-Signature`, Gitea/Forgejo `X-Gitea-Signature`) and
//! Gitee's signing-key mode, whose HMAC covers a timestamp and the secret, not the body.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

fn hmac(secret: &str, data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Lower-case hex of HMAC-SHA256(secret, body).
pub(crate) fn hmac_hex(secret: &str, body: &[u8]) -> String {
    hmac(secret, body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Gitee's `X-Gitee-Token` in signing-key mode: base64(HMAC-SHA256(secret, "{timestamp}\n{secret}")).
pub(crate) fn gitee_sign(secret: &str, timestamp_ms: u64) -> String {
    let raw = hmac(secret, format!("{timestamp_ms}\n{secret}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GitHub's documented test vector ("Validating webhook deliveries").
    #[test]
    fn github_test_vector() {
        assert_eq!(
            format!(
                "sha256={}",
                hmac_hex("It's a Secret to Everybody", b"Hello, World!")
            ),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }

    /// RFC 4231 test case 2 (key "Jefe"), so a swapped key and message would fail.
    #[test]
    fn rfc4231_case_2() {
        assert_eq!(
            hmac_hex("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    /// Gitee signs "{timestamp}\n{secret}"; the expected value is the same HMAC computed over
    /// those exact bytes, base64 with padding.
    #[test]
    fn gitee_signs_timestamp_and_secret() {
        let expected = base64::engine::general_purpose::STANDARD
            .encode(hmac("s3cret", b"1700000000000\ns3cret"));
        assert_eq!(gitee_sign("s3cret", 1_700_000_000_000), expected);
        assert_ne!(gitee_sign("s3cret", 1_700_000_000_001), expected);
        assert!(expected.ends_with('='), "44 base64 characters: {expected}");
    }
}
