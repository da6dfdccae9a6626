//! Building blocks of the code source page.

/// Makes a function a split point of the page bundle: `cargo leptos build --split` moves it (and
/// what only it uses) into the wasm file `split_<module>.wasm`, fetched on its first call. It is
/// `fallible`: it must return `Result<_, ApiError>`, and a file that cannot be fetched comes back
/// as `Err` (Leptos' `#[lazy]` panics there, ending the page). Only the hydrate build is split;
/// in every other build (the widget's included: Trunk cannot split) it stays a plain function.
macro_rules! split_point {
    ($module:ident, $function:item) => {
        #[cfg_attr(
            feature = "hydrate",
            leptos::wasm_split::wasm_split($module, wasm_split_path = ::leptos::wasm_split, fallible)
        )]
        $function
    };
}

/// Calls a function that is a split point in the page bundle (awaited there: its wasm file may
/// have to be fetched first) and an ordinary function in every other build.
macro_rules! split_call {
    ($call:expr) => {{
        #[cfg(feature = "hydrate")]
        let result = $call.await;
        #[cfg(not(feature = "hydrate"))]
        let result = $call;
        result
    }};
}

mod activity;
mod autobuild;
mod confirm_dialog;
mod dialogs;
mod modal;
mod oauth_dialog;
mod repos_dialog;
mod table;
mod token_dialog;
mod unbind_dialog;
mod widgets;

pub use activity::ActivityLog;
use confirm_dialog::ConfirmBindDialog;
pub use dialogs::OpenDialog;
use oauth_dialog::OAuthDialog;
pub use oauth_dialog::{listen_for_oauth, pick_up_redirect_result};
use repos_dialog::RepositoriesDialog;
pub use table::SourceTable;
use token_dialog::TokenBindDialog;
use unbind_dialog::UnbindDialog;
pub use widgets::{AccountCell, ErrorBox, LanguageSwitch, Toasts};

/// A time in the viewer's zone (`2026-11-28 22:11`), the absolute UTC time in `datetime` and
/// on hover (`2026-11-28 14:11 UTC · Asia/Shanghai UTC+8`).
#[leptos::component]
pub fn LocalTime(secs: i64) -> impl leptos::IntoView {
    use leptos::prelude::*;
    let zone = crate::zone::use_zone();
    view! {
        <time datetime=crate::format::iso_utc(secs) title=move || zone.with(|z| z.title(secs))>
            {move || zone.with(|z| z.format(secs))}
        </time>
    }
}

/// A view whose type is erased on the server and kept in the browser. On the server a deep
/// view type makes a deep render future, which overflows a test thread's 2 MiB stack in debug
/// builds; in the browser an erased view (`AnyView`) keeps its async-hydration code, which the
/// page never runs, in the bundle.
pub fn erased_on_server<V: leptos::IntoView + 'static>(view: V) -> impl leptos::IntoView {
    #[cfg(feature = "ssr")]
    {
        leptos::prelude::IntoAny::into_any(view)
    }
    #[cfg(not(feature = "ssr"))]
    {
        view
    }
}

pub use crate::page_state::focus_element;

/// The id of a row's action button, so focus can return to it.
pub fn action_id(provider: crate::api::Provider) -> String {
    format!("action-{}", provider.as_str())
}
