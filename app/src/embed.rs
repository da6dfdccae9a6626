//! Events for an embedding console (the page in an iframe): the parent learns when a binding
//! changed and how tall the content is (to size the iframe). Messages go only to the console
//! origins the operator allowed to frame the page; nothing is sent when not framed.

use crate::api::Provider;

fn parent() -> Option<web_sys::Window> {
    let window = web_sys::window()?;
    let parent = window.parent().ok().flatten()?;
    // Not framed: the parent is the window itself.
    (parent != window).then_some(parent)
}

fn post(origins: &[String], message: &str) {
    let Some(parent) = parent() else { return };
    let value = wasm_bindgen::JsValue::from_str(message);
    for origin in origins {
        // The browser drops the message unless the parent really is at `origin`.
        let _ = parent.post_message(&value, origin);
    }
}

/// `{"type":"codesource:binding-changed","provider":"gitlab","bound":true}`
pub fn binding_changed(origins: &[String], provider: Provider, bound: bool) {
    let msg = serde_json::json!({"type": "codesource:binding-changed", "provider": provider.as_str(), "bound": bound});
    post(origins, &msg.to_string());
}

/// `{"type":"codesource:height","height":640}`: the document's content height in CSS pixels.
pub fn report_height(origins: &[String]) {
    let Some(height) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .map(|e| e.scroll_height())
    else {
        return;
    };
    let msg = serde_json::json!({"type": "codesource:height", "height": height});
    post(origins, &msg.to_string());
}
