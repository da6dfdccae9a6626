//! Static files (the hydrate bundle and stylesheet under `/pkg/`, the favicon, the widget under
//! `/widget/`), read once at start and answered from memory: no disk read per request.
//!
//! Every file is served under its own name and under a content-hashed one
//! (`pkg/codesource.3f2a…c1.wasm`). Hashed names never change meaning, so they are cached for a
//! year as `immutable`; plain names (the widget's entry, which consoles import by a stable URL)
//! get five minutes and an ETag. Brotli and gzip variants are chosen by `Accept-Encoding`
//! (`Vary: Accept-Encoding`); see [`compress`] for where they come from.

mod compress;
mod load;
mod negotiate;

// The page cache (web/page_cache) compresses and negotiates its entries the same way.
pub use compress::{brotli, gzip, worth_it, Quality};
pub use negotiate::{choose, Coding};

use bytes::Bytes;
use http::HeaderValue;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// One file's content in each encoding we have.
pub struct Asset {
    content_type: HeaderValue,
    hash: String,
    identity: Bytes,
    br: Option<Bytes>,
    gzip: Option<Bytes>,
    /// Whether compressed variants are worth asking for (`Vary` is sent then).
    compressible: bool,
}

struct Entry {
    asset: Arc<Asset>,
    /// Requested by its hashed name: cached for a year, never revalidated.
    immutable: bool,
}

/// The files of one directory, by the path they are requested at (relative, `/`-separated).
#[derive(Default)]
pub struct AssetDir {
    entries: HashMap<String, Entry>,
    hashed: HashMap<String, String>,
}

impl AssetDir {
    /// Reads `root` into memory. Variants built by [`precompress`] are used when present;
    /// missing ones are made now at [`Quality::Fast`]. A missing directory is an empty set (the
    /// server still answers its API; the log says so).
    pub fn load(root: &Path) -> std::io::Result<AssetDir> {
        if !root.is_dir() {
            tracing::warn!(dir = %root.display(), "no static files there: nothing is served from it");
            return Ok(AssetDir::default());
        }
        let started = std::time::Instant::now();
        let load::Dir { files, variants } = load::read_dir(root)?;
        let mut dir = AssetDir::default();
        let mut made = 0;
        for (path, raw) in files {
            let content_type = content_type(&path);
            let compressible =
                compress::compressible(content_type) && raw.bytes.len() >= compress::MIN_SIZE;
            let mut variant = |ext: &str, make: fn(&[u8], Quality) -> Vec<u8>| {
                if !compressible {
                    return None;
                }
                let built = variants.get(&format!("{}.{ext}", raw.hashed_path)).cloned();
                let bytes = built.unwrap_or_else(|| {
                    made += 1;
                    make(&raw.bytes, Quality::Fast)
                });
                compress::worth_it(raw.bytes.len(), bytes.len()).then(|| Bytes::from(bytes))
            };
            let br = variant("br", compress::brotli);
            let gzip = variant("gz", compress::gzip);
            let asset = Arc::new(Asset {
                content_type: HeaderValue::from_static(content_type),
                hash: raw.hash,
                identity: Bytes::from(raw.bytes),
                br,
                gzip,
                compressible,
            });
            let entry = |immutable| Entry {
                asset: asset.clone(),
                immutable,
            };
            dir.entries.insert(raw.hashed_path.clone(), entry(true));
            dir.entries.insert(path.clone(), entry(false));
            dir.hashed.insert(path, raw.hashed_path);
        }
        tracing::info!(
            dir = %root.display(),
            files = dir.hashed.len(),
            compressed_at_start = made,
            ms = started.elapsed().as_millis() as u64,
            "static files loaded into memory"
        );
        Ok(dir)
    }

    /// The hashed path of a file (`pkg/codesource.js` → `pkg/codesource.<hash>.js`), if present.
    pub fn hashed(&self, path: &str) -> Option<&str> {
        self.hashed.get(path).map(String::as_str)
    }

    /// The answer for a GET or HEAD of `path` (relative, no leading `/`), if it is one of ours.
    pub fn respond(
        &self,
        method: &http::Method,
        path: &str,
        headers: &http::HeaderMap,
    ) -> Option<axum::response::Response> {
        if method != http::Method::GET && method != http::Method::HEAD {
            return None;
        }
        let entry = self.entries.get(path)?;
        Some(negotiate::answer(
            &entry.asset,
            entry.immutable,
            method == http::Method::HEAD,
            headers,
        ))
    }
}

/// Writes the best brotli and gzip variants of every file under `root` beside it, named after
/// the served (rewritten) content, and removes variants of older builds. Run after each build.
pub fn precompress(root: &Path) -> std::io::Result<(usize, usize)> {
    let load::Dir { files, variants } = load::read_dir(root)?;
    let wanted: Vec<(String, Vec<u8>)> = files
        .into_values()
        .filter(|raw| {
            compress::compressible(content_type(&raw.hashed_path))
                && raw.bytes.len() >= compress::MIN_SIZE
        })
        .map(|raw| (raw.hashed_path, raw.bytes))
        .collect();
    let mut keep = std::collections::HashSet::new();
    let mut written = 0;
    // One thread per file: brotli 11 is the slow part, and the bundles are a handful of files.
    let results: Vec<(String, Vec<u8>, Vec<u8>)> = std::thread::scope(|s| {
        let jobs: Vec<_> = wanted
            .iter()
            .filter(|(path, _)| {
                !variants.contains_key(&format!("{path}.br"))
                    || !variants.contains_key(&format!("{path}.gz"))
            })
            .map(|(path, bytes)| {
                s.spawn(move || {
                    let br = compress::brotli(bytes, Quality::Best);
                    let gz = compress::gzip(bytes, Quality::Best);
                    (path.clone(), br, gz)
                })
            })
            .collect();
        jobs.into_iter()
            .map(|j| j.join().expect("compression thread"))
            .collect()
    });
    for (path, _) in &wanted {
        keep.insert(format!("{path}.br"));
        keep.insert(format!("{path}.gz"));
    }
    for (path, br, gz) in results {
        std::fs::write(root.join(format!("{path}.br")), br)?;
        std::fs::write(root.join(format!("{path}.gz")), gz)?;
        written += 1;
    }
    let mut removed = 0;
    for stale in variants.keys().filter(|v| !keep.contains(*v)) {
        std::fs::remove_file(root.join(stale))?;
        removed += 1;
    }
    Ok((written, removed))
}

fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or_default();
    match ext {
        "js" | "mjs" => "application/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "png" => "image/png",
        "json" => "application/json",
        "ts" => "text/plain; charset=utf-8",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}
