//! Talking to an embedding console when the page is in its iframe. To the parent: `ready` (it
//! listens now), a binding changed, the content height (to size the iframe), and "navigate the
//! top window to this console URL". From the parent: the theme, the language and the time zone. Messages go
//! to, and are taken from, only the console origins the operator allowed to frame the page;
//! nothing is sent when not framed. The widget gets the same settings through its JS handle.

use crate::api::Provider;
use crate::locale::Locale;
use leptos::prelude::*;

/// The colour theme: the system's (`auto`), or one the host chose.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Theme {
    #[default]
    Auto,
    Light,
    Dark,
}

impl Theme {
    pub fn parse(s: &str) -> Option<Theme> {
        match s {
            "auto" => Some(Theme::Auto),
            "light" => Some(Theme::Light),
            "dark" => Some(Theme::Dark),
            _ => None,
        }
    }

    /// The `data-theme` attribute (none: follow `prefers-color-scheme`).
    pub fn attr(self) -> Option<&'static str> {
        match self {
            Theme::Auto => None,
            Theme::Light => Some("light"),
            Theme::Dark => Some("dark"),
        }
    }
}

/// The current theme, shared through context.
#[derive(Clone, Copy)]
pub struct ThemeCtx(pub RwSignal<Theme>);

pub fn use_theme() -> RwSignal<Theme> {
    use_context::<ThemeCtx>()
        .map(|t| t.0)
        .unwrap_or_else(|| RwSignal::new(Theme::Auto))
}

fn parent() -> Option<web_sys::Window> {
    let window = web_sys::window()?;
    let parent = window.parent().ok().flatten()?;
    // Not framed: the parent is the window itself.
    (parent != window).then_some(parent)
}

/// Whether we are in a frame at all.
pub fn in_frame() -> bool {
    parent().is_some()
}

/// Whether a listed console frames us (then console links go through it). Where the browser
/// says who the parent is (`location.ancestorOrigins`, Chromium and Safari), it must be listed;
/// elsewhere only listed origins (and our own) can frame us at all, so assume a console.
pub fn console_parent(origins: &[String]) -> bool {
    if origins.is_empty() || !in_frame() {
        return false;
    }
    let parent_origin = web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w.location(), &"ancestorOrigins".into()).ok())
        .filter(|list| !list.is_undefined() && !list.is_null())
        .and_then(|list| js_sys::Reflect::get(&list, &0.into()).ok())
        .and_then(|o| o.as_string());
    match parent_origin {
        Some(p) => origins.contains(&p),
        None => true,
    }
}

fn post(origins: &[String], message: serde_json::Value) {
    let Some(parent) = parent() else { return };
    let value = wasm_bindgen::JsValue::from_str(&message.to_string());
    for origin in origins {
        // The browser drops the message unless the parent really is at `origin`.
        let _ = parent.post_message(&value, origin);
    }
}

/// `{"type":"codesource:ready"}`: the page listens for theme and language now.
pub fn ready(origins: &[String]) {
    post(origins, serde_json::json!({"type": "codesource:ready"}));
}

/// The widget's element, for its DOM events (provided by the widget's entry).
#[derive(Clone, Copy)]
pub struct WidgetRoot(pub StoredValue<web_sys::HtmlElement, LocalStorage>);

/// `{"type":"codesource:binding-changed","provider":"gitlab","bound":true}` to the parent; in the
/// widget, a `codesource:binding-changed` DOM event on its element (detail `{provider, bound}`).
pub fn binding_changed(origins: &[String], provider: Provider, bound: bool) {
    post(
        origins,
        serde_json::json!({"type": "codesource:binding-changed", "provider": provider.as_str(), "bound": bound}),
    );
    if let Some(WidgetRoot(root)) = use_context::<WidgetRoot>() {
        let detail = serde_json::json!({"provider": provider.as_str(), "bound": bound});
        root.with_value(|el| dispatch(el, "codesource:binding-changed", &detail.to_string()));
    }
}

/// A bubbling `CustomEvent` whose `detail` is the parsed JSON.
fn dispatch(el: &web_sys::HtmlElement, name: &str, detail_json: &str) {
    let init = web_sys::CustomEventInit::new();
    init.set_bubbles(true);
    if let Ok(detail) = js_sys::JSON::parse(detail_json) {
        init.set_detail(&detail);
    }
    if let Ok(ev) = web_sys::CustomEvent::new_with_event_init_dict(name, &init) {
        let _ = el.dispatch_event(&ev);
    }
}

/// `{"type":"codesource:navigate","url":"/console/builds/new"}`: the console resolves the URL
/// against its own origin and navigates its window.
pub fn navigate(origins: &[String], url: &str) {
    post(
        origins,
        serde_json::json!({"type": "codesource:navigate", "url": url}),
    );
}

/// `{"type":"codesource:height","height":640}`: the content's height in CSS pixels, each time
/// it changes. Measured on the app's root, not the document: the document is never shorter
/// than the iframe, so it could grow but never shrink back.
pub fn watch_height(origins: Vec<String>) {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    if parent().is_none() || origins.is_empty() {
        return;
    }
    let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector(".cs-app").ok().flatten())
    else {
        return;
    };
    let last = std::cell::Cell::new(-1);
    let measure = root.clone();
    let on_resize = Closure::<dyn FnMut()>::new(move || {
        let height = measure.scroll_height();
        if height != last.replace(height) {
            post(
                &origins,
                serde_json::json!({"type": "codesource:height", "height": height}),
            );
        }
    });
    if let Ok(observer) = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()) {
        observer.observe(&root);
        let observer = StoredValue::new_local(observer);
        on_cleanup(move || {
            observer.try_with_value(|o| o.disconnect());
        });
    }
    // Never dropped: a disconnected observer no longer calls it, a connected one must be able to.
    on_resize.forget();
}

/// A setting the parent sent: `{"type":"codesource:set-theme","theme":"dark"}`,
/// `{"type":"codesource:set-locale","locale":"en"}` or
/// `{"type":"codesource:set-timezone","timeZone":"Asia/Shanghai"}` (an IANA name; the console
/// can also pass it in the iframe's URL, `?tz=Asia/Shanghai`, so the first render uses it).
#[derive(Debug, PartialEq, Eq)]
pub enum FromParent {
    Theme(Theme),
    Locale(Locale),
    /// Not yet checked against the browser's zone database.
    TimeZone(String),
}

/// Parses a message from the parent; anything else (other types, bad values) is ignored.
pub fn parse_from_parent(data: &str) -> Option<FromParent> {
    let v: serde_json::Value = crate::api::codec::from_json(data).ok()?;
    match v.get("type")?.as_str()? {
        "codesource:set-theme" => Theme::parse(v.get("theme")?.as_str()?).map(FromParent::Theme),
        "codesource:set-locale" => {
            Locale::from_tag(v.get("locale")?.as_str()?).map(FromParent::Locale)
        }
        "codesource:set-timezone" => {
            let name = v.get("timeZone")?.as_str()?;
            (!name.is_empty() && name.len() <= 64).then(|| FromParent::TimeZone(name.to_string()))
        }
        _ => None,
    }
}

/// Applies theme, language and time zone messages from the allowed parent origins, for the
/// lifetime of the calling component.
pub fn listen_to_parent(
    origins: Vec<String>,
    theme: RwSignal<Theme>,
    locale: RwSignal<Locale>,
    zone: RwSignal<crate::format::Zone>,
) {
    let handle = window_event_listener(leptos::ev::message, move |ev: web_sys::MessageEvent| {
        if !origins.iter().any(|o| *o == ev.origin()) {
            return;
        }
        // Only our parent, not another window at the same origin.
        let from_parent = ev
            .source()
            .zip(parent())
            .is_some_and(|(s, p)| wasm_bindgen::JsValue::from(p) == wasm_bindgen::JsValue::from(s));
        if !from_parent {
            return;
        }
        match ev.data().as_string().as_deref().and_then(parse_from_parent) {
            Some(FromParent::Theme(t)) => theme.set(t),
            Some(FromParent::Locale(l)) => locale.set(l),
            Some(FromParent::TimeZone(name)) => {
                if let Some(z) = crate::format::Zone::parse(&name) {
                    zone.set(z);
                }
            }
            None => {}
        }
    });
    on_cleanup(move || handle.remove());
}

/// The theme the page starts in: `?theme=light|dark` (an embedding console sets it in the
/// iframe's URL, so the first paint already matches), else the system's. Server and browser
/// read the same query string, so hydration matches.
pub(crate) fn initial_theme() -> Theme {
    #[cfg(feature = "ssr")]
    let query =
        use_context::<http::request::Parts>().and_then(|p| p.uri.query().map(str::to_string));
    #[cfg(not(feature = "ssr"))]
    let query = web_sys::window().and_then(|w| w.location().search().ok());
    theme_in(query.as_deref())
}

pub fn theme_in(query: Option<&str>) -> Theme {
    query
        .and_then(|q| crate::site::query_param(q, "theme"))
        .and_then(Theme::parse)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_settings_from_the_parent() {
        assert_eq!(
            parse_from_parent(r#"{"type":"codesource:set-theme","theme":"dark"}"#),
            Some(FromParent::Theme(Theme::Dark))
        );
        assert_eq!(
            parse_from_parent(r#"{"type":"codesource:set-locale","locale":"en"}"#),
            Some(FromParent::Locale(Locale::En))
        );
        assert_eq!(
            parse_from_parent(r#"{"type":"codesource:set-timezone","timeZone":"Asia/Shanghai"}"#),
            Some(FromParent::TimeZone("Asia/Shanghai".into()))
        );
        for ignored in [
            r#"{"type":"codesource:set-theme","theme":"neon"}"#,
            r#"{"type":"codesource:set-locale","locale":"fr"}"#,
            r#"{"type":"other","theme":"dark"}"#,
            r#"{"theme":"dark"}"#,
            "not json",
        ] {
            assert_eq!(parse_from_parent(ignored), None, "{ignored}");
        }
    }
}
