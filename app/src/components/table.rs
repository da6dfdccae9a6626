//! The code source table: one row per code host, in the manual's order.

use super::{action_id, AccountCell};
use crate::api::{CodeSourceRow, Provider, RowStatus};
use crate::format::format_utc;
use crate::i18n::{fill, Msg};
use crate::pages::{DialogState, PageCtx};
use crate::{t, use_locale};
use leptos::prelude::*;

#[component]
pub fn SourceTable(rows: Vec<CodeSourceRow>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="sources">
                <thead>
                    <tr>
                        <th scope="col">{t(Msg::ColSource)}</th>
                        <th scope="col">{t(Msg::ColStatus)}</th>
                        <th scope="col">{t(Msg::ColAccount)}</th>
                        <th scope="col">{t(Msg::ColAddress)}</th>
                        <th scope="col">{t(Msg::ColBoundAt)}</th>
                        <th scope="col" class="col-actions">{t(Msg::ColActions)}</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|row| view! { <SourceRow row /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn SourceRow(row: CodeSourceRow) -> impl IntoView {
    let p = row.provider;
    let dash = || view! { <span class="muted">"—"</span> };
    view! {
        <tr data-provider=p.as_str()>
            <th scope="row" class="source">
                <span class=format!("provider-icon icon-{}", p.as_str()) aria-hidden="true">
                    {provider_glyph(p)}
                </span>
                <span class="source-name">{p.display_name()}</span>
            </th>
            <td>
                <StatusBadge status=row.status />
            </td>
            <td>
                {match row.account.clone() {
                    Some(account) => view! { <AccountCell account /> }.into_any(),
                    None => dash().into_any(),
                }}
            </td>
            <td class="address">
                {match row.address.clone() {
                    Some(a) => view! { <span class="mono">{a}</span> }.into_any(),
                    None => dash().into_any(),
                }}
            </td>
            <td class="bound-at">
                {match row.bound_at {
                    Some(s) => view! { <time>{format_utc(s)}</time> }.into_any(),
                    None => dash().into_any(),
                }}
            </td>
            <td class="col-actions">
                <RowActions row />
            </td>
        </tr>
    }
}

fn provider_glyph(p: Provider) -> &'static str {
    match p {
        Provider::DevCloud => "D",
        Provider::GitHub => "GH",
        Provider::GitLab => "GL",
        Provider::Gitee => "G",
    }
}

#[component]
fn StatusBadge(status: RowStatus) -> impl IntoView {
    let (class, msg) = match status {
        RowStatus::Bound => ("badge badge-ok", Msg::StatusBound),
        RowStatus::Unbound => ("badge badge-idle", Msg::StatusUnbound),
        RowStatus::NotConfigured => ("badge badge-off", Msg::StatusNotConfigured),
    };
    // The dot is decoration; the word carries the status (never colour alone).
    view! {
        <span class=class>
            <span class="dot" aria-hidden="true"></span>
            {t(msg)}
        </span>
    }
}

#[component]
fn RowActions(row: CodeSourceRow) -> impl IntoView {
    let ctx = expect_context::<PageCtx>();
    let locale = use_locale();
    let p = row.provider;
    let name = p.display_name();
    let disabled = move || !ctx.hydrated.get();

    if row.is_default {
        return view! { <span class="muted">{t(Msg::DefaultBindingHint)}</span> }.into_any();
    }
    match row.status {
        RowStatus::NotConfigured => {
            let hint_id = format!("hint-{}", p.as_str());
            view! {
                <button
                    type="button"
                    class="btn btn-link"
                    disabled=true
                    aria-label=move || fill(Msg::BindAria.text(locale.get()), &[name])
                    aria-describedby=hint_id.clone()
                >
                    {t(Msg::Bind)}
                </button>
                <p class="action-hint" id=hint_id>{t(Msg::NotConfiguredHint)}</p>
            }
            .into_any()
        }
        RowStatus::Unbound => view! {
            <button
                type="button"
                class="btn btn-link"
                id=action_id(p)
                disabled=disabled
                aria-label=move || fill(Msg::BindAria.text(locale.get()), &[name])
                on:click=move |_| {
                    if p == Provider::GitLab {
                        ctx.dialog.set(DialogState::GitLabForm);
                    } else {
                        ctx.dialog.set(DialogState::OAuth { provider: p, error: None });
                    }
                }
            >
                {t(Msg::Bind)}
            </button>
        }
        .into_any(),
        RowStatus::Bound => view! {
            <button
                type="button"
                class="btn btn-link btn-danger-link"
                id=action_id(p)
                disabled=disabled
                aria-label=move || fill(Msg::UnbindAria.text(locale.get()), &[name])
                on:click=move |_| ctx.dialog.set(DialogState::Unbind(row.clone()))
            >
                {t(Msg::Unbind)}
            </button>
        }
        .into_any(),
    }
}
