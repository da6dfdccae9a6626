//! The confirm step after a successful check: shows the account the token belongs to, its
//! scopes and expiry. Confirm stores the binding; Cancel drops the checked token.

use super::modal::Modal;
use super::{action_id, AccountCell, ErrorBox};
use crate::api::{CancelBinding, ConfirmBinding, PendingBinding};
use crate::i18n::{fill, Msg};
use crate::page_state::PageCtx;
use crate::{t, use_locale};
use leptos::prelude::*;

#[component]
pub fn ConfirmBindDialog(pending: PendingBinding) -> impl IntoView {
    let ctx = expect_context::<PageCtx>();
    let locale = use_locale();
    let provider = pending.provider;
    let login = pending.account.login.clone();
    let id = pending.id.clone();

    let drop_check = ServerAction::<CancelBinding>::new();
    let cancel = {
        let id = id.clone();
        move |_: ()| {
            // The request outlives the dialog: the action's task holds its own signals. (Best
            // effort: the server also forgets unconfirmed checks after a few minutes.)
            drop_check.dispatch(CancelBinding {
                pending_id: id.clone(),
            });
            ctx.close_dialog(Some(action_id(provider)));
        }
    };
    // The call, its pending state and its error are the action's; a success reloads the table.
    let action = ServerAction::<ConfirmBinding>::new();
    let busy = action.pending();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    Effect::new(move || {
        if let Some(Ok(_)) = action.value().get() {
            let text = fill(
                Msg::BoundToast.text(locale.get_untracked()),
                &[provider.display_name(), &login],
            );
            ctx.notify(true, text);
            ctx.reload_and_close(action_id(provider), provider);
        }
    });
    let confirm = move |_| {
        if !busy.get_untracked() {
            action.dispatch(ConfirmBinding {
                pending_id: id.clone(),
            });
        }
    };

    let scopes = pending.scopes.join(", ");
    let scopes_unknown = pending.scopes_unknown;
    let expires = pending.expires_at.clone();
    // Personal access tokens have an expiry date (or none); OAuth tokens are renewed here.
    let token_expiry = match pending.bind {
        crate::api::BindMethod::AccessToken => true,
        crate::api::BindMethod::OAuth | crate::api::BindMethod::Default => false,
    };
    let host_name = pending.provider.display_name();
    let missing = pending.missing_scopes.join(", ");
    view! {
            <Modal
                title=Signal::derive(move || Msg::ConfirmTitle.text(locale.get()).to_string())
                id="confirm-bind-dialog"
                busy
                on_close=cancel.clone()
            >
                <div class="modal-body">
                    <p>{t(Msg::ConfirmBody)}</p>
                    <div class="confirm-account">
                        <AccountCell account=pending.account.clone() />
                    </div>
                    <dl class="facts">
                        {pending
                            .address
                            .clone()
                            .map(|a| {
                                view! {
                                    <dt>{t(Msg::ColAddress)}</dt>
                                    <dd class="mono">{a}</dd>
                                }
                            })}
                        <dt>{t(Msg::Scopes)}</dt>
                        <dd class="scopes">
                            {if scopes_unknown {
                                view! {
                                    <span class="muted">
                                        {move || crate::i18n::fill(Msg::ScopesUnknown.text(locale.get()), &[host_name])}
                                    </span>
                                }
                                .into_any()
                            } else {
                                view! { <span class="mono">{scopes}</span> }.into_any()
                            }}
                        </dd>
    {token_expiry.then(|| view! {
                        <dt>{t(Msg::Expires)}</dt>
                        <dd class="expires">
                            {match expires.clone() {
                                Some(d) => view! { <time>{d}</time> }.into_any(),
                                None => view! { <span>{t(Msg::NeverExpires)}</span> }.into_any(),
                            }}
                        </dd>
    })}
                    </dl>
                    {(!missing.is_empty())
                        .then(|| {
                            view! {
                                <p class="warning" role="note">
                                    {move || fill(Msg::MissingScopes.text(locale.get()), &[&missing])}
                                </p>
                            }
                        })}
                    {move || error.get().map(|err| view! { <ErrorBox err host=provider /> })}
                    <Show when=move || busy.get()>
                        <p class="progress" role="status">
                            <span class="spinner" aria-hidden="true"></span>
                            {t(Msg::Saving)}
                        </p>
                    </Show>
                </div>
                <footer class="modal-footer">
                    <button type="button" class="btn" disabled=move || busy.get() on:click={
                        let cancel = cancel.clone();
                        move |_| cancel(())
                    }>{t(Msg::Cancel)}</button>
                    <button type="button" class="btn btn-primary" disabled=move || busy.get() on:click=confirm>
                        {t(Msg::Confirm)}
                    </button>
                </footer>
            </Modal>
        }
}
