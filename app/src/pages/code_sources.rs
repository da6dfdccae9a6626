//! The code source configuration page: header, the table, and whichever dialog is open.

use crate::api::{load_page, set_locale, PageData, Provider};
use crate::components::{
    listen_for_oauth, pick_up_redirect_result, ActivityLog, ErrorBox, LanguageSwitch, OpenDialog,
    SourceTable, Toasts,
};
use crate::i18n::{fill, Msg};
use crate::page_state::{DialogState, PageCtx};
use crate::{t, use_locale};
use leptos::either::Either;
use leptos::prelude::*;

#[component]
pub fn CodeSourcesPage() -> impl IntoView {
    // Encoded with `JsonBytes` (see `api::codec`), not the default `JsonSerdeCodec`.
    let page = Resource::new_with_options(|| (), |_| load_page(), false);
    let ctx = PageCtx {
        page,
        dialog: RwSignal::new(DialogState::Closed),
        toast: RwSignal::new(None),
        hydrated: RwSignal::new(false),
        focus_after_load: RwSignal::new(None),
        oauth_waiting: RwSignal::new(false),
        oauth_fetching: RwSignal::new(false),
        changed: RwSignal::new(None),
    };
    provide_context(ctx);
    // Effects run only in the browser, once hydrated.
    let site = crate::site::use_site();
    let widget = site.widget;
    Effect::new(move |_| {
        ctx.hydrated.set(true);
        listen_for_oauth(ctx);
        // The widget's host page has its own query string; the widget never redirects.
        if !widget {
            pick_up_redirect_result(ctx);
        }
    });

    let locale = use_locale();
    // Framed by a console: take its theme and language, tell it we listen, and report the
    // content's height whenever it changes. Here, not with the table, so it also holds while
    // the table cannot load.
    if !widget {
        let origins = site.embed_origins.clone();
        crate::embed::listen_to_parent(
            origins.clone(),
            crate::embed::use_theme(),
            locale,
            crate::zone::use_zone(),
        );
        Effect::new(move |_| {
            crate::embed::watch_height(origins.clone());
            crate::embed::ready(&origins);
        });
    }
    // Remember a language switch server-side (HttpOnly cookie) for the next render. Fire and
    // forget: there is nothing to show, neither pending nor failed (the next render would fall
    // back to `Accept-Language`). Not a `ServerAction`: one in the page bundle costs 6.4 KB of
    // brotli (its no-JS error decoding brings base64), for state nobody reads.
    Effect::new(move |prev: Option<()>| {
        let l = locale.get();
        if prev.is_some() {
            leptos::task::spawn_local(async move {
                let _ = set_locale(l.tag().to_string()).await;
            });
        }
    });

    view! {
        <main class="page">
            <header class="page-header">
                <div class="title-block">
                    <h1>{t(Msg::PageTitle)}</h1>
                    <p class="intro">{t(Msg::PageIntro)}</p>
                </div>
                <LanguageSwitch />
            </header>
            <Transition fallback=move || {
                view! { <p class="loading" aria-busy="true">{t(Msg::Loading)}</p> }
            }>
                {move || {
                    page.get()
                        .map(|result| crate::components::erased_on_server(match result {
                            Ok(data) => Either::Left(view! { <PageBody data /> }),
                            Err(err) => {
                                Either::Right(view! {
                                    <ErrorBox err />
                                    <button class="btn" on:click=move |_| page.refetch()>
                                        {t(Msg::Retry)}
                                    </button>
                                })
                            }
                        }))
                }}
            </Transition>
            <ActivityLog />
            <Toasts />
        </main>
    }
}

#[component]
fn PageBody(data: PageData) -> impl IntoView {
    let ctx = expect_context::<PageCtx>();
    // For an embedding console: the new state of each row.
    let origins = crate::site::use_site().embed_origins;
    {
        let origins = origins.clone();
        let rows: Vec<(Provider, bool)> = data
            .rows
            .iter()
            .filter(|r| !r.is_default)
            .map(|r| (r.provider, r.account.is_some()))
            .collect();
        Effect::new(move |_| {
            if let Some(p) = ctx.changed.get_untracked() {
                ctx.changed.set(None);
                if let Some((_, bound)) = rows.iter().find(|(q, _)| *q == p) {
                    crate::embed::binding_changed(&origins, p, *bound);
                }
            }
        });
    }
    // Runs after this (re)rendered body is mounted.
    Effect::new(move |_| {
        if let Some(id) = ctx.focus_after_load.get_untracked() {
            ctx.focus_after_load.set(None);
            crate::components::focus_element(&id);
        }
    });
    let locale = use_locale();
    let local = data.viewer.local_mode;
    let viewer = data.viewer.clone();
    let cidrs = data.build_node_cidrs.clone();
    view! {
        <div class="viewer-bar">
            <span class="viewer">
                {move || fill(Msg::Viewer.text(locale.get()), &[&viewer.user_name, &viewer.tenant])}
            </span>
            {local
                .then(|| {
                    view! {
                        <span class="badge badge-warn" title=t(Msg::LocalModeHint)>
                            {t(Msg::LocalMode)}
                        </span>
                    }
                })}
            {data.build_url.map(|url| view! { <ConsoleLink url origins=origins.clone() /> })}
        </div>
        <SourceTable rows=data.rows />
        <OpenDialog cidrs />
    }
}

/// A link to another console page. Framed by the console, the console navigates its own window
/// (a console path means nothing to our origin); elsewhere it is an ordinary link.
#[component]
fn ConsoleLink(url: String, origins: Vec<String>) -> impl IntoView {
    let href = url.clone();
    let on_click = move |ev: leptos::ev::MouseEvent| {
        if crate::embed::console_parent(&origins) {
            ev.prevent_default();
            crate::embed::navigate(&origins, &url);
        }
    };
    view! {
        <a class="console-link" href=href target="_top" on:click=on_click>
            {t(Msg::BuildImages)}
        </a>
    }
}
