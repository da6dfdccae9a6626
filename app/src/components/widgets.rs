//! Small shared widgets: language switch, error box, account cell, toasts.

use crate::api::{Account, ApiError, Provider};
use crate::i18n::{error_text, Locale, Msg};
use crate::page_state::PageCtx;
use crate::{t, use_locale};
use leptos::either::Either;
use leptos::prelude::*;

#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let locale = use_locale();
    let ctx = expect_context::<PageCtx>();
    let site = crate::site::use_site();
    let option = move |l: Locale, label: &'static str| {
        let site = site.clone();
        view! {
            <button
                type="button"
                class="lang-option"
                lang=l.tag()
                aria-pressed=move || (locale.get() == l).to_string()
                disabled=move || !ctx.hydrated.get()
                on:click=move |_| {
                    locale.set(l);
                    // The widget leaves its host's <html lang> alone (its root carries `lang`).
                    if !site.widget {
                        set_document_lang(l);
                    }
                }
            >
                {label}
            </button>
        }
    };
    view! {
        <div class="lang-switch" role="group" aria-label=t(Msg::Language)>
            {option(Locale::Zh, "中文")}
            {option(Locale::En, "English")}
        </div>
    }
}

/// Keeps `<html lang>` in step, for screen readers and for the next hydration.
fn set_document_lang(l: Locale) {
    if let Some(el) = crate::site::document_root() {
        let _ = el.set_attribute("lang", l.tag());
    }
}

/// An error: what happened and what to do. `host`: the code host the failed step talked to
/// (errors that did not come from a code host do not name one).
#[component]
pub fn ErrorBox(err: ApiError, #[prop(optional)] host: Option<Provider>) -> impl IntoView {
    let locale = use_locale();
    let text = Memo::new(move |_| {
        let l = locale.get();
        let name = host
            .map(|h| h.display_name())
            .unwrap_or_else(|| Msg::TheCodeHost.text(l));
        error_text(l, &err, name)
    });
    view! {
        <div class="error-box" role="alert">
            <p class="error-title">{move || text.get().0}</p>
            <p class="error-hint">{move || text.get().1}</p>
        </div>
    }
}

/// Avatar, login and display name. Host-supplied values are rendered as text. The avatar is
/// an image only when the server handed out its own URL for it (`/avatars/…`: fetched and
/// checked by the server, never a code host's URL); otherwise, and whenever the image fails to
/// load, the initials badge. The image is decorative (empty `alt`): the login is next to it.
#[component]
pub fn AccountCell(account: Account) -> impl IntoView {
    let src = account
        .avatar_url
        .as_deref()
        .and_then(|u| crate::site::use_site().own_url(u));
    let failed = RwSignal::new(false);
    let img = NodeRef::<leptos::html::Img>::new();
    // An image that failed before hydration attached `on:error` (the server-rendered page
    // starts loading it at once): swap it for the badge too.
    #[cfg(any(feature = "hydrate", feature = "csr"))]
    Effect::new(move |_| {
        if let Some(el) = img.get() {
            if el.complete() && el.natural_width() == 0 {
                failed.set(true);
            }
        }
    });
    let initial = account
        .login
        .chars()
        .next()
        .unwrap_or('?')
        .to_uppercase()
        .to_string();
    view! {
        <span class="account">
            {move || match src.clone().filter(|_| !failed.get()) {
                Some(src) => {
                    Either::Left(view! {
                        <img
                            class="avatar"
                            src=src
                            alt=""
                            width="24"
                            height="24"
                            referrerpolicy="no-referrer"
                            node_ref=img
                            on:error=move |_| failed.set(true)
                        />
                    })
                }
                None => Either::Right(view! {
                    <span class="avatar avatar-letter" aria-hidden="true">{initial.clone()}</span>
                }),
            }}
            <span class="account-text">
                <span class="login">{account.login.clone()}</span>
                {account.name.clone().filter(|n| !n.is_empty() && *n != account.login).map(|n| view! { <span class="display-name">{n}</span> })}
            </span>
        </span>
    }
}

/// The page's live region: success and failure messages of finished actions.
#[component]
pub fn Toasts() -> impl IntoView {
    let ctx = expect_context::<PageCtx>();
    view! {
        <div class="toasts" role="status" aria-live="polite">
            {move || {
                ctx.toast
                    .get()
                    .map(|toast| {
                        view! {
                            <div
                                class="toast"
                                class:toast-ok=toast.success
                                class:toast-error=!toast.success
                            >
                                <span>{toast.text}</span>
                                <button
                                    type="button"
                                    class="toast-close"
                                    aria-label=t(Msg::Close)
                                    on:click=move |_| ctx.toast.set(None)
                                >
                                    "×"
                                </button>
                            </div>
                        }
                    })
            }}
        </div>
    }
}
