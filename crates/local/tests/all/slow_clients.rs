//! `leenkies-local` against slow clients (small limits, so the tests take about a second each):
//! a half-sent request head, a keep-alive connection left quiet, a body trickled too slowly, a
//! body that stops, and more half-requests than the connection bound. Each is dropped within its
//! limit, and `/healthz` answers again as soon as a slot frees.

use std::time::{Duration, Instant};

use leenkies_local::cli::{ServerArgs, StoreKind};
use leenkies_local::http_server::Limits;
use leenkies_local::serve::{start, Running};
use leenkies_local::settings::Settings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn runner(limits: Limits) -> (Running, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let args = ServerArgs {
        addr: "127.0.0.1:0".into(),
        store: StoreKind::Memory,
        dynamodb_endpoint: None,
        table: "unused".into(),
        outbox: dir.path().join("outbox"),
        exports_dir: dir.path().join("exports"),
        products_dir: None,
        keys_file: None,
    };
    let mut settings =
        Settings::for_tests("whsec_slow_clients", "slow-clients-jwt-secret-0123456789");
    settings.http = limits;
    (start(args, settings).await.unwrap(), dir)
}

fn limits(header_ms: u64, idle_ms: u64, body_ms: u64, max_connections: usize) -> Limits {
    Limits {
        header_timeout: Duration::from_millis(header_ms),
        idle_timeout: Duration::from_millis(idle_ms),
        body_timeout: Duration::from_millis(body_ms),
        max_connections,
    }
}

/// Reads until the server closes the connection (or `within` passes: then `None`); answers
/// what was read.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&out).into_owned()),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

async fn healthz(addr: std::net::SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    read_until_closed(&mut s, Duration::from_secs(10))
        .await
        .unwrap_or_default()
}

#[tokio::test]
async fn given_a_half_sent_request_head_when_the_header_timeout_passes_then_the_connection_is_closed(
) {
    // GIVEN a 300 ms header timeout (and long idle and body timeouts)
    let (running, _dir) = runner(limits(300, 10_000, 10_000, 64)).await;
    // WHEN a client sends half a request head, then a byte now and then
    let mut s = TcpStream::connect(running.addr).await.unwrap();
    let started = Instant::now();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let (mut read, mut write) = s.into_split();
    let dribble = tokio::spawn(async move {
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if write.write_all(b"X").await.is_err() {
                break;
            }
        }
    });
    // THEN the server closes it after the header timeout, not after the idle one
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "still open after 3 s");
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(250), "{took:?}");
    assert!(took < Duration::from_millis(2000), "{took:?}");
    dribble.abort();
    running.stop().await;
}

#[tokio::test]
async fn given_a_keep_alive_connection_left_quiet_when_the_header_timeout_passes_then_it_is_closed()
{
    // GIVEN a 300 ms header timeout
    let (running, _dir) = runner(limits(300, 10_000, 10_000, 64)).await;
    // WHEN a client gets one answer on a keep-alive connection, then says nothing
    let mut s = TcpStream::connect(running.addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    // THEN it got its answer, and the connection is closed soon after
    let said = read_until_closed(&mut s, Duration::from_secs(3))
        .await
        .expect("closed within 3 s");
    assert!(said.starts_with("HTTP/1.1 200"), "{said}");
    assert!(started.elapsed() < Duration::from_millis(2000));
    running.stop().await;
}

#[tokio::test]
async fn given_a_body_trickled_slower_than_the_body_timeout_when_posted_then_408_and_nothing_handled(
) {
    // GIVEN a 500 ms body timeout, and an idle timeout the trickle keeps from firing
    let (running, _dir) = runner(limits(2_000, 2_000, 500, 64)).await;
    // WHEN a client posts a 1000-byte webhook body ten bytes every 100 ms
    let s = TcpStream::connect(running.addr).await.unwrap();
    let (mut read, mut write) = s.into_split();
    write
        .write_all(
            b"POST /webhooks/stripe HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nStripe-Signature: t=1,v1=00\r\nContent-Length: 1000\r\n\r\n",
        )
        .await
        .unwrap();
    let trickle = tokio::spawn(async move {
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if write.write_all(&[b' '; 10]).await.is_err() {
                break;
            }
        }
    });
    // THEN 408 once the body timeout passes, with the API's error body
    let mut out = Vec::new();
    let mut buf = [0u8; 2048];
    let started = Instant::now();
    while !String::from_utf8_lossy(&out).contains("request_timeout") {
        let n = tokio::time::timeout(Duration::from_secs(3), read.read(&mut buf))
            .await
            .expect("answered within 3 s")
            .unwrap();
        assert!(n > 0, "closed without an answer");
        out.extend_from_slice(&buf[..n]);
    }
    let said = String::from_utf8_lossy(&out);
    assert!(said.starts_with("HTTP/1.1 408"), "{said}");
    assert!(started.elapsed() < Duration::from_millis(2000));
    trickle.abort();
    running.stop().await;
}

#[tokio::test]
async fn given_a_body_that_stops_arriving_when_the_idle_timeout_passes_then_the_connection_is_closed(
) {
    // GIVEN a 300 ms idle timeout and a long body timeout
    let (running, _dir) = runner(limits(10_000, 300, 10_000, 64)).await;
    // WHEN a client sends the head and 5 of 100 body bytes, then nothing
    let mut s = TcpStream::connect(running.addr).await.unwrap();
    s.write_all(b"POST /webhooks/stripe HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhello")
        .await
        .unwrap();
    let started = Instant::now();
    // THEN the connection is closed after the idle timeout, long before the body timeout
    assert!(read_until_closed(&mut s, Duration::from_secs(3))
        .await
        .is_some());
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(250), "{took:?}");
    assert!(took < Duration::from_millis(2000), "{took:?}");
    running.stop().await;
}

#[tokio::test]
async fn given_more_half_requests_than_the_connection_bound_when_healthz_is_asked_then_it_answers_once_they_time_out(
) {
    // GIVEN at most 20 connections and a 400 ms header timeout
    let (running, _dir) = runner(limits(400, 10_000, 10_000, 20)).await;
    // WHEN 60 clients each open a connection with half a request head and keep it
    let mut held = Vec::new();
    for _ in 0..60 {
        let mut s = TcpStream::connect(running.addr).await.unwrap();
        s.write_all(b"GET /orders HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        held.push(s);
    }
    // THEN `/healthz` still answers, within a few header timeouts (each round of 20 is dropped
    // after 400 ms), not after the clients give up
    let started = Instant::now();
    let said = healthz(running.addr).await;
    assert!(said.starts_with("HTTP/1.1 200"), "{said}");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(4), "{took:?}");
    // AND no more than the bound were served at once: the first round held it for a while
    assert!(took >= Duration::from_millis(300), "{took:?}");
    drop(held);
    running.stop().await;
}
