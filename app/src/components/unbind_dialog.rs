//! Unbind confirmation, naming the account that will be unbound.

use super::modal::Modal;
use super::{action_id, ErrorBox};
use crate::api::{CodeSourceRow, Revocation, RevocationPolicy, Unbind};
use crate::i18n::{fill, host_texts, Msg};
use crate::page_state::PageCtx;
use crate::{t, use_locale};
use leptos::prelude::*;

#[component]
pub fn UnbindDialog(row: CodeSourceRow) -> impl IntoView {
    let ctx = expect_context::<PageCtx>();
    let locale = use_locale();
    let revoke = RwSignal::new(false);
    let provider = row.provider;
    let name = provider.display_name();
    let login = row
        .account
        .as_ref()
        .map(|a| a.login.clone())
        .unwrap_or_default();

    let close = move |_: ()| ctx.close_dialog(Some(action_id(provider)));
    // The call, its pending state and its error are the action's; a success reloads the table.
    let action = ServerAction::<Unbind>::new();
    let busy = action.pending();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    Effect::new(move || {
        let Some(Ok(unbound)) = action.value().get() else {
            return;
        };
        let l = locale.get_untracked();
        let (ok, mut text) = match unbound.revocation {
            Revocation::Revoked => (true, fill(Msg::UnboundRevokedToast.text(l), &[name, name])),
            Revocation::Failed => (
                false,
                fill(Msg::UnboundRevokeFailedToast.text(l), &[name, name]),
            ),
            Revocation::NotRequested | Revocation::Manual => {
                (true, fill(Msg::UnboundToast.text(l), &[name]))
            }
        };
        if !unbound.hooks_left.is_empty() {
            let repos: Vec<&str> = unbound
                .hooks_left
                .iter()
                .map(|h| h.repository.as_str())
                .collect();
            let pages: Vec<&str> = unbound
                .hooks_left
                .iter()
                .filter_map(|h| h.settings_url.as_deref())
                .collect();
            text.push(' ');
            text.push_str(&fill(
                Msg::UnboundHooksLeft.text(l),
                &[&repos.join(", "), name, &pages.join(", ")],
            ));
        }
        ctx.notify(ok && unbound.hooks_left.is_empty(), text);
        ctx.reload_and_close(action_id(provider), provider);
    });
    let confirm = move |_| {
        if busy.get_untracked() {
            return;
        }
        action.dispatch(Unbind {
            provider,
            revoke: revoke.get_untracked(),
        });
    };
    let body = move || fill(Msg::UnbindBody.text(locale.get()), &[&login, name]);
    let named = move |m: Msg| move || fill(m.text(locale.get()), &[name]);

    view! {
        <Modal
            title=Signal::derive(move || fill(Msg::UnbindTitle.text(locale.get()), &[name]))
            id="unbind-dialog"
            busy
            on_close=close
        >
            <div class="modal-body">
                <p>{body}</p>
                {match row.host.revocation {
                    RevocationPolicy::Optional => view! {
                        <label class="checkbox">
                            <input
                                type="checkbox"
                                prop:checked=move || revoke.get()
                                on:change=move |ev| revoke.set(event_target_checked(&ev))
                            />
                            {named(Msg::UnbindRevokeOptional)}
                        </label>
                    }.into_any(),
                    RevocationPolicy::Automatic => view! {
                        <p class="help">{named(Msg::UnbindRevokedNote)}</p>
                    }.into_any(),
                    RevocationPolicy::Manual => {
                        let note = host_texts(provider).manual_revoke;
                        view! {
                            <p class="help">{move || note.map(|m| m.text(locale.get())).unwrap_or_default()}</p>
                        }.into_any()
                    }
                    // The default binding has no Unbind.
                    RevocationPolicy::NotApplicable => ().into_any(),
                }}
                {move || error.get().map(|err| view! { <ErrorBox err host=provider /> })}
                <Show when=move || busy.get()>
                    <p class="progress" role="status">
                        <span class="spinner" aria-hidden="true"></span>
                        {t(Msg::Unbinding)}
                    </p>
                </Show>
            </div>
            <footer class="modal-footer">
                <button type="button" class="btn" disabled=move || busy.get() on:click=move |_| close(())>
                    {t(Msg::Cancel)}
                </button>
                <button type="button" class="btn btn-danger" disabled=move || busy.get() on:click=confirm>
                    {t(Msg::Confirm)}
                </button>
            </footer>
        </Modal>
    }
}
