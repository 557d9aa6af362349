//! The webhook's CPU path, per event kind, on the shared 1–4 KB Stripe fixtures:
//! signature verification, envelope + object parsing, interpretation into facts, the facts merge,
//! and the whole path (verify + parse + interpret + fold into the embedded store), for a new event
//! and for a duplicate. Budget (docs/performance.md): verify + parse + fold ≤ 10 µs per event.
//!
//! `cargo bench -p leenkies-domain --bench webhook_path` (add `-- --quick` for a short run).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use leenkies_domain::apply::{fold, RetryPolicy};
use leenkies_domain::memory_store::MemoryStore;
use leenkies_domain::order::facts::Facts;
use leenkies_domain::order::from_event::{interpret, Folding, Interpretation};
use leenkies_domain::stripe::event::Event;
use leenkies_domain::stripe::signature::{sign, verify, SigningSecrets, DEFAULT_TOLERANCE_SECS};

/// The allocator the Lambda binaries use (their `main.rs`), so the numbers are theirs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SECRET: &str = "whsec_bench_secret_0123456789abcdef";
const NOW: i64 = 1_778_227_300;

/// The embedded store never waits: its futures are ready on the first poll. Polling once with a
/// no-op waker keeps an executor's cost out of the measurement.
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

struct Fixture {
    kind: String,
    body: Vec<u8>,
    header: String,
}

/// One fixture per event type (the first by file name), handled types only.
fn fixtures() -> Vec<Fixture> {
    let dir = leenkies_fixtures::shared_events();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut by_kind = BTreeMap::new();
    for path in files {
        let body = std::fs::read(&path).expect("fixture");
        let event = Event::parse(&body).expect("fixture parses");
        if !matches!(interpret(&event), Ok(Interpretation::Fold(_))) {
            continue;
        }
        by_kind.entry(event.kind.clone()).or_insert(body);
    }
    by_kind
        .into_iter()
        .map(|(kind, body)| Fixture {
            header: sign(SECRET, NOW, &body),
            kind,
            body,
        })
        .collect()
}

fn folding(body: &[u8]) -> Folding {
    let event = Event::parse(body).expect("parses");
    match interpret(&event).expect("interprets") {
        Interpretation::Fold(f) => *f,
        Interpretation::Ignore(r) => panic!("ignored: {}", r.as_str()),
    }
}

/// The whole CPU path of one delivery after the body is read.
fn deliver(store: &MemoryStore, secrets: &SigningSecrets, header: &str, body: &[u8]) -> bool {
    verify(header, body, secrets, NOW, DEFAULT_TOLERANCE_SECS).expect("verifies");
    let event = Event::parse(body).expect("parses");
    let Interpretation::Fold(folding) = interpret(&event).expect("interprets") else {
        return false;
    };
    ready(fold(store, &folding, RetryPolicy::default())).is_ok()
}

fn benches(c: &mut Criterion) {
    let fixtures = fixtures();
    let secrets = SigningSecrets::from_csv(SECRET);
    // A paid order's facts (checkout + payment_intent + charge), the base the merge folds into.
    let paid: Facts = [
        "ord_1001__01__checkout.session.completed.json",
        "ord_1001__01__payment_intent.succeeded.json",
        "ord_1001__01__charge.succeeded.json",
    ]
    .iter()
    .map(|name| {
        let dir = leenkies_fixtures::shared_events();
        folding(&std::fs::read(dir.join(name)).expect("fixture")).facts
    })
    .fold(Facts::default(), |mut acc, f| {
        acc.merge(&f);
        acc
    });

    let mut group = c.benchmark_group("verify");
    for f in &fixtures {
        group.throughput(Throughput::Bytes(f.body.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(&f.kind), f, |b, f| {
            b.iter(|| verify(&f.header, &f.body, &secrets, NOW, DEFAULT_TOLERANCE_SECS))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("parse");
    for f in &fixtures {
        group.throughput(Throughput::Bytes(f.body.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(&f.kind), f, |b, f| {
            b.iter(|| {
                let event = Event::parse(&f.body).expect("parses");
                event.object().expect("object").is_some()
            })
        });
    }
    group.finish();

    // parse + object + facts: what `interpret` costs on top of the envelope parse
    let mut group = c.benchmark_group("parse_interpret");
    for f in &fixtures {
        group.bench_with_input(BenchmarkId::from_parameter(&f.kind), f, |b, f| {
            b.iter(|| folding(&f.body))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("merge_into_paid_order");
    for f in &fixtures {
        let incoming = folding(&f.body).facts;
        group.bench_with_input(BenchmarkId::from_parameter(&f.kind), &incoming, |b, i| {
            b.iter(|| paid.merged(i))
        });
    }
    group.finish();

    // verify + parse + interpret + fold into a store that has never seen the order
    let mut group = c.benchmark_group("deliver_new");
    for f in &fixtures {
        group.bench_with_input(BenchmarkId::from_parameter(&f.kind), f, |b, f| {
            b.iter_batched(
                MemoryStore::new,
                |store| {
                    assert!(deliver(&store, &secrets, &f.header, &f.body));
                    store
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();

    // the same delivery again: one read, no write
    let mut group = c.benchmark_group("deliver_duplicate");
    for f in &fixtures {
        let store = MemoryStore::new();
        assert!(deliver(&store, &secrets, &f.header, &f.body));
        group.bench_with_input(BenchmarkId::from_parameter(&f.kind), f, |b, f| {
            b.iter(|| deliver(&store, &secrets, &f.header, &f.body))
        });
    }
    group.finish();
}

criterion_group!(webhook_path, benches);
criterion_main!(webhook_path);
