//! Browsing the bound account's repositories (search, pages) and a repository's branches, so
//! a tenant can see what the build service will be able to pull; and per repository the
//! auto-build switch (see `autobuild`).

use super::autobuild::{AutoBuild, AutoBuildPanel, AutoBuildSwitch, RepoAutoBuild};
use super::modal::Modal;
use super::{action_id, ErrorBox};
use crate::api::{list_branches, list_repositories, CodeSourceRow, RepoId, RepoPage};
use crate::i18n::{fill, Msg};
use crate::page_state::PageCtx;
use crate::{t, use_locale};
use leptos::prelude::*;

#[component]
pub fn RepositoriesDialog(row: CodeSourceRow) -> AnyView {
    let ctx = expect_context::<PageCtx>();
    let locale = use_locale();
    let provider = row.provider;
    let login = row
        .account
        .as_ref()
        .map(|a| a.login.clone())
        .unwrap_or_default();
    let search = RwSignal::new(String::new());
    let auto_build = AutoBuild::new(row.clone());

    // The listing asked for: the search as submitted and the page number. A local resource
    // (the dialog is never rendered on the server) fetches it; each result carries the query it
    // answers, so the dialog is busy while the latest result is for another one.
    let query = RwSignal::new((String::new(), 1u32));
    let listing = LocalResource::new(move || {
        let asked = query.get();
        async move {
            let (q, n) = asked.clone();
            (asked, list_repositories(provider, q, n).await)
        }
    });
    let busy = Signal::derive(move || {
        let asked = query.get();
        listing.with(|l| l.as_ref().is_none_or(|(answered, _)| *answered != asked))
    });
    let error = Signal::derive(move || {
        listing.with(|l| match l {
            Some((_, Err(e))) => Some(e.clone()),
            _ => None,
        })
    });
    // The page shown: the last one that loaded (a failed load keeps it, under its error).
    let page = Memo::new(
        move |shown: Option<&Option<RepoPage>>| match listing.get() {
            Some((_, Ok(p))) => Some(p),
            _ => shown.cloned().flatten(),
        },
    );
    let load = move |n: u32| query.set((search.get_untracked(), n));
    // The repository whose branches are open (one at a time), and a local resource listing
    // them; each answer carries the repository it lists.
    let open_repo = RwSignal::new(None::<RepoId>);
    let branches = LocalResource::new(move || {
        let open = open_repo.get();
        async move {
            let id = open?;
            let listed = list_branches(provider, id.clone()).await;
            Some((id, listed))
        }
    });
    let show_branches = move |id: RepoId| {
        open_repo.update(|open| *open = (open.as_ref() != Some(&id)).then_some(id));
    };
    let title = Signal::derive(move || {
        fill(
            Msg::RepositoriesTitle.text(locale.get()),
            &[provider.display_name(), &login],
        )
    });

    view! {
        <Modal title id="repositories-dialog" busy=Signal::derive(move || auto_build.busy()) on_close=move |_| ctx.close_dialog(Some(action_id(provider)))>
            <div class="modal-body">
                <form
                    class="repo-search"
                    role="search"
                    on:submit=move |ev: leptos::ev::SubmitEvent| {
                        ev.prevent_default();
                        load(1);
                    }
                >
                    <input
                        type="search"
                        aria-label=t(Msg::RepoSearch)
                        placeholder=t(Msg::RepoSearch)
                        maxlength="100"
                        prop:value=move || search.get()
                        on:input=move |ev| search.set(event_target_value(&ev))
                    />
                    <button type="submit" class="btn" disabled=move || busy.get()>{t(Msg::RepoSearch)}</button>
                </form>
                {move || error.get().map(|err| view! { <ErrorBox err host=provider /> })}
                <p class="help">{t(Msg::AutoBuildIntro)}</p>
                {move || auto_build.list_error().map(|err| view! {
                    <div class="autobuild-list-error">
                        <p>{t(Msg::AutoBuildListFailed)}</p>
                        <ErrorBox err host=provider />
                    </div>
                })}
                <Show when=move || busy.get()>
                    <p class="progress" role="status"><span class="spinner" aria-hidden="true"></span>{t(Msg::Loading)}</p>
                </Show>
                {move || page.get().map(|p| {
                    let (current, next) = (p.page, p.next_page);
                    let empty = p.items.is_empty();
                    view! {
                        <ul class="repo-list" aria-label=t(Msg::Repositories)>
                            {p.items.into_iter().map(|r| {
                                let id = r.id.clone();
                                let id2 = r.id.clone();
                                let name = r.full_name.clone();
                                let state = RepoAutoBuild::new(auto_build, r.clone());
                                view! {
                                    <li>
                                        <div class="repo-line">
                                            <span class="repo-name mono">{r.full_name.clone()}</span>
                                            {r.private.then(|| view! { <span class="badge badge-idle">{t(Msg::RepoPrivate)}</span> })}
                                            <AutoBuildSwitch state />
                                            <button
                                                type="button"
                                                class="btn btn-small"
                                                aria-expanded=move || open_repo.with(|o| o.as_ref() == Some(&id2)).to_string()
                                                aria-label=move || fill(Msg::RepoBranchesOf.text(locale.get()), &[&name])
                                                on:click=move |_| show_branches(id.clone())
                                            >
                                                {t(Msg::RepoBranches)}
                                            </button>
                                        </div>
                                        {
                                            let id3 = r.id.clone();
                                            // Open: its branches once their answer is in, a progress line until then.
                                            let listed = move || {
                                                if !open_repo.with(|o| o.as_ref() == Some(&id3)) {
                                                    return None;
                                                }
                                                Some(branches.get().flatten().filter(|(o, _)| *o == id3).map(|(_, b)| b))
                                            };
                                            move || listed().map(|b| match b {
                                                None => view! {
                                                    <p class="progress" role="status"><span class="spinner" aria-hidden="true"></span>{t(Msg::Loading)}</p>
                                                }.into_any(),
                                                Some(Ok(list)) => view! {
                                                    <ul class="branch-list">
                                                        {list.into_iter().map(|b| view! {
                                                            <li class="mono">{b.name}{b.default.then(|| view! { <span class="muted">{" · "}{t(Msg::RepoDefaultBranch)}</span> })}</li>
                                                        }).collect_view()}
                                                    </ul>
                                                }.into_any(),
                                                Some(Err(err)) => view! { <ErrorBox err host=provider /> }.into_any(),
                                            })
                                        }
                                        <AutoBuildPanel state />
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                        {empty.then(|| view! { <p class="muted">{t(Msg::RepoNone)}</p> })}
                        <nav class="pager" aria-label=t(Msg::Repositories)>
                            <button type="button" class="btn btn-small" disabled=move || busy.get() || current <= 1 on:click=move |_| load(current - 1)>
                                {t(Msg::PagePrev)}
                            </button>
                            <span>{move || fill(Msg::PageNumber.text(locale.get()), &[&current.to_string()])}</span>
                            <button type="button" class="btn btn-small" disabled=move || busy.get() || next.is_none() on:click=move |_| load(next.unwrap_or(current))>
                                {t(Msg::PageNext)}
                            </button>
                        </nav>
                    }
                    // Type-erased: the listing's view type is deep enough to overflow the
                    // compiler's query depth in a release build of the whole dialog.
                    .into_any()
                })}
            </div>
        </Modal>
    }
    .into_any()
}
