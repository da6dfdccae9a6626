//! Static files and compression: hashed names in the page, a year of `immutable` caching for
//! them, brotli / gzip / identity by `Accept-Encoding` with `Vary`, ETags and 304, the widget's
//! stable entry naming hashed inner files, build-time variants, and compressed pages and
//! server-function answers.

use crate::support::{spawn_app, Options, TestApp};
use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, ETAG, IF_NONE_MATCH, VARY,
};
use std::io::Read;
use std::path::Path;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Text that compresses well and is over the 1 KiB threshold.
fn filler(label: &str) -> String {
    format!("/* {label} */\n") + &"export const x = 'code source binding';\n".repeat(100)
}

/// A built site and widget, as cargo-leptos and Trunk lay them out.
fn built(dir: &Path) {
    let pkg = dir.join("site/pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("codesource.js"), filler("bundle js")).unwrap();
    let mut wasm = b"\0asm\x01\0\0\0".to_vec();
    wasm.extend(filler("wasm").as_bytes());
    std::fs::write(pkg.join("codesource.wasm"), wasm).unwrap();
    std::fs::write(pkg.join("codesource.css"), filler("css")).unwrap();
    std::fs::write(dir.join("site/favicon.svg"), "<svg/>").unwrap();
    let widget = dir.join("widget");
    std::fs::create_dir_all(&widget).unwrap();
    std::fs::write(
        widget.join("codesource-widget.js"),
        "import init from './app.js';\nconst css = new URL('main.css', here);\n",
    )
    .unwrap();
    std::fs::write(
        widget.join("app.js"),
        filler("widget js") + "new URL('app_bg.wasm', import.meta.url);\n",
    )
    .unwrap();
    std::fs::write(widget.join("app_bg.wasm"), filler("widget wasm")).unwrap();
    std::fs::write(widget.join("main.css"), filler("widget css")).unwrap();
}

async fn app_with_assets(files: &Path) -> TestApp {
    spawn_app(Options {
        site_root: Some(files.join("site")),
        widget_dir: Some(files.join("widget")),
        ..Default::default()
    })
    .await
}

async fn fetch(app: &TestApp, path: &str, accept: Option<&str>) -> reqwest::Response {
    let mut req = app.http.get(format!("{}{path}", app.base));
    if let Some(a) = accept {
        req = req.header(ACCEPT_ENCODING, a);
    }
    req.send().await.unwrap()
}

fn header(resp: &reqwest::Response, name: reqwest::header::HeaderName) -> &str {
    resp.headers()
        .get(&name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

fn decode(coding: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "br" => brotli::BrotliDecompress(&mut &body[..], &mut out).unwrap(),
        "gzip" => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .unwrap();
        }
        "" => out = body.to_vec(),
        other => panic!("unexpected coding {other}"),
    }
    out
}

/// `href`/`src` values in the page that point at `/pkg/` or the favicon.
fn asset_urls(html: &str) -> Vec<String> {
    html.split('"')
        .filter(|s| s.starts_with("/pkg/") || s.starts_with("/favicon"))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn the_page_names_hashed_files_cached_for_a_year_in_the_encoding_asked_for() {
    let files = tempfile::tempdir().unwrap();
    built(files.path());
    let app = app_with_assets(files.path()).await;
    let html = fetch(&app, "/", None).await.text().await.unwrap();
    let urls = asset_urls(&html);
    let hashed = |ext: &str| {
        urls.iter()
            .find(|u| u.starts_with("/pkg/codesource.") && u.ends_with(ext))
            .unwrap_or_else(|| panic!("no hashed {ext} in {urls:?}"))
            .clone()
    };
    let (js, wasm, css) = (hashed(".js"), hashed(".wasm"), hashed(".css"));
    for url in [&js, &wasm, &css] {
        let hash = url.split('.').nth(1).unwrap();
        assert!(
            hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()),
            "{url}"
        );
    }
    assert!(html.contains(&format!("import(\"{js}\")")), "{html}");
    assert!(urls
        .iter()
        .any(|u| u.starts_with("/favicon.") && u.ends_with(".svg")));

    let original = std::fs::read(files.path().join("site/pkg/codesource.wasm")).unwrap();
    for (accept, coding) in [
        (Some("gzip, deflate, br, zstd"), "br"),
        (Some("gzip"), "gzip"),
        (Some("br;q=0, gzip"), "gzip"),
        (Some("identity"), ""),
        (None, ""),
    ] {
        let resp = fetch(&app, &wasm, accept).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(header(&resp, CACHE_CONTROL), IMMUTABLE);
        assert_eq!(header(&resp, VARY), "accept-encoding");
        assert_eq!(header(&resp, CONTENT_ENCODING), coding, "{accept:?}");
        assert_eq!(
            header(&resp, reqwest::header::CONTENT_TYPE),
            "application/wasm"
        );
        let body = resp.bytes().await.unwrap();
        if !coding.is_empty() {
            assert!(body.len() < original.len() / 2, "{coding} did not compress");
        }
        assert_eq!(decode(coding, &body), original, "{accept:?}");
    }
}

#[tokio::test]
async fn etags_answer_304_for_any_encoding_of_the_same_content() {
    let files = tempfile::tempdir().unwrap();
    built(files.path());
    let app = app_with_assets(files.path()).await;
    let html = fetch(&app, "/", None).await.text().await.unwrap();
    let css = asset_urls(&html)
        .into_iter()
        .find(|u| u.ends_with(".css"))
        .unwrap();
    let first = fetch(&app, &css, Some("br")).await;
    let etag = header(&first, ETAG).to_string();
    assert!(etag.starts_with('"') && etag.ends_with("-br\""), "{etag}");
    for accept in ["br", "gzip", ""] {
        let again = app
            .http
            .get(format!("{}{css}", app.base))
            .header(ACCEPT_ENCODING, accept)
            .header(IF_NONE_MATCH, &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{accept}");
        assert_eq!(header(&again, CACHE_CONTROL), IMMUTABLE);
        assert!(again.bytes().await.unwrap().is_empty());
    }
    let changed = app
        .http
        .get(format!("{}{css}", app.base))
        .header(IF_NONE_MATCH, "\"0000000000000000\"")
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    // Plain names are still served, briefly cached and revalidated.
    let plain = fetch(&app, "/pkg/codesource.css", Some("gzip")).await;
    assert_eq!(plain.status(), 200);
    assert_eq!(header(&plain, CACHE_CONTROL), "public, max-age=300");
    assert_eq!(header(&plain, ETAG), etag.replace("-br", "-gz"));
    // HEAD: the headers without the body.
    let head = app
        .http
        .head(format!("{}{css}", app.base))
        .header(ACCEPT_ENCODING, "br")
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(header(&head, CONTENT_ENCODING), "br");
    assert!(head.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_widget_entry_keeps_its_url_and_names_immutable_files() {
    let files = tempfile::tempdir().unwrap();
    built(files.path());
    let app = app_with_assets(files.path()).await;
    let entry = fetch(&app, "/widget/codesource-widget.js", None).await;
    assert_eq!(entry.status(), 200);
    assert_eq!(header(&entry, CACHE_CONTROL), "public, max-age=300");
    assert!(!header(&entry, ETAG).is_empty());
    let text = entry.text().await.unwrap();
    let js = text
        .split('\'')
        .find(|s| s.starts_with("./app.") && s.ends_with(".js"))
        .unwrap_or_else(|| panic!("no hashed app.js in {text}"));
    assert_ne!(js, "./app.js");
    let inner = fetch(&app, &format!("/widget/{}", &js[2..]), Some("br")).await;
    assert_eq!(inner.status(), 200);
    assert_eq!(header(&inner, CACHE_CONTROL), IMMUTABLE);
    assert_eq!(header(&inner, CONTENT_ENCODING), "br");
    let inner = String::from_utf8(decode("br", &inner.bytes().await.unwrap())).unwrap();
    // The wasm-bindgen module names the hashed wasm, too.
    let wasm = inner
        .split('\'')
        .find(|s| s.starts_with("app_bg.") && s.ends_with(".wasm"))
        .unwrap_or_else(|| panic!("no hashed wasm in {inner}"));
    assert_ne!(wasm, "app_bg.wasm");
    let wasm = fetch(&app, &format!("/widget/{wasm}"), None).await;
    assert_eq!(header(&wasm, CACHE_CONTROL), IMMUTABLE);
    assert_eq!(fetch(&app, "/widget/nothing.js", None).await.status(), 404);
}

#[tokio::test]
async fn build_time_variants_are_served_and_stale_ones_removed() {
    let files = tempfile::tempdir().unwrap();
    built(files.path());
    let pkg = files.path().join("site/pkg");
    std::fs::write(pkg.join("codesource.0123456789abcdef.js.br"), "old build").unwrap();
    let (written, removed) =
        codesource_server::web::assets::precompress(&files.path().join("site")).unwrap();
    assert_eq!((written, removed), (3, 1));
    assert!(!pkg.join("codesource.0123456789abcdef.js.br").exists());
    let app = app_with_assets(files.path()).await;
    let html = fetch(&app, "/", None).await.text().await.unwrap();
    let js = asset_urls(&html)
        .into_iter()
        .find(|u| u.ends_with(".js"))
        .unwrap();
    let on_disk = std::fs::read(files.path().join(format!("site{js}.br"))).unwrap();
    let served = fetch(&app, &js, Some("br")).await.bytes().await.unwrap();
    assert_eq!(served.as_ref(), on_disk.as_slice());
}

#[tokio::test]
async fn pages_and_server_function_answers_are_compressed_when_asked() {
    let files = tempfile::tempdir().unwrap();
    built(files.path());
    let app = app_with_assets(files.path()).await;
    // The page is compressed once per cached entry (web/page_cache), so brotli too.
    for (accept, coding) in [("gzip, deflate, br", "br"), ("gzip", "gzip")] {
        let page = fetch(&app, "/", Some(accept)).await;
        assert_eq!(header(&page, CONTENT_ENCODING), coding);
        assert!(header(&page, VARY).contains("accept-encoding"));
        let html = String::from_utf8(decode(coding, &page.bytes().await.unwrap())).unwrap();
        assert!(html.contains("<!DOCTYPE html>"));
    }
    let plain = fetch(&app, "/", None).await;
    assert_eq!(header(&plain, CONTENT_ENCODING), "");

    // A bound account makes the table's answer big enough to be worth compressing.
    app.bind_gitlab("glpat-fake-alice").await;
    let call = |accept: &'static str| {
        app.http
            .post(format!("{}/api/code-sources/page", app.base))
            .header("origin", &app.origin)
            .header("sec-fetch-site", "same-origin")
            .header(ACCEPT_ENCODING, accept)
            .json(&serde_json::json!({}))
            .send()
    };
    let resp = call("gzip").await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, CONTENT_ENCODING), "gzip");
    let body = decode("gzip", &resp.bytes().await.unwrap());
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(v["rows"].is_array(), "{v}");
    // Small answers are not worth it.
    let health = fetch(&app, "/healthz", Some("br")).await;
    assert_eq!(header(&health, CONTENT_ENCODING), "");
}
