//! The page's shared state: which dialog is open, the toast, and the signals the page's
//! components read and set (`PageCtx`, provided by the page, used by every component). Below
//! both: the page composes the components, and the components only know this state.

use crate::api::codec::JsonBytes;
use crate::api::{ApiError, CodeSourceRow, HostInfo, PageData, PendingBinding, Provider};
use leptos::prelude::*;

/// Which dialog is open. One at a time, like the console's other pages.
#[derive(Clone, Debug, PartialEq)]
pub enum DialogState {
    Closed,
    /// An access-token host's bind dialog; `address` prefills it when re-authorizing.
    TokenForm {
        host: HostInfo,
        address: Option<String>,
    },
    ConfirmBind(PendingBinding),
    /// An OAuth host: explain, open the authorize page, wait; or show how it failed.
    OAuth {
        provider: Provider,
        error: Option<ApiError>,
    },
    Unbind(CodeSourceRow),
    Repositories(CodeSourceRow),
}

impl DialogState {
    /// The code source the open dialog is about (its row's action gets focus back).
    pub fn provider(&self) -> Option<Provider> {
        match self {
            DialogState::Closed => None,
            DialogState::TokenForm { host, .. } => Some(host.provider),
            DialogState::ConfirmBind(pending) => Some(pending.provider),
            DialogState::OAuth { provider, .. } => Some(*provider),
            DialogState::Unbind(row) | DialogState::Repositories(row) => Some(row.provider),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Toast {
    pub id: u64,
    pub success: bool,
    pub text: String,
}

/// State shared by the page's components.
#[derive(Clone, Copy)]
pub struct PageCtx {
    pub page: Resource<Result<PageData, ApiError>, JsonBytes>,
    pub dialog: RwSignal<DialogState>,
    pub toast: RwSignal<Option<Toast>>,
    /// False in the server render and until hydration finishes: actions stay disabled until
    /// their handlers exist, so an early click is never lost.
    pub hydrated: RwSignal<bool>,
    /// The provider whose binding just changed (told to an embedding console after reload).
    pub changed: RwSignal<Option<Provider>>,
    /// An OAuth authorization is under way (popup open); also the "first report wins" guard.
    pub oauth_waiting: RwSignal<bool>,
    /// The authorized account is being fetched from our server (after the code host reported).
    pub oauth_fetching: RwSignal<bool>,
    /// Element to focus once the table has re-rendered after a reload.
    pub focus_after_load: RwSignal<Option<String>>,
}

impl PageCtx {
    pub fn notify(&self, success: bool, text: String) {
        let id = self.toast.get_untracked().map(|t| t.id + 1).unwrap_or(0);
        self.toast.set(Some(Toast { id, success, text }));
    }

    /// Closes the dialog and gives focus back to the row action that opened it.
    pub fn close_dialog(&self, focus_id: Option<String>) {
        self.dialog.set(DialogState::Closed);
        if let Some(id) = focus_id {
            focus_element(&id);
        }
    }

    /// After a change: reload the table, close the dialog, and focus the row's (new) action
    /// button once the reloaded table is on screen.
    pub fn reload_and_close(&self, focus_id: String, changed: Provider) {
        self.changed.set(Some(changed));
        self.focus_after_load.set(Some(focus_id));
        self.page.refetch();
        self.dialog.set(DialogState::Closed);
    }
}

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
