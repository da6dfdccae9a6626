//! Building blocks of the code source page.

mod activity;
mod confirm_dialog;
mod gitlab_dialog;
mod modal;
mod oauth_dialog;
mod repos_dialog;
mod table;
mod unbind_dialog;
mod widgets;

pub use activity::ActivityLog;
pub use confirm_dialog::ConfirmBindDialog;
pub use gitlab_dialog::GitLabBindDialog;
pub use oauth_dialog::{listen_for_oauth, pick_up_redirect_result, OAuthDialog};
pub use repos_dialog::RepositoriesDialog;
pub use table::SourceTable;
pub use unbind_dialog::UnbindDialog;
pub use widgets::{AccountCell, ErrorBox, LanguageSwitch, Toasts};

/// Moves keyboard focus to the element with `id` (after a dialog closes). Browser only: called
/// from event handlers.
pub fn focus_element(id: &str) {
    use wasm_bindgen::JsCast;
    if let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

/// The id of a row's action button, so focus can return to it.
pub fn action_id(provider: crate::api::Provider) -> String {
    format!("action-{}", provider.as_str())
}
