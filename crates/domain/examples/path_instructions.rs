//! Instruction counts of the webhook path, per event kind, for `valgrind --tool=callgrind`
//! (deterministic where wall time on a shared machine is not). Each stage runs `N` times inside
//! its own never-inlined function; `infra/bench.sh` reads each function's inclusive count and
//! divides by `N`.
//!
//! `valgrind --tool=callgrind --callgrind-out-file=cg.out target/release/examples/path_instructions <kind> <N>`
//! then `callgrind_annotate --inclusive=yes cg.out | grep stage_`.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use leenkies_domain::apply::{fold, RetryPolicy};
use leenkies_domain::memory_store::MemoryStore;
use leenkies_domain::order::from_event::{interpret, Interpretation};
use leenkies_domain::stripe::event::Event;
use leenkies_domain::stripe::signature::{sign, verify, SigningSecrets, DEFAULT_TOLERANCE_SECS};

/// The allocator the Lambda binaries use (their `main.rs`), so the numbers are theirs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SECRET: &str = "whsec_bench_secret_0123456789abcdef";
const NOW: i64 = 1_778_227_300;

fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the embedded store's futures are always ready"),
    }
}

#[inline(never)]
fn stage_verify(n: usize, header: &str, body: &[u8], secrets: &SigningSecrets) {
    for _ in 0..n {
        black_box(verify(
            header,
            black_box(body),
            secrets,
            NOW,
            DEFAULT_TOLERANCE_SECS,
        ))
        .ok();
    }
}

#[inline(never)]
fn stage_parse(n: usize, body: &[u8]) {
    for _ in 0..n {
        let event = Event::parse(black_box(body)).expect("parses");
        black_box(event.object().expect("object"));
    }
}

#[inline(never)]
fn stage_parse_interpret(n: usize, body: &[u8]) {
    for _ in 0..n {
        let event = Event::parse(black_box(body)).expect("parses");
        black_box(interpret(&event).expect("interprets"));
    }
}

fn deliver(store: &MemoryStore, secrets: &SigningSecrets, header: &str, body: &[u8]) {
    verify(header, body, secrets, NOW, DEFAULT_TOLERANCE_SECS).expect("verifies");
    let event = Event::parse(body).expect("parses");
    if let Interpretation::Fold(folding) = interpret(&event).expect("interprets") {
        black_box(ready(fold(store, &folding, RetryPolicy::default())).expect("folds"));
    }
}

#[inline(never)]
fn stage_deliver_new(n: usize, header: &str, body: &[u8], secrets: &SigningSecrets) {
    for _ in 0..n {
        let store = MemoryStore::new();
        deliver(&store, secrets, header, body);
    }
}

#[inline(never)]
fn stage_deliver_duplicate(
    n: usize,
    store: &MemoryStore,
    header: &str,
    body: &[u8],
    secrets: &SigningSecrets,
) {
    for _ in 0..n {
        deliver(store, secrets, header, body);
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let kind = args
        .next()
        .expect("usage: path_instructions <event type> <N>");
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(100);
    let dir = leenkies_fixtures::shared_events();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let body = files
        .iter()
        .map(|p| std::fs::read(p).expect("fixture"))
        .find(|b| Event::parse(b).is_ok_and(|e| e.kind == kind))
        .unwrap_or_else(|| panic!("no fixture of type {kind}"));
    let secrets = SigningSecrets::from_csv(SECRET);
    let header = sign(SECRET, NOW, &body);
    let store = MemoryStore::new();
    deliver(&store, &secrets, &header, &body);

    stage_verify(n, &header, &body, &secrets);
    stage_parse(n, &body);
    stage_parse_interpret(n, &body);
    stage_deliver_new(n, &header, &body, &secrets);
    stage_deliver_duplicate(n, &store, &header, &body, &secrets);
    println!("{kind} bytes={} n={n}", body.len());
}
