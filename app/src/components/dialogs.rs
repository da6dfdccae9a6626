//! The open dialog, whose code the page bundle does not carry: each dialog is a `#[lazy]`
//! function, which `cargo leptos build --split` moves into its own wasm file that is fetched
//! the first time that dialog opens (dialogs were 85 KB of the 331 KB brotli bundle; the page
//! never renders one on the server, so hydration never needs them).
//!
//! Only the hydrate build is split: the widget is built by Trunk, which cannot split, so there
//! the same functions are ordinary `async fn`s that are ready at once.

use super::{ConfirmBindDialog, OAuthDialog, RepositoriesDialog, TokenBindDialog, UnbindDialog};
use crate::api::{ApiError, CodeSourceRow, HostInfo, PendingBinding, Provider};
use crate::pages::{DialogState, PageCtx};
use leptos::prelude::*;

/// Whichever dialog [`PageCtx::dialog`] says is open, once its code is loaded.
#[component]
pub fn OpenDialog(
    /// The build nodes' address ranges, for the access-token dialog's whitelist hint.
    cidrs: Vec<String>,
) -> impl IntoView {
    let ctx = expect_context::<PageCtx>();
    move || {
        let state = ctx.dialog.get();
        let cidrs = cidrs.clone();
        (state != DialogState::Closed).then(|| Suspend::new(view_of(state, cidrs)))
    }
}

async fn view_of(state: DialogState, cidrs: Vec<String>) -> AnyView {
    match state {
        DialogState::Closed => ().into_any(),
        DialogState::TokenForm { host, address } => token_form(host, address, cidrs).await,
        DialogState::ConfirmBind(pending) => confirm_bind(pending).await,
        DialogState::OAuth { provider, error } => oauth(provider, error).await,
        DialogState::Unbind(row) => unbind(row).await,
        DialogState::Repositories(row) => repositories(row).await,
    }
}

#[cfg_attr(feature = "hydrate", leptos::lazy)]
async fn token_form(host: HostInfo, address: Option<String>, cidrs: Vec<String>) -> AnyView {
    view! { <TokenBindDialog host initial_address=address cidrs /> }.into_any()
}

#[cfg_attr(feature = "hydrate", leptos::lazy)]
async fn confirm_bind(pending: PendingBinding) -> AnyView {
    view! { <ConfirmBindDialog pending /> }.into_any()
}

#[cfg_attr(feature = "hydrate", leptos::lazy)]
async fn oauth(provider: Provider, error: Option<ApiError>) -> AnyView {
    view! { <OAuthDialog provider error /> }.into_any()
}

#[cfg_attr(feature = "hydrate", leptos::lazy)]
async fn unbind(row: CodeSourceRow) -> AnyView {
    view! { <UnbindDialog row /> }.into_any()
}

#[cfg_attr(feature = "hydrate", leptos::lazy)]
async fn repositories(row: CodeSourceRow) -> AnyView {
    view! { <RepositoriesDialog row /> }.into_any()
}
