//! The store disappears mid-stream, then returns.
//!
//! Choice: the system reaches DynamoDB Local through a TCP proxy inside this test, and the outage
//! is the proxy's: first *refusing* (every connection dropped at once, as when the process is
//! stopped), then *black-holing* (connections accepted and never answered, as in a network
//! partition — the case that needs the SDK's timeouts). Stopping a real `-inMemory` DynamoDB
//! Local would lose its data and prove nothing about "nothing written before is lost"; the
//! proxy keeps the shared instance (and the other tests on it) untouched.
//!
//! Deliveries during the outage must answer 5xx within Stripe's patience (a few seconds, bounded
//! here at 8 s), nothing may be half-written, and once the store is back the retried deliveries
//! must succeed and every order end as its scenario says, with exactly its one email.

use crate::system;

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use leenkies_integration_tests::env::dynamodb_endpoint;
use leenkies_integration_tests::stripe::shared_event;
use serde_json::Value;
use system::System;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

const UP: u8 = 0;
const REFUSE: u8 = 1;
const BLACKHOLE: u8 = 2;

/// A TCP forwarder whose upstream can be cut, refused or black-holed.
struct Proxy {
    url: String,
    mode: Arc<AtomicU8>,
    live: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Proxy {
    async fn start(upstream: &str) -> Self {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mode = Arc::new(AtomicU8::new(UP));
        let live: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let (m, l) = (mode.clone(), live.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                match m.load(Ordering::SeqCst) {
                    REFUSE => drop(client),
                    BLACKHOLE => {
                        // Accept and read, never answer.
                        let task = tokio::spawn(async move {
                            let mut sink = [0u8; 4096];
                            while client.read(&mut sink).await.is_ok_and(|n| n > 0) {}
                            std::future::pending::<()>().await;
                        });
                        l.lock().unwrap().push(task.abort_handle());
                    }
                    _ => {
                        let upstream = upstream.clone();
                        let task = tokio::spawn(async move {
                            if let Ok(mut server) = TcpStream::connect(&upstream).await {
                                let _ =
                                    tokio::io::copy_bidirectional(&mut client, &mut server).await;
                            }
                        });
                        l.lock().unwrap().push(task.abort_handle());
                    }
                }
            }
        });
        Self { url, mode, live }
    }

    /// Switches mode; any change cuts every open connection (pooled ones included).
    fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
        for task in self.live.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

/// ord_1001 (paid), ord_1011 (paid, refunded, refund failed), ord_1002 (failed then paid).
const BEFORE: &[&str] = &[
    "ord_1001__01__payment_intent.succeeded.json",
    "ord_1011__01__payment_intent.succeeded.json",
];
const DURING: &[&str] = &[
    "ord_1001__01__charge.succeeded.json",
    "ord_1011__02__charge.refunded.json",
    "ord_1011__03__refund.created.json",
    "ord_1011__04__refund.failed.json",
    "ord_1011__05__charge.refund.updated.json",
    "ord_1002__01__payment_intent.payment_failed.json",
    "ord_1002__01__charge.failed.json",
    "ord_1002__02__payment_intent.succeeded.json",
];
const ORD_1001: &str = "pi_3QMpFn8cKdV3nWpT2DksRg19";
const ORD_1011: &str = "pi_3QJPMb8cKdV3nWpT0fgBDTNm";
const ORD_1002: &str = "pi_3Qzboq8cKdV3nWpT0QoIKERc";
const SELLER_A: &str = "acct_1QHx4R8cKdV3nWpT";

/// Stripe waits about this long; a delivery must be answered well within it.
const PATIENCE: Duration = Duration::from_secs(8);

async fn deliver_during_outage(sys: &System, files: &[&str], what: &str) {
    for file in files {
        let started = Instant::now();
        let (status, body) = sys.deliver_full(shared_event(file)).await;
        let took = started.elapsed();
        assert!(
            (500..600).contains(&status),
            "{what}: {file} answered {status} {body}"
        );
        assert!(took < PATIENCE, "{what}: {file} took {took:?} to answer");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn given_the_store_vanishes_mid_stream_when_it_returns_then_retries_succeed_and_nothing_is_lost(
) {
    let Some(endpoint) = dynamodb_endpoint() else {
        return;
    };
    // GIVEN the system on DynamoDB Local through a proxy, with two paid orders stored and emailed
    let proxy = Proxy::start(&endpoint).await;
    let sys = System::start(&proxy.url).await;
    for file in BEFORE {
        assert_eq!(sys.deliver(shared_event(file)).await, 200, "{file}");
    }
    // Settled: both emails written and both recorded `sent` (the outbox file comes before the
    // record, so counting files alone can read an order whose `sent` is still on its way).
    let settle = Instant::now() + Duration::from_secs(30);
    let (mut before_1001, mut before_1011);
    loop {
        (_, before_1001) = sys.order(SELLER_A, ORD_1001).await;
        (_, before_1011) = sys.order(SELLER_A, ORD_1011).await;
        let sent = |o: &Value| o["fulfillment"]["status"] == "sent";
        if (sent(&before_1001) && sent(&before_1011)) || Instant::now() >= settle {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(sys.emails(ORD_1001) + sys.emails(ORD_1011), 2);
    assert_eq!(before_1001["fulfillment"]["status"], "sent");
    assert_eq!(before_1011["fulfillment"]["status"], "sent");

    // WHEN the store refuses every connection (the process is gone)
    proxy.set(REFUSE);
    // THEN every delivery answers 5xx promptly, and the dashboard 503
    deliver_during_outage(&sys, DURING, "refused").await;
    let (status, _) = sys.order(SELLER_A, ORD_1001).await;
    assert_eq!(status, 503, "dashboard during the outage");

    // WHEN the store accepts connections but never answers (a partition)
    proxy.set(BLACKHOLE);
    // THEN deliveries still answer 5xx within Stripe's patience (the SDK's timeouts hold)
    deliver_during_outage(&sys, &DURING[..2], "black-holed").await;

    // WHEN it comes back
    proxy.set(UP);
    // THEN nothing was half-written: the stored orders are exactly as before the outage, and
    // the order only the outage's deliveries would have created does not exist
    let (_, after_1001) = sys.order(SELLER_A, ORD_1001).await;
    let (_, after_1011) = sys.order(SELLER_A, ORD_1011).await;
    assert_eq!(
        after_1001, before_1001,
        "ord_1001 changed during the outage"
    );
    assert_eq!(
        after_1011, before_1011,
        "ord_1011 changed during the outage"
    );
    let (status, _) = sys.order(SELLER_A, ORD_1002).await;
    assert_eq!(
        status, 404,
        "ord_1002 appeared without a successful delivery"
    );

    // AND Stripe's retries succeed, each answered 200
    for file in DURING {
        let (status, body) = sys.deliver_full(shared_event(file)).await;
        assert_eq!(status, 200, "retry of {file}: {body}");
    }
    // AND every order ends as its scenario says, nothing written before is lost, one email each
    let deadline = Instant::now() + Duration::from_secs(30);
    let finals = loop {
        let (_, o1001) = sys.order(SELLER_A, ORD_1001).await;
        let (_, o1011) = sys.order(SELLER_A, ORD_1011).await;
        let (_, o1002) = sys.order(SELLER_A, ORD_1002).await;
        let done = o1002["fulfillment"]["status"] == "sent";
        if done || Instant::now() > deadline {
            break [o1001, o1011, o1002];
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let [o1001, o1011, o1002] = finals;
    assert_eq!(o1001["payment_status"], "succeeded");
    assert_eq!(
        o1001["fulfillment"], before_1001["fulfillment"],
        "the sent record was lost"
    );
    assert_eq!(o1011["payment_status"], "succeeded", "{o1011}");
    assert_eq!(
        o1011["refunded_amount"], 0,
        "the failed refund gave its amount back"
    );
    assert_eq!(o1011["access_revoked"], false);
    assert!(o1011["attention"]
        .as_array()
        .unwrap()
        .contains(&Value::from("refund_failed")));
    assert_eq!(o1002["payment_status"], "succeeded");
    assert!(o1002["failure"].is_object(), "the earlier failure is kept");
    tokio::time::sleep(Duration::from_millis(500)).await;
    for (order, n) in [(ORD_1001, 1), (ORD_1011, 1), (ORD_1002, 1)] {
        assert_eq!(sys.emails(order), n, "{order}");
    }
    sys.stop().await;
}
