//! Integration tests: the real server (port 0, temp data dir) against the fake GitLab.
//! One binary on purpose: one link step instead of one per file.

mod activity;
mod assets;
mod autobuild;
mod avatars;
mod binding;
mod bitbucket;
mod bounded;
mod credentials;
mod embedding;
mod failures;
mod gitea;
mod hardening;
mod health;
mod latency;
mod metrics_labels;
mod oauth;
mod outbound;
mod page_cache;
mod process;
mod refresh_races;
mod replicas;
mod repositories;
mod revocation;
mod security;
mod split_bundle;
mod startup;
mod support;
mod unbind_cleanup;
