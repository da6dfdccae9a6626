//! Small helpers shared across the server.

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn now_secs() -> i64 {
    now_millis().div_euclid(1000)
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub fn now_millis() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    now + skew_ms()
}

#[cfg(test)]
tokio::task_local! {
    /// How far this task's clock is off, in milliseconds: tests run a "replica" with a wrong
    /// clock inside `CLOCK_SKEW_MS.scope(..)` (see `store::conformance::clock_skew`).
    pub static CLOCK_SKEW_MS: i64;
}

#[cfg(test)]
fn skew_ms() -> i64 {
    CLOCK_SKEW_MS.try_with(|s| *s).unwrap_or(0)
}

#[cfg(not(test))]
fn skew_ms() -> i64 {
    0
}

/// An error with its whole cause chain, `outer: inner: …` (for logs).
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut src = err.source();
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of lower- or upper-case hex (what [`hex`] wrote); `None` when it is not hex.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}

/// Encodes a value for a URL query string.
pub fn query_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes() {
        assert_eq!(hex(&[0, 255, 16]), "00ff10");
        assert_eq!(query_encode("a b/{\"x\"}"), "a+b%2F%7B%22x%22%7D");
        assert!(now_secs() > 1_700_000_000);
    }
}
