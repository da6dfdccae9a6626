//! The split bundle as `cargo leptos build --split` lays it out, served by hashed names: the
//! page's JS and the chunk loader import each other by their hashed names, the wasm imports
//! the loader under its filled-in placeholder name, the loader fetches hashed chunks, and the
//! page preloads the loader with the JS.

use crate::support::{spawn_app, Options};
use reqwest::header::CACHE_CONTROL;

const LOADER: &str = app::assets::SPLIT_LOADER;

#[tokio::test]
async fn the_page_js_the_loader_the_wasm_and_the_chunks_name_each_other_by_hashed_name() {
    let files = tempfile::tempdir().unwrap();
    let pkg = files.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let write = |name: &str, bytes: &[u8]| std::fs::write(pkg.join(name), bytes).unwrap();
    // As wasm-bindgen writes them: the JS imports the loader, and names it again as the key of
    // the wasm's imports; the wasm imports it under that name, followed by the next string's
    // length byte (here 0x31, which reads as "1").
    write(
        "codesource.js",
        format!("import * as t from \"./{LOADER}\";\nconst imports = {{\"./{LOADER}\": t}};\n")
            .as_bytes(),
    );
    write(
        "codesource.wasm",
        format!("\0asm\x01\0\0\0\x2d./{LOADER}1__wasm_split_load_unbind_1").as_bytes(),
    );
    write(
        LOADER,
        b"import { initSync } from \"./codesource.js\";\nfetch(new URL(\"./split_unbind_1.wasm\", import.meta.url));\n",
    );
    write("split_unbind_1.wasm", b"\0asm\x01\0\0\0 the unbind dialog");
    write("codesource.css", b".cs-app{}");
    let app = spawn_app(Options {
        site_root: Some(files.path().to_path_buf()),
        ..Default::default()
    })
    .await;
    let get = |path: String| {
        let req = app.http.get(format!("{}{path}", app.base));
        async move {
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status(), 200, "{path}");
            let cache = resp.headers()[CACHE_CONTROL].to_str().unwrap().to_string();
            (cache, resp.bytes().await.unwrap().to_vec())
        }
    };
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    // The first quoted text in `html` that starts with `prefix` and ends with `suffix`.
    let quoted = |html: &str, prefix: &str, suffix: &str| {
        html.split('"')
            .find(|s| s.starts_with(prefix) && s.ends_with(suffix))
            .unwrap_or_else(|| panic!("no {prefix}…{suffix} in {html}"))
            .to_string()
    };

    let html = text(get("/".into()).await.1);
    let js = quoted(&html, "/pkg/codesource.", ".js");
    let wasm = quoted(&html, "/pkg/codesource.", ".wasm");
    let loader = quoted(&html, "/pkg/__wasm_split.", ".js");
    assert!(html.contains(&format!("<link rel=\"modulepreload\" href=\"{loader}\"")));
    let loader_name = loader.trim_start_matches("/pkg/");
    assert_eq!(loader_name.len(), LOADER.len(), "{loader_name}");
    assert!(!loader_name.contains("______"), "{loader_name}");

    let (cache, js_text) = get(js.clone()).await;
    assert!(cache.contains("immutable"));
    let js_text = text(js_text);
    assert_eq!(
        js_text.matches(&format!("\"./{loader_name}\"")).count(),
        2,
        "{js_text}"
    );

    let (cache, loader_text) = get(loader.clone()).await;
    assert!(cache.contains("immutable"));
    let loader_text = text(loader_text);
    // The same URL the page imports, so the browser runs one instance of the bundle.
    let js_name = js.trim_start_matches("/pkg/");
    assert!(
        loader_text.contains(&format!("\"./{js_name}\"")),
        "{loader_text}"
    );
    let chunk = quoted(&loader_text, "./split_unbind_1.", ".wasm");
    let (cache, chunk_bytes) = get(format!("/pkg/{}", chunk.trim_start_matches("./"))).await;
    assert!(cache.contains("immutable"));
    assert!(text(chunk_bytes).contains("the unbind dialog"));

    let (_, wasm_bytes) = get(wasm).await;
    assert!(
        text(wasm_bytes).contains(&format!("\x2d./{loader_name}1__wasm_split_load")),
        "the wasm must import the loader by its served name"
    );
}
