//! The code source table: one row per code host, in the manual's order.

use super::{action_id, AccountCell, LocalTime};
use crate::api::{BindMethod, CodeSourceRow, RowStatus};
use crate::i18n::{fill, reason_text, Msg};
use crate::page_state::{DialogState, PageCtx};
use crate::{t, use_locale};
use leptos::either::{Either, EitherOf5};
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

/// Each cell names its column (`data-label`): on a narrow screen the rows become cards and the
/// labels show beside the values.
#[component]
fn SourceRow(row: CodeSourceRow) -> impl IntoView {
    let p = row.provider;
    let dash = || view! { <span class="muted">"—"</span> };
    super::erased_on_server(view! {
        <tr data-provider=p.as_str()>
            <th scope="row" class="source">
                <span class=format!("provider-icon icon-{}", p.as_str()) aria-hidden="true">
                    {p.glyph()}
                </span>
                <span class="source-name">{p.display_name()}</span>
            </th>
            <td class="status" data-label=t(Msg::ColStatus)>
                <StatusBadge row=row.clone() />
            </td>
            <td data-label=t(Msg::ColAccount)>
                {match row.account.clone() {
                    Some(account) => Either::Left(view! { <AccountCell account /> }),
                    None => Either::Right(dash()),
                }}
            </td>
            <td class="address" data-label=t(Msg::ColAddress)>
                {match row.address.clone() {
                    Some(address) => Either::Left(view! { <AddressCell address /> }),
                    None => Either::Right(dash()),
                }}
            </td>
            <td class="bound-at" data-label=t(Msg::ColBoundAt)>
                {match row.bound_at {
                    Some(secs) => Either::Left(view! { <LocalTime secs /> }),
                    None => Either::Right(dash()),
                }}
            </td>
            <td class="col-actions" data-label=t(Msg::ColActions)>
                <RowActions row />
            </td>
        </tr>
    })
}

/// One line, cut with an ellipsis when long. The full address stays reachable: it is the
/// element's whole text (screen readers read it), its title (pointer), shown unclipped while
/// the copy button next to it has keyboard focus, and copyable with that button.
#[component]
fn AddressCell(address: String) -> impl IntoView {
    let ctx = expect_context::<PageCtx>();
    let locale = use_locale();
    let copied = RwSignal::new(None::<String>);
    let label = {
        let address = address.clone();
        move || {
            if copied.get().is_some() {
                Msg::Copied.text(locale.get()).to_string()
            } else {
                fill(Msg::CopyAria.text(locale.get()), &[&address])
            }
        }
    };
    let text = address.clone();
    view! {
        <span class="address-line">
            <span class="mono address-text" title=address.clone()>{address.clone()}</span>
            <button
                type="button"
                class="btn-icon copy-address"
                disabled=move || !ctx.hydrated.get()
                aria-label=label.clone()
                title=label
                on:click=move |_| super::token_dialog::copy_text(text.clone(), copied)
            >
                {move || if copied.get().is_some() {
                    Either::Left(view! {
                        <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" focusable="false">
                            <path d="M3 8.5l3 3 7-7" fill="none" stroke="currentColor" stroke-width="1.6" />
                        </svg>
                    })
                } else {
                    Either::Right(view! {
                        <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" focusable="false">
                            <rect x="5.5" y="5.5" width="8" height="8" rx="1.5" fill="none" stroke="currentColor" stroke-width="1.3" />
                            <path d="M10.5 3.5v-0.5a1.5 1.5 0 0 0-1.5-1.5h-5a1.5 1.5 0 0 0-1.5 1.5v5a1.5 1.5 0 0 0 1.5 1.5h0.5" fill="none" stroke="currentColor" stroke-width="1.3" />
                        </svg>
                    })
                }}
            </button>
        </span>
    }
}

#[component]
fn StatusBadge(row: CodeSourceRow) -> impl IntoView {
    let locale = use_locale();
    let (class, msg) = match row.status {
        RowStatus::Bound => ("badge badge-ok", Msg::StatusBound),
        RowStatus::Unbound => ("badge badge-idle", Msg::StatusUnbound),
        RowStatus::NotConfigured => ("badge badge-off", Msg::StatusNotConfigured),
        RowStatus::ExpiringSoon => ("badge badge-off", Msg::StatusExpiringSoon),
        RowStatus::NeedsReauth => ("badge badge-bad", Msg::StatusNeedsReauth),
    };
    // Why, and since when: visible text, not a tooltip only.
    let detail = match (row.status, row.reason.clone(), row.token_expires_at.clone()) {
        (RowStatus::NeedsReauth, Some(reason), _) => {
            Some(Signal::derive(move || reason_text(locale.get(), &reason)))
        }
        (RowStatus::ExpiringSoon, _, Some(date)) => Some(Signal::derive(move || {
            fill(Msg::ExpiresOn.text(locale.get()), &[&date])
        })),
        _ => None,
    };
    let checked = row.last_checked_at;
    // The dot is decoration; the word carries the status (never colour alone).
    view! {
        <span class=class>
            <span class="dot" aria-hidden="true"></span>
            {t(msg)}
        </span>
        {detail.map(|d| view! { <p class="status-detail">{d}</p> })}
        {checked.map(|secs| {
            // "Checked {}": the words around the time, the time itself a <time>.
            let part = move |after: bool| {
                let text = Msg::LastChecked.text(locale.get());
                let (before, rest) = text.split_once("{}").unwrap_or((text, ""));
                if after { rest } else { before }
            };
            view! {
                <p class="status-checked">
                    {move || part(false)}
                    <LocalTime secs />
                    {move || part(true)}
                </p>
            }
        })}
    }
}

#[component]
fn RowActions(row: CodeSourceRow) -> impl IntoView {
    let ctx = expect_context::<PageCtx>();
    let locale = use_locale();
    let p = row.provider;
    let name = p.display_name();
    let disabled = move || !ctx.hydrated.get();
    // Bind and re-authorize run the same flow; re-authorizing keeps the instance address.
    let start_bind = {
        let address = row.address.clone();
        let host = row.host.clone();
        move || match host.bind {
            BindMethod::AccessToken => ctx.dialog.set(DialogState::TokenForm {
                host: host.clone(),
                address: address.clone(),
            }),
            BindMethod::OAuth => ctx.dialog.set(DialogState::OAuth {
                provider: p,
                error: None,
            }),
            // The default binding has no Bind (see `is_default` below).
            BindMethod::Default => {}
        }
    };

    if row.is_default {
        return EitherOf5::A(view! { <span class="muted">{t(Msg::DefaultBindingHint)}</span> });
    }
    let unbind = {
        let row = row.clone();
        move || {
            view! {
                <button
                    type="button"
                    class="btn btn-link btn-danger-link"
                    id=action_id(p)
                    disabled=disabled
                    aria-label=move || fill(Msg::UnbindAria.text(locale.get()), &[name])
                    on:click={
                        let row = row.clone();
                        move |_| ctx.dialog.set(DialogState::Unbind(row.clone()))
                    }
                >
                    {t(Msg::Unbind)}
                </button>
            }
        }
    };
    let repos = {
        let row = row.clone();
        move || {
            let row = row.clone();
            view! {
                <button
                    type="button"
                    class="btn btn-link"
                    disabled=disabled
                    aria-label=move || fill(Msg::RepositoriesAria.text(locale.get()), &[name])
                    on:click=move |_| ctx.dialog.set(DialogState::Repositories(row.clone()))
                >
                    {t(Msg::Repositories)}
                </button>
            }
        }
    };
    match row.status {
        RowStatus::NotConfigured => {
            let hint_id = format!("hint-{}", p.as_str());
            EitherOf5::B(view! {
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
            })
        }
        RowStatus::Unbound => EitherOf5::C(view! {
            <button
                type="button"
                class="btn btn-link"
                id=action_id(p)
                disabled=disabled
                aria-label=move || fill(Msg::BindAria.text(locale.get()), &[name])
                on:click=move |_| start_bind()
            >
                {t(Msg::Bind)}
            </button>
        }),
        RowStatus::Bound => EitherOf5::D(view! {
            <span class="actions">
                {repos()}
                {unbind()}
            </span>
        }),
        RowStatus::ExpiringSoon | RowStatus::NeedsReauth => EitherOf5::E(view! {
            <span class="actions">
                <button
                    type="button"
                    class="btn btn-link"
                    disabled=disabled
                    aria-label=move || fill(Msg::ReauthorizeAria.text(locale.get()), &[name])
                    on:click=move |_| start_bind()
                >
                    {t(Msg::Reauthorize)}
                </button>
                {(row.status == RowStatus::ExpiringSoon).then(repos)}
                {unbind()}
            </span>
        }),
    }
}
