//! Responses are not held back by Nagle's algorithm: the server sets `TCP_NODELAY`, so a page
//! written in several segments does not wait ~40 ms for the client's delayed ACK. The server is
//! the real binary (as deployed); the client a plain socket (like wrk, or a browser), one
//! keep-alive connection, one request after another.

use crate::process::{local_mode, Replica};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Reads one HTTP/1.1 response (chunked, as the streamed page is) off `s`.
async fn read_response(s: &mut tokio::net::TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = s.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed early");
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        let Some(head_end) = text.find("\r\n\r\n") else {
            continue;
        };
        let head = text[..head_end].to_ascii_lowercase();
        let body = &buf[head_end + 4..];
        if let Some(len) = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok())
        {
            if body.len() >= len {
                return buf;
            }
        } else if body.ends_with(b"0\r\n\r\n") {
            return buf;
        }
    }
}

#[tokio::test]
async fn sequential_requests_on_one_connection_do_not_stall() {
    // Local mode: the page itself, not the sign-in page.
    let (_fake, _dir, e) = local_mode().await;
    let server = Replica::start(&e).await;
    let addr = server.base.trim_start_matches("http://").to_string();
    // With Nagle on, about half the requests of every round wait ~40 ms. A busy machine (the
    // other tests run beside this one) slows some rounds down too, but not every round: the
    // test passes when one of three rounds has fewer than 5 slow requests.
    let mut rounds = Vec::new();
    for _ in 0..3 {
        let took = round(&addr).await;
        let stalled = took
            .iter()
            .filter(|t| **t >= Duration::from_millis(35))
            .count();
        if stalled < 5 {
            return;
        }
        rounds.push(format!("{stalled} of 20 took ≥ 35 ms: {took:?}"));
    }
    panic!("every round stalled:\n{}", rounds.join("\n"));
}

/// 20 page requests, one after another, on one new keep-alive connection.
async fn round(addr: &str) -> Vec<Duration> {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET / HTTP/1.1\r\nHost: {addr}\r\nAccept: text/html\r\n\r\n");
    let mut took = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        s.write_all(request.as_bytes()).await.unwrap();
        let resp = read_response(&mut s).await;
        assert!(
            resp.starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&resp[..40])
        );
        assert!(resp.len() > 2_000, "a page in more than one segment");
        took.push(started.elapsed());
    }
    took
}
