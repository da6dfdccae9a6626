//! The pages, and which one a path shows.

mod code_sources;

pub use code_sources::CodeSourcesPage;

use crate::i18n::Msg;
use crate::t;
use leptos::prelude::*;

/// The pages a path can show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    CodeSources,
    NotFound,
}

impl Page {
    /// The server sees the path with the base path already stripped; the browser sees the full
    /// path and strips `base` itself, so both pick the same page and hydration matches. A render
    /// without a request (leptos_axum listing routes) is the 404 page, which needs no data.
    pub fn current(base: &str) -> Page {
        #[cfg(feature = "ssr")]
        let path = {
            let _ = base;
            use_context::<http::request::Parts>().map(|p| p.uri.path().to_string())
        };
        #[cfg(not(feature = "ssr"))]
        let path = web_sys::window()
            .and_then(|w| w.location().pathname().ok())
            .map(|p| p.strip_prefix(base).unwrap_or(&p).to_string());
        Page::for_path(path.as_deref())
    }

    fn for_path(path: Option<&str>) -> Page {
        match path {
            Some("" | "/") => Page::CodeSources,
            _ => Page::NotFound,
        }
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(opts) = use_context::<leptos_axum::ResponseOptions>() {
        opts.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <main class="page">
            <h1>{t(Msg::NotFoundTitle)}</h1>
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::Page;

    #[test]
    fn only_the_root_is_the_code_sources_page() {
        assert_eq!(Page::for_path(Some("/")), Page::CodeSources);
        // The browser's path under a base path without its trailing slash.
        assert_eq!(Page::for_path(Some("")), Page::CodeSources);
        assert_eq!(Page::for_path(Some("/nope")), Page::NotFound);
        assert_eq!(Page::for_path(Some("//")), Page::NotFound);
        assert_eq!(Page::for_path(None), Page::NotFound);
    }
}
