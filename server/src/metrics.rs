//! Prometheus metrics: requests by route and status, code host call latency and errors by
//! provider, token refreshes, and bindings by status (computed when scraped). No tenant or
//! account labels: bounded cardinality, nothing personal.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// Latency buckets in seconds.
const BUCKETS: [f64; 8] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    provider_calls: Mutex<BTreeMap<(&'static str, &'static str), Histogram>>,
    refreshes: Mutex<BTreeMap<&'static str, u64>>,
}

/// The process-wide registry.
pub fn metrics() -> &'static Metrics {
    static M: OnceLock<Metrics> = OnceLock::new();
    M.get_or_init(Metrics::default)
}

/// Route label for a path: fixed routes as they are, parameterised ones by pattern.
pub fn route_label(path: &str) -> String {
    if path.starts_with("/api/v1/tenants/") {
        "/api/v1/tenants/{tenant}/code-sources/{provider}/credential".into()
    } else if path.starts_with("/pkg/") {
        "/pkg/*".into()
    } else if path.starts_with("/api/")
        || path.starts_with("/oauth/")
        || ["/", "/healthz", "/readyz", "/metrics", "/favicon.svg"].contains(&path)
    {
        path.chars().take(80).collect()
    } else {
        "other".into()
    }
}

impl Metrics {
    pub fn request(&self, path: &str, status: u16) {
        *self
            .requests
            .lock()
            .expect("metrics poisoned")
            .entry((route_label(path), status))
            .or_default() += 1;
    }

    /// A call to a code host: `outcome` is `ok` or an error class.
    pub fn provider_call(&self, provider: &'static str, outcome: &'static str, took: Duration) {
        let mut calls = self.provider_calls.lock().expect("metrics poisoned");
        let h = calls.entry((provider, outcome)).or_default();
        let secs = took.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                h.counts[i] += 1;
            }
        }
        h.sum += secs;
        h.count += 1;
    }

    pub fn refresh(&self, outcome: &'static str) {
        *self
            .refreshes
            .lock()
            .expect("metrics poisoned")
            .entry(outcome)
            .or_default() += 1;
    }

    /// The text exposition format; `bindings` are (provider, status) counts.
    pub fn render(&self, bindings: &BTreeMap<(String, String), u64>) -> String {
        let mut out = String::new();
        out.push_str("# HELP codesource_http_requests_total HTTP requests by route and status.\n# TYPE codesource_http_requests_total counter\n");
        for ((route, status), n) in self.requests.lock().expect("metrics poisoned").iter() {
            let _ = writeln!(
                out,
                "codesource_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        out.push_str("# HELP codesource_provider_call_seconds Calls to code hosts by provider and outcome.\n# TYPE codesource_provider_call_seconds histogram\n");
        for ((provider, outcome), h) in self.provider_calls.lock().expect("metrics poisoned").iter()
        {
            let labels = format!("provider=\"{provider}\",outcome=\"{outcome}\"");
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "codesource_provider_call_seconds_bucket{{{labels},le=\"{b}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "codesource_provider_call_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "codesource_provider_call_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "codesource_provider_call_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        out.push_str("# HELP codesource_token_refreshes_total OAuth token refreshes by outcome.\n# TYPE codesource_token_refreshes_total counter\n");
        for (outcome, n) in self.refreshes.lock().expect("metrics poisoned").iter() {
            let _ = writeln!(
                out,
                "codesource_token_refreshes_total{{outcome=\"{outcome}\"}} {n}"
            );
        }
        out.push_str("# HELP codesource_bindings Bindings by provider and status.\n# TYPE codesource_bindings gauge\n");
        for ((provider, status), n) in bindings {
            let _ = writeln!(
                out,
                "codesource_bindings{{provider=\"{provider}\",status=\"{status}\"}} {n}"
            );
        }
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.request("/api/v1/tenants/t1/code-sources/gitlab/credential", 200);
        m.request("/api/v1/tenants/t2/code-sources/gitee/credential", 200);
        m.request("/some/probe\"path", 404);
        m.provider_call("gitlab", "ok", Duration::from_millis(120));
        m.refresh("ok");
        let mut b = BTreeMap::new();
        b.insert(("gitlab".to_string(), "bound".to_string()), 2);
        let text = m.render(&b);
        assert!(text.contains("codesource_http_requests_total{route=\"/api/v1/tenants/{tenant}/code-sources/{provider}/credential\",status=\"200\"} 2"));
        assert!(
            text.contains("route=\"other\",status=\"404\"} 1"),
            "unknown paths do not become labels"
        );
        assert!(text.contains("codesource_provider_call_seconds_bucket{provider=\"gitlab\",outcome=\"ok\",le=\"0.25\"} 1"));
        assert!(text.contains("codesource_provider_call_seconds_bucket{provider=\"gitlab\",outcome=\"ok\",le=\"0.1\"} 0"));
        assert!(text.contains("codesource_token_refreshes_total{outcome=\"ok\"} 1"));
        assert!(text.contains("codesource_bindings{provider=\"gitlab\",status=\"bound\"} 2"));
    }
}
