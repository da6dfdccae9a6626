//! Auto-build in the repositories dialog (issue #22): per repository a switch; turning it on
//! asks for the branch and tag filters; once on, the filters, the time of the last delivery and
//! the last deliveries show under the repository. When the code host refuses to add the
//! webhook, the row offers the ways out: re-authorize (OAuth hosts) or bind a token that has
//! the scope (token hosts), or add the webhook by hand (manual setup, its secret shown once).
//!
//! Once on, the registration's status (what the last check at the code host found, and what
//! fixes it) and its actions (issue #23): Repair, Build latest commit, Rotate secret.
//!
//! Every change is a server action, and the registrations a resource refetched whenever one of
//! them finishes: busy states and results come from Leptos, not from hand-kept flags.

mod actions;
mod deliveries;
mod filters;
mod manual;
mod status;

use super::ErrorBox;
use crate::api::{
    list_auto_builds, ApiError, AutoBuildFilters, AutoBuildRepaired, AutoBuildStatus,
    AutoBuildView, BindMethod, BuildLatestCommit, BuildRef, CodeSourceRow, DisableAutoBuild,
    EnableAutoBuild, HookRefusal, ManualBuildDone, ManualSetup, Provider, RepairAutoBuild, RepoId,
    Repository, RotateAutoBuildSecret, SecretRotated,
};
use crate::i18n::{fill, Msg};
use crate::page_state::{DialogState, PageCtx};
use crate::{t, use_locale};
use actions::{ActionButtons, ActionOutcome, BuildForm, RotateConfirm};
use deliveries::Deliveries;
use filters::{filters_from, join_patterns};
use leptos::prelude::*;
use manual::ManualSetupPanel;
use status::StatusFact;

/// Which change of the dialog is under way (one at a time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    /// Turning auto-build on or off, or saving its filters.
    Save,
    Repair,
    Build,
    Rotate,
}

/// The dialog's auto-build state, shared by its repository rows.
#[derive(Clone, Copy)]
pub struct AutoBuild {
    provider: Provider,
    row: StoredValue<CodeSourceRow>,
    views: LocalResource<Result<Vec<AutoBuildView>, ApiError>>,
    enable: ServerAction<EnableAutoBuild>,
    disable: ServerAction<DisableAutoBuild>,
    repair: ServerAction<RepairAutoBuild>,
    build: ServerAction<BuildLatestCommit>,
    rotate: ServerAction<RotateAutoBuildSecret>,
    /// The repository the last change was for: its result shows in that row (an action's
    /// input is gone once it resolves).
    target: RwSignal<Option<RepoId>>,
}

impl AutoBuild {
    /// One list call when the dialog opens (the dialog is never rendered on the server, hence
    /// a local resource), again after each change (a repair stores a new status, a build the
    /// time of the last delivery).
    pub fn new(row: CodeSourceRow) -> Self {
        let provider = row.provider;
        let enable = ServerAction::<EnableAutoBuild>::new();
        let disable = ServerAction::<DisableAutoBuild>::new();
        let repair = ServerAction::<RepairAutoBuild>::new();
        let build = ServerAction::<BuildLatestCommit>::new();
        let rotate = ServerAction::<RotateAutoBuildSecret>::new();
        let views = LocalResource::new(move || {
            enable.version().track();
            disable.version().track();
            repair.version().track();
            build.version().track();
            rotate.version().track();
            list_auto_builds(provider)
        });
        Self {
            provider,
            row: StoredValue::new(row),
            views,
            enable,
            disable,
            repair,
            build,
            rotate,
            target: RwSignal::new(None),
        }
    }

    /// Why the registrations could not be loaded (the switches stay disabled then).
    pub fn list_error(self) -> Option<ApiError> {
        self.views.get().and_then(Result::err)
    }

    /// `None` until the list is loaded; then the repository's registration, if it has one.
    /// A change that just succeeded counts before the list's reload arrives (so the switch does
    /// not flip back for the length of a round trip).
    fn view_of(self, repo: &RepoId) -> Option<Option<AutoBuildView>> {
        let listed = self.views.with(|v| match v {
            Some(Ok(list)) => Some(list.iter().find(|v| v.repository == repo.as_str()).cloned()),
            _ => None,
        })?;
        if !self.is_target(repo) {
            return Some(listed);
        }
        if let Some(Ok(enabled)) = self.enable.value().get() {
            return Some(Some(listed.unwrap_or(enabled.view)));
        }
        if let Some(Ok(())) = self.disable.value().get() {
            return Some(None);
        }
        // A repair's answer until the list's reload, checked no earlier, has arrived.
        if let (Some(l), Some(Ok(r))) = (&listed, self.repair.value().get()) {
            if l.checked_at < r.view.checked_at {
                return Some(Some(r.view));
            }
        }
        Some(listed)
    }

    /// The change under way, if any.
    fn pending(self) -> Option<Op> {
        if self.enable.pending().get() || self.disable.pending().get() {
            Some(Op::Save)
        } else if self.repair.pending().get() {
            Some(Op::Repair)
        } else if self.build.pending().get() {
            Some(Op::Build)
        } else if self.rotate.pending().get() {
            Some(Op::Rotate)
        } else {
            None
        }
    }

    /// One change at a time: the result shows in the row it was for (and the dialog stays open
    /// until it is in, so that it is never lost).
    pub fn busy(self) -> bool {
        self.pending().is_some()
    }

    fn busy_untracked(self) -> bool {
        untrack(move || self.busy())
    }

    fn begin(self, repo: &RepoId) {
        self.target.set(Some(repo.clone()));
        self.enable.value().set(None);
        self.disable.value().set(None);
        self.repair.value().set(None);
        self.build.value().set(None);
        self.rotate.value().set(None);
    }

    fn turn_on(self, repo: &RepoId, filters: AutoBuildFilters, manual: bool) {
        self.begin(repo);
        self.enable.dispatch(EnableAutoBuild {
            provider: self.provider,
            repo: repo.clone(),
            filters,
            manual,
        });
    }

    fn turn_off(self, repo: &RepoId) {
        self.begin(repo);
        self.disable.dispatch(DisableAutoBuild {
            provider: self.provider,
            repo: repo.clone(),
        });
    }

    fn repair_now(self, repo: &RepoId) {
        self.begin(repo);
        self.repair.dispatch(RepairAutoBuild {
            provider: self.provider,
            repo: repo.clone(),
        });
    }

    fn build_now(self, repo: &RepoId, git_ref: BuildRef) {
        self.begin(repo);
        self.build.dispatch(BuildLatestCommit {
            provider: self.provider,
            repo: repo.clone(),
            git_ref,
        });
    }

    fn rotate_now(self, repo: &RepoId) {
        self.begin(repo);
        self.rotate.dispatch(RotateAutoBuildSecret {
            provider: self.provider,
            repo: repo.clone(),
        });
    }

    fn is_target(self, repo: &RepoId) -> bool {
        self.target.with(|t| t.as_ref() == Some(repo))
    }

    /// The change under way for `repo`, if any.
    fn pending_for(self, repo: &RepoId) -> Option<Op> {
        self.pending().filter(|_| self.is_target(repo))
    }

    /// What the last repair of `repo` answered.
    fn repaired_for(self, repo: &RepoId) -> Option<AutoBuildRepaired> {
        self.is_target(repo)
            .then(|| self.repair.value().get().and_then(Result::ok))
            .flatten()
    }

    /// What the last build of `repo` answered.
    fn built_for(self, repo: &RepoId) -> Option<ManualBuildDone> {
        self.is_target(repo)
            .then(|| self.build.value().get().and_then(Result::ok))
            .flatten()
    }

    /// What the last rotation of `repo`'s secret answered.
    fn rotated_for(self, repo: &RepoId) -> Option<SecretRotated> {
        self.is_target(repo)
            .then(|| self.rotate.value().get().and_then(Result::ok))
            .flatten()
    }

    /// The failure of the last repair, build or rotation, when it was for `repo`.
    fn action_error_for(self, repo: &RepoId) -> Option<ApiError> {
        if !self.is_target(repo) {
            return None;
        }
        let repaired = self.repair.value().get().and_then(Result::err);
        repaired
            .or_else(|| self.build.value().get().and_then(Result::err))
            .or_else(|| self.rotate.value().get().and_then(Result::err))
    }

    /// The failure of the last change, when it was for `repo`.
    fn error_for(self, repo: &RepoId) -> Option<ApiError> {
        if !self.is_target(repo) {
            return None;
        }
        let enabled = self.enable.value().get().and_then(Result::err);
        enabled.or_else(|| self.disable.value().get().and_then(Result::err))
    }

    /// Opening a form for `repo` starts afresh: the failure of an earlier change or action for
    /// it no longer shows under the new form. (Successes stay: a switch turned on counts until
    /// the list's reload arrives.)
    fn forget_failures(self, repo: &RepoId) {
        if !self.is_target(repo) || self.busy_untracked() {
            return;
        }
        macro_rules! forget {
            ($($action:ident),*) => {$(
                if matches!(self.$action.value().get_untracked(), Some(Err(_))) {
                    self.$action.value().set(None);
                }
            )*};
        }
        forget!(enable, disable, repair, build, rotate);
    }

    /// What to paste into the code host, right after `repo` was set up by hand.
    fn manual_for(self, repo: &RepoId) -> Option<ManualSetup> {
        match self.enable.value().get() {
            Some(Ok(enabled)) if enabled.view.repository == repo.as_str() => enabled.manual,
            _ => None,
        }
    }
}

/// A repository row's own auto-build state: the filters form (its text kept while the row
/// exists, so "Set up manually" after a refusal sends what was typed).
#[derive(Clone, Copy)]
pub struct RepoAutoBuild {
    ab: AutoBuild,
    repo: StoredValue<Repository>,
    form_open: RwSignal<bool>,
    branches: RwSignal<String>,
    tags: RwSignal<String>,
    /// The form's text would be refused (checked before sending).
    invalid: RwSignal<bool>,
    deliveries_open: RwSignal<bool>,
    /// "Build latest commit": its form, whether a branch or a tag, and the name.
    build_open: RwSignal<bool>,
    build_kind: RwSignal<actions::RefKind>,
    build_name: RwSignal<String>,
    /// No name was given (checked before sending).
    build_invalid: RwSignal<bool>,
    /// "Rotate secret": its confirm step.
    rotate_open: RwSignal<bool>,
}

impl RepoAutoBuild {
    pub fn new(ab: AutoBuild, repo: Repository) -> Self {
        Self {
            ab,
            repo: StoredValue::new(repo),
            form_open: RwSignal::new(false),
            branches: RwSignal::new(String::new()),
            tags: RwSignal::new(String::new()),
            invalid: RwSignal::new(false),
            deliveries_open: RwSignal::new(false),
            build_open: RwSignal::new(false),
            build_kind: RwSignal::new(actions::RefKind::Branch),
            build_name: RwSignal::new(String::new()),
            build_invalid: RwSignal::new(false),
            rotate_open: RwSignal::new(false),
        }
    }

    fn id(self) -> RepoId {
        self.repo.with_value(|r| r.id.clone())
    }

    /// The switch's element id: the keyboard goes back to it when the form closes.
    fn switch_id(self) -> String {
        self.repo.with_value(|r| format!("ab-switch-{}", r.id))
    }

    /// An action button's element id (`repair`, `build`, `rotate`): the keyboard goes back to
    /// it when its form or confirm step closes.
    fn action_id(self, action: &str) -> String {
        self.repo.with_value(|r| format!("ab-{action}-{}", r.id))
    }

    /// The repository's name as the listing shows it (what accessible names say).
    fn name(self) -> String {
        self.repo.with_value(|r| r.full_name.clone())
    }

    fn close_form(self) {
        self.form_open.set(false);
        super::focus_element(&self.switch_id());
    }

    fn view(self) -> Option<AutoBuildView> {
        self.ab.view_of(&self.id()).flatten()
    }

    /// Opens the form with the registration's filters, or the defaults: the default branch and
    /// `v*` tags.
    fn open_form(self, current: Option<&AutoBuildView>) {
        let (branches, tags) = match current {
            Some(v) => (join_patterns(&v.branches), join_patterns(&v.tags)),
            None => (
                self.repo
                    .with_value(|r| r.default_branch.clone())
                    .unwrap_or_else(|| "main".into()),
                "v*".to_string(),
            ),
        };
        self.branches.set(branches);
        self.tags.set(tags);
        self.invalid.set(false);
        self.ab.forget_failures(&self.id());
        self.form_open.set(true);
    }

    fn toggle(self) {
        match self.view() {
            Some(_) => {
                self.form_open.set(false);
                self.ab.turn_off(&self.id());
            }
            None if self.form_open.get_untracked() => self.form_open.set(false),
            None => self.open_form(None),
        }
    }

    fn submit(self, manual: bool) {
        match filters_from(&self.branches.get_untracked(), &self.tags.get_untracked()) {
            Some(filters) => {
                self.invalid.set(false);
                self.close_form();
                self.ab.turn_on(&self.id(), filters, manual);
            }
            None => self.invalid.set(true),
        }
    }
}

/// The switch in the repository's line. Its accessible name names the repository ("Auto-build
/// alice/repo-01"); it is checked when the repository has a registration.
#[component]
pub fn AutoBuildSwitch(state: RepoAutoBuild) -> impl IntoView {
    let locale = use_locale();
    let ab = state.ab;
    let name = state.repo.with_value(|r| r.full_name.clone());
    let id = state.id();
    let on = move || state.view().is_some();
    let loaded = move || ab.view_of(&id).is_some();
    view! {
        <button
            type="button"
            role="switch"
            class="switch"
            id=state.switch_id()
            aria-checked=move || on().to_string()
            aria-label=move || fill(Msg::AutoBuildOf.text(locale.get()), &[&name])
            // Not `disabled` while a change is under way: a disabled button cannot keep (or be
            // given back) the keyboard focus.
            disabled=move || !loaded()
            aria-disabled=move || ab.busy().to_string()
            on:click=move |_| {
                if !ab.busy_untracked() {
                    state.toggle();
                }
            }
        >
            <span class="switch-track" aria-hidden="true"><span class="switch-knob"></span></span>
            <span class="switch-text">{t(Msg::AutoBuild)}</span>
        </button>
    }
}

/// Under the repository's line: the change under way, its failure and the ways out, what to
/// paste after a manual setup, the filters form, and the registration's details.
#[component]
pub fn AutoBuildPanel(state: RepoAutoBuild) -> impl IntoView {
    let ab = state.ab;
    let id = StoredValue::new(state.id());
    let saving = move || id.with_value(|id| ab.pending_for(id)) == Some(Op::Save);
    let current = Memo::new(move |_| state.view());
    view! {
        <Show when=saving>
            <p class="progress" role="status"><span class="spinner" aria-hidden="true"></span>{t(Msg::AutoBuildSaving)}</p>
        </Show>
        {move || id.with_value(|id| ab.error_for(id)).map(|err| view! { <Refusal state err /> })}
        {move || id.with_value(|id| ab.manual_for(id)).map(|setup| {
            view! { <ManualSetupPanel setup provider=ab.provider on_done=move || ab.enable.value().set(None) /> }
        })}
        <Show when=move || state.form_open.get()>
            <FiltersForm state />
        </Show>
        // Rendered once while the registration exists; its parts follow `current`, so a new
        // status or delivery time does not replace the buttons (nor take the keyboard focus).
        <Show when=move || current.with(Option::is_some)>
            <Registration state current />
        </Show>
    }
}

/// A failed change, and its ways out when the grant cannot manage webhooks.
#[component]
fn Refusal(state: RepoAutoBuild, err: ApiError) -> impl IntoView {
    let ctx = expect_context::<PageCtx>();
    let locale = use_locale();
    let ab = state.ab;
    let row = ab.row.get_value();
    let host = row.provider.display_name();
    let (missing, by_hand) = match &err {
        ApiError::AutoBuild(HookRefusal::MissingScope { needed }) => {
            (Some(needed.join(", ")), true)
        }
        ApiError::AutoBuild(HookRefusal::NotAdmin) => (None, true),
        _ => (None, false),
    };
    // Re-authorizing and binding a new token replace the binding: the row's own flows.
    let way_out = missing.map(|scopes| match row.host.bind {
        BindMethod::OAuth => view! {
            <p>{move || fill(Msg::AutoBuildReauthHint.text(locale.get()), &[host])}</p>
            <button
                type="button"
                class="btn btn-small"
                on:click=move |_| ctx.dialog.set(DialogState::OAuth { provider: row.provider, error: None })
            >
                {t(Msg::Reauthorize)}
            </button>
        }
        .into_any(),
        BindMethod::AccessToken => {
            let (host_info, address) = (row.host.clone(), row.address.clone());
            view! {
                <p>{move || fill(Msg::AutoBuildNewTokenHint.text(locale.get()), &[host, &scopes])}</p>
                <button
                    type="button"
                    class="btn btn-small"
                    on:click=move |_| ctx.dialog.set(DialogState::TokenForm { host: host_info.clone(), address: address.clone() })
                >
                    {t(Msg::AutoBuildNewToken)}
                </button>
            }
            .into_any()
        }
        // The default binding has no repositories dialog.
        BindMethod::Default => ().into_any(),
    });
    view! {
        <div class="autobuild-refusal">
            <ErrorBox err host=row.provider />
            {(way_out.is_some() || by_hand).then(|| view! {
                <div class="autobuild-ways">
                    {way_out}
                    {by_hand.then(|| view! {
                        <button
                            type="button"
                            class="btn btn-small"
                            disabled=move || ab.busy()
                            on:click=move |_| state.submit(true)
                        >
                            {t(Msg::AutoBuildSetUpManually)}
                        </button>
                    })}
                </div>
            })}
        </div>
    }
}

/// Which pushes build: the form that turns auto-build on (or changes its filters).
#[component]
fn FiltersForm(state: RepoAutoBuild) -> impl IntoView {
    let locale = use_locale();
    let id = state.id();
    let (branches_id, tags_id, help_id) = (
        format!("ab-branches-{id}"),
        format!("ab-tags-{id}"),
        format!("ab-help-{id}"),
    );
    let editing = state.view().is_some();
    let first = NodeRef::<leptos::html::Textarea>::new();
    // The form opens from the switch: the first field gets the keyboard.
    Effect::new(move |_| {
        if let Some(el) = first.get() {
            let _ = el.focus();
        }
    });
    let name = state.repo.with_value(|r| r.full_name.clone());
    view! {
        <form
            class="autobuild-form"
            aria-label=move || fill(Msg::AutoBuildOf.text(locale.get()), &[&name])
            on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                state.submit(false);
            }
        >
            <p class="autobuild-form-title">{t(Msg::AutoBuildFormTitle)}</p>
            <div class="autobuild-fields">
                <div class="field">
                    <label for=branches_id.clone()>{t(Msg::AutoBuildBranches)}</label>
                    <textarea
                        id=branches_id
                        rows="2"
                        spellcheck="false"
                        aria-describedby=help_id.clone()
                        node_ref=first
                        prop:value=move || state.branches.get()
                        on:input=move |ev| state.branches.set(event_target_value(&ev))
                    ></textarea>
                </div>
                <div class="field">
                    <label for=tags_id.clone()>{t(Msg::AutoBuildTags)}</label>
                    <textarea
                        id=tags_id
                        rows="2"
                        spellcheck="false"
                        aria-describedby=help_id.clone()
                        prop:value=move || state.tags.get()
                        on:input=move |ev| state.tags.set(event_target_value(&ev))
                    ></textarea>
                </div>
            </div>
            <p class="help" id=help_id>{t(Msg::AutoBuildPatternsHelp)}</p>
            <Show when=move || state.invalid.get()>
                <ErrorBox err=ApiError::AutoBuild(HookRefusal::InvalidFilters) />
            </Show>
            <div class="autobuild-buttons">
                <button type="button" class="btn btn-small" on:click=move |_| state.close_form()>
                    {t(Msg::Cancel)}
                </button>
                <button type="submit" class="btn btn-small btn-primary" disabled=move || state.ab.busy()>
                    {t(if editing { Msg::AutoBuildSave } else { Msg::AutoBuildTurnOn })}
                </button>
            </div>
        </form>
    }
}

/// A repository's registration: its status, filters, where it is delivered (manual setup),
/// the last delivery, its actions, and the deliveries on request.
#[component]
fn Registration(state: RepoAutoBuild, current: Memo<Option<AutoBuildView>>) -> impl IntoView {
    let locale = use_locale();
    let list = move |pick: fn(&AutoBuildView) -> &Vec<String>| {
        move || {
            let patterns = current.with(|v| v.as_ref().map(pick).cloned().unwrap_or_default());
            if patterns.is_empty() {
                view! { <span class="muted">{t(Msg::AutoBuildNone)}</span> }.into_any()
            } else {
                view! { <span class="mono">{join_patterns(&patterns)}</span> }.into_any()
            }
        }
    };
    let manual = move || {
        current.with(|v| {
            v.as_ref()
                .is_some_and(|v| v.status == AutoBuildStatus::ManualSetup)
        })
    };
    let name = state.name();
    view! {
        <div class="autobuild-info">
            <dl class="facts">
                <StatusFact current provider=state.ab.provider />
                <dt>{t(Msg::AutoBuildBranches)}</dt>
                <dd>{list(|v| &v.branches)}</dd>
                <dt>{t(Msg::AutoBuildTags)}</dt>
                <dd>{list(|v| &v.tags)}</dd>
                <Show when=manual>
                    <dt>{t(Msg::AutoBuildWebhookUrl)}</dt>
                    <dd class="mono">{move || current.with(|v| v.as_ref().map(|v| v.webhook_url.clone()))}</dd>
                </Show>
                <dt>{t(Msg::AutoBuildLastDelivery)}</dt>
                <dd class="autobuild-last">
                    {move || match current.with(|v| v.as_ref().and_then(|v| v.last_delivery_at)) {
                        Some(ms) => view! { <super::LocalTime secs=ms.div_euclid(1000) /> }.into_any(),
                        None => view! { <span class="muted">{t(Msg::AutoBuildNoDelivery)}</span> }.into_any(),
                    }}
                </dd>
            </dl>
            <div class="autobuild-buttons">
                <button
                    type="button"
                    class="btn btn-small"
                    aria-expanded=move || state.deliveries_open.get().to_string()
                    aria-label={
                        let name = name.clone();
                        move || fill(Msg::DeliveriesOf.text(locale.get()), &[&name])
                    }
                    on:click=move |_| state.deliveries_open.update(|open| *open = !*open)
                >
                    {t(Msg::Deliveries)}
                </button>
                <Show when=move || !state.form_open.get()>
                    <button
                        type="button"
                        class="btn btn-small"
                        disabled=move || state.ab.busy()
                        on:click=move |_| {
                            let now = current.get_untracked();
                            state.open_form(now.as_ref());
                        }
                    >
                        {t(Msg::AutoBuildEdit)}
                    </button>
                </Show>
                <ActionButtons state />
            </div>
            <Show when=move || state.build_open.get()>
                <BuildForm state />
            </Show>
            <Show when=move || state.rotate_open.get()>
                <RotateConfirm state manual=Signal::derive(manual) />
            </Show>
            <ActionOutcome state />
            <Show when=move || state.deliveries_open.get()>
                <Deliveries
                    provider=state.ab.provider
                    repo=state.id()
                    name=name.clone()
                    reload=Signal::derive(move || state.ab.build.version().get())
                    on_refresh=move || state.ab.views.refetch()
                />
            </Show>
        </div>
    }
}
