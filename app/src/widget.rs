//! The widget: the same page, rendered client-side into an element of a console's own page (the
//! `csr` build, made by Trunk into `/widget/`). The documented entry is
//! `mountCodeSources(element, { apiBase, locale, theme, timeZone })` in `widget/codesource-widget.js`,
//! which loads this module and calls [`mount`]. Server functions go to `apiBase` with the user's
//! cookies; the server answers only the origins in `CODESOURCE_WIDGET_ORIGINS`.

use crate::embed::{Theme, ThemeCtx, WidgetRoot};
use crate::format::Zone;
use crate::i18n::Locale;
use crate::site::{self, Site};
use crate::zone::ZoneCtx;
use crate::I18n;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;

/// A mounted widget, returned to JavaScript: change its language or theme, or remove it.
#[wasm_bindgen]
pub struct CodeSourcesWidget {
    locale: ArcRwSignal<Locale>,
    theme: ArcRwSignal<Theme>,
    zone: ArcRwSignal<Zone>,
    /// Dropping the handle unmounts the view.
    mounted: Option<Box<dyn std::any::Any>>,
}

#[wasm_bindgen]
impl CodeSourcesWidget {
    /// `"zh-CN"` or `"en"`.
    #[wasm_bindgen(js_name = setLocale)]
    pub fn set_locale(&self, tag: &str) -> Result<(), JsError> {
        let l = Locale::from_tag(tag).ok_or_else(|| JsError::new("locale must be zh-CN or en"))?;
        self.locale.set(l);
        Ok(())
    }

    /// `"light"`, `"dark"` or `"auto"` (follow the system).
    #[wasm_bindgen(js_name = setTheme)]
    pub fn set_theme(&self, theme: &str) -> Result<(), JsError> {
        let t =
            Theme::parse(theme).ok_or_else(|| JsError::new("theme must be light, dark or auto"))?;
        self.theme.set(t);
        Ok(())
    }

    /// An IANA time zone (`"Asia/Shanghai"`) for the times shown; the browser's by default.
    #[wasm_bindgen(js_name = setTimeZone)]
    pub fn set_time_zone(&self, name: &str) -> Result<(), JsError> {
        let z = Zone::parse(name).ok_or_else(|| JsError::new("unknown time zone"))?;
        self.zone.set(z);
        Ok(())
    }

    pub fn unmount(&mut self) {
        self.mounted = None;
    }
}

/// Mounts the page into `element`. `api_base` is the server's URL including any base path
/// (`https://code-sources.example.com/console/code-sources`).
#[wasm_bindgen]
pub fn mount(
    element: web_sys::HtmlElement,
    api_base: &str,
    locale: Option<String>,
    theme: Option<String>,
    time_zone: Option<String>,
) -> Result<CodeSourcesWidget, JsError> {
    console_error_panic_hook::set_once();
    if !(api_base.starts_with("https://") || api_base.starts_with("http://")) {
        return Err(JsError::new("apiBase must be an absolute http(s) URL"));
    }
    let locale = match locale.as_deref() {
        Some(tag) => {
            Locale::from_tag(tag).ok_or_else(|| JsError::new("locale must be zh-CN or en"))?
        }
        None => Locale::default(),
    };
    let theme = match theme.as_deref() {
        Some(t) => {
            Theme::parse(t).ok_or_else(|| JsError::new("theme must be light, dark or auto"))?
        }
        None => Theme::Auto,
    };
    let zone = match time_zone.as_deref() {
        Some(n) => Zone::parse(n).ok_or_else(|| JsError::new("unknown time zone"))?,
        None => crate::zone::browser_zone().unwrap_or_default(),
    };
    let site = Site::new(api_base, true);
    // Server functions have one base per page.
    let current = leptos::server_fn::client::get_server_url();
    if !current.is_empty() && current != site.base {
        return Err(JsError::new(&format!(
            "another widget on this page already uses apiBase {current}"
        )));
    }
    site::route_server_functions(&site.base);
    let locale = ArcRwSignal::new(locale);
    let theme = ArcRwSignal::new(theme);
    let zone = ArcRwSignal::new(zone);
    let handle = {
        let (locale, theme, zone) = (locale.clone(), theme.clone(), zone.clone());
        let root = element.clone();
        leptos::mount::mount_to(element, move || {
            provide_context(WidgetRoot(StoredValue::new_local(root.clone())));
            let locale = RwSignal::from(locale.clone());
            let theme = RwSignal::from(theme.clone());
            provide_context(site.clone());
            provide_context(I18n(locale));
            provide_context(ThemeCtx(theme));
            provide_context(ZoneCtx(RwSignal::from(zone.clone())));
            view! {
                <div
                    class="cs-app cs-widget"
                    data-theme=move || theme.get().attr()
                    lang=move || locale.get().tag()
                >
                    <crate::pages::CodeSourcesPage />
                </div>
            }
        })
    };
    Ok(CodeSourcesWidget {
        locale,
        theme,
        zone,
        mounted: Some(Box::new(handle)),
    })
}
