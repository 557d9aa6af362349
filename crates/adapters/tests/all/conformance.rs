//! One conformance suite for every `OrderStore`: each scenario below runs against the embedded
//! `MemoryStore` (the reference) and against `DynamoStore` on DynamoDB Local, with the same
//! expectations, so the two can never drift apart.
//!
//! DynamoDB Local: set `DYNAMODB_ENDPOINT` (e.g. `http://127.0.0.1:8000`, started with
//! `infra/dynamodb-local.sh start 8000`). Without it the DynamoDB variants fail, unless
//! `LEENKIES_SKIP_DYNAMODB=1` says to skip them on purpose. Each test uses a fresh table.

use std::collections::BTreeSet;
use std::sync::Arc;

use leenkies_domain::apply::{fold_into_order, FoldOutcome, RetryPolicy};
use leenkies_domain::order::facts::{Facts, RefundFact, Reg, TimelineEntry};
use leenkies_domain::order::refunds::{INLINE_REFUNDS, SPILL_ABOVE};
use leenkies_domain::order::{OrderRecord, PaymentStatus};
use leenkies_domain::ports::{
    ChargeLink, DownloadEntry, LinkWrite, OrderFilter, OrderStore, StoreError,
    MAX_DOWNLOADS_LOGGED, MAX_EMAIL_SEARCH_ADDRESSES,
};

use crate::support::{all_pages, ids, order, Status};

type Store = Arc<dyn OrderStore>;

both_stores!(
    get_missing_order_is_none,
    second_create_conflicts,
    stale_version_conflicts,
    links_written_with_the_order_point_at_it,
    failed_link_condition_leaves_the_order_unchanged,
    charge_link_pending_facts_round_trip,
    pages_are_newest_first_and_complete,
    filters_select_like_the_reference,
    filtered_pages_are_complete,
    another_sellers_orders_never_appear,
    downloads_are_oldest_first_and_capped,
    concurrent_downloads_never_exceed_the_cap,
    concurrent_folds_lose_nothing,
    duplicate_fold_writes_nothing,
    email_search_is_newest_first_across_addresses,
    too_broad_email_prefix_is_refused,
    every_refund_counts_past_the_order_item,
    a_refund_kept_apart_that_fails_gives_its_amount_back,
    a_provisional_order_settles_into_its_place,
    a_seller_id_holding_the_separator_reaches_no_other_sellers_keys,
);

async fn get_missing_order_is_none(store: Store) {
    // GIVEN an empty store
    // WHEN an order is read
    let got = store.get_order("acct_A", "pi_missing").await;
    // THEN there is none
    assert_eq!(got, Ok(None));
}

async fn second_create_conflicts(store: Store) {
    // GIVEN an order created with no expected version
    let first = order(
        "acct_A",
        "pi_1",
        100,
        Some("a@example.com"),
        Status::Succeeded,
    );
    store.put_order(&first, None, &[]).await.unwrap();
    // WHEN another create of the same order arrives
    let mut second = first.clone();
    second.facts.reference = Some(Reg::new(0, 1, "other".into()));
    let got = store.put_order(&second, None, &[]).await;
    // THEN it conflicts and the first stays
    assert_eq!(got, Err(StoreError::Conflict));
    assert_eq!(store.get_order("acct_A", "pi_1").await, Ok(Some(first)));
}

async fn stale_version_conflicts(store: Store) {
    // GIVEN an order at version 1
    let v1 = order("acct_A", "pi_1", 100, None, Status::Pending);
    store.put_order(&v1, None, &[]).await.unwrap();
    // WHEN it is updated at version 1, then again from the stale version 1
    let mut v2 = v1.clone();
    v2.version = 2;
    v2.facts.succeeded_at = Some(120);
    store.put_order(&v2, Some(1), &[]).await.unwrap();
    let mut stale = v1.clone();
    stale.version = 2;
    stale.facts.reference = Some(Reg::new(0, 1, "stale".into()));
    let got = store.put_order(&stale, Some(1), &[]).await;
    // THEN the first update holds and the stale one conflicts
    assert_eq!(got, Err(StoreError::Conflict));
    assert_eq!(
        store.get_order("acct_A", "pi_1").await,
        Ok(Some(v2.clone()))
    );
    // AND an update expecting a version of a missing order conflicts too
    let ghost = order("acct_A", "pi_ghost", 100, None, Status::Pending);
    assert_eq!(
        store.put_order(&ghost, Some(1), &[]).await,
        Err(StoreError::Conflict)
    );
}

async fn links_written_with_the_order_point_at_it(store: Store) {
    // GIVEN a charge already waiting with pending facts at version 1
    let waiting = ChargeLink {
        seller_id: "acct_A".into(),
        charge_id: "ch_old".into(),
        order_id: None,
        pending: timeline_fact(5),
        version: 1,
    };
    store.put_charge_link(&waiting, None).await.unwrap();
    // WHEN an order is created with a new link and that existing link
    let record = order("acct_A", "pi_1", 100, None, Status::Succeeded);
    let links = [
        LinkWrite {
            charge_id: "ch_new".into(),
            expected_version: None,
        },
        LinkWrite {
            charge_id: "ch_old".into(),
            expected_version: Some(1),
        },
    ];
    store.put_order(&record, None, &links).await.unwrap();
    // THEN both links point at the order, with no pending facts, at the next version
    let new = store.get_charge_link("acct_A", "ch_new").await.unwrap();
    let old = store.get_charge_link("acct_A", "ch_old").await.unwrap();
    for (link, version) in [(new, 1), (old, 2)] {
        let link = link.expect("link written");
        assert_eq!(link.order_id.as_deref(), Some("pi_1"));
        assert_eq!(link.pending, Facts::default());
        assert_eq!(link.version, version);
        assert_eq!(link.seller_id, "acct_A");
    }
    assert_eq!(store.get_order("acct_A", "pi_1").await, Ok(Some(record)));
}

async fn failed_link_condition_leaves_the_order_unchanged(store: Store) {
    // GIVEN an order at version 1 and a link that already exists
    let v1 = order("acct_A", "pi_1", 100, None, Status::Pending);
    store.put_order(&v1, None, &[]).await.unwrap();
    let link = ChargeLink {
        seller_id: "acct_A".into(),
        charge_id: "ch_1".into(),
        order_id: None,
        pending: timeline_fact(7),
        version: 1,
    };
    store.put_charge_link(&link, None).await.unwrap();
    // WHEN the order is updated with that link expected to be new
    let mut v2 = v1.clone();
    v2.version = 2;
    v2.facts.succeeded_at = Some(150);
    let got = store
        .put_order(
            &v2,
            Some(1),
            &[
                LinkWrite {
                    charge_id: "ch_free".into(),
                    expected_version: None,
                },
                LinkWrite {
                    charge_id: "ch_1".into(),
                    expected_version: None,
                },
            ],
        )
        .await;
    // THEN the whole write fails: the order, the existing link and the free link are untouched
    assert_eq!(got, Err(StoreError::Conflict));
    assert_eq!(store.get_order("acct_A", "pi_1").await, Ok(Some(v1)));
    assert_eq!(
        store.get_charge_link("acct_A", "ch_1").await,
        Ok(Some(link))
    );
    assert_eq!(store.get_charge_link("acct_A", "ch_free").await, Ok(None));
}

async fn charge_link_pending_facts_round_trip(store: Store) {
    // GIVEN a charge link holding pending facts
    let mut pending = timeline_fact(3);
    pending
        .refunds
        .insert("re_1".into(), refund(500, "pending", 3));
    let link = ChargeLink {
        seller_id: "acct_A".into(),
        charge_id: "ch_1".into(),
        order_id: None,
        pending,
        version: 1,
    };
    // WHEN it is written, written again as new, and updated at its version
    store.put_charge_link(&link, None).await.unwrap();
    let again = store.put_charge_link(&link, None).await;
    let mut v2 = link.clone();
    v2.version = 2;
    v2.pending.merge(&timeline_fact(4));
    store.put_charge_link(&v2, Some(1)).await.unwrap();
    let stale = store.put_charge_link(&v2, Some(1)).await;
    // THEN the facts read back identical, and only the right version wins
    assert_eq!(again, Err(StoreError::Conflict));
    assert_eq!(stale, Err(StoreError::Conflict));
    assert_eq!(store.get_charge_link("acct_A", "ch_1").await, Ok(Some(v2)));
    assert_eq!(store.get_charge_link("acct_B", "ch_1").await, Ok(None));
}

async fn pages_are_newest_first_and_complete(store: Store) {
    // GIVEN 57 orders, three per second, written in a scrambled order
    let mut expected = Vec::new();
    for i in 0..57u32 {
        let n = (i * 37) % 57;
        let record = order(
            "acct_P",
            &format!("pi_{n:03}"),
            1_700_000_000 + i64::from(n / 3),
            None,
            Status::Succeeded,
        );
        store.put_order(&record, None, &[]).await.unwrap();
        expected.push(record);
    }
    expected.sort_by(|a, b| {
        (b.facts.created_at(), &b.order_id).cmp(&(a.facts.created_at(), &a.order_id))
    });
    // WHEN all pages of 10 are read
    let pages = all_pages(&*store, "acct_P", OrderFilter::All, None, None, 10).await;
    // THEN six pages hold every order exactly once, newest first, the last without `next`
    assert_eq!(pages.len(), 6);
    assert!(pages[..5].iter().all(|p| p.orders.len() == 10));
    assert_eq!(pages[5].orders.len(), 7);
    assert!(pages[5].next.is_none());
    let got: Vec<OrderRecord> = pages.into_iter().flat_map(|p| p.orders).collect();
    assert_eq!(got, expected);
    // AND a page of exactly the remaining size has no `next`
    let exact = all_pages(&*store, "acct_P", OrderFilter::All, None, None, 57).await;
    assert_eq!(exact.len(), 1);
    assert!(exact[0].next.is_none());
}

/// The filter fixture: six orders of seller `acct_F`.
async fn filter_fixture(store: &dyn OrderStore) {
    let mut records = vec![
        order(
            "acct_F",
            "pi_f1",
            100,
            Some("Jo@Example.com"),
            Status::Succeeded,
        ),
        order(
            "acct_F",
            "pi_f2",
            200,
            Some("jo@example.com"),
            Status::Failed,
        ),
        order(
            "acct_F",
            "pi_f3",
            300,
            Some("joanne@example.org"),
            Status::Succeeded,
        ),
        order(
            "acct_F",
            "pi_f4",
            300,
            Some("bob@example.com"),
            Status::Pending,
        ),
        order("acct_F", "pi_f5", 400, None, Status::Succeeded),
        order(
            "acct_F",
            "pi_f6",
            500,
            Some("jo@example.com.au"),
            Status::Refunded,
        ),
    ];
    crate::support::add_dispute(&mut records[2], "dp_1");
    crate::support::add_dispute(&mut records[4], "dp_2");
    // Two of them seen only through their charge or checkout so far: `created_at` is still the
    // earliest event's (the DynamoDB store lists such orders apart and merges them in).
    for r in &mut records[1..3] {
        r.facts.pi_created = None;
        assert!(r.created_at_provisional());
    }
    for r in &records {
        store.put_order(r, None, &[]).await.unwrap();
    }
}

/// A filter, `from`, `to`, and the order ids expected newest first.
type FilterCase = (OrderFilter, Option<i64>, Option<i64>, Vec<&'static str>);

async fn filters_select_like_the_reference(store: Store) {
    // GIVEN the filter fixture
    filter_fixture(&*store).await;
    let email = |p: &str| OrderFilter::EmailPrefix(p.into());
    let status = OrderFilter::Status;
    let cases: Vec<FilterCase> = vec![
        (
            OrderFilter::All,
            None,
            None,
            vec!["pi_f6", "pi_f5", "pi_f4", "pi_f3", "pi_f2", "pi_f1"],
        ),
        (
            status(PaymentStatus::Succeeded),
            None,
            None,
            vec!["pi_f5", "pi_f3", "pi_f1"],
        ),
        (status(PaymentStatus::Failed), None, None, vec!["pi_f2"]),
        (status(PaymentStatus::Pending), None, None, vec!["pi_f4"]),
        (status(PaymentStatus::Refunded), None, None, vec!["pi_f6"]),
        (status(PaymentStatus::Canceled), None, None, vec![]),
        (OrderFilter::Disputed, None, None, vec!["pi_f5", "pi_f3"]),
        // exact email, stored with capitals, matches case-insensitively (and as a prefix)
        (
            email("jo@example.com"),
            None,
            None,
            vec!["pi_f6", "pi_f2", "pi_f1"],
        ),
        (
            email("jo"),
            None,
            None,
            vec!["pi_f6", "pi_f3", "pi_f2", "pi_f1"],
        ),
        (email("nobody@"), None, None, vec![]),
        (email("jo#"), None, None, vec![]),
        // from/to inclusive
        (
            OrderFilter::All,
            Some(200),
            Some(300),
            vec!["pi_f4", "pi_f3", "pi_f2"],
        ),
        (
            OrderFilter::All,
            Some(300),
            None,
            vec!["pi_f6", "pi_f5", "pi_f4", "pi_f3"],
        ),
        (
            OrderFilter::All,
            None,
            Some(300),
            vec!["pi_f4", "pi_f3", "pi_f2", "pi_f1"],
        ),
        (OrderFilter::All, Some(301), Some(399), vec![]),
        (OrderFilter::All, Some(400), Some(300), vec![]),
        (
            status(PaymentStatus::Succeeded),
            Some(300),
            None,
            vec!["pi_f5", "pi_f3"],
        ),
        (OrderFilter::Disputed, None, Some(399), vec!["pi_f3"]),
        (
            email("jo"),
            Some(200),
            Some(500),
            vec!["pi_f6", "pi_f3", "pi_f2"],
        ),
    ];
    for (filter, from, to, want) in cases {
        // WHEN the seller lists with that filter
        let pages = all_pages(&*store, "acct_F", filter.clone(), from, to, 25).await;
        // THEN exactly the expected orders come back, newest first, in one page
        let got = ids(pages.iter().flat_map(|p| p.orders.iter()));
        assert_eq!(got, want, "filter {filter:?} from {from:?} to {to:?}");
        assert_eq!(pages.len(), 1, "filter {filter:?}");
    }
}

async fn filtered_pages_are_complete(store: Store) {
    // GIVEN the filter fixture
    filter_fixture(&*store).await;
    for (filter, want) in [
        (
            OrderFilter::EmailPrefix("jo".into()),
            vec!["pi_f6", "pi_f3", "pi_f2", "pi_f1"],
        ),
        (
            OrderFilter::Status(PaymentStatus::Succeeded),
            vec!["pi_f5", "pi_f3", "pi_f1"],
        ),
        (OrderFilter::Disputed, vec!["pi_f5", "pi_f3"]),
        (
            OrderFilter::All,
            vec!["pi_f6", "pi_f5", "pi_f4", "pi_f3", "pi_f2", "pi_f1"],
        ),
    ] {
        for limit in [1, 2, 3] {
            // WHEN read in pages of `limit`
            let pages = all_pages(&*store, "acct_F", filter.clone(), None, None, limit).await;
            // THEN every match comes exactly once, in order, and only the last page ends
            let got = ids(pages.iter().flat_map(|p| p.orders.iter()));
            assert_eq!(got, want, "filter {filter:?} limit {limit}");
            assert_eq!(
                pages.len(),
                want.len().div_ceil(limit),
                "{filter:?} {limit}"
            );
            assert!(pages.iter().all(|p| p.orders.len() <= limit));
        }
    }
}

async fn another_sellers_orders_never_appear(store: Store) {
    // GIVEN orders of two sellers with the same times, emails and statuses
    for seller in ["acct_A", "acct_B"] {
        for (i, id) in ["pi_1", "pi_2"].iter().enumerate() {
            let mut r = order(
                seller,
                &format!("{id}_{seller}"),
                100 + i as i64,
                Some("same@example.com"),
                Status::Succeeded,
            );
            crate::support::add_dispute(&mut r, "dp_x");
            store.put_order(&r, None, &[]).await.unwrap();
        }
    }
    // WHEN seller A lists with every filter and reads B's order by id
    for filter in [
        OrderFilter::All,
        OrderFilter::Status(PaymentStatus::Succeeded),
        OrderFilter::Disputed,
        OrderFilter::EmailPrefix("same".into()),
        OrderFilter::EmailPrefix(String::new()),
    ] {
        let pages = all_pages(&*store, "acct_A", filter.clone(), None, None, 25).await;
        // THEN only A's orders appear
        let got = ids(pages.iter().flat_map(|p| p.orders.iter()));
        assert_eq!(got, vec!["pi_2_acct_A", "pi_1_acct_A"], "{filter:?}");
    }
    assert_eq!(store.get_order("acct_A", "pi_1_acct_B").await, Ok(None));
    assert_eq!(
        all_pages(&*store, "acct_C", OrderFilter::All, None, None, 25).await[0]
            .orders
            .len(),
        0
    );
}

async fn downloads_are_oldest_first_and_capped(store: Store) {
    // GIVEN an order, and more downloads than the log keeps (several within one second)
    let record = order("acct_A", "pi_1", 100, None, Status::Succeeded);
    store.put_order(&record, None, &[]).await.unwrap();
    let entries: Vec<DownloadEntry> = (0..MAX_DOWNLOADS_LOGGED + 5)
        .map(|i| DownloadEntry {
            at: 1_000 + (i / 4) as i64,
            ip: (i % 2 == 0).then(|| format!("203.0.113.{}", i % 250)),
            user_agent: (i % 3 == 0).then(|| format!("agent {i}")),
        })
        .collect();
    // WHEN each is recorded
    let mut logged = Vec::new();
    for e in &entries {
        logged.push(store.record_download("acct_A", "pi_1", e).await.unwrap());
    }
    // THEN the first MAX are logged, the rest refused, and the log reads oldest first
    assert!(logged[..MAX_DOWNLOADS_LOGGED].iter().all(|l| *l));
    assert!(logged[MAX_DOWNLOADS_LOGGED..].iter().all(|l| !*l));
    let log = store.list_downloads("acct_A", "pi_1").await.unwrap();
    assert_eq!(log, entries[..MAX_DOWNLOADS_LOGGED].to_vec());
    // AND another order's log is separate
    assert_eq!(store.list_downloads("acct_A", "pi_2").await, Ok(vec![]));
    assert_eq!(store.list_downloads("acct_B", "pi_1").await, Ok(vec![]));
}

async fn concurrent_downloads_never_exceed_the_cap(store: Store) {
    // GIVEN 8 tasks downloading 30 times each: 240 downloads for a log of MAX
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut logged = 0usize;
                for _ in 0..30 {
                    let entry = DownloadEntry {
                        at: 2_000,
                        ip: Some(format!("198.51.100.{t}")),
                        user_agent: None,
                    };
                    // WHEN they race to record
                    if store
                        .record_download("acct_A", "pi_busy", &entry)
                        .await
                        .unwrap()
                    {
                        logged += 1;
                    }
                }
                logged
            })
        })
        .collect();
    let mut logged = 0;
    for task in tasks {
        logged += task.await.expect("task ran");
    }
    // THEN exactly MAX were logged and the log holds exactly those (the order of entries
    // recorded concurrently is arrival order, which the stores need not agree on)
    assert_eq!(logged, MAX_DOWNLOADS_LOGGED);
    let log = store.list_downloads("acct_A", "pi_busy").await.unwrap();
    assert_eq!(log.len(), MAX_DOWNLOADS_LOGGED);
}

async fn concurrent_folds_lose_nothing(store: Store) {
    // GIVEN 8 different facts about one order (a refund and a timeline line each)
    let facts: Vec<Facts> = (0..8).map(|i| refund_fact(i, 100 + i as i64)).collect();
    // WHEN 8 tasks fold them at the same time
    let tasks: Vec<_> = facts
        .iter()
        .cloned()
        .map(|f| {
            let store = store.clone();
            tokio::spawn(async move {
                fold_into_order(&*store, "acct_A", "pi_hot", &f, RetryPolicy::default()).await
            })
        })
        .collect();
    for task in tasks {
        let outcome = task.await.expect("task ran");
        assert!(
            matches!(outcome, Ok(FoldOutcome::Applied { .. })),
            "{outcome:?}"
        );
    }
    // THEN every fact is in the order, written exactly once each
    let stored = store.get_order("acct_A", "pi_hot").await.unwrap().unwrap();
    let mut want = Facts::default();
    for f in &facts {
        want.merge(f);
    }
    assert_eq!(stored.facts, want);
    assert_eq!(stored.facts.refunds.len(), 8);
    assert_eq!(stored.facts.timeline.len(), 8);
    assert_eq!(stored.version, 8);
}

async fn duplicate_fold_writes_nothing(store: Store) {
    // GIVEN an order a fact was folded into
    let fact = refund_fact(1, 100);
    let first = fold_into_order(&*store, "acct_A", "pi_1", &fact, RetryPolicy::default()).await;
    assert!(matches!(first, Ok(FoldOutcome::Applied { .. })));
    let before = store.get_order("acct_A", "pi_1").await.unwrap().unwrap();
    // WHEN the same fact is folded again
    let again = fold_into_order(&*store, "acct_A", "pi_1", &fact, RetryPolicy::default()).await;
    // THEN it is a duplicate and the order is unchanged, version included
    assert!(matches!(again, Ok(FoldOutcome::Duplicate { .. })));
    let after = store.get_order("acct_A", "pi_1").await.unwrap().unwrap();
    assert_eq!(after, before);
    assert_eq!(after.version, 1);
}

/// A paid USD 100.00 order, and 40 refunds of USD 1.00 each (created 100..140) to fold into it.
async fn paid_order_and_forty_refunds(store: &dyn OrderStore, order_id: &str) -> Vec<Facts> {
    let mut paid = order(
        "acct_A",
        order_id,
        50,
        Some("buyer@example.com"),
        Status::Succeeded,
    );
    paid.facts.amount = Some(Reg::new(0, 50, 10_000));
    store.put_order(&paid, None, &[]).await.unwrap();
    (0..40).map(|i| refund_fact(i, 100 + i as i64)).collect()
}

/// Folds `facts` in the order given by `positions`.
async fn fold_in(store: &dyn OrderStore, order_id: &str, facts: &[Facts], positions: &[usize]) {
    for &i in positions {
        let outcome =
            fold_into_order(store, "acct_A", order_id, &facts[i], RetryPolicy::default()).await;
        assert!(outcome.is_ok(), "{outcome:?}");
    }
}

/// The order's view with every refund, its id left out (to compare two orders).
async fn full_view(store: &dyn OrderStore, order_id: &str) -> serde_json::Value {
    let record = store.get_order("acct_A", order_id).await.unwrap().unwrap();
    let mut view = serde_json::to_value(
        leenkies_domain::listing::order_view(store, &record)
            .await
            .unwrap(),
    )
    .unwrap();
    view["order_id"] = serde_json::Value::Null;
    view
}

async fn every_refund_counts_past_the_order_item(store: Store) {
    // GIVEN a paid order and 40 partial refunds (more than the order item keeps)
    let facts = paid_order_and_forty_refunds(&*store, "pi_many").await;
    paid_order_and_forty_refunds(&*store, "pi_many_rev").await;
    // WHEN they are folded oldest first into one order, and newest first with every third one
    // delivered twice into another
    let forward: Vec<usize> = (0..40).collect();
    let backward: Vec<usize> = (0..40).rev().chain((0..40).step_by(3)).collect();
    fold_in(&*store, "pi_many", &facts, &forward).await;
    fold_in(&*store, "pi_many_rev", &facts, &backward).await;
    // THEN every refund counts, the order item keeps only the newest, the rest are in items of
    // their own, and both orders show the same
    let stored = store.get_order("acct_A", "pi_many").await.unwrap().unwrap();
    assert_eq!(
        stored.facts.refunded_amount(),
        (0..40).map(|i| 100 + i).sum::<i64>()
    );
    assert_eq!(
        stored.facts.payment_status(),
        PaymentStatus::PartiallyRefunded
    );
    let inline = stored.facts.refunds.len();
    assert!(
        (INLINE_REFUNDS..=SPILL_ABOVE).contains(&inline),
        "{inline} on the item"
    );
    let kept_apart = store
        .list_spilled_refunds("acct_A", "pi_many")
        .await
        .unwrap();
    assert_eq!(kept_apart.len(), 40 - inline);
    assert_eq!(stored.facts.spilled_refunds.count as usize, 40 - inline);
    let oldest_inline = stored
        .facts
        .refunds
        .values()
        .filter_map(|r| r.created)
        .min();
    assert!(kept_apart.iter().all(|r| r.fact.created < oldest_inline));
    let view = full_view(&*store, "pi_many").await;
    assert_eq!(view["refunds"].as_array().unwrap().len(), 40);
    assert_eq!(view["refunds"][0]["id"], "re_0");
    assert_eq!(view, full_view(&*store, "pi_many_rev").await);
    // AND a refund kept apart delivered again writes nothing
    let before = store.get_order("acct_A", "pi_many").await.unwrap().unwrap();
    let again = fold_into_order(
        &*store,
        "acct_A",
        "pi_many",
        &facts[0],
        RetryPolicy::default(),
    )
    .await;
    assert!(
        matches!(again, Ok(FoldOutcome::Duplicate { .. })),
        "{again:?}"
    );
    let after = store.get_order("acct_A", "pi_many").await.unwrap().unwrap();
    assert_eq!(after.version, before.version);
}

async fn a_refund_kept_apart_that_fails_gives_its_amount_back(store: Store) {
    // GIVEN a paid order with 40 refunds, the oldest of them kept apart from the order item
    let facts = paid_order_and_forty_refunds(&*store, "pi_fails").await;
    fold_in(&*store, "pi_fails", &facts, &(0..40).collect::<Vec<_>>()).await;
    let before = store
        .get_order("acct_A", "pi_fails")
        .await
        .unwrap()
        .unwrap();
    assert!(!before.facts.refunds.contains_key("re_0"));
    assert!(!before.attention().contains(&"refund_failed"));
    // WHEN Stripe says later that the oldest refund failed
    let mut failed = Facts::default();
    failed
        .refunds
        .insert("re_0".into(), refund(100, "failed", 100));
    failed.refunds.get_mut("re_0").unwrap().state = Reg::new(4, 500, "failed".into());
    let outcome = fold_into_order(
        &*store,
        "acct_A",
        "pi_fails",
        &failed,
        RetryPolicy::default(),
    )
    .await;
    // THEN its amount is given back, the seller is told, and it stays in its own item
    assert!(
        matches!(outcome, Ok(FoldOutcome::Applied { .. })),
        "{outcome:?}"
    );
    let after = store
        .get_order("acct_A", "pi_fails")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        after.facts.refunded_amount(),
        before.facts.refunded_amount() - 100
    );
    assert!(after.attention().contains(&"refund_failed"));
    assert!(!after.facts.refunds.contains_key("re_0"));
    let kept = store
        .get_spilled_refunds(
            "acct_A",
            "pi_fails",
            &["re_0".to_owned(), "re_39".to_owned()],
        )
        .await
        .unwrap();
    assert_eq!(kept.len(), 1, "re_39 is on the order item, not apart");
    assert_eq!(kept[0].fact.status(), "failed");
    assert_eq!(after.facts.spilled_refunds.reversed_count, 1);
}

fn timeline_fact(at: i64) -> Facts {
    Facts {
        first_event_at: Some(at),
        last_event_at: Some(at),
        timeline: BTreeSet::from([TimelineEntry {
            at,
            kind: "note".into(),
            detail: format!("fact at {at}"),
        }]),
        ..Facts::default()
    }
}

fn refund(amount: i64, status: &str, at: i64) -> RefundFact {
    RefundFact {
        state: Reg::new(
            leenkies_domain::order::facts::refund_rank(status),
            at,
            status.into(),
        ),
        amount,
        created: Some(at),
        failure_reason: None,
    }
}

/// One refund of its own plus its timeline line: a fact no other `i` shares.
fn refund_fact(i: u32, at: i64) -> Facts {
    let mut f = timeline_fact(at);
    f.refunds.insert(
        format!("re_{i}"),
        refund(100 + i64::from(i), "succeeded", at),
    );
    f.timeline = BTreeSet::from([TimelineEntry {
        at,
        kind: "refund_created".into(),
        detail: format!("re_{i}"),
    }]);
    f
}

async fn email_search_is_newest_first_across_addresses(store: Store) {
    // GIVEN one address with 70 orders (more than a scan batch, so the scan stops inside its
    // entries), 40 other addresses under the same prefix with one or two orders each at
    // interleaved times, an address that only shares a shorter prefix, and an address holding
    // `#` (the index key's separator)
    let mut all = Vec::new();
    for i in 0..70i64 {
        all.push(order(
            "acct_E",
            &format!("pi_many{i:03}"),
            1_000 + i * 3,
            Some("Many@Shop.io"),
            Status::Succeeded,
        ));
    }
    for i in 0..40i64 {
        let email = format!("ma{i:02}@shop.io");
        all.push(order(
            "acct_E",
            &format!("pi_ma{i:02}a"),
            1_001 + i * 5,
            Some(&email),
            Status::Failed,
        ));
        if i % 3 == 0 {
            all.push(order(
                "acct_E",
                &format!("pi_ma{i:02}b"),
                1_400 - i,
                Some(&email),
                Status::Pending,
            ));
        }
    }
    all.push(order(
        "acct_E",
        "pi_other",
        1_100,
        Some("mb@shop.io"),
        Status::Succeeded,
    ));
    all.push(order(
        "acct_E",
        "pi_hash",
        1_250,
        Some("ma#x@shop.io"),
        Status::Succeeded,
    ));
    for r in &all {
        store.put_order(r, None, &[]).await.unwrap();
    }
    let expect = |prefix: &str, from: Option<i64>, to: Option<i64>| {
        let mut want: Vec<&OrderRecord> = all
            .iter()
            .filter(|r| {
                r.facts
                    .customer_email()
                    .is_some_and(|e| e.to_lowercase().starts_with(prefix))
                    && from.is_none_or(|f| r.facts.created_at() >= f)
                    && to.is_none_or(|t| r.facts.created_at() <= t)
            })
            .collect();
        want.sort_by(|a, b| {
            (b.facts.created_at(), &b.order_id).cmp(&(a.facts.created_at(), &a.order_id))
        });
        want.into_iter()
            .map(|r| r.order_id.clone())
            .collect::<Vec<_>>()
    };
    for (prefix, from, to, limit) in [
        ("ma", None, None, 7),
        ("ma", None, None, 25),
        ("ma", Some(1_050), Some(1_200), 9),
        ("many@shop.io", None, None, 25),
        ("many@shop.io", Some(1_100), None, 4),
        ("ma#", None, None, 5),
        ("ma1", None, None, 3),
    ] {
        // WHEN every page of the search is read
        let pages = all_pages(
            &*store,
            "acct_E",
            OrderFilter::EmailPrefix(prefix.into()),
            from,
            to,
            limit,
        )
        .await;
        // THEN every match comes once, newest first, in full pages until the last
        let got: Vec<String> = pages
            .iter()
            .flat_map(|p| p.orders.iter())
            .map(|o| o.order_id.clone())
            .collect();
        let want = expect(prefix, from, to);
        assert!(!want.is_empty(), "{prefix}: the case must match something");
        assert_eq!(
            got, want,
            "prefix {prefix:?} from {from:?} to {to:?} limit {limit}"
        );
        assert_eq!(
            pages.len(),
            want.len().div_ceil(limit).max(1),
            "{prefix:?} {limit}"
        );
    }
}

async fn too_broad_email_prefix_is_refused(store: Store) {
    // GIVEN one more distinct address under a prefix than a search may span, and a few under
    // another prefix
    let mut tasks = Vec::new();
    for chunk in 0..8usize {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in (chunk..=MAX_EMAIL_SEARCH_ADDRESSES).step_by(8) {
                let r = order(
                    "acct_W",
                    &format!("pi_w{i:05}"),
                    10_000 + i as i64,
                    Some(&format!("wide{i:05}@x.io")),
                    Status::Succeeded,
                );
                store.put_order(&r, None, &[]).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let narrow = order("acct_W", "pi_n1", 5, Some("narrow@x.io"), Status::Succeeded);
    store.put_order(&narrow, None, &[]).await.unwrap();
    let query = |prefix: &str| leenkies_domain::ports::OrderQuery {
        filter: OrderFilter::EmailPrefix(prefix.into()),
        from: None,
        to: None,
        limit: 25,
        after: None,
    };
    // WHEN the broad prefix is searched
    let got = store.list_orders("acct_W", &query("wi")).await;
    // THEN it is refused as too broad (not a partial answer, not "retry")
    assert!(matches!(got, Err(StoreError::TooBroad(_))), "{got:?}");
    // AND a narrower prefix of the same addresses and another prefix still answer
    let one = store
        .list_orders("acct_W", &query("wide00007@"))
        .await
        .unwrap();
    assert_eq!(ids(one.orders.iter()), vec!["pi_w00007"]);
    let other = store.list_orders("acct_W", &query("na")).await.unwrap();
    assert_eq!(ids(other.orders.iter()), vec!["pi_n1"]);
}

async fn a_provisional_order_settles_into_its_place(store: Store) {
    // GIVEN two settled orders at 100 and 300, and one first seen through its checkout at 400
    // (its PaymentIntent's `created` not known yet)
    for (id, at) in [("pi_s1", 100), ("pi_s3", 300)] {
        let r = order("acct_S", id, at, Some("sam@example.com"), Status::Succeeded);
        store.put_order(&r, None, &[]).await.unwrap();
    }
    let mut early = order(
        "acct_S",
        "pi_s2",
        400,
        Some("Sam@Example.com"),
        Status::Succeeded,
    );
    early.facts.pi_created = None;
    store.put_order(&early, None, &[]).await.unwrap();
    let listed = |filter: OrderFilter| {
        let store = store.clone();
        async move {
            let pages = all_pages(&*store, "acct_S", filter, None, None, 2).await;
            ids(pages.iter().flat_map(|p| p.orders.iter()))
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<String>>()
        }
    };
    let email = || OrderFilter::EmailPrefix("sam@example.com".into());
    let paid = || OrderFilter::Status(PaymentStatus::Succeeded);
    // THEN it is listed, searched and filtered at the earliest event's time, newest first
    for filter in [OrderFilter::All, email(), paid()] {
        assert_eq!(
            listed(filter.clone()).await,
            vec!["pi_s2", "pi_s3", "pi_s1"],
            "{filter:?}"
        );
    }
    // WHEN its PaymentIntent arrives, created at 200
    let mut settled = store.get_order("acct_S", "pi_s2").await.unwrap().unwrap();
    let read_at = settled.version;
    settled.version += 1;
    settled.facts.pi_created = Some(200);
    assert!(!settled.created_at_provisional());
    store.put_order(&settled, Some(read_at), &[]).await.unwrap();
    // THEN every list shows it once, at its PaymentIntent's time
    for filter in [OrderFilter::All, email(), paid()] {
        assert_eq!(
            listed(filter.clone()).await,
            vec!["pi_s3", "pi_s2", "pi_s1"],
            "{filter:?}"
        );
    }
    // AND the `from`/`to` bounds follow its settled time
    let pages = all_pages(
        &*store,
        "acct_S",
        OrderFilter::All,
        Some(150),
        Some(250),
        25,
    )
    .await;
    assert_eq!(
        ids(pages.iter().flat_map(|p| p.orders.iter())),
        vec!["pi_s2"]
    );
}

async fn a_seller_id_holding_the_separator_reaches_no_other_sellers_keys(store: Store) {
    // GIVEN seller A with a settled order, a provisional one (no PaymentIntent `created` yet), a
    // failed one and a disputed one
    let settled = order(
        "acct_A",
        "pi_a1",
        100,
        Some("a@example.com"),
        Status::Succeeded,
    );
    store.put_order(&settled, None, &[]).await.unwrap();
    let mut provisional = order(
        "acct_A",
        "pi_a2",
        200,
        Some("a@example.com"),
        Status::Succeeded,
    );
    provisional.facts.pi_created = None;
    store.put_order(&provisional, None, &[]).await.unwrap();
    let mut disputed = order(
        "acct_A",
        "pi_a3",
        300,
        Some("a@example.com"),
        Status::Failed,
    );
    crate::support::add_dispute(&mut disputed, "dp_a");
    store.put_order(&disputed, None, &[]).await.unwrap();
    // WHEN a seller id shaped after A's key parts lists, searches and reads
    for hostile in [
        "acct_A#PROVISIONAL",
        "acct_A#DISPUTED",
        "acct_A#STATUS#failed",
        "acct_A#STATUS#succeeded",
        "acct_A#ORDER#pi_a1",
        "acct_A%23PROVISIONAL",
    ] {
        for filter in [
            OrderFilter::All,
            OrderFilter::Status(PaymentStatus::Succeeded),
            OrderFilter::Status(PaymentStatus::Failed),
            OrderFilter::Disputed,
            OrderFilter::EmailPrefix("a@".into()),
        ] {
            let pages = all_pages(&*store, hostile, filter.clone(), None, None, 25).await;
            // THEN nothing of A's is seen
            let got = ids(pages.iter().flat_map(|p| p.orders.iter()));
            assert!(got.is_empty(), "{hostile} {filter:?}: {got:?}");
        }
        for id in ["pi_a1", "pi_a2", "pi_a3", ""] {
            assert_eq!(
                store.get_order(hostile, id).await,
                Ok(None),
                "{hostile} {id}"
            );
        }
    }
    assert_eq!(store.get_order("acct_A", "pi_a1#x").await, Ok(None));
    // AND A still sees its three orders
    let pages = all_pages(&*store, "acct_A", OrderFilter::All, None, None, 25).await;
    assert_eq!(ids(pages.iter().flat_map(|p| p.orders.iter())).len(), 3);
}
