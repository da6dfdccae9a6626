//! The `codesource` binary: configuration → logging → a command (serving by default).
//!
//! - `codesource [serve]`: the server.
//! - `codesource migrate`: applies the PostgreSQL schema migrations, then exits.
//! - `codesource copy-from-sled [DIR]`: copies a sled data directory (default: the configured
//!   one) into PostgreSQL.
//! - `codesource rotate-key`: re-seals every stored token with the active key.
//! - `codesource precompress DIR...`: writes the best brotli and gzip variants of the built
//!   static files (the site root, the widget) beside them; run after each build.

use leptos::prelude::get_configuration;
use std::process::ExitCode;

const USAGE: &str =
    "usage: codesource [serve | migrate | copy-from-sled [DIR] | rotate-key | precompress DIR...]";

/// mimalloc instead of glibc's malloc: under 64 connections glibc's arenas were either many
/// (tens of MB of RSS that one thread frees and others cannot reuse) or few and contended
/// (with two, a fifth of the server's CPU went to waiting for arena locks); mimalloc's
/// thread-local heaps have neither problem, and it returns freed pages to the system.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    memory::return_freed_pages();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // sled's writes wait for their flush on blocking threads; without a cap tokio starts one
        // per waiting write (121 threads under 64 connections in bench/perf.sh), each a malloc
        // arena and a stack. Sixteen keep the disk as busy.
        .max_blocking_threads(16)
        .build()
        .expect("starting the async runtime")
        .block_on(run())
}

async fn run() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
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
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] | ["serve"] => return serve(config).await,
        ["migrate"] => commands::migrate(&config).await,
        ["copy-from-sled"] => commands::copy_from_sled(&config, &config.data_dir).await,
        ["copy-from-sled", dir] => commands::copy_from_sled(&config, dir.as_ref()).await,
        ["rotate-key"] => commands::rotate_key(&config).await,
        ["precompress", ref dirs @ ..] if !dirs.is_empty() => commands::precompress(dirs),
        ["-h" | "--help" | "help"] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("codesource: {e:#}");
            ExitCode::FAILURE
        }
    }
}

mod commands {
    use anyhow::{bail, Context};
    use codesource_server::config::StoreConfig;
    use codesource_server::{store, Config};

    pub async fn migrate(config: &Config) -> anyhow::Result<()> {
        let pg = store::open_postgres(config).await?;
        let applied = pg.migrate().await?;
        println!("migrations applied: {applied:?} (none means the schema was current)");
        Ok(())
    }

    pub async fn copy_from_sled(config: &Config, dir: &std::path::Path) -> anyhow::Result<()> {
        if !matches!(config.store, StoreConfig::Postgres(_)) {
            bail!("set CODESOURCE_DATABASE_URL to the PostgreSQL database to copy into");
        }
        if !dir.join("bindings.sled").exists() {
            bail!("{} holds no sled store (bindings.sled)", dir.display());
        }
        let from = store::SledStore::open(dir)?;
        let to = store::open(config, true).await?;
        let c = store::copy_all(&from, to.as_ref()).await?;
        println!(
            "copied from {}: {} bindings, {} pending items, {} OAuth flows, {} activity entries ({} already there), {} auto-build registrations, {} cleanup jobs, {} held pushes",
            dir.display(), c.bindings, c.pending, c.flows, c.audit, c.audit_skipped, c.registrations, c.jobs, c.held_pushes
        );
        Ok(())
    }

    pub fn precompress(dirs: &[&str]) -> anyhow::Result<()> {
        for dir in dirs {
            let started = std::time::Instant::now();
            let (written, removed) =
                codesource_server::web::assets::precompress(std::path::Path::new(dir))
                    .with_context(|| format!("precompressing {dir}"))?;
            println!(
                "{dir}: {written} files compressed (brotli 11, gzip 9), {removed} stale variants removed, {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        Ok(())
    }

    pub async fn rotate_key(config: &Config) -> anyhow::Result<()> {
        let store = store::open(config, true).await?;
        let cipher = codesource_server::keyring(config)?;
        let r = codesource_server::rotate::rotate(store.as_ref(), &cipher).await?;
        println!(
            "key {}: {} records re-sealed, {} already current, {} unreadable (sealed with a key that is not configured)",
            cipher.key_id(), r.resealed, r.current, r.unreadable
        );
        if r.unreadable > 0 {
            bail!("{} records could not be re-sealed: add their key to CODESOURCE_DECRYPT_KEYS and run again", r.unreadable);
        }
        if r.left > 0 {
            bail!("{} records were written under an older key while this ran: run it again before removing that key", r.left);
        }
        Ok(())
    }
}

async fn serve(config: codesource_server::Config) -> ExitCode {
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
    // Local mode gives every visitor the one tenant, with every right: fail closed rather
    // than serve that on a network because the identity key was forgotten.
    if config.local_mode() && !addr.ip().is_loopback() {
        tracing::error!(%addr, "local mode listens on a loopback address only");
        eprintln!(
            "codesource: CODESOURCE_IDENTITY_KEY is not set (local mode: every visitor is the \
             one local tenant), so the server listens on a loopback address only, not {addr}. \
             Set CODESOURCE_IDENTITY_KEY to serve other addresses."
        );
        return ExitCode::FAILURE;
    }
    let router = match codesource_server::build(&config, leptos).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "start-up failed");
            eprintln!("codesource: start-up failed: {e:#}");
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

mod memory {
    use libmimalloc_sys::{mi_option_set, mi_option_t};

    /// `mi_option_arena_eager_commit` and `mi_option_purge_delay` in mimalloc 3's `mi_option_e`
    /// (`mimalloc.h`; the crate names only some options).
    const ARENA_EAGER_COMMIT: mi_option_t = 4;
    const PURGE_DELAY: mi_option_t = 15;

    /// mimalloc hands freed pages back to the system 10 ms late by default, and commits its
    /// arenas eagerly on Linux (pages it purges from those are `MADV_FREE`d: still counted in
    /// the process's RSS until the kernel needs them). Purging at once is set here, and eager
    /// commit off for arenas made from now on; the first arena is made before `main` runs, so
    /// for it only the environment counts: `MIMALLOC_ARENA_EAGER_COMMIT=0` took ~25 MiB off the
    /// peak RSS under load at the same throughput (README, Performance). An operator's
    /// `MIMALLOC_*` variables win.
    pub fn return_freed_pages() {
        for (option, var, value) in [
            (ARENA_EAGER_COMMIT, "MIMALLOC_ARENA_EAGER_COMMIT", 0),
            (PURGE_DELAY, "MIMALLOC_PURGE_DELAY", 0),
        ] {
            if std::env::var_os(var).is_none() {
                // SAFETY: plain option setters of the allocator in use; any value is valid.
                unsafe { mi_option_set(option, value) };
            }
        }
    }
}
