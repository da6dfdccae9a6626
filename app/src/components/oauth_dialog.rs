//! GitHub / Gitee bind: explains what will be asked, opens the code host's authorize page in a
//! popup (the page may be framed, and code hosts refuse to be framed) or, when popups are
//! blocked, in this tab; waits with a visible progress line until the result comes back.

use super::modal::Modal;
use super::{action_id, ErrorBox};
use crate::api::{latest_pending, load_pending, ApiError, InputError, PendingId, Provider};
use crate::i18n::{fill, Msg};
use crate::page_state::{DialogState, PageCtx};
use crate::{t, use_locale};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;

/// What the callback page posts to its opener (a JSON string).
#[derive(Deserialize)]
pub struct OAuthMessage {
    #[serde(rename = "type")]
    pub kind: String,
    pub provider: String,
    pub pending: Option<String>,
    pub error: Option<ApiError>,
}

/// The result of an authorization, from a popup message, a redirect's query string, or a
/// closed popup: show the account to confirm, or the error in the dialog. Callers check
/// `oauth_waiting` first, so only the first report of a flow gets here.
pub fn finish_oauth(
    ctx: PageCtx,
    provider: Provider,
    pending: Option<String>,
    error: Option<ApiError>,
) {
    ctx.oauth_waiting.set(false);
    // An id of another shape names nothing the server handed out: the answer it would give.
    let (pending, error) = match pending.map(|p| PendingId::parse(&p)) {
        Some(None) => (
            None,
            error.or(Some(ApiError::Invalid(InputError::InvalidArguments))),
        ),
        Some(id) => (id, error),
        None => (None, error),
    };
    if pending.is_some() || error.is_none() {
        // One more request to our server: show it (also after a full-page redirect, where no
        // dialog is open yet).
        let showing = matches!(ctx.dialog.get_untracked(), DialogState::OAuth { provider: p, .. } if p == provider);
        if !showing {
            ctx.dialog.set(DialogState::OAuth {
                provider,
                error: None,
            });
        }
        ctx.oauth_fetching.set(true);
    }
    // Unless the user closed the dialog meanwhile.
    let fetched = move |next: DialogState| {
        if ctx.oauth_fetching.get_untracked() {
            ctx.oauth_fetching.set(false);
            ctx.dialog.set(next);
        }
    };
    match (pending, error) {
        (_, Some(e)) => ctx.dialog.set(DialogState::OAuth {
            provider,
            error: Some(e),
        }),
        (Some(id), None) => spawn_local(async move {
            fetched(match load_pending(id).await {
                Ok(p) => DialogState::ConfirmBind(p),
                Err(e) => DialogState::OAuth {
                    provider,
                    error: Some(e),
                },
            })
        }),
        (None, None) => spawn_local(async move {
            // The window closed without a word: maybe the code host cut the link to us.
            let next = match latest_pending(provider).await {
                Ok(Some(p)) => DialogState::ConfirmBind(p),
                Ok(None) => DialogState::OAuth {
                    provider,
                    error: Some(ApiError::AuthorizationWindowClosed),
                },
                Err(e) => DialogState::OAuth {
                    provider,
                    error: Some(e),
                },
            };
            fetched(next);
        }),
    }
}

#[component]
pub fn OAuthDialog(provider: Provider, error: Option<ApiError>) -> impl IntoView {
    let ctx = expect_context::<PageCtx>();
    let locale = use_locale();
    let name = provider.display_name();
    let popup = StoredValue::new_local(None::<web_sys::Window>);
    let waiting = ctx.oauth_waiting;
    let fetching = ctx.oauth_fetching;

    let close = move |_: ()| {
        if let Some(w) = popup.get_value() {
            let _ = w.close();
        }
        waiting.set(false);
        fetching.set(false);
        ctx.close_dialog(Some(action_id(provider)));
    };
    let site = crate::site::use_site();
    let start = move |_| {
        let Some(window) = web_sys::window() else {
            return;
        };
        let url = site.url(&format!("/oauth/{}/start?mode=popup", provider.as_str()));
        match window.open_with_url_and_target_and_features(
            &url,
            "codesource-oauth",
            "popup=yes,width=760,height=780",
        ) {
            Ok(Some(w)) => {
                popup.set_value(Some(w.clone()));
                waiting.set(true);
                watch_popup(ctx, provider, w);
            }
            // Blocked: go there in this tab; the callback brings the user back to the table.
            // Not from the widget (that would take the user out of the console's page for good)
            // nor in a frame (code hosts refuse to be framed).
            _ if !site.widget && !crate::embed::in_frame() => {
                let _ = window.location().assign(
                    &site.url(&format!("/oauth/{}/start?mode=redirect", provider.as_str())),
                );
            }
            _ => ctx.dialog.set(DialogState::OAuth {
                provider,
                error: Some(ApiError::PopupBlocked),
            }),
        }
    };
    let scopes = crate::i18n::host_texts(provider).oauth_scopes;
    view! {
        <Modal
            title=Signal::derive(move || fill(Msg::OAuthDialogTitle.text(locale.get()), &[name]))
            id="oauth-dialog"
            busy=false
            on_close=close
        >
            <div class="modal-body">
                <p>{move || fill(Msg::OAuthIntro.text(locale.get()), &[name])}</p>
                {scopes.map(|m| view! { <p class="help">{t(m)}</p> })}
                {error.map(|err| view! { <ErrorBox err host=provider /> })}
                <Show when=move || waiting.get() || fetching.get()>
                    <p class="progress" role="status">
                        <span class="spinner" aria-hidden="true"></span>
                        {move || {
                            let msg = if fetching.get() { Msg::OAuthFetching } else { Msg::OAuthWaiting };
                            fill(msg.text(locale.get()), &[name])
                        }}
                    </p>
                </Show>
            </div>
            <footer class="modal-footer">
                <button type="button" class="btn" on:click=move |_| close(())>{t(Msg::Cancel)}</button>
                <button type="button" class="btn btn-primary" disabled=move || waiting.get() || fetching.get() on:click=start>
                    {move || fill(Msg::OAuthContinue.text(locale.get()), &[name])}
                </button>
            </footer>
        </Modal>
    }
}

/// Notices a popup closed before it reported back.
fn watch_popup(ctx: PageCtx, provider: Provider, w: web_sys::Window) {
    let handle = StoredValue::new_local(None::<IntervalHandle>);
    let h = set_interval_with_handle(
        move || {
            if !ctx.oauth_waiting.get_untracked() {
                if let Some(h) = handle.get_value() {
                    h.clear();
                }
                return;
            }
            if w.closed().unwrap_or(true) {
                if let Some(h) = handle.get_value() {
                    h.clear();
                }
                // The window posts its result just before closing: give that message a moment
                // to arrive before concluding it closed without one.
                set_timeout(
                    move || {
                        if ctx.oauth_waiting.get_untracked() {
                            finish_oauth(ctx, provider, None, None);
                        }
                    },
                    std::time::Duration::from_millis(600),
                );
            }
        },
        std::time::Duration::from_millis(500),
    );
    if let Ok(h) = h {
        handle.set_value(Some(h));
    }
}

/// Listens for the callback page's message for the page's lifetime: only from the server's
/// origin (the page's own, or the widget's API server).
pub fn listen_for_oauth(ctx: PageCtx) {
    let server = crate::site::use_site().server_origin();
    let handle = window_event_listener(leptos::ev::message, move |ev: web_sys::MessageEvent| {
        let own = server
            .clone()
            .or_else(|| web_sys::window().and_then(|w| w.location().origin().ok()));
        if own.as_deref() != Some(ev.origin().as_str()) {
            return;
        }
        let Some(text) = ev.data().as_string() else {
            return;
        };
        let Ok(msg) = crate::api::codec::from_json::<OAuthMessage>(&text) else {
            return;
        };
        let Some(provider) =
            Provider::parse(&msg.provider).filter(|_| msg.kind == "codesource-oauth")
        else {
            return;
        };
        if ctx.oauth_waiting.get_untracked() {
            finish_oauth(ctx, provider, msg.pending, msg.error);
        }
    });
    on_cleanup(move || handle.remove());
}

/// After a full-page redirect the result is in the query string: pick it up, then tidy the URL.
pub fn pick_up_redirect_result(ctx: PageCtx) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(search) = window.location().search() else {
        return;
    };
    let mut provider = None;
    let mut pending = None;
    let mut error = None;
    for (k, v) in search
        .trim_start_matches('?')
        .split('&')
        .filter_map(|kv| kv.split_once('='))
    {
        let v = decode(v);
        match k {
            "oauth" => provider = Provider::parse(&v),
            "pending" => pending = Some(v),
            "error" => {
                error = crate::api::codec::from_json::<ApiError>(&v)
                    .ok()
                    .or(Some(ApiError::OAuthState))
            }
            _ => {}
        }
    }
    let Some(provider) = provider else { return };
    if let Ok(history) = window.history() {
        let path = window.location().pathname().unwrap_or_else(|_| "/".into());
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&path));
    }
    ctx.oauth_waiting.set(true);
    finish_oauth(ctx, provider, pending, error);
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = if bytes[i] == b'%' {
            s.get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        } else {
            None
        };
        match (bytes[i], hex) {
            (_, Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', None) => {
                out.push(b' ');
                i += 1;
            }
            (b, None) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn decodes_query_values() {
        assert_eq!(decode("%7B%22a%22%3A1%7D"), "{\"a\":1}");
        assert_eq!(decode("a+b%"), "a b%");
        assert_eq!(decode("%zz"), "%zz");
    }
}
