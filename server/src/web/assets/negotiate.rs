//! Choosing the encoding (`Accept-Encoding`), conditional requests (`If-None-Match`) and the
//! caching headers of an asset answer.

use super::Asset;
use axum::body::{Body, Bytes};
use axum::response::Response;
use http::{header, HeaderMap, HeaderValue, StatusCode};

/// Hashed names: the content behind them never changes.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Plain names (the widget's entry): short, then revalidated with the ETag (a 304 is cheap).
const REVALIDATE: &str = "public, max-age=300";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    Brotli,
    Gzip,
    Identity,
}

/// Every `Accept-Encoding` header of a request, as one list.
pub fn accept_encoding(headers: &HeaderMap) -> String {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",")
}

/// The best of a body's forms the request accepts: brotli, then gzip, then the body as is.
/// (Shared with the page cache, whose entries have the same three forms.)
pub fn choose<'a>(
    headers: &HeaderMap,
    br: Option<&'a Bytes>,
    gzip: Option<&'a Bytes>,
    identity: &'a Bytes,
) -> (Coding, &'a Bytes) {
    let accepted = accept_encoding(headers);
    match (br, gzip) {
        (Some(br), _) if accepts(&accepted, "br") => (Coding::Brotli, br),
        (_, Some(gz)) if accepts(&accepted, "gzip") => (Coding::Gzip, gz),
        _ => (Coding::Identity, identity),
    }
}

impl Coding {
    /// Its `Content-Encoding`; none for the body as is.
    pub fn content_encoding(self) -> Option<HeaderValue> {
        match self {
            Coding::Brotli => Some(HeaderValue::from_static("br")),
            Coding::Gzip => Some(HeaderValue::from_static("gzip")),
            Coding::Identity => None,
        }
    }
}

pub fn answer(asset: &Asset, immutable: bool, head: bool, headers: &HeaderMap) -> Response {
    let (coding, body) = choose(
        headers,
        asset.br.as_ref(),
        asset.gzip.as_ref(),
        &asset.identity,
    );
    let etag = match coding {
        Coding::Brotli => format!("\"{}-br\"", asset.hash),
        Coding::Gzip => format!("\"{}-gz\"", asset.hash),
        Coding::Identity => format!("\"{}\"", asset.hash),
    };
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| matches_etag(v, &asset.hash));
    let mut resp = if not_modified {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        let mut r = Response::new(if head {
            Body::empty()
        } else {
            Body::from(body.clone())
        });
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        r.headers_mut()
            .insert(header::CONTENT_TYPE, asset.content_type.clone());
        r
    };
    let h = resp.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if immutable { IMMUTABLE } else { REVALIDATE }),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if asset.compressible {
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if let Some(encoding) = coding.content_encoding() {
        h.insert(header::CONTENT_ENCODING, encoding);
    }
    resp
}

/// Whether `coding` is acceptable per an `Accept-Encoding` value: named (or `*`) with q > 0.
/// An explicit entry wins over `*`.
pub fn accepts(accept_encoding: &str, coding: &str) -> bool {
    let mut star = None;
    for item in accept_encoding.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or_default().trim();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .filter_map(|q| q.trim().parse::<f32>().ok())
            .next()
            .unwrap_or(1.0);
        if name.eq_ignore_ascii_case(coding) {
            return q > 0.0;
        }
        if name == "*" {
            star = Some(q > 0.0);
        }
    }
    star.unwrap_or(false)
}

/// `If-None-Match` against any encoding of this content (weak comparison, RFC 9110 13.1.2).
fn matches_etag(if_none_match: &str, hash: &str) -> bool {
    if_none_match.split(',').any(|tag| {
        let tag = tag.trim();
        let tag = tag.strip_prefix("W/").unwrap_or(tag).trim_matches('"');
        tag == "*"
            || tag
                .strip_suffix("-br")
                .or(tag.strip_suffix("-gz"))
                .unwrap_or(tag)
                == hash
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_with_weights() {
        assert!(accepts("gzip, deflate, br, zstd", "br"));
        assert!(accepts("gzip, deflate, br", "gzip"));
        assert!(!accepts("gzip;q=1.0, br;q=0", "br"));
        assert!(accepts("*", "br"));
        assert!(!accepts("*;q=0", "gzip"));
        assert!(!accepts("br;q=0, *", "br"));
        assert!(!accepts("", "gzip"));
        assert!(!accepts("identity", "gzip"));
    }

    #[test]
    fn any_encoding_of_the_same_content_is_not_modified() {
        assert!(matches_etag("\"abc-br\"", "abc"));
        assert!(matches_etag("W/\"abc\", \"x\"", "abc"));
        assert!(matches_etag("*", "abc"));
        assert!(!matches_etag("\"abd\"", "abc"));
    }
}
