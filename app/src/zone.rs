//! The time zone times are shown in: the server renders in the zone the request names
//! (`?tz=` or the `cs_tz` cookie, else UTC) and writes it into `<html data-tz>`; the browser's
//! first render reads it from there (so hydration matches), then switches to the console's or
//! its own zone and remembers its own in the cookie for the next server render.

use crate::format::{self, Zone};
use leptos::prelude::*;

/// The current time zone, shared through context.
#[derive(Clone, Copy)]
pub struct ZoneCtx(pub RwSignal<Zone>);

/// The zone times are shown in (without a provider: the browser's, else UTC).
pub fn use_zone() -> RwSignal<Zone> {
    use_context::<ZoneCtx>()
        .map(|z| z.0)
        .unwrap_or_else(|| RwSignal::new(browser_zone().unwrap_or_default()))
}

/// The zone the page starts in. The server takes `?tz=` (an embedding console passes it like
/// `?lang=`), else the `cs_tz` cookie the browser wrote on an earlier visit, else UTC (shown
/// labelled), and writes its choice into `<html data-tz>`; the browser reads it back from
/// there, so both render the same text and hydration matches.
pub(crate) fn initial_zone() -> Zone {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .map(|p| from_request(&p))
            .unwrap_or_default()
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        crate::site::document_root()
            .and_then(|e| e.get_attribute("data-tz"))
            .and_then(|n| Zone::parse(&n))
            .unwrap_or_default()
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        Zone::Utc
    }
}

/// `Asia%2FShanghai` (a console may encode the slash) → `Asia/Shanghai`.
pub(crate) fn decode_zone(v: &str) -> String {
    v.replace("%2F", "/")
        .replace("%2f", "/")
        .replace("%2B", "+")
        .replace("%2b", "+")
}

/// The browser's own zone (`Intl.DateTimeFormat().resolvedOptions().timeZone`). Browser only.
pub fn browser_zone() -> Option<Zone> {
    #[cfg(target_arch = "wasm32")]
    {
        let options =
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
                .resolved_options();
        js_sys::Reflect::get(&options, &"timeZone".into())
            .ok()?
            .as_string()
            .and_then(|n| Zone::parse(&n))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        None
    }
}

/// Writes the `cs_tz` cookie (for the next server render) unless it already holds `zone`.
fn remember_zone(base: &str, zone: &Zone) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let doc: &wasm_bindgen::JsValue = doc.as_ref();
    let current = js_sys::Reflect::get(doc, &"cookie".into())
        .ok()
        .and_then(|c| c.as_string())
        .unwrap_or_default();
    if crate::site::cookie_value(&current, format::TZ_COOKIE) == Some(zone.name()) {
        return;
    }
    let path = if base.is_empty() { "/" } else { base };
    let cookie = format!(
        "{}={}; Path={path}; Max-Age=31536000; SameSite=Lax",
        format::TZ_COOKIE,
        zone.name()
    );
    let _ = js_sys::Reflect::set(doc, &"cookie".into(), &cookie.into());
}

/// Provides the zone signal and, once hydrated, moves it to the zone the console asked for
/// (`?tz=`) or the browser's own.
pub(crate) fn provide(base: String) {
    let zone = RwSignal::new(initial_zone());
    provide_context(ZoneCtx(zone));
    Effect::new(move |_| {
        let asked = web_sys::window()
            .and_then(|w| w.location().search().ok())
            .and_then(|q| crate::site::query_param(&q, "tz").map(decode_zone))
            .and_then(|n| Zone::parse(&n));
        let browser = browser_zone();
        if let Some(z) = asked.or_else(|| browser.clone()) {
            if zone.get_untracked() != z {
                zone.set(z);
            }
        }
        if let Some(b) = browser {
            remember_zone(&base, &b);
        }
    });
}

#[cfg(feature = "ssr")]
/// The viewer's time zone: `?tz=`, else the `cs_tz` cookie, else UTC.
pub fn from_request(parts: &http::request::Parts) -> Zone {
    let asked = parts
        .uri
        .query()
        .and_then(|q| crate::site::query_param(q, "tz"))
        .map(decode_zone);
    let cookie = || crate::site::request_cookie(&parts.headers, crate::format::TZ_COOKIE);
    asked
        .and_then(|n| crate::format::Zone::parse(&n))
        .or_else(|| cookie().and_then(crate::format::Zone::parse))
        .unwrap_or_default()
}
