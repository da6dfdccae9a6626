//! Code Source Binding server: everything that touches tokens, code hosts, crypto and storage.
//!
//! `main` → [`Config`] → [`build`] (store, keyring, services, router) → [`serve`].
//! Module map: `config` (settings), `identity` (console JWT), `crypto` (AEAD at rest, keyring),
//! `store` (everything a flow keeps between requests: sled or PostgreSQL), `hosts` (one
//! module per code host, the registry and the OAuth engine their specs drive), `outbound`
//! (everything that reaches the network: outbound policy, limits, the one HTTP helper),
//! `host_calls` (the one owner of calls to code hosts: slot, timing, metric), `pending`
//! (checked, unconfirmed bindings), `oauth_flow`, `credentials`, `health`, `service` (what
//! server functions call), `rotate` (key rotation), `web` (router and middleware).

// Leptos view types of the whole page get deep when the server renders them.
#![recursion_limit = "256"]

pub mod autobuild;
pub mod config;
pub mod credentials;
pub mod crypto;
pub mod failures;
pub mod health;
pub mod host_calls;
pub mod hosts;
pub mod identity;
pub mod jobs;
pub mod metrics;
pub mod oauth_flow;
pub mod outbound;
pub mod pending;
pub mod repositories;
pub mod rotate;
pub mod secret;
pub mod service;
pub mod store;
pub mod telemetry;
pub mod util;
pub mod web;

pub use config::Config;

use anyhow::Context;
use leptos::prelude::LeptosOptions;
use std::sync::Arc;

/// The keyring: the active key (configured, or the local one in the data dir) and the
/// decrypt-only keys.
pub fn keyring(config: &Config) -> anyhow::Result<crypto::Cipher> {
    let key = match &config.encryption_key {
        Some(k) => secret::SecretBytes::new(k.expose().to_vec()),
        None => {
            std::fs::create_dir_all(&config.data_dir).with_context(|| {
                format!("creating the data directory {}", config.data_dir.display())
            })?;
            crypto::load_or_create_local_key(&config.data_dir.join("encryption.key"))?
        }
    };
    let cipher = crypto::Cipher::with_older(&key, &config.decrypt_keys)
        .context("loading the encryption keys")?;
    tracing::info!(key_id = cipher.key_id(), decrypt_only = ?cipher.older_key_ids(), "encryption keys loaded");
    Ok(cipher)
}

/// Opens the store (migrating a PostgreSQL schema), loads keys and assembles the router.
pub async fn build(config: &Config, leptos_options: LeptosOptions) -> anyhow::Result<axum::Router> {
    let store = store::open(config, true).await?;
    let cipher = Arc::new(keyring(config)?);
    spawn_sweeps(store.clone(), config);
    // Redirect URIs are built from the external URL; without one, from the listen address.
    let public_base = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", leptos_options.site_addr));
    let secure = public_base.starts_with("https://");
    // Code hosts deliver webhooks here: an address they reach, which the console need not be.
    let webhook_base = format!(
        "{}{}",
        config.webhook_url.as_deref().unwrap_or(&public_base),
        config.base_path
    );
    // The code hosts send the browser back to the callback under our prefix.
    let public_base = format!("{public_base}{}", config.base_path);
    let hosts = Arc::new(hosts::Hosts::from_config(config, &public_base)?);
    // Every call to a code host, for whichever service, goes through this one.
    let calls = Arc::new(host_calls::HostCalls::new(config, hosts));
    let flows = Arc::new(oauth_flow::OAuthFlows::new(
        calls.clone(),
        store.clone(),
        cipher.clone(),
    ));
    let health = Arc::new(health::Health::new(
        store.clone(),
        cipher.clone(),
        calls.clone(),
        config
            .health_interval
            .unwrap_or(std::time::Duration::from_secs(3600)),
    ));
    if config.health_interval.is_some() {
        health.clone().spawn_periodic();
    }
    let credentials = Arc::new(credentials::Credentials::new(
        config,
        store.clone(),
        cipher.clone(),
        calls.clone(),
    ));
    let repos = Arc::new(repositories::Repositories {
        credentials: credentials.clone(),
        calls: calls.clone(),
    });
    let pusher = match &config.build_events {
        Some(p) => {
            let pusher = autobuild::push::Pusher::new(p.url.clone(), p.secret.expose())
                .context("setting up the build events push")?;
            pusher.clone().spawn(store.clone());
            Some(pusher)
        }
        None => None,
    };
    let cleanup = jobs::Cleanup::new(
        store.clone(),
        cipher.clone(),
        calls.clone(),
        webhook_base.clone(),
        config.cleanup_lease,
    );
    cleanup.clone().spawn();
    let autobuild = Arc::new(autobuild::AutoBuild::new(
        store.clone(),
        cipher.clone(),
        credentials.clone(),
        calls.clone(),
        webhook_base,
        autobuild::feed::Feed::new(store.clone()),
        pusher,
    ));
    if let Some(interval) = config.reconcile_interval {
        autobuild.clone().spawn_reconcile(interval);
    }
    autobuild.clone().spawn_confirmations();
    let services = Arc::new(service::CodeSources::new(
        config,
        store.clone(),
        cipher.clone(),
        flows.clone(),
        calls.clone(),
        health,
        repos.clone(),
        autobuild.clone(),
        cleanup.clone(),
    ));

    if config.service_token.is_none() {
        tracing::warn!("CODESOURCE_SERVICE_TOKEN is not set: the build service credential API refuses every call");
    }
    let service_api = web::service_api::ServiceApi {
        credentials,
        repos,
        store: store.clone(),
        token: config.service_token.as_ref().map(|t| Arc::new(t.clone())),
        base_path: config.base_path.clone(),
        counts: Default::default(),
        autobuild: autobuild.clone(),
        cleanup,
    };
    let services_for_avatars = services.clone();
    let oauth = web::oauth::OAuthRoutes {
        flows,
        calls,
        service: services.clone(),
        secure_cookies: secure,
        base_path: config.base_path.clone(),
        widget_origins: config.widget_origins.clone(),
        public_origin: config.public_url.clone(),
    };
    let verifier = identity::IdentityVerifier::from_config(config);
    if let Some(warning) = verifier.as_ref().and_then(|v| v.start_up_warning()) {
        tracing::warn!("{warning}");
    }
    let auth = web::Auth {
        verifier,
        public_origin: config.public_url.clone(),
        widget_origins: config.widget_origins.clone(),
        base_path: config.base_path.clone(),
    };
    // Read (and, without build-time variants, compressed) once, off the async threads.
    let (site_assets, widget_assets) = {
        let site = std::path::PathBuf::from(leptos_options.site_root.as_ref());
        let widget = config.widget_dir.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<_> {
            Ok((
                Arc::new(web::assets::AssetDir::load(&site)?),
                Arc::new(web::assets::AssetDir::load(&widget)?),
            ))
        })
        .await?
        .context("reading the static files")?
    };
    let embedded = !config.frame_ancestors.is_empty() || !config.widget_origins.is_empty();
    if embedded && !secure {
        tracing::warn!("embedding in another site needs an https CODESOURCE_PUBLIC_URL: browsers only send SameSite=None cookies over https");
    }
    Ok(web::router(
        leptos_options,
        web::WebState {
            services,
            store,
            auth: Arc::new(auth),
            oauth,
            frame_ancestors: config.frame_ancestors.clone(),
            widget_origins: config.widget_origins.clone(),
            base_path: config.base_path.clone(),
            site_assets,
            widget_assets,
            secure,
            service_api,
            avatars: services_for_avatars,
            autobuild,
        },
    ))
}

/// Retention: drops old activity, expired pending items, flows and leases, at start and then
/// hourly. Every replica may run it; deleting what is already gone is a no-op.
fn spawn_sweeps(store: Arc<dyn store::Store>, config: &Config) {
    let retention = config.audit_retention;
    let ephemeral = config.pending_ttl.max(oauth_flow::STATE_TTL);
    tokio::spawn(async move {
        loop {
            match store
                // Cutoffs from the store's clock (the database's), not this replica's.
                .sweep(retention, ephemeral)
                .await
            {
                Ok(swept) => tracing::debug!(?swept, "retention sweep"),
                Err(e) => tracing::warn!(error = %util::chain(&e), "retention sweep failed"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
    });
}

/// Serves until the listener fails or Ctrl-C / SIGTERM arrives. Every connection gets
/// `TCP_NODELAY`: without it a response written in more than one segment waits for the
/// client's delayed ACK (Nagle), about 40 ms a request.
pub async fn serve(listener: tokio::net::TcpListener, router: axum::Router) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "setting TCP_NODELAY failed");
        }
    });
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
