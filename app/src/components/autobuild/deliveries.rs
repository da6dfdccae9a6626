//! A repository's last webhook deliveries: when each arrived, which event and ref, the commit,
//! and how it ended (a build of the latest commit asked for by hand shows as a manual build).
//! Loaded when shown, and again after such a build; Refresh loads them (and the registration's
//! time of the last delivery) again.

use crate::api::{list_auto_build_deliveries, DeliveryOutcome, DeliveryView, Provider, RepoId};
use crate::components::{ErrorBox, LocalTime};
use crate::i18n::{delivery_event_text, delivery_outcome_text, fill, Msg};
use crate::{t, use_locale};
use leptos::prelude::*;

#[component]
pub fn Deliveries(
    provider: Provider,
    repo: RepoId,
    /// The repository's full name (the table's accessible name).
    name: String,
    /// Changes when the list must be loaded again (a manual build was made).
    reload: Signal<usize>,
    /// Also reload what the row shows (the time of the last delivery).
    on_refresh: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    let locale = use_locale();
    let list = LocalResource::new(move || {
        reload.track();
        list_auto_build_deliveries(provider, repo.clone())
    });
    let label = move || fill(Msg::DeliveriesOf.text(locale.get()), &[&name]);
    view! {
        <div class="deliveries">
            <button
                type="button"
                class="btn btn-small"
                on:click=move |_| {
                    list.refetch();
                    on_refresh();
                }
            >
                {t(Msg::DeliveriesRefresh)}
            </button>
            {move || match list.get() {
                None => view! {
                    <p class="progress" role="status"><span class="spinner" aria-hidden="true"></span>{t(Msg::Loading)}</p>
                }
                .into_any(),
                Some(Err(err)) => view! { <ErrorBox err host=provider /> }.into_any(),
                Some(Ok(items)) if items.is_empty() => {
                    view! { <p class="muted">{t(Msg::DeliveriesNone)}</p> }.into_any()
                }
                Some(Ok(items)) => view! { <DeliveryTable items label=label.clone() /> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn DeliveryTable(
    items: Vec<DeliveryView>,
    label: impl Fn() -> String + Send + Sync + 'static,
) -> impl IntoView {
    let locale = use_locale();
    let label = Signal::derive(label);
    // Scrolls sideways on a narrow screen: focusable, so the keyboard can scroll it too.
    view! {
        <div class="table-wrap" role="region" tabindex="0" aria-label=label>
            <table class="deliveries-table" aria-label=label>
                <thead>
                    <tr>
                        <th scope="col">{t(Msg::ColTime)}</th>
                        <th scope="col">{t(Msg::ColEvent)}</th>
                        <th scope="col">{t(Msg::ColRef)}</th>
                        <th scope="col">{t(Msg::ColCommit)}</th>
                        <th scope="col">{t(Msg::ColOutcome)}</th>
                    </tr>
                </thead>
                <tbody>
                    {items.into_iter().map(|d| {
                        let outcome = d.outcome;
                        let event = d.event.clone();
                        view! {
                            <tr>
                                <td><LocalTime secs=d.at_ms.div_euclid(1000) /></td>
                                <td>{move || delivery_event_text(locale.get(), &event)}</td>
                                <td class="mono">{d.git_ref.unwrap_or_else(|| "—".into())}</td>
                                <td class="mono" title=d.commit.clone()>{d.commit.as_deref().map(short_commit).unwrap_or("—").to_string()}</td>
                                <td>
                                    <span class=outcome_class(outcome)>
                                        {move || delivery_outcome_text(locale.get(), outcome)}
                                    </span>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The first 7 characters, as code hosts show a commit.
pub(super) fn short_commit(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

fn outcome_class(outcome: DeliveryOutcome) -> &'static str {
    match outcome {
        DeliveryOutcome::Built => "badge badge-ok",
        DeliveryOutcome::Duplicate | DeliveryOutcome::Ignored => "badge badge-idle",
        DeliveryOutcome::Refused | DeliveryOutcome::HostError => "badge badge-bad",
    }
}

#[cfg(test)]
mod tests {
    use super::short_commit;

    #[test]
    fn commits_are_shortened_like_code_hosts_do() {
        assert_eq!(short_commit("0123456789abcdef"), "0123456");
        assert_eq!(short_commit("abc"), "abc");
        // Not a hex id: never cut inside a character.
        assert_eq!(short_commit("ééééé"), "ééééé");
    }
}
