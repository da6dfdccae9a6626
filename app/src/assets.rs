//! The page's own files in its `<head>`: the hydrate bundle (JS and wasm), the stylesheet and
//! the favicon, by the content-hashed URLs the server serves them under (it keeps them in
//! memory and caches hashed names for a year). The server provides [`AssetUrls`] through
//! context; without it (the app rendered on its own) the plain names are used.
//!
//! This replaces Leptos' `HydrationScripts`, whose hashed names come from a `hash.txt` beside
//! the executable that cargo-leptos writes and that is read on every render.

use leptos::prelude::*;

/// The file name `cargo leptos build --split` gives the chunk loader (the server fills the
/// placeholder with the file's hash).
pub const SPLIT_LOADER: &str = "__wasm_split.______________________.js";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssetUrls {
    /// The wasm-bindgen JS module of the hydrate bundle.
    pub js: String,
    pub wasm: String,
    pub css: String,
    pub favicon: String,
    /// The split bundle's chunk loader, which the JS imports: preloaded with it, so the two
    /// are fetched in parallel rather than one after the other.
    pub split_loader: Option<String>,
}

impl AssetUrls {
    /// The plain (unhashed) names under `base`, as cargo-leptos writes them.
    pub fn plain(base: &str, pkg_dir: &str, output_name: &str) -> Self {
        AssetUrls {
            js: format!("{base}/{pkg_dir}/{output_name}.js"),
            wasm: format!("{base}/{pkg_dir}/{output_name}.wasm"),
            css: format!("{base}/{pkg_dir}/{output_name}.css"),
            favicon: format!("{base}/favicon.svg"),
            split_loader: None,
        }
    }
}

/// Preloads the bundle, links the stylesheet, and starts hydration: the same steps as Leptos'
/// hydration script (import the JS, initialise it with the wasm's URL, call `hydrate`), with
/// our URLs and the page's CSP nonce.
#[component]
pub fn PageAssets(urls: AssetUrls) -> impl IntoView {
    let nonce = leptos::nonce::use_nonce();
    // `{:?}` quotes and escapes like a JS string literal for these URLs (our own paths).
    let script = format!(
        "import({js:?}).then(m => m.default({{module_or_path: {wasm:?}}}).then(() => m.hydrate()));",
        js = urls.js,
        wasm = urls.wasm,
    );
    view! {
        <link rel="icon" type="image/svg+xml" href=urls.favicon />
        <link rel="stylesheet" id="leptos" href=urls.css />
        <link rel="modulepreload" href=urls.js.clone() />
        {urls.split_loader.map(|href| view! { <link rel="modulepreload" href=href /> })}
        <link rel="preload" href=urls.wasm r#as="fetch" r#type="application/wasm" crossorigin="" />
        <script type="module" nonce=nonce>
            {script}
        </script>
    }
}
