//! The access-token bind dialog (GitLab, Gitea/Forgejo): address, personal access token,
//! optional CA; the whitelist hint for a private instance; OK checks the token on the server
//! and moves on to the confirm dialog. What differs per host comes from its `HostInfo` and
//! `i18n::host_texts`.

use super::modal::Modal;
use super::{action_id, ErrorBox};
use crate::api::{ApiError, CheckToken, HostInfo, InputError, TokenInput};
use crate::i18n::{fill, host_texts, Msg};
use crate::page_state::{DialogState, PageCtx};
use crate::{t, use_locale};
use leptos::prelude::*;

#[component]
pub fn TokenBindDialog(
    host: HostInfo,
    /// What the address field starts with (the bound address when re-authorizing).
    initial_address: Option<String>,
    cidrs: Vec<String>,
) -> impl IntoView {
    let ctx = expect_context::<PageCtx>();
    let locale = use_locale();
    let provider = host.provider;
    let name = provider.display_name();
    let texts = host_texts(provider);
    // The host's default address (the operator's, or its public instance) needs no whitelist.
    let default_address = host.default_address.clone().unwrap_or_default();
    let address = RwSignal::new(initial_address.unwrap_or_else(|| default_address.clone()));
    // Element ids per host: `gitlab-address`, `gitea-token`, …
    let id = move |what: &str| format!("{}-{what}", provider.as_str());
    let named = move |m: Msg| move || fill(m.text(locale.get()), &[name, name]);
    let help = move |m: Option<Msg>| move || m.map(|m| m.text(locale.get())).unwrap_or_default();
    let token = RwSignal::new(String::new());
    let ca = RwSignal::new(String::new());
    let show_ca = RwSignal::new(false);
    // The check, its pending state and its error are the action's; a form mistake caught here
    // (no token) shows the same way. A success moves on to the confirm dialog.
    let action = ServerAction::<CheckToken>::new();
    let busy = action.pending();
    let form_error = RwSignal::new(None::<ApiError>);
    let error = Signal::derive(move || {
        form_error
            .get()
            .or_else(|| action.value().get().and_then(Result::err))
    });
    Effect::new(move || {
        if let Some(Ok(pending)) = action.value().get() {
            token.set(String::new());
            ctx.dialog.set(DialogState::ConfirmBind(pending));
        }
    });
    // The host's default address is reachable from the build nodes as it is; any other address
    // is a private instance that must let the build nodes in.
    let private = move || {
        let a = address.get();
        let a = a.trim().trim_end_matches('/');
        !a.is_empty() && a != default_address.trim_end_matches('/')
    };

    let close = move |_: ()| ctx.close_dialog(Some(action_id(provider)));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        action.value().set(None);
        if token.get_untracked().trim().is_empty() {
            form_error.set(Some(ApiError::Invalid(InputError::TokenEmpty)));
            return;
        }
        form_error.set(None);
        let ca_pem =
            Some(ca.get_untracked()).filter(|c| show_ca.get_untracked() && !c.trim().is_empty());
        action.dispatch(CheckToken {
            provider,
            address: address.get_untracked(),
            token: TokenInput::new(token.get_untracked()),
            ca_pem,
        });
    };

    view! {
        <Modal
            title=Signal::derive(named(Msg::TokenDialogTitle))
            id="token-bind-dialog"
            busy
            on_close=close
        >
            <form class="modal-body form" on:submit=submit novalidate>
                <div class="field">
                    <label for=id("address")>{t(Msg::TokenAddress)}</label>
                    <input
                        id=id("address")
                        name="address"
                        type="text"
                        inputmode="url"
                        autocomplete="url"
                        spellcheck="false"
                        maxlength=crate::api::limits::ADDRESS_MAX
                        aria-describedby=id("address-help")
                        prop:value=move || address.get()
                        on:input=move |ev| address.set(event_target_value(&ev))
                    />
                    <p class="help" id=id("address-help")>{help(texts.address_help)}</p>
                </div>
                <Show when=private>
                    <WhitelistHint cidrs=cidrs.clone() name />
                </Show>
                <div class="field">
                    <label for=id("token")>{t(Msg::TokenLabel)}</label>
                    <input
                        id=id("token")
                        name="token"
                        type="password"
                        autocomplete="off"
                        spellcheck="false"
                        maxlength=crate::api::limits::TOKEN_MAX
                        aria-describedby=id("token-help")
                        prop:value=move || token.get()
                        on:input=move |ev| token.set(event_target_value(&ev))
                    />
                    <p class="help" id=id("token-help")>{help(texts.token_help)}</p>
                </div>
                <div class="field">
                    <label class="checkbox">
                        <input
                            type="checkbox"
                            prop:checked=move || show_ca.get()
                            on:change=move |ev| show_ca.set(event_target_checked(&ev))
                        />
                        {named(Msg::TokenCaToggle)}
                    </label>
                    <Show when=move || show_ca.get()>
                        <label for=id("ca")>{t(Msg::TokenCa)}</label>
                        <textarea
                            id=id("ca")
                            name="ca"
                            rows="5"
                            spellcheck="false"
                            class="mono"
                            placeholder="-----BEGIN CERTIFICATE-----"
                            aria-describedby=id("ca-help")
                            prop:value=move || ca.get()
                            on:input=move |ev| ca.set(event_target_value(&ev))
                        ></textarea>
                        <p class="help" id=id("ca-help")>{named(Msg::TokenCaHelp)}</p>
                    </Show>
                </div>
                {move || error.get().map(|err| view! { <ErrorBox err host=provider /> })}
                <Show when=move || busy.get()>
                    <p class="progress" role="status">
                        <span class="spinner" aria-hidden="true"></span>
                        {named(Msg::Checking)}
                    </p>
                </Show>
                <footer class="modal-footer">
                    <button type="button" class="btn" disabled=move || busy.get() on:click=move |_| close(())>
                        {t(Msg::Cancel)}
                    </button>
                    <button type="submit" class="btn btn-primary" disabled=move || busy.get()>
                        {t(Msg::Ok)}
                    </button>
                </footer>
            </form>
        </Modal>
    }
}

#[component]
fn WhitelistHint(cidrs: Vec<String>, name: &'static str) -> impl IntoView {
    let locale = use_locale();
    let copied = RwSignal::new(None::<String>);
    let empty = cidrs.is_empty();
    view! {
        <section class="notice" aria-labelledby="whitelist-title">
            <h3 id="whitelist-title">{move || fill(Msg::WhitelistTitle.text(locale.get()), &[name])}</h3>
            {if empty {
                view! { <p>{t(Msg::WhitelistNone)}</p> }.into_any()
            } else {
                view! {
                    <p>{move || fill(Msg::WhitelistBody.text(locale.get()), &[name, name])}</p>
                    <ul class="cidr-list">
                        {cidrs
                            .into_iter()
                            .map(|cidr| {
                                let c1 = cidr.clone();
                                let c2 = cidr.clone();
                                let c3 = cidr.clone();
                                view! {
                                    <li>
                                        <code>{cidr.clone()}</code>
                                        <button
                                            type="button"
                                            class="btn btn-small"
                                            aria-label=move || fill(Msg::CopyAria.text(locale.get()), &[&c1])
                                            on:click=move |_| copy_text(c2.clone(), copied)
                                        >
                                            {move || {
                                                if copied.get().as_deref() == Some(c3.as_str()) {
                                                    Msg::Copied.text(locale.get())
                                                } else {
                                                    Msg::Copy.text(locale.get())
                                                }
                                            }}
                                        </button>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </section>
    }
}

/// Writes `text` to the clipboard, then marks it as copied.
pub(super) fn copy_text(text: String, copied: RwSignal<Option<String>>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let promise = window.navigator().clipboard().write_text(&text);
    leptos::task::spawn_local(async move {
        if wasm_bindgen_futures::JsFuture::from(promise).await.is_ok() {
            copied.set(Some(text));
        }
    });
}
