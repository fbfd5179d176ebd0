//! Connection limits: silent and half-sent connections are closed after the header timeout,
//! idle keep-alive connections after the idle timeout, and over the connection cap new
//! connections wait (unaccepted) until one closes.

use std::time::Duration;

use reqwest::StatusCode;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::support::{TestApp, spawn_app_with};

/// Generous: the limits under test are one second.
const EOF_WITHIN: Duration = Duration::from_secs(15);

fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the connection; what it sent before.
async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    tokio::time::timeout(EOF_WITHIN, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .expect("the server closes the connection within the limit");
    received
}

#[tokio::test]
async fn a_connection_that_sends_nothing_or_half_a_request_line_is_closed() {
    let app = spawn_app_with(&["--header-timeout-secs", "1", "--idle-timeout-secs", "30"]).await;
    let started = std::time::Instant::now();
    let mut silent = TcpStream::connect(addr(&app)).await.expect("connect");
    let mut half = TcpStream::connect(addr(&app)).await.expect("connect");
    half.write_all(b"GET /healthz HT").await.expect("sent");
    let mut head_without_end = TcpStream::connect(addr(&app)).await.expect("connect");
    head_without_end
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("sent");
    let (a, b, c) = tokio::join!(
        until_closed(&mut silent),
        until_closed(&mut half),
        until_closed(&mut head_without_end)
    );
    assert!(a.is_empty(), "nothing is answered to silence");
    // Half a request may get a 408 or just the close; never a 200.
    for received in [b, c] {
        assert!(!String::from_utf8_lossy(&received).contains("200 OK"));
    }
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "closed before the timeout"
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let app = spawn_app_with(&["--header-timeout-secs", "10", "--idle-timeout-secs", "1"]).await;
    let mut stream = TcpStream::connect(addr(&app)).await.expect("connect");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("sent");
    let received = until_closed(&mut stream).await;
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
}

#[tokio::test]
async fn healthz_answers_while_hundreds_of_silent_connections_are_held_and_they_all_close() {
    let app = spawn_app_with(&["--header-timeout-secs", "2"]).await;
    let mut held = Vec::new();
    for _ in 0..300 {
        held.push(TcpStream::connect(addr(&app)).await.expect("connect"));
    }
    let response = tokio::time::timeout(
        Duration::from_secs(5),
        app.client.get(app.url("/healthz")).send(),
    )
    .await
    .expect("healthz answers in time")
    .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    let closed = futures::future::join_all(held.iter_mut().map(until_closed)).await;
    assert_eq!(closed.len(), 300);
}

#[tokio::test]
async fn over_the_connection_cap_a_new_connection_waits_until_one_closes() {
    let app = spawn_app_with(&["--max-connections", "3", "--header-timeout-secs", "30"]).await;
    // The readiness check's pooled keep-alive connection holds one place; three more fill
    // the cap and then some.
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(addr(&app)).await.expect("connect"));
    }
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let waiting = tokio::spawn({
        let url = app.url("/healthz");
        async move { fresh.get(url).send().await.map(|r| r.status()) }
    });
    // Not answered while the cap is full (connected, but not accepted).
    let early = tokio::time::timeout(Duration::from_millis(700), async {
        while !waiting.is_finished() {
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(early.is_err(), "answered over the cap");
    held.clear();
    let status = tokio::time::timeout(EOF_WITHIN, waiting)
        .await
        .expect("answered once places are free")
        .expect("task")
        .expect("sent");
    assert_eq!(status, StatusCode::OK);
}
