//! Small presentation helpers that must give the same output on the server and in the browser
//! (so hydration matches): time formatting. (Screening URLs from code hosts is the API's:
//! `api::safe_http_url`.)
//!
//! Times are shown in the viewer's time zone, an IANA name (`Asia/Shanghai`). Only the UTC
//! offset of that zone at a given instant differs between the sides: the server looks it up in
//! `chrono-tz` (ssr only), the browser asks `Intl.DateTimeFormat`; the digits are then formatted
//! by the same code here, so both render the same text for the same zone.

/// Formats Unix seconds as `YYYY-MM-DD HH:MM UTC`: the absolute time (titles, and the visible
/// text while the viewer's zone is not known).
pub fn format_utc(secs: i64) -> String {
    format!("{} UTC", format_plain(secs))
}

/// `YYYY-MM-DD HH:MM` of Unix seconds, without a zone (the caller has added the offset).
fn format_plain(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// The `datetime` attribute: `2026-11-28T14:11:00Z`.
pub fn iso_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Name of the cookie in which the browser remembers its IANA time zone for the next server
/// render. Set by script (not HttpOnly): it holds nothing personal.
pub const TZ_COOKIE: &str = "cs_tz";

/// The zone times are shown in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Zone {
    /// Not known yet (first visit, no cookie): absolute times, labelled `UTC`.
    #[default]
    Utc,
    /// A valid IANA zone name.
    Named(String),
}

impl Zone {
    /// A zone by IANA name, if this side knows it (`UTC`/`Etc/UTC` become [`Zone::Utc`]'s
    /// labelled form as well: the same text as no zone at all).
    pub fn parse(name: &str) -> Option<Zone> {
        if !plausible_zone_name(name) {
            return None;
        }
        if matches!(
            name,
            "UTC" | "Etc/UTC" | "Etc/Universal" | "Universal" | "Zulu" | "Etc/Zulu"
        ) {
            return Some(Zone::Utc);
        }
        zone_offset(name, 0).map(|_| Zone::Named(name.to_string()))
    }

    /// The name for `<html data-tz>`, the cookie and the URL.
    pub fn name(&self) -> &str {
        match self {
            Zone::Utc => "UTC",
            Zone::Named(n) => n,
        }
    }

    /// The visible text of `secs` in this zone: `2026-11-28 22:11`, or `2026-11-28 14:11 UTC`.
    pub fn format(&self, secs: i64) -> String {
        match self {
            Zone::Named(n) => match zone_offset(n, secs) {
                Some(off) => format_plain(secs + i64::from(off)),
                None => format_utc(secs),
            },
            Zone::Utc => format_utc(secs),
        }
    }

    /// The title of a time: the absolute UTC time, then the zone shown and its offset then
    /// (`2026-11-28 14:11 UTC · Asia/Shanghai UTC+8`).
    pub fn title(&self, secs: i64) -> String {
        match self {
            Zone::Named(n) => match zone_offset(n, secs) {
                Some(off) => format!("{} · {n} {}", format_utc(secs), offset_label(off)),
                None => format_utc(secs),
            },
            Zone::Utc => format_utc(secs),
        }
    }
}

/// `UTC+8`, `UTC+5:30`, `UTC-3`, `UTC`.
pub fn offset_label(offset_secs: i32) -> String {
    if offset_secs == 0 {
        return "UTC".into();
    }
    let sign = if offset_secs < 0 { '-' } else { '+' };
    let abs = offset_secs.unsigned_abs();
    let (h, m) = (abs / 3600, (abs % 3600) / 60);
    if m == 0 {
        format!("UTC{sign}{h}")
    } else {
        format!("UTC{sign}{h}:{m:02}")
    }
}

/// IANA names are short ASCII paths (`America/Argentina/Buenos_Aires`, `Etc/GMT+5`): anything
/// else (from a cookie or a URL) is not even looked up.
fn plausible_zone_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'+'))
}

/// The offset from UTC, in seconds, of zone `name` at Unix time `secs`; `None` for an unknown
/// zone. Server: the `chrono-tz` database.
#[cfg(feature = "ssr")]
pub fn zone_offset(name: &str, secs: i64) -> Option<i32> {
    use chrono::{Offset, TimeZone};
    let tz: chrono_tz::Tz = name.parse().ok()?;
    let utc = chrono::DateTime::from_timestamp(secs, 0)?.naive_utc();
    Some(tz.offset_from_utc_datetime(&utc).fix().local_minus_utc())
}

/// Browser: `Intl.DateTimeFormat` in that zone gives the local wall-clock time; its distance
/// from the UTC time is the offset.
#[cfg(all(target_arch = "wasm32", not(feature = "ssr")))]
pub fn zone_offset(name: &str, secs: i64) -> Option<i32> {
    use js_sys::{Array, Intl, Object, Reflect};
    use wasm_bindgen::JsValue;
    let options = Object::new();
    for (k, v) in [
        ("timeZone", name),
        ("hourCycle", "h23"),
        ("year", "numeric"),
        ("month", "numeric"),
        ("day", "numeric"),
        ("hour", "numeric"),
        ("minute", "numeric"),
        ("second", "numeric"),
    ] {
        Reflect::set(&options, &k.into(), &v.into()).ok()?;
    }
    // An unknown zone throws a RangeError; catch it rather than unwind.
    let intl = Reflect::get(&js_sys::global(), &"Intl".into()).ok()?;
    let ctor: js_sys::Function =
        wasm_bindgen::JsCast::dyn_into(Reflect::get(&intl, &"DateTimeFormat".into()).ok()?).ok()?;
    let format =
        Reflect::construct(&ctor, &Array::of2(&JsValue::from_str("en-US"), &options)).ok()?;
    let format: Intl::DateTimeFormat = wasm_bindgen::JsCast::unchecked_into(format);
    let date = js_sys::Date::new(&JsValue::from_f64(secs as f64 * 1000.0));
    let parts = format.format_to_parts(&date);
    let (mut y, mut mo, mut d, mut h, mut mi, mut s) = (None, None, None, None, None, None);
    for part in parts.iter() {
        let kind = Reflect::get(&part, &"type".into()).ok()?.as_string()?;
        let value = Reflect::get(&part, &"value".into()).ok()?.as_string()?;
        let n = value.parse::<i64>().ok();
        match kind.as_str() {
            "year" => y = n,
            "month" => mo = n,
            "day" => d = n,
            "hour" => h = n.map(|h| h % 24),
            "minute" => mi = n,
            "second" => s = n,
            _ => {}
        }
    }
    let days = days_from_date(&format!("{}-{}-{}", y?, mo?, d?))?;
    let local = days * 86_400 + h? * 3600 + mi? * 60 + s?;
    i32::try_from(local - secs).ok()
}

/// Neither side (native unit tests of the browser build): no database, so no named zones.
#[cfg(not(any(feature = "ssr", target_arch = "wasm32")))]
pub fn zone_offset(name: &str, _secs: i64) -> Option<i32> {
    matches!(name, "UTC" | "Etc/UTC").then_some(0)
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
    fn formats_iso_and_offsets() {
        assert_eq!(iso_utc(1_795_875_060), "2026-11-28T14:11:00Z");
        assert_eq!(offset_label(8 * 3600), "UTC+8");
        assert_eq!(offset_label(19_800), "UTC+5:30");
        assert_eq!(offset_label(-3 * 3600), "UTC-3");
        assert_eq!(offset_label(0), "UTC");
        assert_eq!(Zone::Utc.format(1_795_875_060), "2026-11-28 14:11 UTC");
        assert_eq!(Zone::Utc.title(1_795_875_060), "2026-11-28 14:11 UTC");
        assert_eq!(Zone::parse("UTC"), Some(Zone::Utc));
        assert_eq!(Zone::parse("../etc/passwd"), None);
        assert_eq!(Zone::parse("Asia/Shanghai; x"), None);
        assert_eq!(Zone::parse(""), None);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn formats_in_named_zones() {
        let shanghai = Zone::parse("Asia/Shanghai").unwrap();
        assert_eq!(shanghai.format(1_795_875_060), "2026-11-28 22:11");
        assert_eq!(
            shanghai.title(1_795_875_060),
            "2026-11-28 14:11 UTC · Asia/Shanghai UTC+8"
        );
        // DST: the offset is the one in force at that instant, not today's.
        let berlin = Zone::parse("Europe/Berlin").unwrap();
        assert_eq!(berlin.format(1_782_820_800), "2026-06-30 14:00");
        assert_eq!(berlin.format(1_795_875_060), "2026-11-28 15:11");
        assert_eq!(Zone::parse("Asia/Nowhere"), None);
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
}
