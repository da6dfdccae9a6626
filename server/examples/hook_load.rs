//! `hook_load`: the load generator of the auto-build benchmark (bench/hooks.sh runs it; run by
//! hand, never a test). It sets up auto-build with manual setup for every repository of the
//! fake GitHub (45 of them) in each of `TENANTS` tenants, bound to GitHub through the OAuth
//! flow, then for each concurrency level sends signed GitHub `push` deliveries of a realistic
//! size (GitHub's documented payload, 4 commits each) over that many connections for
//! `DURATION` seconds, while one build service reads the feed with a long poll. It prints a
//! Markdown row per level: deliveries accepted per second, latency to the 2xx, errors, and the
//! time from sending a delivery to its event in the waiting reader's hands.
//!
//! Many registrations rather than one: the ingress limits each webhook URL to 10 deliveries a
//! second (a burst of 60), as one repository never pushes faster; the server's throughput is
//! what its registrations together can deliver.
//!
//! Environment: `BASE` (the server, which must have `CODESOURCE_PUBLIC_URL` = `BASE` and the
//! fake GitHub configured), `IDENTITY_KEY`, `SERVICE_TOKEN`, `STORE` (the label of the rows),
//! `TENANTS` (12), `CONCURRENCY` (comma-separated levels, `16,64`), `DURATION` (seconds, 10).

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Repositories of the fake GitHub account (`octo-alice/repo-01` … `repo-45`).
const REPOS: usize = 45;
/// Commits per push: GitHub sends up to 20; a typical push has a few.
const COMMITS: usize = 4;

fn var(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// A console identity token (HS256) for a user of `tenant`.
fn identity(key: &str, tenant: &str) -> String {
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 86_400;
    let head = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = json!({"sub": "bench", "tenant": tenant, "name": "Bench", "exp": exp});
    let body = b64url(claims.to_string().as_bytes());
    let sig = b64url(&hmac_sha256(
        key.as_bytes(),
        format!("{head}.{body}").as_bytes(),
    ));
    format!("{head}.{body}.{sig}")
}

struct Setup {
    base: String,
    identity_key: String,
    service_token: String,
    http: reqwest::Client,
}

/// Where a delivery goes and how it is signed.
struct Target {
    url: String,
    secret: String,
    template: Template,
}

impl Setup {
    /// Binds GitHub for `tenant` as the console does: start, approve at the (fake) host,
    /// back to our callback, confirm.
    async fn bind_github(&self, tenant: &str) -> Result<(), Error> {
        let jwt = identity(&self.identity_key, tenant);
        let start = self
            .http
            .get(format!("{}/oauth/github/start?mode=redirect", self.base))
            .bearer_auth(&jwt)
            .send()
            .await?;
        let location = |r: &reqwest::Response| -> Result<String, Error> {
            Ok(r.headers()
                .get("location")
                .ok_or_else(|| format!("no redirect ({})", r.status()))?
                .to_str()?
                .to_string())
        };
        let authorize = location(&start)?;
        let cookie = start
            .headers()
            .get("set-cookie")
            .ok_or("no flow cookie")?
            .to_str()?
            .split(';')
            .next()
            .unwrap_or_default()
            .to_string();
        let approved = self
            .http
            .get(format!("{authorize}&decision=approve"))
            .send()
            .await?;
        let back = location(&approved)?;
        let page = self
            .http
            .get(back)
            .bearer_auth(&jwt)
            .header("cookie", cookie)
            .send()
            .await?
            .text()
            .await?;
        let pending = page
            .split("pending=")
            .nth(1)
            .and_then(|s| s.split(['&', '"']).next())
            .ok_or("the callback reported no pending binding")?
            .to_string();
        let confirm = self
            .http
            .post(format!("{}/api/code-sources/confirm", self.base))
            .bearer_auth(&jwt)
            .header("origin", &self.base)
            .json(&json!({ "pending_id": pending }))
            .send()
            .await?;
        if !confirm.status().is_success() {
            return Err(format!("confirm: {}", confirm.text().await?).into());
        }
        Ok(())
    }

    /// Auto-build with manual setup for `octo-alice/repo-{n}`: its webhook URL and secret.
    async fn enable(&self, tenant: &str, n: usize) -> Result<Target, Error> {
        let full_name = format!("octo-alice/repo-{n:02}");
        let resp = self
            .http
            .put(format!(
                "{}/api/v1/tenants/{tenant}/code-sources/github/repositories/{}/auto-build",
                self.base,
                full_name.replace('/', "%2F")
            ))
            .bearer_auth(&self.service_token)
            .json(&json!({"branches": ["**"], "manual": true}))
            .send()
            .await?;
        let status = resp.status();
        let body: Value = resp.json().await?;
        let setup = &body["manual_setup"];
        let (Some(url), Some(secret)) = (setup["payload_url"].as_str(), setup["secret"].as_str())
        else {
            return Err(format!("enable {full_name}: {status} {body}").into());
        };
        // The path is ours; the host and port are the ones this run talks to.
        let rid = url.rsplit('/').next().unwrap_or_default();
        Ok(Target {
            url: format!("{}/hooks/{rid}", self.base),
            secret: secret.to_string(),
            template: Template::push(&full_name, 1000 + n as u64),
        })
    }
}

/// A push payload with holes for the commit ids and `before`, filled per delivery by plain
/// concatenation, so the generator spends its (shared) cores on sending, not serializing.
struct Template {
    parts: Vec<String>,
    /// `holes[i]` fills the gap after `parts[i]`: 0 is `before`, 1 + k is commit k.
    holes: Vec<usize>,
}

const HOLE: &str = "@@HOLE";

impl Template {
    /// GitHub's documented `push` payload (docs.github.com, "Webhook events and payloads").
    fn push(full_name: &str, id: u64) -> Template {
        let (owner, name) = full_name.split_once('/').unwrap();
        let html = format!("https://github.com/{full_name}");
        let api = format!("https://api.github.com/repos/{full_name}");
        let person = json!({"name": "Octo Alice", "email": "alice@example.com", "username": owner});
        let files = |k: usize, what: &str| -> Vec<String> {
            (0..4)
                .map(|f| format!("src/module_{k}/{what}_{f}/component_{f}.rs"))
                .collect()
        };
        let commit = |k: usize| {
            json!({
                "id": format!("{HOLE}{}@@", k + 1), "tree_id": format!("{HOLE}{}@@", k + 1),
                "distinct": true,
                "message": format!("Refactor the module {k} request handling\n\nSplit the \
                    parser from the transport so both can be tested alone; the retry \
                    policy now lives next to the client that uses it and reads its limits \
                    from the configuration instead of constants.\n\nRefs #{}", 100 + k),
                "timestamp": "2025-12-07T09:30:00+01:00",
                "url": format!("{html}/commit/{HOLE}{}@@", k + 1),
                "author": person, "committer": person,
                "added": files(k, "added"), "removed": [], "modified": files(k, "modified"),
            })
        };
        let commits: Vec<Value> = (0..COMMITS).map(commit).collect();
        let mut urls = serde_json::Map::new();
        for k in [
            "forks",
            "keys",
            "collaborators",
            "teams",
            "hooks",
            "issue_events",
            "events",
            "assignees",
            "branches",
            "tags",
            "blobs",
            "git_tags",
            "git_refs",
            "trees",
            "statuses",
            "languages",
            "stargazers",
            "contributors",
            "subscribers",
            "subscription",
            "commits",
            "git_commits",
            "comments",
            "issue_comment",
            "contents",
            "compare",
            "merges",
            "archive",
            "downloads",
            "issues",
            "pulls",
            "milestones",
            "notifications",
            "labels",
            "releases",
            "deployments",
        ] {
            urls.insert(format!("{k}_url"), json!(format!("{api}/{k}")));
        }
        let mut repository = json!({
            "id": id, "node_id": format!("R_kgDO{id}"), "name": name, "full_name": full_name,
            "private": false,
            "owner": {"name": owner, "email": "alice@example.com", "login": owner, "id": 583231,
                "node_id": "U_kgDOAAjmPw", "avatar_url": "https://avatars.githubusercontent.com/u/583231?v=4",
                "url": format!("https://api.github.com/users/{owner}"), "html_url": format!("https://github.com/{owner}"),
                "type": "User", "site_admin": false},
            "html_url": html, "description": "A repository the benchmark pushes to", "fork": false,
            "url": api, "created_at": 1700000000, "updated_at": "2025-12-07T08:00:00Z",
            "pushed_at": 1765096200, "git_url": format!("git://github.com/{full_name}.git"),
            "ssh_url": format!("git@github.com:{full_name}.git"),
            "clone_url": format!("{html}.git"), "svn_url": html, "homepage": null,
            "size": 1843, "stargazers_count": 12, "watchers_count": 12, "language": "Rust",
            "has_issues": true, "has_projects": true, "has_downloads": true, "has_wiki": false,
            "has_pages": false, "forks_count": 2, "archived": false, "disabled": false,
            "open_issues_count": 3, "license": null, "forks": 2, "open_issues": 3,
            "watchers": 12, "default_branch": "main", "stargazers": 12, "master_branch": "main",
        });
        repository.as_object_mut().unwrap().extend(urls);
        let payload = json!({
            "ref": "refs/heads/main", "before": format!("{HOLE}0@@"),
            "after": format!("{HOLE}{COMMITS}@@"),
            "repository": repository,
            "pusher": {"name": owner, "email": "alice@example.com"},
            "sender": {"login": owner, "id": 583231, "type": "User", "site_admin": false,
                "avatar_url": "https://avatars.githubusercontent.com/u/583231?v=4"},
            "created": false, "deleted": false, "forced": false, "base_ref": null,
            "compare": format!("{html}/compare/{HOLE}0@@...{HOLE}{COMMITS}@@"),
            "commits": commits,
            "head_commit": commit(COMMITS - 1),
        });
        let text = payload.to_string();
        let mut parts = Vec::new();
        let mut holes = Vec::new();
        let mut rest = text.as_str();
        while let Some(at) = rest.find(HOLE) {
            parts.push(rest[..at].to_string());
            let after = &rest[at + HOLE.len()..];
            let end = after.find("@@").unwrap();
            holes.push(after[..end].parse().unwrap());
            rest = &after[end + 2..];
        }
        parts.push(rest.to_string());
        Template { parts, holes }
    }

    fn fill(&self, shas: &[String]) -> Vec<u8> {
        let mut out = String::with_capacity(12 * 1024);
        for (i, part) in self.parts.iter().enumerate() {
            out.push_str(part);
            if let Some(&h) = self.holes.get(i) {
                out.push_str(&shas[h]);
            }
        }
        out.into_bytes()
    }
}

/// What one level measured.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    /// Answers by status (202 accepted; anything else is counted as an error).
    statuses: HashMap<u16, u64>,
    transport_errors: u64,
}

/// Deliveries sent and not yet seen by the reader: delivery id → (level, sent at).
type Pending = Arc<Mutex<HashMap<String, (usize, Instant)>>>;

/// The latency columns are the latency to a 2xx: a 429 or 503 comes back faster than any
/// stored delivery and would flatter them.
fn resp_ok(status: u16) -> bool {
    (200..300).contains(&status)
}

fn pct(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

/// The build service: reads the feed with a long poll from the current end, forever; records
/// for each event of ours the time since its delivery was sent.
async fn reader(
    base: String,
    token: String,
    pending: Pending,
    seen: Arc<Mutex<Vec<Vec<u64>>>>,
) -> Result<(), Error> {
    let http = reqwest::Client::new();
    let page = |after: String| {
        http.get(format!("{base}/api/v1/build-events"))
            .query(&[("after", after.as_str()), ("limit", "500"), ("wait", "30")])
            .bearer_auth(&token)
            .send()
    };
    let mut after = "0".to_string();
    loop {
        let body: Value = page(after.clone())
            .await?
            .error_for_status()?
            .json()
            .await?;
        let now = Instant::now();
        let events = body["events"].as_array().cloned().unwrap_or_default();
        {
            let mut pending = pending.lock().unwrap();
            let mut seen = seen.lock().unwrap();
            for e in &events {
                if let Some((level, at)) = e["delivery_id"].as_str().and_then(|d| pending.remove(d))
                {
                    seen[level].push(now.duration_since(at).as_micros() as u64);
                }
            }
        }
        after = body["next"].as_str().ok_or("no cursor")?.to_string();
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let base = var("BASE", "http://127.0.0.1:3941");
    let setup = Arc::new(Setup {
        base: base.clone(),
        identity_key: var("IDENTITY_KEY", ""),
        service_token: var("SERVICE_TOKEN", ""),
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?,
    });
    let tenants: usize = var("TENANTS", "12").parse()?;
    let levels: Vec<usize> = var("CONCURRENCY", "16,64")
        .split(',')
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()?;
    let duration = Duration::from_secs_f64(var("DURATION", "10").parse()?);
    let store = var("STORE", "?");

    eprintln!("setting up {tenants} tenants × {REPOS} repositories…");
    let mut targets = Vec::new();
    for t in 1..=tenants {
        let tenant = format!("bench-hooks-{t:02}");
        setup.bind_github(&tenant).await?;
        let mut tasks = Vec::new();
        for n in 1..=REPOS {
            let (setup, tenant) = (setup.clone(), tenant.clone());
            tasks.push(tokio::spawn(async move { setup.enable(&tenant, n).await }));
        }
        for task in tasks {
            targets.push(task.await??);
        }
    }
    let targets = Arc::new(targets);
    let body_size = targets[0]
        .template
        .fill(&vec!["0".repeat(40); COMMITS + 1])
        .len();
    eprintln!(
        "{} registrations; deliveries of {body_size} bytes",
        targets.len()
    );

    let pending: Pending = Default::default();
    let seen = Arc::new(Mutex::new(vec![Vec::new(); levels.len()]));
    let reading = tokio::spawn(reader(
        base.clone(),
        setup.service_token.clone(),
        pending.clone(),
        seen.clone(),
    ));
    // Unique commits and delivery ids across runs against the same store.
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_micros() as u64;
    let counter = Arc::new(AtomicU64::new(0));

    println!("| store | connections | deliveries/s | 2xx p50 / p99 / max ms | errors | event in reader's hands p50 / p99 / max ms | events seen |");
    println!("|---|---|---|---|---|---|---|");
    for (level, &connections) in levels.iter().enumerate() {
        // The previous level's deferred work (sled writing out its log) settles first.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(connections)
            .timeout(Duration::from_secs(30))
            .build()?;
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let mut workers = Vec::new();
        for _ in 0..connections {
            let (http, targets, counter, pending, stop) = (
                http.clone(),
                targets.clone(),
                counter.clone(),
                pending.clone(),
                stop.clone(),
            );
            workers.push(tokio::spawn(async move {
                let mut tally = Tally::default();
                while !stop.load(Ordering::Relaxed) {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let target = &targets[n as usize % targets.len()];
                    let shas: Vec<String> = (0..=COMMITS)
                        .map(|k| format!("{nonce:016x}{k:08x}{n:016x}"))
                        .collect();
                    let body = target.template.fill(&shas);
                    let signature = hex(&hmac_sha256(target.secret.as_bytes(), &body));
                    let delivery = format!("{nonce:016x}-{n:016x}");
                    let sent = Instant::now();
                    pending
                        .lock()
                        .unwrap()
                        .insert(delivery.clone(), (level, sent));
                    let answer = http
                        .post(&target.url)
                        .header("content-type", "application/json")
                        .header("user-agent", "GitHub-Hookshot/bench")
                        .header("x-github-event", "push")
                        .header("x-github-delivery", &delivery)
                        .header("x-hub-signature-256", format!("sha256={signature}"))
                        .body(body)
                        .send()
                        .await;
                    match answer {
                        Ok(resp) => {
                            let status = resp.status().as_u16();
                            let _ = resp.bytes().await;
                            if resp_ok(status) {
                                tally.latencies_us.push(sent.elapsed().as_micros() as u64);
                            }
                            *tally.statuses.entry(status).or_default() += 1;
                            if status != 202 {
                                pending.lock().unwrap().remove(&delivery);
                            }
                        }
                        Err(_) => {
                            tally.transport_errors += 1;
                            pending.lock().unwrap().remove(&delivery);
                        }
                    }
                }
                tally
            }));
        }
        tokio::time::sleep(duration).await;
        stop.store(true, Ordering::Relaxed);
        let mut all = Tally::default();
        for w in workers {
            let t = w.await?;
            all.latencies_us.extend(t.latencies_us);
            for (s, n) in t.statuses {
                *all.statuses.entry(s).or_default() += n;
            }
            all.transport_errors += t.transport_errors;
        }
        let elapsed = started.elapsed().as_secs_f64();
        // Every accepted delivery's event should reach the reader; give the last ones time.
        let settle = Instant::now();
        while settle.elapsed() < Duration::from_secs(10)
            && pending.lock().unwrap().values().any(|(l, _)| *l == level)
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let accepted = all.statuses.get(&202).copied().unwrap_or(0);
        let mut lat = all.latencies_us;
        lat.sort_unstable();
        let mut reads = std::mem::take(&mut seen.lock().unwrap()[level]);
        reads.sort_unstable();
        let mut errors: Vec<String> = all
            .statuses
            .iter()
            .filter(|(s, _)| **s != 202)
            .map(|(s, n)| format!("{n}× {s}"))
            .collect();
        if all.transport_errors > 0 {
            errors.push(format!("{}× transport", all.transport_errors));
        }
        errors.sort();
        println!(
            "| {store} | {connections} | {:.0} | {:.1} / {:.1} / {:.1} | {} | {:.1} / {:.1} / {:.1} | {} of {accepted} |",
            accepted as f64 / elapsed,
            pct(&lat, 0.5),
            pct(&lat, 0.99),
            pct(&lat, 1.0),
            if errors.is_empty() { "0".to_string() } else { errors.join(", ") },
            pct(&reads, 0.5),
            pct(&reads, 0.99),
            pct(&reads, 1.0),
            reads.len(),
        );
    }
    reading.abort();
    Ok(())
}
