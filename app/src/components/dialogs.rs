//! The open dialog, whose code the page bundle does not carry: each dialog is a split point,
//! which `cargo leptos build --split` moves into its own wasm file, fetched the first time that
//! dialog opens (dialogs were 85 KB of the 331 KB brotli bundle; the page never renders one on
//! the server, so hydration never needs them).
//!
//! The split points are `fallible`: if a dialog's file cannot be fetched (the network, or a
//! page older than the server's files after a deploy), the page says so instead of aborting
//! (Leptos' `#[lazy]` panics there, and a panic ends the whole wasm module). Only the hydrate
//! build is split: the widget is built by Trunk, which cannot split, so there these are
//! ordinary functions.

use super::{ConfirmBindDialog, OAuthDialog, RepositoriesDialog, TokenBindDialog, UnbindDialog};
use crate::api::{ApiError, CodeSourceRow, HostInfo, PendingBinding, Provider};
use crate::i18n::error_text;
use crate::page_state::{DialogState, PageCtx};
use crate::use_locale;
use leptos::prelude::*;

/// Whichever dialog [`PageCtx::dialog`] says is open, once its code is loaded.
#[component]
pub fn OpenDialog(
    /// The build nodes' address ranges, for the access-token dialog's whitelist hint.
    cidrs: Vec<String>,
) -> impl IntoView {
    let ctx = expect_context::<PageCtx>();
    let locale = use_locale();
    move || {
        let state = ctx.dialog.get();
        let cidrs = cidrs.clone();
        (state != DialogState::Closed).then(|| {
            Suspend::new(async move {
                let focus = state.provider().map(super::action_id);
                let view = view_of(state, cidrs).await;
                view.unwrap_or_else(|err| {
                    // Not loaded: close it again and say why; the row's action keeps focus.
                    let (what, hint) = error_text(locale.get_untracked(), &err, "");
                    ctx.notify(false, format!("{what} {hint}"));
                    ctx.close_dialog(focus);
                    ().into_any()
                })
            })
        })
    }
}

async fn view_of(state: DialogState, cidrs: Vec<String>) -> Result<AnyView, ApiError> {
    match state {
        DialogState::Closed => Ok(().into_any()),
        DialogState::TokenForm { host, address } => split_call!(token_form(host, address, cidrs)),
        DialogState::ConfirmBind(pending) => split_call!(confirm_bind(pending)),
        DialogState::OAuth { provider, error } => split_call!(oauth(provider, error)),
        DialogState::Unbind(row) => split_call!(unbind(row)),
        DialogState::Repositories(row) => split_call!(repositories(row)),
    }
}

split_point!(
    codesource_token_dialog,
    fn token_form(
        host: HostInfo,
        address: Option<String>,
        cidrs: Vec<String>,
    ) -> Result<AnyView, ApiError> {
        Ok(view! { <TokenBindDialog host initial_address=address cidrs /> }.into_any())
    }
);

split_point!(
    codesource_confirm_dialog,
    fn confirm_bind(pending: PendingBinding) -> Result<AnyView, ApiError> {
        Ok(view! { <ConfirmBindDialog pending /> }.into_any())
    }
);

split_point!(
    codesource_oauth_dialog,
    fn oauth(provider: Provider, error: Option<ApiError>) -> Result<AnyView, ApiError> {
        Ok(view! { <OAuthDialog provider error /> }.into_any())
    }
);

split_point!(
    codesource_unbind_dialog,
    fn unbind(row: CodeSourceRow) -> Result<AnyView, ApiError> {
        Ok(view! { <UnbindDialog row /> }.into_any())
    }
);

split_point!(
    codesource_repositories_dialog,
    fn repositories(row: CodeSourceRow) -> Result<AnyView, ApiError> {
        Ok(view! { <RepositoriesDialog row /> }.into_any())
    }
);
