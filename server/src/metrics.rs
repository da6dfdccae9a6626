//! Prometheus metrics: requests by route and status, code host call latency and errors by
//! provider, token refreshes, and bindings by status (computed when scraped). No tenant or
//! account labels: bounded cardinality, nothing personal.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
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
    /// Page loads answered from the page cache, and those rendered (web/page_cache).
    page_hits: AtomicU64,
    page_renders: AtomicU64,
    /// Webhook deliveries by provider and outcome (autobuild::ingress::Answer::outcome).
    deliveries: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    /// Build events emitted, by provider.
    events: Mutex<BTreeMap<&'static str, u64>>,
    /// Attempts to push an event to the build service: delivered, failed.
    pushed: [AtomicU64; 2],
    /// Registrations checked at their code host (repair, periodic reconcile), by provider and
    /// what was found (`autobuild::repair::Found::label`).
    reconciles: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
}

/// What `/metrics` reads from the auto-build path when scraped.
#[derive(Debug, Default)]
pub struct AutoBuildGauges {
    /// Events stored past the highest cursor the build service passed back to the feed.
    pub feed_lag: u64,
    /// Events waiting in the push outbox, and those of them that failed at least once.
    pub outbox_pending: u64,
    pub outbox_failing: u64,
    /// Pushes held until their code host confirms them (GitLab, Gitee).
    pub held_pushes: u64,
}

/// The process-wide registry.
pub fn metrics() -> &'static Metrics {
    static M: OnceLock<Metrics> = OnceLock::new();
    M.get_or_init(Metrics::default)
}

/// The one label of every request no route matched: probes, typos, made-up paths.
pub const UNMATCHED: &str = "unmatched";

/// Longest route label we keep (our patterns are far shorter; a guard, not a format).
const MAX_LABEL: usize = 120;

/// Route label of a request: the route pattern the router matched (`matched`, from axum's
/// `MatchedPath`: one of the routes we registered, server functions included), else one of the
/// asset families the fallbacks serve, else [`UNMATCHED`]. Never the raw path: the set of labels
/// is closed, so requests to made-up paths cannot create series.
pub fn route_label(matched: Option<&str>, path: &str) -> String {
    if let Some(pattern) = matched {
        return pattern.chars().take(MAX_LABEL).collect();
    }
    // Served by fallbacks (Leptos' file handler, the widget's directory): no `MatchedPath`.
    let family = if path.starts_with("/pkg/") {
        "/pkg/*"
    } else if path.starts_with("/widget/") {
        "/widget/*"
    } else if path == "/favicon.svg" || path == "/favicon.ico" {
        path
    } else {
        UNMATCHED
    };
    family.to_string()
}

impl Metrics {
    /// A finished request: `matched` is the route pattern the router matched, if any.
    pub fn request(&self, matched: Option<&str>, path: &str, status: u16) {
        *self
            .requests
            .lock()
            .expect("metrics poisoned")
            .entry((route_label(matched, path), status))
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

    /// A page load: answered from memory (`hit`) or rendered.
    pub fn page(&self, hit: bool) {
        let counter = if hit {
            &self.page_hits
        } else {
            &self.page_renders
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// A webhook delivery was answered.
    pub fn delivery(&self, provider: &'static str, outcome: &'static str) {
        *self
            .deliveries
            .lock()
            .expect("metrics poisoned")
            .entry((provider, outcome))
            .or_default() += 1;
    }

    /// `n` new build events were stored.
    pub fn events_emitted(&self, provider: &'static str, n: u64) {
        *self
            .events
            .lock()
            .expect("metrics poisoned")
            .entry(provider)
            .or_default() += n;
    }

    /// A registration was checked at its code host.
    pub fn reconciled(&self, provider: &'static str, found: &'static str) {
        *self
            .reconciles
            .lock()
            .expect("metrics poisoned")
            .entry((provider, found))
            .or_default() += 1;
    }

    /// One attempt to push an event to the build service.
    pub fn events_pushed(&self, delivered: bool) {
        self.pushed[usize::from(!delivered)].fetch_add(1, Ordering::Relaxed);
    }

    /// The auto-build families: deliveries, events, pushes and the gauges read at scrape time.
    pub fn render_autobuild(&self, gauges: &AutoBuildGauges) -> String {
        let mut out = String::new();
        out.push_str("# HELP codesource_webhook_deliveries_total Webhook deliveries by provider and outcome.\n# TYPE codesource_webhook_deliveries_total counter\n");
        for ((provider, outcome), n) in self.deliveries.lock().expect("metrics poisoned").iter() {
            let _ = writeln!(
                out,
                "codesource_webhook_deliveries_total{{provider=\"{provider}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        out.push_str("# HELP codesource_build_events_total Build events emitted, by provider.\n# TYPE codesource_build_events_total counter\n");
        for (provider, n) in self.events.lock().expect("metrics poisoned").iter() {
            let _ = writeln!(
                out,
                "codesource_build_events_total{{provider=\"{provider}\"}} {n}"
            );
        }
        out.push_str("# HELP codesource_autobuild_reconciles_total Registrations checked at their code host, by provider and what was found.\n# TYPE codesource_autobuild_reconciles_total counter\n");
        for ((provider, found), n) in self.reconciles.lock().expect("metrics poisoned").iter() {
            let _ = writeln!(
                out,
                "codesource_autobuild_reconciles_total{{provider=\"{provider}\",found=\"{found}\"}} {n}"
            );
        }
        out.push_str("# HELP codesource_build_event_pushes_total Attempts to push a build event to the build service.\n# TYPE codesource_build_event_pushes_total counter\n");
        for (result, n) in [("delivered", &self.pushed[0]), ("failed", &self.pushed[1])] {
            let _ = writeln!(
                out,
                "codesource_build_event_pushes_total{{result=\"{result}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP codesource_build_events_feed_lag Events stored past the highest cursor the build service passed back.\n# TYPE codesource_build_events_feed_lag gauge\ncodesource_build_events_feed_lag {}",
            gauges.feed_lag
        );
        let _ = writeln!(
            out,
            "# HELP codesource_build_events_outbox Events waiting to be pushed (failing: tried at least once).\n# TYPE codesource_build_events_outbox gauge\ncodesource_build_events_outbox{{state=\"pending\"}} {}\ncodesource_build_events_outbox{{state=\"failing\"}} {}",
            gauges.outbox_pending, gauges.outbox_failing
        );
        let _ = writeln!(
            out,
            "# HELP codesource_webhook_pushes_held Pushes held until their code host confirms them (GitLab, Gitee).\n# TYPE codesource_webhook_pushes_held gauge\ncodesource_webhook_pushes_held {}",
            gauges.held_pushes
        );
        out
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
        out.push_str("# HELP codesource_page_loads_total Page loads, answered from the page cache or rendered.\n# TYPE codesource_page_loads_total counter\n");
        for (result, n) in [
            ("cached", &self.page_hits),
            ("rendered", &self.page_renders),
        ] {
            let _ = writeln!(
                out,
                "codesource_page_loads_total{{result=\"{result}\"}} {}",
                n.load(Ordering::Relaxed)
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
        let credential = Some("/api/v1/tenants/{tenant}/code-sources/{provider}/credential");
        m.request(
            credential,
            "/api/v1/tenants/t1/code-sources/gitlab/credential",
            200,
        );
        m.request(
            credential,
            "/api/v1/tenants/t2/code-sources/gitee/credential",
            200,
        );
        m.request(None, "/some/probe\"path", 404);
        m.provider_call("gitlab", "ok", Duration::from_millis(120));
        m.refresh("ok");
        m.page(true);
        m.page(true);
        m.page(false);
        let mut b = BTreeMap::new();
        b.insert(("gitlab".to_string(), "bound".to_string()), 2);
        let text = m.render(&b);
        assert!(text.contains("codesource_http_requests_total{route=\"/api/v1/tenants/{tenant}/code-sources/{provider}/credential\",status=\"200\"} 2"));
        assert!(
            text.contains("route=\"unmatched\",status=\"404\"} 1"),
            "unknown paths do not become labels"
        );
        assert!(text.contains("codesource_provider_call_seconds_bucket{provider=\"gitlab\",outcome=\"ok\",le=\"0.25\"} 1"));
        assert!(text.contains("codesource_provider_call_seconds_bucket{provider=\"gitlab\",outcome=\"ok\",le=\"0.1\"} 0"));
        assert!(text.contains("codesource_token_refreshes_total{outcome=\"ok\"} 1"));
        assert!(text.contains("codesource_bindings{provider=\"gitlab\",status=\"bound\"} 2"));
        assert!(text.contains("codesource_page_loads_total{result=\"cached\"} 2"));
        assert!(text.contains("codesource_page_loads_total{result=\"rendered\"} 1"));
    }

    #[test]
    fn labels_matched_routes_by_their_pattern() {
        for pattern in [
            "/",
            "/api/code-sources/page",
            "/api/v1/tenants/{tenant}/code-sources/{provider}/credential",
            "/oauth/github/callback",
            "/metrics",
            "/widget",
        ] {
            assert_eq!(route_label(Some(pattern), "/ignored/raw/path"), pattern);
        }
    }

    #[test]
    fn unmatched_paths_share_one_label() {
        for path in [
            "/api/made-up",
            "/api/v2/anything/else",
            "/oauth/github/nope",
            "/oauth/made-up/start",
            "/",
            "/healthz/x",
            "/.env",
            "/wp-login.php",
            "",
            "/pkg",
            "/widgetx",
            "/favicon.svg/x",
        ] {
            assert_eq!(route_label(None, path), UNMATCHED, "{path}");
        }
    }

    #[test]
    fn assets_served_by_fallbacks_keep_their_family() {
        assert_eq!(route_label(None, "/pkg/codesource.wasm"), "/pkg/*");
        assert_eq!(route_label(None, "/pkg/made-up-404.js"), "/pkg/*");
        assert_eq!(
            route_label(None, "/widget/codesource-widget.js"),
            "/widget/*"
        );
        assert_eq!(route_label(None, "/favicon.svg"), "/favicon.svg");
        assert_eq!(route_label(None, "/favicon.ico"), "/favicon.ico");
    }

    #[test]
    fn random_unmatched_paths_make_one_series_per_status() {
        let m = Metrics::default();
        for i in 0..200 {
            let prefix = ["/api/", "/oauth/", "/", "/pkg/"][i % 4];
            m.request(None, &format!("{prefix}random-{i}-{}", i * 7919), 404);
            m.request(None, &format!("{prefix}random-{i}"), 401);
        }
        let series = m.requests.lock().unwrap().len();
        // unmatched and /pkg/*, each with 404 and 401.
        assert_eq!(series, 4);
    }

    #[test]
    fn long_patterns_are_cut() {
        let long = format!("/{}", "a".repeat(500));
        assert_eq!(route_label(Some(&long), "/x").chars().count(), MAX_LABEL);
    }
}
