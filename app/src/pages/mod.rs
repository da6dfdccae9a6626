//! Routed pages.

mod code_sources;

pub use code_sources::{CodeSourcesPage, DialogState, PageCtx};

use crate::i18n::Msg;
use crate::t;
use leptos::prelude::*;

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
