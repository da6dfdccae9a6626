//! The page, rendered once per distinct content and answered from memory after that.
//!
//! A render of `/` is a function of the tenant's table data (`PageData`) and of what the render
//! reads from the request (language, theme, time zone: `app::RenderInputs`). So that is the
//! key: the data is loaded first (the one store read the render would make), serialised, and
//! compared byte for byte with a cached entry's key. Nothing needs invalidating (a change to a
//! binding changes the data, so the next load renders anew) and replicas share nothing. The
//! render is handed the same data (`PreparedPage`), so an entry's HTML and its key cannot
//! disagree.
//!
//! The page's CSP: a render puts a fresh nonce on its own inline scripts. A cached answer must
//! not repeat a nonce, so an entry carries the hashes of exactly those scripts (`'sha256-…'`)
//! in place of the nonce (see [`seal`]): a script injected into the HTML, which the render did
//! not mark, still does not run.
//!
//! Bounded: at most [`CAPACITY`] entries (least recently used go first), each compressed once
//! (gzip and brotli) when it is made.

use super::assets::{self, Quality};
use app::api::service::{Caller, PreparedPage, Services};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lru::LruCache;
use std::hash::BuildHasher;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

mod seal;

pub use seal::seal;

/// Entries kept: one per tenant, language, theme and zone in use, each ~10 KB of HTML plus its
/// two compressed forms and its key (~4 KB).
pub const CAPACITY: usize = 512;
/// Renders at a time (the cores of a small node).
const FILLS: usize = 2;
/// A rendered page larger than this is an error (ours is ~10 KB).
const MAX_PAGE: usize = 2 * 1024 * 1024;

pub struct PageCache {
    services: Services,
    entries: Mutex<LruCache<u64, Arc<Entry>>>,
    /// Renders at a time. A burst of loads of one new page (64 connections at once) then makes
    /// one entry that the rest take, instead of 64 renders and compressions side by side.
    fills: tokio::sync::Semaphore,
    hasher: std::collections::hash_map::RandomState,
}

/// One rendered page: its key, its headers (CSP by hashes) and its body in each encoding.
struct Entry {
    key: Vec<u8>,
    headers: HeaderMap,
    identity: Bytes,
    gzip: Option<Bytes>,
    br: Option<Bytes>,
}

impl PageCache {
    pub fn new(services: Services) -> Arc<PageCache> {
        Arc::new(PageCache {
            services,
            entries: Mutex::new(LruCache::new(NonZeroUsize::new(CAPACITY).expect("> 0"))),
            hasher: Default::default(),
            fills: tokio::sync::Semaphore::new(FILLS),
        })
    }

    fn get(&self, hash: u64, key: &[u8]) -> Option<Arc<Entry>> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(&hash).filter(|e| e.key == key).cloned()
    }

    fn put(&self, hash: u64, entry: Arc<Entry>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.put(hash, entry);
    }
}

/// Middleware on the app's routes: answers `GET /` from the cache, or renders it (through
/// `next`) with the data loaded here and keeps the result. Everything else passes through.
pub async fn serve(State(cache): State<Arc<PageCache>>, mut req: Request, next: Next) -> Response {
    if req.uri().path() != "/" || !matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    // Set by `authenticate`; without it the render answers for itself.
    let Some(caller) = req.extensions().get::<Caller>().cloned() else {
        return next.run(req).await;
    };
    // A failure is the render's to show, as it is: not kept, and not loaded a second time.
    let data = match cache.services.page(&caller).await {
        Ok(data) => data,
        Err(e) => {
            req.extensions_mut().insert(PreparedPage(Err(e)));
            return next.run(req).await;
        }
    };
    let (parts, body) = req.into_parts();
    let mut key = match serde_json::to_vec(&data) {
        Ok(k) => k,
        Err(_) => return next.run(Request::from_parts(parts, body)).await,
    };
    key.push(0);
    key.extend_from_slice(app::render_inputs(&parts).key().as_bytes());
    let hash = cache.hasher.hash_one(&key);
    if let Some(entry) = cache.get(hash, &key) {
        crate::metrics::metrics().page(true);
        return entry.answer(&parts.headers);
    }
    // Wait for a turn to render, then look again: the page may have been made meanwhile.
    let _turn = cache.fills.acquire().await;
    if let Some(entry) = cache.get(hash, &key) {
        crate::metrics::metrics().page(true);
        return entry.answer(&parts.headers);
    }
    crate::metrics::metrics().page(false);
    let accept = parts.headers.clone();
    let mut req = Request::from_parts(parts, body);
    req.extensions_mut().insert(PreparedPage(Ok(data)));
    let resp = next.run(req).await;
    if resp.status() != StatusCode::OK {
        return resp;
    }
    let (rparts, body) = resp.into_parts();
    let html = match axum::body::to_bytes(body, MAX_PAGE).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "rendering the page failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    match Entry::made(key, rparts.headers.clone(), &html) {
        Some((entry, keep)) => {
            let entry = Arc::new(entry);
            if keep {
                cache.put(hash, entry.clone());
            }
            entry.answer(&accept)
        }
        // No nonce to turn into hashes (not our shell): as rendered, not kept.
        None => Response::from_parts(rparts, Body::from(html)),
    }
}

impl Entry {
    /// The entry for a fresh render, and whether it may be kept (not when the render set a
    /// cookie: that belongs to one answer only).
    fn made(key: Vec<u8>, mut headers: HeaderMap, html: &[u8]) -> Option<(Entry, bool)> {
        let csp = headers
            .get(header::CONTENT_SECURITY_POLICY)?
            .to_str()
            .ok()?
            .to_string();
        let nonce = csp.split("'nonce-").nth(1)?.split('\'').next()?.to_string();
        let html = std::str::from_utf8(html).ok()?;
        let (sealed, hashes) = seal(html, &nonce);
        let sources = hashes
            .iter()
            .map(|h| format!("'sha256-{h}'"))
            .collect::<Vec<_>>()
            .join(" ");
        let csp = csp.replace(&format!("'nonce-{nonce}'"), &sources);
        headers.insert(header::CONTENT_SECURITY_POLICY, csp.parse().ok()?);
        headers.remove(header::CONTENT_LENGTH);
        headers.remove(header::TRANSFER_ENCODING);
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        let keep = !headers.contains_key(header::SET_COOKIE);
        let variant = |v: Vec<u8>| assets::worth_it(sealed.len(), v.len()).then(|| Bytes::from(v));
        Some((
            Entry {
                key,
                headers,
                gzip: variant(assets::gzip(sealed.as_bytes(), Quality::Fast)),
                br: variant(assets::brotli(sealed.as_bytes(), Quality::Fast)),
                identity: Bytes::from(sealed),
            },
            keep,
        ))
    }

    fn answer(&self, request: &HeaderMap) -> Response {
        let (coding, body) = assets::choose(
            request,
            self.br.as_ref(),
            self.gzip.as_ref(),
            &self.identity,
        );
        let mut resp = Response::new(Body::from(body.clone()));
        *resp.headers_mut() = self.headers.clone();
        if let Some(encoding) = coding.content_encoding() {
            resp.headers_mut()
                .insert(header::CONTENT_ENCODING, encoding);
        }
        resp.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        resp
    }
}
