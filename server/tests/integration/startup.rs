//! What the server binary refuses at start-up.

use crate::process::{command, local_mode};
use std::time::Duration;

/// Without an identity key every visitor is the one local tenant, with every right: such a
/// server must not listen beyond loopback, whatever address it was given.
#[tokio::test]
async fn local_mode_refuses_to_listen_beyond_loopback() {
    let (_fake, _dir, mut e) = local_mode().await;
    e.insert("LEPTOS_SITE_ADDR", "0.0.0.0:0".into());
    let mut child = command(&e)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("codesource runs");
    let mut status = None;
    for _ in 0..100 {
        status = child.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let Some(status) = status else {
        child.kill().unwrap();
        panic!("a local-mode server is serving on 0.0.0.0");
    };
    assert!(!status.success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("loopback"), "{stderr}");
}
