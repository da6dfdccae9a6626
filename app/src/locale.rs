//! The viewer's language: the two the page speaks, their tags, and how a request picks one
//! (the `?lang=` of an embedding console, the remembered cookie, `Accept-Language`). Below the
//! translations and the API, which both name it.

#[cfg(feature = "ssr")]
use leptos::prelude::use_context;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Locale {
    #[default]
    Zh,
    En,
}

/// Name of the cookie that remembers the chosen language.
pub const LOCALE_COOKIE: &str = "cs_lang";

impl Locale {
    /// BCP 47 tag, as used in `<html lang>` and the cookie.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::Zh => "zh-CN",
            Locale::En => "en",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Locale> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "zh" => Some(Locale::Zh),
            "en" => Some(Locale::En),
            _ => None,
        }
    }

    /// Picks a locale: the remembered cookie first, then the best `Accept-Language` match
    /// (by q-value), then Chinese, the console's home language.
    pub fn negotiate(cookie: Option<&str>, accept_language: Option<&str>) -> Locale {
        if let Some(l) = cookie.and_then(Locale::from_tag) {
            return l;
        }
        let mut best: Option<(f32, Locale)> = None;
        for part in accept_language.unwrap_or("").split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("");
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(l) = Locale::from_tag(tag) {
                if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, l));
                }
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }
}

/// The language the page starts in. The server negotiates it (`?lang=` from an embedding
/// console, the remembered choice, then `Accept-Language`) and writes it into `<html lang>`;
/// the browser reads it back from there, so both render the same text and hydration matches.
pub(crate) fn initial_locale() -> Locale {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .map(|p| from_request(&p))
            .unwrap_or_default()
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        crate::site::document_root()
            .and_then(|e| e.get_attribute("lang"))
            .and_then(|l| Locale::from_tag(&l))
            .unwrap_or_default()
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        Locale::default()
    }
}

/// The language a server render uses: `?lang=` (an embedding console), the remembered
/// choice, then `Accept-Language`.
#[cfg(feature = "ssr")]
pub fn from_request(parts: &http::request::Parts) -> Locale {
    if let Some(l) = parts
        .uri
        .query()
        .and_then(|q| crate::site::query_param(q, "lang"))
        .and_then(Locale::from_tag)
    {
        return l;
    }
    from_headers(&parts.headers)
}

/// The language a request's headers ask for: the remembered choice, then `Accept-Language`
/// (the server's plain pages, which take no `?lang=`, use this alone).
#[cfg(feature = "ssr")]
pub fn from_headers(headers: &http::HeaderMap) -> Locale {
    let cookie = crate::site::request_cookie(headers, LOCALE_COOKIE);
    let accept = headers
        .get(http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    Locale::negotiate(cookie, accept)
}
