//! A registration's status in its details: what the last check at the code host found (a repair,
//! or the periodic reconcile), when that was, and in words what it means and what fixes it.
//! A status other than active or set up by hand is something the tenant must know about: pushes
//! are not building.

use crate::api::{AutoBuildStatus, AutoBuildView, Provider};
use crate::components::LocalTime;
use crate::i18n::{autobuild_status_help, autobuild_status_text, fill, Msg};
use crate::{t, use_locale};
use leptos::prelude::*;

/// The status's `<dt>` and `<dd>` in the details' list.
#[component]
pub fn StatusFact(current: Memo<Option<AutoBuildView>>, provider: Provider) -> impl IntoView {
    let locale = use_locale();
    let status = Memo::new(move |_| current.with(|v| v.as_ref().map(|v| v.status)));
    let checked = Memo::new(move |_| current.with(|v| v.as_ref().and_then(|v| v.checked_at)));
    view! {
        <dt>{t(Msg::ColStatus)}</dt>
        <dd class="autobuild-status">
            {move || status.get().map(|s| view! {
                // The word carries the status, the colour only repeats it.
                <span class=badge_class(s)>{move || autobuild_status_text(locale.get(), s)}</span>
            })}
            {move || checked.get().map(|ms| {
                // "Checked {}": the words around the time, the time itself a <time>.
                let part = move |after: bool| {
                    let text = Msg::LastChecked.text(locale.get());
                    let (before, rest) = text.split_once("{}").unwrap_or((text, ""));
                    if after { rest } else { before }
                };
                view! {
                    <span class="status-checked">
                        {move || part(false)}
                        <LocalTime secs=ms.div_euclid(1000) />
                        {move || part(true)}
                    </span>
                }
            })}
            {move || status.get().and_then(autobuild_status_help).map(|help| view! {
                <p class="status-detail">
                    {move || fill(help.text(locale.get()), &[provider.display_name()])}
                </p>
            })}
        </dd>
    }
}

fn badge_class(status: AutoBuildStatus) -> &'static str {
    match status {
        AutoBuildStatus::Active => "badge badge-ok",
        AutoBuildStatus::ManualSetup => "badge badge-idle",
        AutoBuildStatus::HostUnreachable => "badge badge-warn",
        AutoBuildStatus::HookMissing
        | AutoBuildStatus::HookDisabled
        | AutoBuildStatus::NoPermission
        | AutoBuildStatus::RepositoryGone => "badge badge-bad",
    }
}
