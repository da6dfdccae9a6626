//! What a tenant can do about a repository with auto-build (issue #23), besides changing its
//! filters: **Repair** checks the webhook at the code host now and puts it right (as the
//! periodic reconcile does), **Build latest commit** builds the head of a branch or tag asked
//! for by name (a push the code host never delivered, or one made while the build service was
//! down), and **Rotate secret** gives the webhook a new secret after a confirm step (a webhook
//! set up by hand gets it shown once, to paste into the host).
//!
//! Each is one of the dialog's server actions ([`AutoBuild`](super::AutoBuild)): one change at
//! a time, its pending state, result and error shown in the row it was for.

use super::deliveries::short_commit;
use super::manual::ManualSetupPanel;
use super::{Op, RepoAutoBuild};
use crate::api::{AutoBuildRepaired, BuildRef, ManualBuildDone};
use crate::components::{focus_element, ErrorBox};
use crate::i18n::{autobuild_status_text, fill, repair_change_text, Msg};
use crate::{t, use_locale};
use leptos::prelude::*;

/// What "Build latest commit" builds: a branch or a tag (the form's choice).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefKind {
    Branch,
    Tag,
}

impl RefKind {
    /// The `<option>` value.
    fn value(self) -> &'static str {
        match self {
            RefKind::Branch => "branch",
            RefKind::Tag => "tag",
        }
    }

    fn from_value(v: &str) -> RefKind {
        if v == RefKind::Tag.value() {
            RefKind::Tag
        } else {
            RefKind::Branch
        }
    }

    fn label(self) -> Msg {
        match self {
            RefKind::Branch => Msg::AutoBuildBuildBranch,
            RefKind::Tag => Msg::AutoBuildBuildTag,
        }
    }

    fn named(self, name: String) -> BuildRef {
        match self {
            RefKind::Branch => BuildRef::Branch(name),
            RefKind::Tag => BuildRef::Tag(name),
        }
    }
}

impl RepoAutoBuild {
    /// Opens the build form with a branch, the repository's default one.
    fn open_build(self) {
        self.rotate_open.set(false);
        self.build_kind.set(RefKind::Branch);
        self.build_name.set(
            self.repo
                .with_value(|r| r.default_branch.clone().unwrap_or_default()),
        );
        self.build_invalid.set(false);
        self.ab.forget_failures(&self.id());
        self.build_open.set(true);
    }

    fn close_build(self) {
        self.build_open.set(false);
        focus_element(&self.action_id("build"));
    }

    fn submit_build(self) {
        let name = self.build_name.get_untracked().trim().to_string();
        if name.is_empty() {
            self.build_invalid.set(true);
            return;
        }
        if self.ab.busy_untracked() {
            return;
        }
        let git_ref = self.build_kind.get_untracked().named(name);
        self.close_build();
        self.ab.build_now(&self.id(), git_ref);
    }

    /// Opens the rotation's confirm step (closing the build form).
    fn open_rotate(self) {
        self.build_open.set(false);
        self.ab.forget_failures(&self.id());
        self.rotate_open.set(true);
    }

    fn close_rotate(self) {
        self.rotate_open.set(false);
        focus_element(&self.action_id("rotate"));
    }
}

/// Repair, Build latest commit and Rotate secret, in the registration's row of buttons. Their
/// accessible names name the repository ("Repair alice/repo-01").
#[component]
pub fn ActionButtons(state: RepoAutoBuild) -> impl IntoView {
    let locale = use_locale();
    let ab = state.ab;
    let name = StoredValue::new(state.name());
    let label = move |msg: Msg| move || name.with_value(|n| fill(msg.text(locale.get()), &[n]));
    view! {
        <button
            type="button"
            class="btn btn-small"
            id=state.action_id("repair")
            aria-label=label(Msg::AutoBuildRepairOf)
            // Not `disabled` while a change is under way: a disabled button loses the keyboard
            // focus, and this one keeps it while its own repair runs.
            aria-disabled=move || ab.busy().to_string()
            on:click=move |_| {
                if !ab.busy_untracked() {
                    state.build_open.set(false);
                    state.rotate_open.set(false);
                    ab.repair_now(&state.id());
                }
            }
        >
            {t(Msg::AutoBuildRepair)}
        </button>
        <button
            type="button"
            class="btn btn-small"
            id=state.action_id("build")
            aria-label=label(Msg::AutoBuildBuildOf)
            aria-expanded=move || state.build_open.get().to_string()
            on:click=move |_| {
                if state.build_open.get_untracked() {
                    state.build_open.set(false);
                } else {
                    state.open_build();
                }
            }
        >
            {t(Msg::AutoBuildBuild)}
        </button>
        <button
            type="button"
            class="btn btn-small"
            id=state.action_id("rotate")
            aria-label=label(Msg::AutoBuildRotateOf)
            aria-expanded=move || state.rotate_open.get().to_string()
            on:click=move |_| {
                if state.rotate_open.get_untracked() {
                    state.rotate_open.set(false);
                } else {
                    state.open_rotate();
                }
            }
        >
            {t(Msg::AutoBuildRotate)}
        </button>
    }
}

/// Which ref to build: a branch or a tag, by name (the default branch to start with).
#[component]
pub fn BuildForm(state: RepoAutoBuild) -> impl IntoView {
    let locale = use_locale();
    let id = state.id();
    let (kind_id, name_id, help_id) = (
        format!("ab-build-kind-{id}"),
        format!("ab-build-name-{id}"),
        format!("ab-build-help-{id}"),
    );
    let host = state.ab.provider.display_name();
    let name = state.name();
    let first = NodeRef::<leptos::html::Select>::new();
    // The form opens from its button: the first field gets the keyboard.
    Effect::new(move |_| {
        if let Some(el) = first.get() {
            let _ = el.focus();
        }
    });
    view! {
        <form
            class="autobuild-form"
            aria-label=move || fill(Msg::AutoBuildBuildOf.text(locale.get()), &[&name])
            on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                state.submit_build();
            }
        >
            <div class="autobuild-fields autobuild-build-fields">
                <div class="field">
                    <label for=kind_id.clone()>{t(Msg::AutoBuildBuildKind)}</label>
                    <select
                        id=kind_id
                        node_ref=first
                        on:change=move |ev| state.build_kind.set(RefKind::from_value(&event_target_value(&ev)))
                    >
                        {[RefKind::Branch, RefKind::Tag].map(|kind| view! {
                            <option value=kind.value() selected=move || state.build_kind.get() == kind>
                                {t(kind.label())}
                            </option>
                        })}
                    </select>
                </div>
                <div class="field">
                    <label for=name_id.clone()>{t(Msg::AutoBuildBuildName)}</label>
                    <input
                        id=name_id
                        type="text"
                        class="mono"
                        spellcheck="false"
                        autocomplete="off"
                        maxlength="255"
                        aria-describedby=help_id.clone()
                        aria-invalid=move || state.build_invalid.get().to_string()
                        prop:value=move || state.build_name.get()
                        on:input=move |ev| {
                            state.build_name.set(event_target_value(&ev));
                            state.build_invalid.set(false);
                        }
                    />
                </div>
            </div>
            <p class="help" id=help_id>{move || fill(Msg::AutoBuildBuildHelp.text(locale.get()), &[host])}</p>
            <Show when=move || state.build_invalid.get()>
                <div class="error-box" role="alert">
                    <p class="error-title">{t(Msg::AutoBuildBuildNameMissing)}</p>
                </div>
            </Show>
            <div class="autobuild-buttons">
                <button type="button" class="btn btn-small" on:click=move |_| state.close_build()>
                    {t(Msg::Cancel)}
                </button>
                <button
                    type="submit"
                    class="btn btn-small btn-primary"
                    aria-disabled=move || state.ab.busy().to_string()
                >
                    {t(Msg::AutoBuildBuildSubmit)}
                </button>
            </div>
        </form>
    }
}

/// The confirm step of a rotation: what happens to the webhook and to the old secret.
#[component]
pub fn RotateConfirm(
    state: RepoAutoBuild,
    /// Set up by hand: the user pastes the new secret, nothing is updated for them.
    manual: Signal<bool>,
) -> impl IntoView {
    let locale = use_locale();
    let host = state.ab.provider.display_name();
    let name = state.name();
    let cancel = NodeRef::<leptos::html::Button>::new();
    // Opened from its button: the keyboard lands on the way back, not on the change.
    Effect::new(move |_| {
        if let Some(el) = cancel.get() {
            let _ = el.focus();
        }
    });
    let text = {
        let name = name.clone();
        move || {
            let msg = if manual.get() {
                Msg::AutoBuildRotateConfirmManual
            } else {
                Msg::AutoBuildRotateConfirm
            };
            fill(msg.text(locale.get()), &[&name, host])
        }
    };
    view! {
        <div
            class="notice autobuild-confirm"
            role="group"
            aria-label=move || fill(Msg::AutoBuildRotateOf.text(locale.get()), &[&name])
        >
            <p>{text}</p>
            <div class="autobuild-buttons">
                <button type="button" class="btn btn-small" node_ref=cancel on:click=move |_| state.close_rotate()>
                    {t(Msg::Cancel)}
                </button>
                <button
                    type="button"
                    class="btn btn-small btn-primary"
                    aria-disabled=move || state.ab.busy().to_string()
                    on:click=move |_| {
                        if !state.ab.busy_untracked() {
                            state.close_rotate();
                            state.ab.rotate_now(&state.id());
                        }
                    }
                >
                    {t(Msg::AutoBuildRotate)}
                </button>
            </div>
        </div>
    }
}

/// The repair, build or rotation under way for this repository, or how the last one ended.
#[component]
pub fn ActionOutcome(state: RepoAutoBuild) -> impl IntoView {
    let locale = use_locale();
    let ab = state.ab;
    let provider = ab.provider;
    let host = provider.display_name();
    let id = StoredValue::new(state.id());
    let pending = move || {
        let msg = match id.with_value(|id| ab.pending_for(id))? {
            Op::Repair => Msg::AutoBuildRepairing,
            Op::Build => Msg::AutoBuildBuilding,
            Op::Rotate => Msg::AutoBuildRotating,
            // Shown above the details, where turning it on shows it too.
            Op::Save => return None,
        };
        Some(view! {
            <p class="progress" role="status">
                <span class="spinner" aria-hidden="true"></span>
                {move || fill(msg.text(locale.get()), &[host])}
            </p>
        })
    };
    view! {
        {pending}
        {move || id.with_value(|id| ab.repaired_for(id)).map(|r| view! { <Repaired r /> })}
        {move || id.with_value(|id| ab.built_for(id)).map(|b| view! { <Built b /> })}
        {move || id.with_value(|id| ab.rotated_for(id)).map(|r| view! {
            <p class="autobuild-result" role="status">{t(Msg::AutoBuildRotated)}</p>
            {r.manual.map(|setup| view! {
                <ManualSetupPanel setup provider rotated=true on_done=move || ab.rotate.value().set(None) />
            })}
        })}
        {move || id.with_value(|id| ab.action_error_for(id)).map(|err| view! { <ErrorBox err host=provider /> })}
    }
}

/// What a repair found and did, and the status it left.
#[component]
fn Repaired(r: AutoBuildRepaired) -> impl IntoView {
    let locale = use_locale();
    let status = r.view.status;
    let full_name = r.view.full_name.clone();
    let changes = r.changes;
    view! {
        <div class="autobuild-result" role="status">
            <p>{move || fill(Msg::AutoBuildRepaired.text(locale.get()), &[autobuild_status_text(locale.get(), status)])}</p>
            {if changes.is_empty() {
                view! { <p class="muted">{t(Msg::AutoBuildRepairNothing)}</p> }.into_any()
            } else {
                view! {
                    <ul>
                        {changes.into_iter().map(|c| {
                            let full_name = full_name.clone();
                            view! { <li>{move || repair_change_text(locale.get(), c, &full_name)}</li> }
                        }).collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </div>
    }
}

/// Which commit of which ref a build asked for (or found already built).
#[component]
fn Built(b: ManualBuildDone) -> impl IntoView {
    let locale = use_locale();
    let msg = if b.duplicate {
        Msg::AutoBuildBuiltBefore
    } else {
        Msg::AutoBuildBuilt
    };
    let commit = b.commit.clone();
    view! {
        <p class="autobuild-result" role="status" title=commit>
            {move || fill(msg.text(locale.get()), &[&b.git_ref, short_commit(&b.commit)])}
        </p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_names_a_branch_or_a_tag() {
        for kind in [RefKind::Branch, RefKind::Tag] {
            assert_eq!(RefKind::from_value(kind.value()), kind);
        }
        assert_eq!(RefKind::Tag.named("v1".into()), BuildRef::Tag("v1".into()));
        assert_eq!(
            RefKind::Branch.named("main".into()),
            BuildRef::Branch("main".into())
        );
    }
}
