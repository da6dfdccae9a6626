//! The `codesource` binary: configuration → logging → server.

use leptos::prelude::get_configuration;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let (config, warnings) = match codesource_server::Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("codesource: configuration error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    codesource_server::telemetry::init(config.log_json);
    for w in warnings {
        tracing::warn!("{w}");
    }
    if config.local_mode() {
        tracing::warn!(
            "LOCAL MODE: CODESOURCE_IDENTITY_KEY is not set, so every request is the single local tenant. \
             Never expose this server; set CODESOURCE_IDENTITY_KEY and CODESOURCE_ENCRYPTION_KEY in production."
        );
    }
    let leptos = match get_configuration(None) {
        Ok(c) => c.leptos_options,
        Err(e) => {
            tracing::error!(error = %e, "reading the Leptos configuration failed");
            return ExitCode::FAILURE;
        }
    };
    let addr = leptos.site_addr;
    let router = match codesource_server::build(&config, leptos) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "start-up failed");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(%addr, error = %e, "cannot listen");
            return ExitCode::FAILURE;
        }
    };
    let shown = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| addr.to_string());
    tracing::info!(data_dir = %config.data_dir.display(), "Code source configuration console listening on http://{shown}/");
    println!("Code source configuration console: http://{shown}/");
    match codesource_server::serve(listener, router).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server failed");
            ExitCode::FAILURE
        }
    }
}
