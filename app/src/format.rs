//! Small presentation helpers that must give the same output on the server and in the browser
//! (so hydration matches): time formatting without a timezone database, URL screening.

/// Formats Unix seconds as `YYYY-MM-DD HH:MM UTC`. UTC on purpose: server and browser render the
/// same text, so hydration never has to patch it.
pub fn format_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (Hinnant's days-from-civil).
pub fn days_from_date(date: &str) -> Option<i64> {
    let mut it = date.split('-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let d: i64 = it.next()?.parse().ok()?;
    if it.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Returns the URL only if it is an absolute `http:` or `https:` URL without credentials or
/// control characters. Code hosts are untrusted: a `javascript:` avatar must never reach `src`/`href`.
pub fn safe_http_url(url: &str) -> Option<&str> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else {
        return None;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let ok = !authority.is_empty()
        && !authority.contains('@')
        && url.len() <= 2048
        && !url
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '"' || c == '<' || c == '>');
    ok.then_some(url)
}

/// Whether an address typed into the GitLab dialog points at gitlab.com (no whitelist needed).
/// A loose, display-only check; the server parses addresses for real.
pub fn is_gitlab_com(address: &str) -> bool {
    let a = address.trim().to_ascii_lowercase();
    let a = a
        .strip_prefix("https://")
        .or_else(|| a.strip_prefix("http://"))
        .unwrap_or(&a);
    let host = a.split(['/', ':']).next().unwrap_or("");
    host == "gitlab.com" || host == "www.gitlab.com"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc(1_767_225_600 + 3_723), "2026-01-01 01:02 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00 UTC");
    }

    #[test]
    fn dates_to_days_and_back() {
        assert_eq!(days_from_date("1970-01-01"), Some(0));
        assert_eq!(days_from_date("2000-03-01"), Some(11_017));
        let d = days_from_date("2027-06-30").unwrap();
        assert!(format_utc(d * 86_400).starts_with("2027-06-30"));
        assert_eq!(days_from_date("2027-13-01"), None);
        assert_eq!(days_from_date("soon"), None);
    }

    #[test]
    fn screens_urls() {
        assert!(safe_http_url("https://gitlab.com/uploads/a.png").is_some());
        assert!(safe_http_url("HTTP://10.0.0.5:8080/a").is_some());
        assert!(safe_http_url("javascript:alert(1)").is_none());
        assert!(safe_http_url("data:image/png;base64,xx").is_none());
        assert!(safe_http_url("https://user:pw@evil/").is_none());
        assert!(safe_http_url("https://a/\" onerror=x").is_none());
        assert!(safe_http_url("//evil.example/x").is_none());
        assert!(safe_http_url("https:///x").is_none());
    }

    #[test]
    fn recognises_gitlab_com() {
        assert!(is_gitlab_com("https://gitlab.com"));
        assert!(is_gitlab_com("gitlab.com/"));
        assert!(!is_gitlab_com("https://gitlab.example.com"));
        assert!(!is_gitlab_com("10.0.0.5"));
        assert!(!is_gitlab_com("gitlab.com.evil.example"));
    }
}
