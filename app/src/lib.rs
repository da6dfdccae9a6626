//! Code Source Binding UI: the "Code source configuration" page of the container-build console.
//!
//! - `api`: wire types, the wire error and the server-function declarations (the API contract);
//! - `i18n`: zh-CN / English translations; `format`: rendering helpers shared by SSR and hydrate;
//! - `pages` and `components`: the table and its dialogs.
//!
//! Built twice: with `ssr` into the server (server functions run there, through a service trait
//! object the server provides), and with `hydrate` into the wasm bundle.
#![recursion_limit = "256"]

pub mod api;
pub mod assets;
mod components;
pub mod embed;
pub mod format;
pub mod i18n;
pub mod locale;
mod page_state;
mod pages;
pub mod site;
#[cfg(feature = "csr")]
pub mod widget;
pub mod zone;

use i18n::{Locale, Msg};
use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use site::use_site;

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let locale = initial_locale();
    let site = use_site();
    #[cfg(feature = "ssr")]
    ssr::page_security();
    // On <html> too (the app's root carries it as well): the page background and scrollbars.
    let theme = initial_theme().attr();
    // The zone the times are rendered in; the browser reads it back for its first render.
    let zone = zone::initial_zone();
    // Hashed URLs from the server (it serves the files from memory); plain ones otherwise.
    let urls = use_context::<assets::AssetUrls>().unwrap_or_else(|| {
        assets::AssetUrls::plain(&site.base, &options.site_pkg_dir, &options.output_name)
    });
    view! {
        <!DOCTYPE html>
        <html class="cs-document" lang=locale.tag() data-theme=theme data-tz=zone.name().to_string()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                // The browser side reads the prefix back from here (server functions, assets).
                <meta name="codesource-base" content=site.base.clone() />
                <meta name="codesource-embed-origins" content=site.embed_origins.join(" ") />
                <assets::PageAssets urls />
                <MetaTags />
            </head>
            <body class="cs-page">
                <App />
            </body>
        </html>
    }
}

/// The current UI language, shared through context.
#[derive(Clone, Copy)]
pub struct I18n(pub RwSignal<Locale>);

pub fn use_locale() -> RwSignal<Locale> {
    expect_context::<I18n>().0
}

/// A reactive translation of `msg`.
pub fn t(msg: Msg) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let locale = use_locale();
    move || msg.text(locale.get())
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let locale = RwSignal::new(initial_locale());
    provide_context(I18n(locale));
    let theme = RwSignal::new(initial_theme());
    provide_context(embed::ThemeCtx(theme));
    // Times: first in the zone the server rendered, then the console's or the browser's.
    zone::provide(use_site().base);
    // A theme set later (by the embedding console) reaches <html> as well.
    Effect::new(move |_| {
        let t = theme.get();
        if let Some(html) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = match t.attr() {
                Some(v) => html.set_attribute("data-theme", v),
                None => html.remove_attribute("data-theme"),
            };
        }
    });

    let site = use_site();
    // One page, so no client-side router (leptos_router was 43 KB of the 374 KB brotli
    // bundle): the server routes, and the browser hydrates the page the server chose.
    let page = match pages::Page::current(&site.base) {
        pages::Page::CodeSources => Either::Left(view! { <pages::CodeSourcesPage /> }),
        pages::Page::NotFound => Either::Right(view! { <pages::NotFound /> }),
    };
    // The page links its stylesheet in the shell (`assets::PageAssets`, by hashed URL); the
    // widget has no shell and adds it here.
    #[cfg(feature = "csr")]
    let stylesheet = Some(view! {
        <leptos_meta::Stylesheet id="leptos" href=site.url("/pkg/codesource.css") />
    });
    #[cfg(not(feature = "csr"))]
    let stylesheet: Option<()> = None;
    view! {
        {stylesheet}
        <Title text=move || Msg::PageTitle.text(locale.get()) />
        <div class="cs-app" data-theme=move || theme.get().attr() lang=move || locale.get().tag()>
            {page}
        </div>
    }
}

/// The theme the page starts in: `?theme=light|dark` (an embedding console sets it in the
/// iframe's URL, so the first paint already matches), else the system's. Server and browser
/// read the same query string, so hydration matches.
fn initial_theme() -> embed::Theme {
    #[cfg(feature = "ssr")]
    let query =
        use_context::<http::request::Parts>().and_then(|p| p.uri.query().map(str::to_string));
    #[cfg(not(feature = "ssr"))]
    let query = web_sys::window().and_then(|w| w.location().search().ok());
    theme_in(query.as_deref())
}

fn theme_in(query: Option<&str>) -> embed::Theme {
    query
        .and_then(|q| query_param(q, "theme"))
        .and_then(embed::Theme::parse)
        .unwrap_or_default()
}

/// The value of `key` in a query string (plain values only: no decoding needed for ours).
fn query_param<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

/// The language the page starts in. The server negotiates it (`?lang=` from an embedding
/// console, the remembered choice, then `Accept-Language`) and writes it into `<html lang>`;
/// the browser reads it back from there, so both render the same text and hydration matches.
fn initial_locale() -> Locale {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .map(|p| ssr::request_locale(&p))
            .unwrap_or_default()
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
            .and_then(|e| e.get_attribute("lang"))
            .and_then(|l| Locale::from_tag(&l))
            .unwrap_or_default()
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        Locale::default()
    }
}

#[cfg(feature = "ssr")]
pub use ssr::{render_inputs, RenderInputs};

#[cfg(feature = "ssr")]
mod ssr {
    use super::locale::{Locale, LOCALE_COOKIE};
    use http::{header, request::Parts, HeaderValue};
    use leptos::prelude::*;

    /// What a page render reads from the request besides its data. The server's page cache
    /// keys on it (with the data), so it is computed by the same functions the render uses.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct RenderInputs {
        pub locale: Locale,
        pub theme: crate::embed::Theme,
        pub zone: crate::format::Zone,
    }

    impl RenderInputs {
        /// A short text naming these inputs (for a cache key).
        pub fn key(&self) -> String {
            format!(
                "{}|{}|{}",
                self.locale.tag(),
                self.theme.attr().unwrap_or("auto"),
                self.zone.name()
            )
        }
    }

    pub fn render_inputs(parts: &Parts) -> RenderInputs {
        RenderInputs {
            locale: request_locale(parts),
            theme: super::theme_in(parts.uri.query()),
            zone: request_zone(parts),
        }
    }

    pub fn request_locale(parts: &Parts) -> Locale {
        if let Some(l) = parts
            .uri
            .query()
            .and_then(|q| super::query_param(q, "lang"))
            .and_then(Locale::from_tag)
        {
            return l;
        }
        let header_str = |name| {
            parts
                .headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
        };
        let cookie = header_str(header::COOKIE).and_then(|c| {
            c.split(';')
                .filter_map(|kv| kv.trim().split_once('='))
                .find(|(k, _)| *k == LOCALE_COOKIE)
                .map(|(_, v)| v)
        });
        Locale::negotiate(cookie, header_str(header::ACCEPT_LANGUAGE))
    }

    /// The viewer's time zone: `?tz=`, else the `cs_tz` cookie, else UTC.
    pub fn request_zone(parts: &Parts) -> crate::format::Zone {
        let asked = parts
            .uri
            .query()
            .and_then(|q| super::query_param(q, "tz"))
            .map(crate::zone::decode_zone);
        let cookie = || {
            parts
                .headers
                .get(header::COOKIE)
                .and_then(|v| v.to_str().ok())
                .and_then(|c| {
                    c.split(';')
                        .filter_map(|kv| kv.trim().split_once('='))
                        .find(|(k, _)| *k == crate::format::TZ_COOKIE)
                        .map(|(_, v)| v.to_string())
                })
        };
        asked
            .and_then(|n| crate::format::Zone::parse(&n))
            .or_else(|| cookie().and_then(|n| crate::format::Zone::parse(&n)))
            .unwrap_or_default()
    }

    /// A fresh CSP nonce for the hydration script, and the page's Content-Security-Policy.
    pub fn page_security() {
        leptos::nonce::provide_nonce();
        let Some(nonce) = leptos::nonce::use_nonce() else {
            return;
        };
        let frames = use_context::<crate::api::service::FramePolicy>()
            .map(|f| f.frame_ancestors)
            .unwrap_or_else(|| "'self'".into());
        // Images only from our origin: avatars are fetched by the server and served from
        // `/avatars/…`; the browser never loads one from a code host or gravatar.
        let csp = format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
             style-src 'self'; img-src 'self' data:; connect-src 'self'; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {frames}"
        );
        if let (Some(opts), Ok(value)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            HeaderValue::from_str(&csp),
        ) {
            opts.insert_header(header::CONTENT_SECURITY_POLICY, value);
        }
    }
}

/// The wasm entry point: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    let site = site::from_document();
    site::route_server_functions(&site.base);
    leptos::mount::hydrate_body(move || {
        provide_context(site.clone());
        view! { <App /> }
    });
}
