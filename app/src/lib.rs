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
mod components;
pub mod embed;
pub mod format;
pub mod i18n;
mod pages;

use i18n::{Locale, Msg};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    StaticSegment,
};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let locale = initial_locale();
    #[cfg(feature = "ssr")]
    ssr::page_security();
    view! {
        <!DOCTYPE html>
        <html lang=locale.tag()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
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

    view! {
        <Stylesheet id="leptos" href="/pkg/codesource.css" />
        <Title text=move || Msg::PageTitle.text(locale.get()) />
        <Router>
            <Routes fallback=pages::NotFound>
                <Route path=StaticSegment("") view=pages::CodeSourcesPage />
            </Routes>
        </Router>
    }
}

/// The language the page starts in. The server negotiates it (cookie, then `Accept-Language`)
/// and writes it into `<html lang>`; the browser reads it back from there, so both render the
/// same text and hydration matches.
fn initial_locale() -> Locale {
    #[cfg(feature = "ssr")]
    {
        ssr::request_locale()
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
mod ssr {
    use super::i18n::{Locale, LOCALE_COOKIE};
    use http::{header, request::Parts, HeaderValue};
    use leptos::prelude::*;

    pub fn request_locale() -> Locale {
        let Some(parts) = use_context::<Parts>() else {
            return Locale::default();
        };
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

    /// A fresh CSP nonce for the hydration script, and the page's Content-Security-Policy.
    pub fn page_security() {
        leptos::nonce::provide_nonce();
        let Some(nonce) = leptos::nonce::use_nonce() else {
            return;
        };
        let frames = use_context::<crate::api::service::FramePolicy>()
            .map(|f| f.frame_ancestors)
            .unwrap_or_else(|| "'self'".into());
        // Avatars come from the code hosts (a private GitLab may serve them over http).
        let csp = format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
             style-src 'self'; img-src 'self' https: http: data:; connect-src 'self'; \
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
    leptos::mount::hydrate_body(App);
}
