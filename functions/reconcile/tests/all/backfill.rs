//! Backfill against the fake Stripe: after an outage it brings every order to the state the full
//! webhook stream gives; a rerun changes nothing; an interrupted run resumes without re-reading
//! the pages it finished.

use crate::support;

use leenkies_adapters::metrics;
use leenkies_domain::ops::OpsStore;
use leenkies_integration_tests::fake_stripe::{FakeStripe, FAKE_STRIPE_KEY as API_KEY};
use reconcile::backfill::{Backfill, BackfillOptions, BackfillRequest, BackfillSummary};
use serde_json::Value;
use support::*;

/// The reference: every fixture event delivered by the webhook, into fresh stores.
async fn reference(events: &[Value]) -> Vec<leenkies_domain::OrderRecord> {
    let stores = memory_stores();
    deliver(&webhook(stores.orders.clone()), events).await;
    without_versions(all_orders(stores.orders.as_ref(), &accounts(events)).await)
}

async fn backfill(
    stores: &Stores,
    base: &str,
    since: i64,
    options: BackfillOptions,
) -> (BackfillSummary, metrics::Captured) {
    let (m, captured) = capture_metrics();
    let api = api(base, m.clone());
    let state = webhook(stores.orders.clone());
    let summary = Backfill {
        api: &api,
        ingest: &state,
        ops: stores.ops.as_ref(),
        metrics: &m,
        options,
        now: 1_783_600_000,
    }
    .run(&BackfillRequest {
        since,
        account: None,
    })
    .await
    .expect("backfill");
    (summary, captured)
}

async fn know_sellers(ops: &dyn OpsStore, events: &[Value]) {
    for a in accounts(events) {
        ops.note_seller(&a, 0).await.unwrap();
    }
}

#[tokio::test]
async fn given_an_outage_when_backfilling_then_orders_match_the_full_stream_and_a_rerun_changes_nothing(
) {
    outage_then_rerun(memory_stores()).await;
}

#[tokio::test]
async fn given_an_outage_and_dynamodb_progress_when_backfilling_then_the_same_holds() {
    if let Some(stores) = dynamo::dynamo_stores().await {
        outage_then_rerun(stores).await;
    }
}

#[tokio::test]
async fn given_an_interrupted_run_when_run_again_then_it_resumes_without_rereading_finished_pages()
{
    interrupted_then_resumed(memory_stores()).await;
}

#[tokio::test]
async fn given_an_interrupted_run_and_dynamodb_progress_when_run_again_then_it_resumes() {
    if let Some(stores) = dynamo::dynamo_stores().await {
        interrupted_then_resumed(stores).await;
    }
}

async fn outage_then_rerun(stores: Stores) {
    let logs = LogBuffer::default();
    let _guard = logs.capture();
    // GIVEN the webhook delivered everything created before the outage, and nothing after
    let events = fixture_events();
    let outage = 1_778_300_000;
    let before: Vec<Value> = events
        .iter()
        .filter(|e| e["created"].as_i64().unwrap() < outage)
        .cloned()
        .collect();
    assert!(before.len() > 5 && before.len() < events.len() - 5);
    know_sellers(stores.ops.as_ref(), &events).await;
    deliver(&webhook(stores.orders.clone()), &before).await;
    let fake = FakeStripe::with_events(&events).await;
    // Stripe rate-limits the first call: the client must wait and retry.
    fake.fail_next(429, 1);
    let base = fake.base.clone();

    // WHEN backfilling since shortly before the outage, three events a page
    let options = BackfillOptions {
        page_size: 3,
        ..Default::default()
    };
    let (summary, captured) = backfill(&stores, &base, outage - 3_600, options).await;

    // THEN every order is what the full stream gives
    let accts = accounts(&events);
    let after = without_versions(all_orders(stores.orders.as_ref(), &accts).await);
    assert_eq!(after, reference(&events).await);
    assert!(!summary.failed(), "{summary:?}");
    assert!(summary.accounts.iter().all(|a| a.caught_up));
    assert!(summary.applied() > 0);
    // AND the first call met a 429 and was retried
    let log = fake.seen();
    assert_eq!(log[0].status, 429);
    assert_eq!(log[1].query, log[0].query);
    // AND every call named its connected account and used the anchor, then `ending_before`
    assert!(log.iter().all(|r| r
        .account
        .as_deref()
        .is_some_and(|a| accts.contains(&a.to_owned()))));
    assert!(log.iter().any(|r| r.param("created[lt]").is_some()));
    assert!(log.iter().any(|r| r.param("ending_before").is_some()));
    // AND no list call asked for more than Stripe's 20 types
    assert!(log.iter().all(|r| r
        .query
        .iter()
        .filter(|(k, _)| k.starts_with("types["))
        .count()
        <= 20));
    // AND the metrics count what was read, applied and retried
    assert_eq!(
        captured.sum(metrics::BACKFILL_EVENTS_APPLIED, &[]) as u64,
        summary.applied()
    );
    assert_eq!(
        captured.sum(metrics::BACKFILL_EVENTS_READ, &[]) as u64,
        summary.events_read()
    );
    assert_eq!(
        captured.sum(metrics::STRIPE_API_CALLS, &[("Outcome", "retried")]),
        1.0
    );
    // AND each API call left one JSON log line, without the key or any email address
    let calls: Vec<Value> = logs
        .lines()
        .into_iter()
        .filter(|l| l["fields"]["message"] == "stripe api call")
        .collect();
    assert_eq!(
        calls.len(),
        log.len(),
        "{}",
        &logs.text()[..logs.text().len().min(3000)]
    );
    assert_eq!(calls[0]["fields"]["status"], 429);
    assert_eq!(calls[0]["fields"]["outcome"], "retried");
    let text = logs.text();
    assert!(!text.contains(API_KEY) && !text.contains("sk_test"));
    assert!(
        !text.contains("@example.com"),
        "an email address reached the logs"
    );

    // WHEN the backfill runs again
    let versions: Vec<u64> = all_orders(stores.orders.as_ref(), &accts)
        .await
        .iter()
        .map(|o| o.version)
        .collect();
    fake.clear_seen();
    let (again, _) = backfill(&stores, &base, outage - 3_600, options).await;

    // THEN nothing changes, and each stream of each account read one page from its cursor
    let versions_again: Vec<u64> = all_orders(stores.orders.as_ref(), &accts)
        .await
        .iter()
        .map(|o| o.version)
        .collect();
    assert_eq!(versions_again, versions);
    assert_eq!(again.applied(), 0);
    let streams = reconcile::backfill::streams().len();
    let log = fake.seen();
    assert_eq!(log.len(), accts.len() * streams, "{log:#?}");
    assert!(log.iter().all(|r| r.param("ending_before").is_some()));
}

async fn interrupted_then_resumed(stores: Stores) {
    // Every test of this binary holds its own log subscriber: tracing caches a call site's
    // interest per process, and a thread without one would make the others miss lines.
    let _guard = LogBuffer::default().capture();
    // GIVEN an empty store, and sellers known; the since is older than every event, so the
    // oldest page is found by walking back once
    let events = fixture_events();
    know_sellers(stores.ops.as_ref(), &events).await;
    let fake = FakeStripe::with_events(&events).await;
    // Stripe rate-limits the first call: the client must wait and retry.
    fake.fail_next(429, 1);
    let base = fake.base.clone();

    // WHEN a first run stops after three pages of two events
    let (first, _) = backfill(
        &stores,
        &base,
        1_700_000_000,
        BackfillOptions {
            page_size: 2,
            max_pages: Some(3),
            deadline: None,
        },
    )
    .await;
    assert_eq!(first.accounts.iter().map(|a| a.pages).sum::<u64>(), 3);
    assert!(!first.accounts[0].caught_up);
    let first_log = fake.seen();
    fake.clear_seen();

    // AND a second run goes to the end
    let (second, _) = backfill(
        &stores,
        &base,
        1_700_000_000,
        BackfillOptions {
            page_size: 2,
            ..Default::default()
        },
    )
    .await;

    // THEN the orders are what the full stream gives
    let accts = accounts(&events);
    assert_eq!(
        without_versions(all_orders(stores.orders.as_ref(), &accts).await),
        reference(&events).await
    );
    assert!(second.accounts.iter().all(|a| a.caught_up), "{second:?}");
    // AND the second run repeated none of the first run's page requests
    let second_log = fake.seen();
    let finished: Vec<_> = first_log
        .iter()
        .filter(|r| r.status == 200 && r.param("ending_before").is_some())
        .map(|r| (r.account.clone(), r.query.clone()))
        .collect();
    assert!(!finished.is_empty());
    for r in &second_log {
        assert!(
            !finished.contains(&(r.account.clone(), r.query.clone())),
            "page read again: {r:?}"
        );
    }
    // AND it resumed the interrupted stream from its stored cursor
    let progress = stores
        .ops
        .get_backfill_progress(&first.accounts[0].account)
        .await
        .unwrap()
        .unwrap();
    assert!(progress.streams.values().all(|s| s.caught_up_at.is_some()));
    // AND every handled event was folded exactly once over the two runs
    let handled = events
        .iter()
        .filter(|e| {
            leenkies_domain::stripe::event::EventType::parse(e["type"].as_str().unwrap()).is_some()
        })
        .count() as u64;
    assert_eq!(first.events_read() + second.events_read(), handled);
}

/// The real `reconcile` binary under the Lambda Runtime API, handed the scheduled event
/// EventBridge sends it: with the sellers known and Stripe holding events the webhook never
/// delivered, one run brings every order to what the full webhook stream gives.
#[tokio::test]
async fn given_a_scheduled_event_when_the_reconcile_binary_runs_then_missed_events_reach_their_orders(
) {
    use leenkies_adapters::dynamodb::ops::DynamoOps;
    use leenkies_adapters::dynamodb::{setup, DynamoStore};
    use leenkies_integration_tests::env::{dynamodb_endpoint, unique_table};
    use leenkies_integration_tests::runtime_api::{invoke_once, Reply};
    let Some(endpoint) = dynamodb_endpoint() else {
        return;
    };
    // GIVEN a table whose sellers are known but which holds none of their orders
    let client = setup::client(Some(&endpoint)).await;
    let table = unique_table("rt-reconcile");
    setup::ensure_table(&client, &table).await.expect("table");
    let events = fixture_events();
    know_sellers(&DynamoOps::new(client.clone(), table.clone()), &events).await;
    // AND Stripe holding every event
    let fake = FakeStripe::with_events(&events).await;
    // Stripe rate-limits the first call: the client must wait and retry.
    fake.fail_next(429, 1);
    let base = fake.base.clone();
    // WHEN EventBridge's scheduled event reaches the binary
    let scheduled = serde_json::json!({
        "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event", "source": "aws.events", "account": "123456789012",
        "time": "2026-12-07T18:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/leenkies-reconcile"],
        "detail": {}
    });
    let env = vec![
        ("ORDERS_TABLE", table.clone()),
        ("STRIPE_API_KEY", API_KEY.to_owned()),
        ("STRIPE_API_BASE", base.clone()),
        // The fixtures are from 2026: a window that reaches them from today.
        (
            "BACKFILL_DEFAULT_WINDOW_SECONDS",
            (3 * 365 * 86_400).to_string(),
        ),
        ("AWS_ENDPOINT_URL_DYNAMODB", endpoint.clone()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ];
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_reconcile"));
    let invocation = invoke_once(binary, &env, scheduled, std::time::Duration::from_secs(60)).await;
    // THEN it answers a summary, and the orders are those the full webhook stream gives
    let Reply::Response(reply) = &invocation.reply else {
        panic!(
            "expected a response, got {:?}\n{}",
            invocation.reply, invocation.output
        )
    };
    assert!(reply.is_object(), "{reply}");
    let store = DynamoStore::new(client, table);
    let stored = without_versions(all_orders(&store, &accounts(&events)).await);
    assert_eq!(stored, reference(&events).await, "{}", invocation.output);
}
