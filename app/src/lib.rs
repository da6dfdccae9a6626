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

use i18n::Msg;
pub use i18n::{t, use_locale, I18n};
use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use site::use_site;

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let locale = locale::initial_locale();
    let site = use_site();
    #[cfg(feature = "ssr")]
    ssr::page_security();
    // On <html> too (the app's root carries it as well): the page background and scrollbars.
    let theme = embed::initial_theme().attr();
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

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let locale = RwSignal::new(locale::initial_locale());
    provide_context(I18n(locale));
    let theme = RwSignal::new(embed::initial_theme());
    provide_context(embed::ThemeCtx(theme));
    // Times: first in the zone the server rendered, then the console's or the browser's.
    zone::provide(use_site().base);
    // A theme set later (by the embedding console) reaches <html> as well.
    Effect::new(move |_| {
        let t = theme.get();
        if let Some(html) = site::document_root() {
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

#[cfg(feature = "ssr")]
pub use ssr::{render_inputs, RenderInputs};

#[cfg(feature = "ssr")]
mod ssr {
    use super::locale::Locale;
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
            locale: crate::locale::from_request(parts),
            theme: crate::embed::theme_in(parts.uri.query()),
            zone: crate::zone::from_request(parts),
        }
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
