//! `fake-hosts`: runs the fake code hosts for browser tests.
//! `FAKE_HOSTS_HTTP` / `FAKE_HOSTS_HTTPS` set the listen addresses (default 127.0.0.1:3101/3102).

use std::net::SocketAddr;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = |var: &str, default: &str| -> SocketAddr {
        std::env::var(var)
            .unwrap_or_else(|_| default.into())
            .parse()
            .expect("a socket address")
    };
    let running = fake_hosts::start(
        addr("FAKE_HOSTS_HTTP", "127.0.0.1:3101"),
        addr("FAKE_HOSTS_HTTPS", "127.0.0.1:3102"),
    )
    .await?;
    println!(
        "fake GitLab: {} and {}",
        running.http_url(),
        running.https_url()
    );
    std::future::pending::<()>().await;
    Ok(())
}
