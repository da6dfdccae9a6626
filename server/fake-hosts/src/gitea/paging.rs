//! The fake Gitea's pagination: `page`/`limit` as `routers/api/v1/utils/page.go` reads them
//! (limit 30 by default, at most 50), `X-Total-Count`, and `Link` as `genAPILinks` builds it.

use crate::support::with_query_param;
use axum::http::{header, HeaderName, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize, Default)]
pub(super) struct PageQuery {
    page: Option<i64>,
    limit: Option<i64>,
}

/// One page of `items` with Gitea's `X-Total-Count` and `Link` headers.
pub(super) fn paginate(items: Vec<Value>, q: &PageQuery, origin: &str, uri: &Uri) -> Response {
    let limit = match q.limit.unwrap_or(0) {
        l if l <= 0 => 30,
        l => l.min(50) as usize,
    };
    let page = q.page.unwrap_or(1).max(1) as usize;
    let total = items.len();
    let values: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * limit)
        .take(limit)
        .collect();
    let headers = [
        (HeaderName::from_static("x-total-count"), total.to_string()),
        (
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            "X-Total-Count, Link".into(),
        ),
    ];
    let links = links(total, limit, page, origin, uri);
    let mut response = (headers, Json(values)).into_response();
    if !links.is_empty() {
        response
            .headers_mut()
            .insert(header::LINK, links.parse().unwrap());
    }
    response
}

/// `genAPILinks`: the paginater clamps the current page to the last one.
fn links(total: usize, limit: usize, page: usize, origin: &str, uri: &Uri) -> String {
    let pages = total.div_ceil(limit).max(1);
    let current = page.min(pages);
    let link = |p: usize, rel: &str| {
        let mut pairs = with_query_param(uri.query().unwrap_or(""), "page", &p.to_string());
        // Go's url.Values.Encode writes keys in sorted order.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let query = serde_urlencoded::to_string(pairs).unwrap_or_default();
        format!("<{origin}{}?{query}>; rel=\"{rel}\"", uri.path())
    };
    let mut out = vec![];
    let has_next = total > current * limit;
    if has_next {
        out.push(link(current + 1, "next"));
    }
    let is_last = total == 0 || (total > (current - 1) * limit && !has_next);
    if !is_last {
        out.push(link(pages, "last"));
    }
    if current != 1 {
        out.push(link(1, "first"));
    }
    if current > 1 {
        out.push(link(current - 1, "prev"));
    }
    out.join(",")
}
