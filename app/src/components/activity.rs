//! The tenant's activity log below the table: loaded on request (so the page renders the same
//! on the server and after hydration), newest first, with "load older entries".
//!
//! The open log (its state, fetching and table) is a split point (see `dialogs`): its code is
//! fetched with the first "show", not with the page bundle.

use super::LocalTime;
use crate::api::{load_activity, ActivityEntry, ApiError};
use crate::i18n::{action_text, outcome_text, Locale, Msg};
use crate::page_state::PageCtx;
use crate::{t, use_locale};
use leptos::prelude::*;

#[component]
pub fn ActivityLog() -> impl IntoView {
    let ctx = expect_context::<PageCtx>();
    let open = RwSignal::new(false);

    super::erased_on_server(view! {
        <section class="activity" aria-labelledby="activity-title">
            <h2 id="activity-title">{t(Msg::ActivityTitle)}</h2>
            <Show
                when=move || open.get()
                fallback=move || {
                    view! {
                        <button
                            type="button"
                            class="btn"
                            disabled=move || !ctx.hydrated.get()
                            on:click=move |_| open.set(true)
                        >
                            {t(Msg::ActivityShow)}
                        </button>
                    }
                }
            >
                {move || {
                    Suspend::new(async move {
                        split_call!(log_view())
                            .unwrap_or_else(|err| view! { <super::ErrorBox err /> }.into_any())
                    })
                }}
            </Show>
        </section>
    })
}

// A split point, like the dialogs (see `dialogs`): the log's state, its fetching and its table
// come with the first "show". Fallible, so a file that cannot be fetched shows as an error
// rather than ending the page.
split_point!(
    codesource_activity_table,
    fn log_view() -> Result<AnyView, ApiError> {
        Ok(view! { <LogView /> }.into_any())
    }
);

/// What the log asks for: the page of entries before `before` (the newest page without), to
/// follow the entries `shown` when it was asked. `seq` tells answers to earlier asks apart.
#[derive(Clone)]
struct Ask {
    seq: u32,
    before: Option<String>,
    shown: Vec<ActivityEntry>,
}

/// The log as an answer leaves it: every entry to show and the cursor of the next older page.
#[derive(Clone, Default, PartialEq)]
struct Log {
    entries: Vec<ActivityEntry>,
    next: Option<String>,
}

/// The open log: its newest page at once, older pages on request, and the newest again after a
/// bind or unbind.
#[component]
fn LogView() -> impl IntoView {
    let ctx = expect_context::<PageCtx>();
    let ask = RwSignal::new(Ask {
        seq: 0,
        before: None,
        shown: Vec::new(),
    });
    // A local resource (the log is never rendered on the server) answering the latest ask with
    // the whole log: an older page is appended to what was shown when it was asked for.
    let answer = LocalResource::new(move || {
        let Ask { seq, before, shown } = ask.get();
        async move {
            let log = load_activity(before).await.map(|page| {
                let mut entries = shown;
                entries.extend(page.entries);
                Log {
                    entries,
                    next: page.next,
                }
            });
            (seq, log)
        }
    });
    let busy = Signal::derive(move || {
        let asked = ask.with(|a| a.seq);
        answer.with(|a| a.as_ref().is_none_or(|(answered, _)| *answered != asked))
    });
    let error = Signal::derive(move || {
        answer.with(|a| match a {
            Some((_, Err(e))) => Some(e.clone()),
            _ => None,
        })
    });
    // The log shown: the last one that loaded (a failed load keeps it, under its error).
    let log = Memo::new(move |shown: Option<&Log>| match answer.get() {
        Some((_, Ok(log))) => log,
        _ => shown.cloned().unwrap_or_default(),
    });
    let load = move |before: Option<String>| {
        let shown = match before {
            Some(_) => log.with_untracked(|l| l.entries.clone()),
            None => Vec::new(),
        };
        let seq = ask.with_untracked(|a| a.seq + 1);
        ask.set(Ask { seq, before, shown });
    };
    // Reload after a bind or unbind.
    Effect::new(move |prev: Option<()>| {
        ctx.page.track();
        if prev.is_some() {
            load(None);
        }
    });
    let entries = Signal::derive(move || log.with(|l| l.entries.clone()));
    // The table (or "no entries yet") once a page has loaded: a first load that failed shows
    // its error alone, not an empty log.
    let loaded = Memo::new(move |before: Option<&bool>| {
        before.copied().unwrap_or(false) || answer.with(|a| matches!(a, Some((_, Ok(_)))))
    });

    view! {
        {move || error.get().map(|err| view! { <super::ErrorBox err /> })}
        <Show when=move || busy.get()>
            <p class="progress" role="status">
                <span class="spinner" aria-hidden="true"></span>
                {t(Msg::Loading)}
            </p>
        </Show>
        <Show when=move || loaded.get()>
            <ActivityTable entries />
        </Show>
        <Show when=move || log.with(|l| l.next.is_some())>
            <button
                type="button"
                class="btn"
                disabled=move || busy.get()
                on:click=move |_| load(log.with_untracked(|l| l.next.clone()))
            >
                {t(Msg::ActivityMore)}
            </button>
        </Show>
    }
}

#[component]
fn ActivityTable(entries: Signal<Vec<ActivityEntry>>) -> impl IntoView {
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
