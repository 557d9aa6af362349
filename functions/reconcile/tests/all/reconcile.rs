//! Reconcile against the fake Stripe: an outcome whose event never arrived (a missed
//! `charge.dispute.closed`, a `refund.failed`) still reaches the order, and a quiet rerun writes
//! nothing.

use crate::support;

use leenkies_adapters::metrics;
use leenkies_domain::order::view::OrderView;
use leenkies_integration_tests::fake_stripe::FakeStripe;
use reconcile::reconcile::{Reconcile, ReconcileOptions};
use serde_json::Value;
use support::*;

const DISPUTED_ORDER: &str = "pi_3QL4S94fTqZ2sLxN0OMFqGB5";
const REFUNDED_ORDER: &str = "pi_3QJPMb8cKdV3nWpT0fgBDTNm";

#[tokio::test]
async fn given_missed_closing_events_when_reconciling_then_the_orders_reach_their_outcome() {
    missed_closes_reach_their_outcome(memory_stores()).await;
}

#[tokio::test]
async fn given_missed_closing_events_on_dynamodb_when_reconciling_then_the_orders_reach_their_outcome(
) {
    if let Some(stores) = support::dynamo::dynamo_stores().await {
        missed_closes_reach_their_outcome(stores).await;
    }
}

async fn missed_closes_reach_their_outcome(stores: Stores) {
    let logs = LogBuffer::default();
    let _guard = logs.capture();
    // GIVEN the webhook saw the dispute until `under_review` and a refund still `pending`, but
    // never the dispute's close nor the refund's failure
    let events = fixture_events();
    let missed = [
        "evt_1QDe484fTqZ2sLxNZXqq0ywH",
        "evt_1QXVIX4fTqZ2sLxN1EqpF8yf",
        "evt_3QJPMb8cKdV3nWpT0vQ3Nadq",
        "evt_3QJPMb8cKdV3nWpT0I6TAlTn",
    ];
    let mut seen: Vec<Value> = events
        .iter()
        .filter(|e| !missed.contains(&e["id"].as_str().unwrap()))
        .cloned()
        .collect();
    for e in &mut seen {
        if e["type"] == "refund.created" && e["data"]["object"]["payment_intent"] == REFUNDED_ORDER
        {
            e["data"]["object"]["status"] = "pending".into();
        }
    }
    for a in accounts(&events) {
        stores.ops.note_seller(&a, 0).await.unwrap();
    }
    let state = webhook(stores.orders.clone());
    deliver(&state, &seen).await;
    let before = stores
        .orders
        .get_order("acct_1QJm7E4fTqZ2sLxN", DISPUTED_ORDER)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        before.facts.disputes.values().next().unwrap().status(),
        "under_review"
    );
    // AND Stripe's objects are in their final state
    let fake = FakeStripe::with_events(&events).await;
    // Stripe rate-limits the first call: the client must wait and retry.
    fake.fail_next(429, 1);
    let base = fake.base.clone();
    let (m, captured) = capture_metrics();
    let api = api(&base, m.clone());
    let run = |now| Reconcile {
        api: &api,
        ingest: &state,
        store: stores.orders.as_ref(),
        ops: stores.ops.as_ref(),
        metrics: &m,
        options: ReconcileOptions::default(),
        now,
    };
    let now = 1_783_600_000;

    // WHEN reconciling
    let summary = run(now).run(None).await.unwrap();

    // THEN the dispute is won and the refund failed, as if their events had arrived
    assert!(summary.errors.is_empty(), "{summary:?}");
    assert_eq!(summary.changed, 2, "{summary:?}");
    let disputed = stores
        .orders
        .get_order("acct_1QJm7E4fTqZ2sLxN", DISPUTED_ORDER)
        .await
        .unwrap()
        .unwrap();
    let view = serde_json::to_value(OrderView::of(&disputed)).unwrap();
    assert_eq!(view["dispute"]["status"], "won");
    assert_eq!(view["access_revoked"], false);
    let refunded = stores
        .orders
        .get_order("acct_1QHx4R8cKdV3nWpT", REFUNDED_ORDER)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        refunded.facts.refunds.values().next().unwrap().status(),
        "failed"
    );
    let view = serde_json::to_value(OrderView::of(&refunded)).unwrap();
    assert!(view["attention"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a == "refund_failed"));
    // AND each object was read as its own account, at the client's named API version
    let reads: Vec<_> = fake
        .seen()
        .into_iter()
        .filter(|r| r.status == 200)
        .collect();
    assert!(reads
        .iter()
        .all(|r| r.version.as_deref() == Some(reconcile::stripe_api::STRIPE_API_VERSION)));
    assert!(reads.iter().any(|r| r.path.starts_with("/v1/disputes/")
        && r.account.as_deref() == Some("acct_1QJm7E4fTqZ2sLxN")));
    assert!(reads.iter().any(|r| r.path.starts_with("/v1/refunds/")
        && r.account.as_deref() == Some("acct_1QHx4R8cKdV3nWpT")));
    assert_eq!(captured.sum(metrics::RECONCILE_CHANGES, &[]), 2.0);

    // WHEN reconciling again
    let versions = (disputed.version, refunded.version);
    let again = run(now + 60).run(None).await.unwrap();

    // THEN nothing is open any more and nothing is written
    assert_eq!(again.changed, 0);
    assert_eq!(again.objects_read, 0);
    let disputed = stores
        .orders
        .get_order("acct_1QJm7E4fTqZ2sLxN", DISPUTED_ORDER)
        .await
        .unwrap()
        .unwrap();
    let refunded = stores
        .orders
        .get_order("acct_1QHx4R8cKdV3nWpT", REFUNDED_ORDER)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((disputed.version, refunded.version), versions);
}
