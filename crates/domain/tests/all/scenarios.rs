//! The shared Stripe scenarios (and ours) folded through the domain with the embedded store:
//! every expected order holds, and every permutation and duplication of the deliveries converges
//! to the same stored facts.

use std::path::PathBuf;

use leenkies_domain::apply::{fold, RetryPolicy};
use leenkies_domain::memory_store::MemoryStore;
use leenkies_domain::order::from_event::{interpret, Interpretation};
use leenkies_domain::ports::OrderStore;
use leenkies_domain::stripe::event::Event;
use leenkies_domain::OrderView;
use proptest::prelude::*;
use serde_json::Value;

/// A scenario's fixture folder: `events/` and `scenarios.json`.
struct Corpus {
    events: PathBuf,
    scenarios: Vec<Value>,
}

fn corpora() -> Vec<Corpus> {
    let shared = leenkies_fixtures::shared_stripe();
    // The shared corpus is the contract's: without it this test would pass on fewer scenarios.
    assert!(
        shared.join("scenarios.json").is_file(),
        "the shared scenarios are missing: expected {}/scenarios.json (shared/ beside the \
         repository, or LEENKIES_SHARED=<path to shared>)",
        shared.display()
    );
    [shared, leenkies_fixtures::own_stripe()]
        .into_iter()
        .filter(|dir| dir.join("scenarios.json").exists())
        .map(|dir| {
            let doc: Value =
                serde_json::from_slice(&std::fs::read(dir.join("scenarios.json")).unwrap())
                    .unwrap();
            Corpus {
                events: dir.join("events"),
                scenarios: doc["scenarios"].as_array().unwrap().clone(),
            }
        })
        .collect()
}

/// The bodies of a scenario's validly signed deliveries, in order (wrongly signed ones are
/// refused at the edge and never reach the fold).
fn valid_bodies(corpus: &Corpus, scenario: &Value) -> Vec<Vec<u8>> {
    scenario["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["signing"] == "valid")
        .map(|d| std::fs::read(corpus.events.join(d["file"].as_str().unwrap())).unwrap())
        .collect()
}

async fn deliver(store: &MemoryStore, body: &[u8]) {
    let event = Event::parse(body).expect("fixture is an event");
    if let Interpretation::Fold(folding) = interpret(&event).expect("fixture is readable") {
        fold(store, &folding, RetryPolicy::default())
            .await
            .expect("fold");
    }
}

/// Differences where `actual` does not hold what `expected` states (a partial description).
fn subset_diff(expected: &Value, actual: &Value, path: &str, out: &mut Vec<String>) {
    match expected {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "emails_sent" {
                    continue; // fulfillment's concern, checked over HTTP
                }
                if k == "attention_includes" {
                    let have = actual["attention"].as_array().cloned().unwrap_or_default();
                    for want in v.as_array().unwrap() {
                        // Words only a sent email can raise: fulfillment's, checked over HTTP.
                        let after_email = ["product_changed", "delivery_failed"];
                        if !have.contains(want) && !after_email.contains(&want.as_str().unwrap()) {
                            out.push(format!("{path}.attention lacks {want}"));
                        }
                    }
                    continue;
                }
                subset_diff(
                    v,
                    actual.get(k).unwrap_or(&Value::Null),
                    &format!("{path}.{k}"),
                    out,
                );
            }
        }
        // A list of objects (`disputes`, `refunds`): item by item, each a subset, so that
        // fields added to the items later (contract 9.1) do not fail older expectations.
        Value::Array(items)
            if items.iter().all(Value::is_object)
                && actual.as_array().is_some_and(|a| a.len() == items.len()) =>
        {
            for (i, item) in items.iter().enumerate() {
                subset_diff(item, &actual[i], &format!("{path}[{i}]"), out);
            }
        }
        _ if expected != actual => out.push(format!("{path}: expected {expected}, got {actual}")),
        _ => {}
    }
}

async fn check_orders(
    store: &MemoryStore,
    orders: &Value,
    absent: &Value,
    finals: &Value,
) -> Vec<String> {
    let mut diffs = Vec::new();
    for (order_id, expected) in orders.as_object().unwrap() {
        let seller = expected["seller_id"]
            .as_str()
            .or_else(|| finals[order_id]["seller_id"].as_str())
            .unwrap();
        match store.get_order(seller, order_id).await.unwrap() {
            None => diffs.push(format!("{order_id}: missing")),
            Some(record) => {
                let view = serde_json::to_value(OrderView::of(&record)).unwrap();
                subset_diff(expected, &view, order_id, &mut diffs);
            }
        }
    }
    for a in absent.as_array().into_iter().flatten() {
        let found = store
            .get_order(
                a["seller_id"].as_str().unwrap(),
                a["order_id"].as_str().unwrap(),
            )
            .await
            .unwrap();
        if found.is_some() {
            diffs.push(format!("{a}: expected absent"));
        }
    }
    diffs
}

#[tokio::test]
async fn given_each_scenario_when_delivered_in_order_then_every_expected_order_holds() {
    let mut failures = Vec::new();
    let mut count = 0;
    for corpus in corpora() {
        for scenario in &corpus.scenarios {
            count += 1;
            let store = MemoryStore::new();
            let deliveries = scenario["deliveries"].as_array().unwrap();
            let checkpoints = scenario["checkpoints"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for (step, d) in deliveries.iter().enumerate() {
                if d["signing"] == "valid" {
                    let body =
                        std::fs::read(corpus.events.join(d["file"].as_str().unwrap())).unwrap();
                    deliver(&store, &body).await;
                }
                for cp in checkpoints.iter().filter(|c| c["after_step"] == step + 1) {
                    for diff in check_orders(
                        &store,
                        &cp["orders"],
                        &cp["absent"],
                        &scenario["expected_final"],
                    )
                    .await
                    {
                        failures.push(format!(
                            "{} after step {}: {diff}",
                            scenario["id"],
                            step + 1
                        ));
                    }
                }
            }
            let diffs = check_orders(
                &store,
                &scenario["expected_final"],
                &scenario["expected_absent"],
                &scenario["expected_final"],
            )
            .await;
            failures.extend(
                diffs
                    .into_iter()
                    .map(|d| format!("{}: {d}", scenario["id"])),
            );
        }
    }
    assert!(count >= 15, "expected the shared scenarios, found {count}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every stored order's facts, for comparing two runs: refunds kept in items of their own are
/// put back among the order's (which refunds spilled may depend on arrival; what is known may not).
async fn snapshot(store: &MemoryStore, scenario: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (order_id, expected) in scenario["expected_final"].as_object().unwrap() {
        let seller = expected["seller_id"].as_str().unwrap();
        let mut facts = store
            .get_order(seller, order_id)
            .await
            .unwrap()
            .map(|r| r.facts);
        if let Some(facts) = facts.as_mut() {
            for spilled in store.list_spilled_refunds(seller, order_id).await.unwrap() {
                facts.refunds.insert(spilled.refund_id, spilled.fact);
            }
            facts.spilled_refunds = Default::default();
        }
        out.push(serde_json::to_string(&facts).unwrap());
    }
    out
}

fn run<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(f)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn given_any_permutation_and_duplication_of_a_scenario_then_the_same_order(
        seed in any::<u64>(),
        extra in prop::collection::vec(any::<u64>(), 0..8),
    ) {
        for corpus in corpora() {
            for scenario in &corpus.scenarios {
                let bodies = valid_bodies(&corpus, scenario);
                if bodies.is_empty() { continue; }
                // GIVEN the deliveries shuffled, with some delivered again
                let mut order: Vec<usize> = (0..bodies.len()).collect();
                let mut s = seed;
                for i in (1..order.len()).rev() {
                    s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    order.swap(i, (s >> 33) as usize % (i + 1));
                }
                for e in &extra {
                    let at = (*e as usize) % (order.len() + 1);
                    order.insert(at, (*e >> 32) as usize % bodies.len());
                }
                let (expected, shuffled) = run(async {
                    let in_order = MemoryStore::new();
                    for b in &bodies { deliver(&in_order, b).await; }
                    let permuted = MemoryStore::new();
                    for i in &order { deliver(&permuted, &bodies[*i]).await; }
                    (snapshot(&in_order, scenario).await, snapshot(&permuted, scenario).await)
                });
                // THEN the stored facts are identical
                prop_assert_eq!(expected, shuffled, "scenario {} order {:?}", scenario["id"], order);
            }
        }
    }
}

#[test]
fn given_every_fixture_event_when_parsed_then_it_is_typed_in_one_pass_and_reads_as_two_passes() {
    // GIVEN every event body of every corpus (Stripe's own key order: `type` last)
    let mut handled = 0;
    for corpus in corpora() {
        for entry in std::fs::read_dir(&corpus.events).unwrap() {
            let body = std::fs::read(entry.unwrap().path()).unwrap();
            // WHEN it is parsed the fast way and the reference way
            let fast = Event::parse(&body).expect("fixture is an event");
            let reference = Event::parse_two_pass(&body).expect("fixture is an event");
            // THEN a handled event took the one pass, and both readings agree on everything
            if leenkies_domain::stripe::event::ObjectKind::of_event_type(&fast.kind).is_some() {
                handled += 1;
                assert!(fast.typed_in_one_pass(), "{} took two passes", fast.id);
            }
            assert_eq!(
                format!("{:?}", fast.object().map_err(|e| e.to_string())),
                format!("{:?}", reference.object().map_err(|e| e.to_string())),
                "{}",
                fast.id
            );
            assert_eq!(
                (
                    &fast.id,
                    &fast.kind,
                    fast.created,
                    fast.livemode,
                    &fast.account
                ),
                (
                    &reference.id,
                    &reference.kind,
                    reference.created,
                    reference.livemode,
                    &reference.account
                )
            );
        }
    }
    assert!(handled > 50, "only {handled} handled fixture events found");
}
