//! A modal dialog shell: labelled, focus moved in on open and kept inside, Escape closes
//! (unless a network step is running, so a request is never orphaned).

use crate::i18n::Msg;
use crate::t;
use leptos::html::Div;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};

#[component]
pub fn Modal(
    /// Heading, also the dialog's accessible name.
    #[prop(into)]
    title: Signal<String>,
    /// Unique id for the heading.
    id: &'static str,
    /// While true, Escape and the close button do nothing.
    #[prop(into)]
    busy: Signal<bool>,
    #[prop(into)] on_close: Callback<()>,
    children: Children,
) -> impl IntoView {
    let panel = NodeRef::<Div>::new();
    let heading_id = format!("{id}-title");
    Effect::new(move |_| {
        if let Some(el) = panel.get() {
            focus_first(&el);
        }
    });
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Escape" if !busy.get_untracked() => {
            ev.prevent_default();
            on_close.run(());
        }
        "Tab" => {
            if let Some(el) = panel.get_untracked() {
                trap_tab(&el, &ev);
            }
        }
        _ => {}
    };
    view! {
        <div class="modal-backdrop">
            <div
                class="modal"
                id=id
                role="dialog"
                aria-modal="true"
                aria-labelledby=heading_id.clone()
                node_ref=panel
                on:keydown=on_keydown
            >
                <header class="modal-header">
                    <h2 id=heading_id.clone()>{move || title.get()}</h2>
                    <button
                        type="button"
                        class="icon-btn"
                        aria-label=t(Msg::Close)
                        disabled=move || busy.get()
                        on:click=move |_| on_close.run(())
                    >
                        "×"
                    </button>
                </header>
                {children()}
            </div>
        </div>
    }
}

const FOCUSABLE: &str =
    "input:not([disabled]), textarea:not([disabled]), button:not([disabled]), summary, [href]";

fn focusables(panel: &Element) -> Vec<HtmlElement> {
    let Ok(list) = panel.query_selector_all(FOCUSABLE) else {
        return vec![];
    };
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<HtmlElement>().ok())
        .collect()
}

/// Focus the first form field, else the first button that is not the close button.
fn focus_first(panel: &Element) {
    let items = focusables(panel);
    let pick = items
        .iter()
        .find(|e| matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA"))
        .or_else(|| items.get(1))
        .or_else(|| items.first());
    if let Some(e) = pick {
        let _ = e.focus();
    }
}

/// Keep Tab and Shift+Tab cycling inside the dialog.
fn trap_tab(panel: &Element, ev: &leptos::ev::KeyboardEvent) {
    let items = focusables(panel);
    let (Some(first), Some(last)) = (items.first(), items.last()) else {
        return;
    };
    let active = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element())
        .and_then(|e| e.dyn_into::<HtmlElement>().ok());
    if ev.shift_key() && active.as_ref() == Some(first) {
        ev.prevent_default();
        let _ = last.focus();
    } else if !ev.shift_key() && active.as_ref() == Some(last) {
        ev.prevent_default();
        let _ = first.focus();
    }
}
