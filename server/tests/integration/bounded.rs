//! Resource limits on what code hosts send and on how much a tenant may ask of them: answers
//! are read up to a bound (a tenant can point the GitLab address at its own server), a CA
//! field that is not a certificate is the user's input error, and a tenant's outbound calls
//! run at most a few at a time.

use crate::support::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

async fn limit_stats(app: &TestApp) -> Value {
    app.fake_json("limits/__stats").await
}

async fn produced(app: &TestApp) -> u64 {
    limit_stats(app).await["huge_bytes_produced"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn the_gitlab_check_stops_reading_a_huge_answer() {
    let app = spawn_app(Options::default()).await;
    // With a Content-Length (refused before reading) and without (refused at the bound).
    for base in ["huge", "huge-chunked"] {
        let before = produced(&app).await;
        let started = Instant::now();
        let (status, body) = app
            .check(
                &format!("{}/{base}", app.fake.http_url()),
                "glpat-fake-alice",
            )
            .await;
        assert_eq!(
            (status, host_error(&body)),
            (502, json!("AnswerTooLarge")),
            "{base}: {body}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{base}: fails fast"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        let sent = produced(&app).await - before;
        assert!(
            sent < fake_hosts::HUGE / 4,
            "{base}: the answer was not read to its end ({sent} bytes made)"
        );
    }
}

#[tokio::test]
async fn repository_and_branch_listings_stop_reading_a_huge_answer() {
    let app = spawn_app(Options::default()).await;
    let (status, pending) = app
        .check(
            &format!("{}/huge-list", app.fake.http_url()),
            "glpat-fake-alice",
        )
        .await;
    assert_eq!(status, 200, "{pending}");
    app.confirm_pending(&pending["id"]).await;

    let before = produced(&app).await;
    let (status, body) = app
        .call(
            "code-sources/repositories",
            json!({"provider": "gitlab", "search": "", "page": 1}),
        )
        .await;
    assert_eq!((status, body), (502, json!({"Host": "AnswerTooLarge"})));
    let (status, body) = app
        .call(
            "code-sources/branches",
            json!({"provider": "gitlab", "repo_id": "3001"}),
        )
        .await;
    assert_eq!((status, body), (502, json!({"Host": "AnswerTooLarge"})));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sent = produced(&app).await - before;
    assert!(
        sent < fake_hosts::HUGE / 2,
        "neither answer was read to its end ({sent} bytes made)"
    );

    // The build service's listing says the same.
    let resp = app
        .http
        .get(format!(
            "{}/api/v1/tenants/local/code-sources/gitlab/repositories",
            app.base
        ))
        .bearer_auth(SERVICE_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 502);
    assert!(resp.text().await.unwrap().contains("AnswerTooLarge"));
}

#[tokio::test]
async fn a_pem_shaped_non_certificate_is_an_input_error() {
    let app = spawn_app(Options::default()).await;
    let not_der = "-----BEGIN CERTIFICATE-----\nTm90IGEgY2VydGlmaWNhdGUgYXQgYWxs\n-----END CERTIFICATE-----\n";
    let not_base64 =
        "-----BEGIN CERTIFICATE-----\n!!!! not base64 !!!!\n-----END CERTIFICATE-----\n";
    let unterminated = "-----BEGIN CERTIFICATE-----\nMIIB\n";
    let good_then_bad = format!("{}{not_der}", fake_hosts::TEST_CA_PEM);
    for ca in [not_der, not_base64, unterminated, good_then_bad.as_str()] {
        let (status, body) = app
            .call(
                "code-sources/token/check",
                json!({"provider": "gitlab", "address": app.fake.https_url(), "token": "glpat-fake-alice", "ca_pem": ca}),
            )
            .await;
        assert_eq!(
            (status, body),
            (422, json!({"Invalid": "CaInvalid"})),
            "{ca}"
        );
    }
    // The real CA still works.
    let (status, body) = app
        .call(
            "code-sources/token/check",
            json!({"provider": "gitlab", "address": app.fake.https_url(), "token": "glpat-fake-alice", "ca_pem": fake_hosts::TEST_CA_PEM}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_tenant_runs_at_most_four_outbound_calls_at_once() {
    let app = spawn_identity_app().await;
    let held = format!("{}/held", app.fake.http_url());
    let check = |tenant: &'static str, address: String| {
        let app = &app;
        async move {
            app.call_as(
                tenant,
                "code-sources/token/check",
                json!({"provider": "gitlab", "address": address, "token": "glpat-fake-alice", "ca_pem": null}),
            )
            .await
        }
    };
    let busy = futures_util::future::join_all((0..8).map(|_| check("acme", held.clone())));
    let other = async {
        // While acme's calls hold the fake, another tenant's check goes straight through.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let started = Instant::now();
        let r = check("globex", app.fake.http_url()).await;
        (r, started.elapsed())
    };
    let (results, ((status, body), took)) = tokio::join!(busy, other);
    assert_eq!(status, 200, "{body}");
    assert!(took < Duration::from_secs(1), "globex waited {took:?}");
    for (status, body) in results {
        // Held calls end in a 404: not a GitLab.
        assert_eq!(
            (status, host_error(&body)),
            (502, json!("UnexpectedAnswer"))
        );
    }
    let stats = limit_stats(&app).await;
    assert_eq!(stats["held_total"], 8, "{stats}");
    assert_eq!(stats["held_max_in_flight"], 4, "{stats}");
}

#[tokio::test]
async fn a_tenant_over_its_limit_for_too_long_is_told_to_retry() {
    let app = spawn_identity_app().await;
    let held = format!("{}/held", app.fake.http_url());
    // Three rounds of four: the third would wait past the provider timeout (2 s).
    let results = futures_util::future::join_all((0..12).map(|_| {
        app.call_as(
            "acme",
            "code-sources/token/check",
            json!({"provider": "gitlab", "address": held, "token": "glpat-fake-alice", "ca_pem": null}),
        )
    }))
    .await;
    let busy: Vec<_> = results
        .iter()
        .filter(|(status, _)| *status == 429)
        .collect();
    assert_eq!(busy.len(), 4, "{results:?}");
    assert_eq!(busy[0].1, json!({"Host": "Busy"}));
    let stats = limit_stats(&app).await;
    assert_eq!(stats["held_max_in_flight"], 4, "{stats}");
}
