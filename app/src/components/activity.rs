//! The tenant's activity log below the table: loaded on request (so the page renders the same
//! on the server and after hydration), newest first, with "load older entries".
//!
//! Fetching a page of entries and the entries' table are split points (see `dialogs`): their
//! code is fetched with the first "show", not with the page bundle.

use super::LocalTime;
use crate::api::{load_activity, ActivityEntry, ActivityPage, ApiError};
use crate::i18n::{action_text, outcome_text, Locale, Msg};
use crate::page_state::PageCtx;
use crate::{t, use_locale};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::future::Future;
use std::pin::Pin;

#[component]
pub fn ActivityLog() -> impl IntoView {
    let ctx = expect_context::<PageCtx>();
    let entries = RwSignal::new(Vec::<ActivityEntry>::new());
    let next = RwSignal::new(None::<String>);
    let shown = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);

    let load = move |before: Option<String>| {
        busy.set(true);
        spawn_local(async move {
            let fetched = match split_call!(fetch_page(before.clone())) {
                Ok(fetch) => fetch.await,
                Err(e) => Err(e),
            };
            match fetched {
                Ok(page) => {
                    if before.is_none() {
                        entries.set(page.entries);
                    } else {
                        entries.update(|e| e.extend(page.entries));
                    }
                    next.set(page.next);
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
            shown.set(true);
        });
    };
    // Reload after a bind or unbind while the log is open.
    Effect::new(move |prev: Option<()>| {
        ctx.page.track();
        if prev.is_some() && shown.get_untracked() {
            load(None);
        }
    });

    super::erased_on_server(view! {
        <section class="activity" aria-labelledby="activity-title">
            <h2 id="activity-title">{t(Msg::ActivityTitle)}</h2>
            <Show
                when=move || shown.get()
                fallback=move || {
                    view! {
                        <button
                            type="button"
                            class="btn"
                            disabled=move || busy.get() || !ctx.hydrated.get()
                            on:click=move |_| load(None)
                        >
                            {t(Msg::ActivityShow)}
                        </button>
                    }
                }
            >
                {move || error.get().map(|err| view! { <super::ErrorBox err /> })}
                {move || {
                    Suspend::new(async move {
                        split_call!(entries_view(entries))
                            .unwrap_or_else(|err| view! { <super::ErrorBox err /> }.into_any())
                    })
                }}
                <Show when=move || next.get().is_some()>
                    <button
                        type="button"
                        class="btn"
                        disabled=move || busy.get()
                        on:click=move |_| load(next.get_untracked())
                    >
                        {t(Msg::ActivityMore)}
                    </button>
                </Show>
            </Show>
        </section>
    })
}

/// Fetching a page of entries, started (its code, the JSON decoding included, is in the split
/// file).
type Fetch = Pin<Box<dyn Future<Output = Result<ActivityPage, ApiError>>>>;

// Split points, like the dialogs (see `dialogs`): fallible, so a file that cannot be fetched
// shows as an error rather than ending the page.
split_point!(
    codesource_activity_fetch,
    fn fetch_page(before: Option<String>) -> Result<Fetch, ApiError> {
        Ok(Box::pin(load_activity(before)))
    }
);

split_point!(
    codesource_activity_table,
    fn entries_view(entries: RwSignal<Vec<ActivityEntry>>) -> Result<AnyView, ApiError> {
        Ok(view! { <ActivityTable entries /> }.into_any())
    }
);

#[component]
fn ActivityTable(entries: RwSignal<Vec<ActivityEntry>>) -> impl IntoView {
    let locale = use_locale();
    view! {
        <Show
            when=move || !entries.with(Vec::is_empty)
            fallback=move || view! { <p class="muted">{t(Msg::ActivityEmpty)}</p> }
        >
            <div class="table-wrap">
                <table class="sources activity-table">
                    <thead>
                        <tr>
                            <th scope="col">{t(Msg::ColTime)}</th>
                            <th scope="col">{t(Msg::ColActor)}</th>
                            <th scope="col">{t(Msg::ColAction)}</th>
                            <th scope="col">{t(Msg::ColSource)}</th>
                            <th scope="col">{t(Msg::ColAccount)}</th>
                            <th scope="col">{t(Msg::ColOutcome)}</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For
                            each=move || entries.get().into_iter().enumerate()
                            key=|(i, e)| (*i, e.at, e.action)
                            children=move |(_, e)| {
                                let e2 = e.clone();
                                view! {
                                    <tr>
                                        // `data-label`: on a narrow screen the rows become
                                        // cards, each value under its column's name.
                                        <td data-label=t(Msg::ColTime)><LocalTime secs=e.at /></td>
                                        <td data-label=t(Msg::ColActor)>
                                            // The name the user had then; the id on hover (and
                                            // shown itself when no name was recorded).
                                            <span
                                                class="actor"
                                                title=(e2.actor != "build-service").then(|| e2.actor.clone())
                                            >
                                                {
                                                    let e2 = e2.clone();
                                                    move || actor(locale.get(), &e2.actor, e2.actor_name.as_deref())
                                                }
                                            </span>
                                        </td>
                                        <td data-label=t(Msg::ColAction)>{move || action_text(locale.get(), e.action)}</td>
                                        <td data-label=t(Msg::ColSource)>{e.provider.map(|p| p.display_name()).unwrap_or("—")}</td>
                                        <td data-label=t(Msg::ColAccount)>{e.account.clone().unwrap_or_else(|| "—".into())}</td>
                                        <td data-label=t(Msg::ColOutcome)>{
                                            let outcome = e.outcome.clone();
                                            let host = e.provider.map(|p| p.display_name()).unwrap_or_default();
                                            move || outcome_text(locale.get(), &outcome, host)
                                        }</td>
                                    </tr>
                                }
                            }
                        />
                    </tbody>
                </table>
            </div>
        </Show>
    }
}

fn actor(l: Locale, actor: &str, name: Option<&str>) -> String {
    if actor == "build-service" {
        Msg::ActorBuildService.text(l).to_string()
    } else {
        name.filter(|n| !n.trim().is_empty())
            .unwrap_or(actor)
            .to_string()
    }
}
