//! GitLab bind dialog: address, private token, optional CA; the whitelist hint for a private
//! GitLab; OK checks the token on the server and moves on to the confirm dialog.

use super::modal::Modal;
use super::{action_id, ErrorBox};
use crate::api::{check_gitlab, ApiError, InputError, Provider, TokenInput};
use crate::format::is_gitlab_com;
use crate::i18n::{fill, Msg};
use crate::pages::{DialogState, PageCtx};
use crate::{t, use_locale};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn GitLabBindDialog(
    /// The operator's default GitLab (no whitelist hint for it).
    default_address: String,
    /// What the address field starts with (the bound address when re-authorizing).
    initial_address: String,
    cidrs: Vec<String>,
) -> impl IntoView {
    let ctx = expect_context::<PageCtx>();
    let locale = use_locale();
    let address = RwSignal::new(initial_address);
    let token = RwSignal::new(String::new());
    let ca = RwSignal::new(String::new());
    let show_ca = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    // The operator's default GitLab and gitlab.com are reachable from the build nodes as they
    // are; any other address is a private GitLab that must let the build nodes in.
    let private = move || {
        let a = address.get();
        let a = a.trim().trim_end_matches('/');
        !a.is_empty() && a != default_address.trim_end_matches('/') && !is_gitlab_com(a)
    };

    let close = move |_: ()| ctx.close_dialog(Some(action_id(Provider::GitLab)));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        if token.get_untracked().trim().is_empty() {
            error.set(Some(ApiError::Invalid(InputError::TokenEmpty)));
            return;
        }
        busy.set(true);
        error.set(None);
        let ca_pem =
            Some(ca.get_untracked()).filter(|c| show_ca.get_untracked() && !c.trim().is_empty());
        let (addr, tok) = (
            address.get_untracked(),
            TokenInput::new(token.get_untracked()),
        );
        spawn_local(async move {
            let result = check_gitlab(addr, tok, ca_pem).await;
            busy.set(false);
            match result {
                Ok(pending) => {
                    token.set(String::new());
                    ctx.dialog.set(DialogState::ConfirmBind(pending));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };

    view! {
        <Modal
            title=Signal::derive(move || Msg::GitLabDialogTitle.text(locale.get()).to_string())
            id="gitlab-bind-dialog"
            busy
            on_close=close
        >
            <form class="modal-body form" on:submit=submit novalidate>
                <div class="field">
                    <label for="gitlab-address">{t(Msg::GitLabAddress)}</label>
                    <input
                        id="gitlab-address"
                        name="address"
                        type="text"
                        inputmode="url"
                        autocomplete="url"
                        spellcheck="false"
                        maxlength=crate::api::limits::ADDRESS_MAX
                        aria-describedby="gitlab-address-help"
                        prop:value=move || address.get()
                        on:input=move |ev| address.set(event_target_value(&ev))
                    />
                    <p class="help" id="gitlab-address-help">{t(Msg::GitLabAddressHelp)}</p>
                </div>
                <Show when=private>
                    <WhitelistHint cidrs=cidrs.clone() />
                </Show>
                <div class="field">
                    <label for="gitlab-token">{t(Msg::GitLabToken)}</label>
                    <input
                        id="gitlab-token"
                        name="token"
                        type="password"
                        autocomplete="off"
                        spellcheck="false"
                        maxlength=crate::api::limits::TOKEN_MAX
                        aria-describedby="gitlab-token-help"
                        prop:value=move || token.get()
                        on:input=move |ev| token.set(event_target_value(&ev))
                    />
                    <p class="help" id="gitlab-token-help">{t(Msg::GitLabTokenHelp)}</p>
                </div>
                <div class="field">
                    <label class="checkbox">
                        <input
                            type="checkbox"
                            prop:checked=move || show_ca.get()
                            on:change=move |ev| show_ca.set(event_target_checked(&ev))
                        />
                        {t(Msg::GitLabCaToggle)}
                    </label>
                    <Show when=move || show_ca.get()>
                        <label for="gitlab-ca">{t(Msg::GitLabCa)}</label>
                        <textarea
                            id="gitlab-ca"
                            name="ca"
                            rows="5"
                            spellcheck="false"
                            class="mono"
                            placeholder="-----BEGIN CERTIFICATE-----"
                            aria-describedby="gitlab-ca-help"
                            prop:value=move || ca.get()
                            on:input=move |ev| ca.set(event_target_value(&ev))
                        ></textarea>
                        <p class="help" id="gitlab-ca-help">{t(Msg::GitLabCaHelp)}</p>
                    </Show>
                </div>
                {move || error.get().map(|err| view! { <ErrorBox err /> })}
                <Show when=move || busy.get()>
                    <p class="progress" role="status">
                        <span class="spinner" aria-hidden="true"></span>
                        {t(Msg::Checking)}
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
fn WhitelistHint(cidrs: Vec<String>) -> impl IntoView {
    let locale = use_locale();
    let copied = RwSignal::new(None::<String>);
    let empty = cidrs.is_empty();
    view! {
        <section class="notice" aria-labelledby="whitelist-title">
            <h3 id="whitelist-title">{t(Msg::WhitelistTitle)}</h3>
            {if empty {
                view! { <p>{t(Msg::WhitelistNone)}</p> }.into_any()
            } else {
                view! {
                    <p>{t(Msg::WhitelistBody)}</p>
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
    spawn_local(async move {
        if wasm_bindgen_futures::JsFuture::from(promise).await.is_ok() {
            copied.set(Some(text));
        }
    });
}
