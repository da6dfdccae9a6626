//! Integration tests: the real server (port 0, temp data dir) against the fake GitLab.
//! One binary on purpose: one link step instead of one per file.

mod activity;
mod binding;
mod credentials;
mod embedding;
mod failures;
mod health;
mod oauth;
mod process;
mod replicas;
mod repositories;
mod revocation;
mod security;
mod support;
