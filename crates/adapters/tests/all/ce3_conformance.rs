//! Visa CE 3.0's card lookup and the dispute-rate counters, the same cases on both stores: a
//! seller's paid orders on one card, newest first, within a window; never another seller's,
//! another card's, an unpaid or a provisional order; and the per-month counters that the fold
//! adds to, once per transition whatever the duplicates.

use std::sync::Arc;

use leenkies_domain::apply::{fold_into_order, RetryPolicy};
use leenkies_domain::evidence::ce3;
use leenkies_domain::order::facts::{source, CardFact, DisputeFact, Facts, FraudWarningFact, Reg};
use leenkies_domain::order::OrderRecord;
use leenkies_domain::ports::OrderStore;
use leenkies_domain::rates::{self, Brand, Counter, Measure, Month};

use crate::support::{order, Status};

type Store = Arc<dyn OrderStore>;

both_stores!(
    orders_by_card_are_the_seller_s_paid_orders_on_that_card_newest_first,
    an_order_joins_its_card_once_paid_and_settled,
    a_returning_buyer_s_earlier_orders_make_ce3_evidence,
    rate_counters_count_each_transition_once,
);

const CARD: &str = "Xt5EWLLDS7FJjR1c";
const DAY: i64 = 86_400;

/// A paid order on `card` (the succeeded charge's), with the buyer's identifiers.
fn on_card(seller: &str, id: &str, created: i64, card: Option<&str>) -> OrderRecord {
    let mut r = order(
        seller,
        id,
        created,
        Some("jordan.lee@example.com"),
        Status::Succeeded,
    );
    r.facts.customer_ip = Some(Reg::new(2, created, "203.0.113.9".into()));
    r.facts.device_fingerprint = Some(Reg::new(2, created, "fp_3b8d0c1e9a7f4d2b6c5e".into()));
    r.facts.charges.insert(format!("ch_{id}"));
    r.facts.card = card.map(|fp| {
        Reg::new(
            source::billing::SUCCEEDED_CHARGE,
            created,
            CardFact {
                fingerprint: Some(fp.into()),
                brand: Some("visa".into()),
            },
        )
    });
    r
}

async fn put(store: &Store, r: &OrderRecord) {
    store.put_order(r, None, &[]).await.unwrap();
}

fn ids(orders: &[OrderRecord]) -> Vec<&str> {
    orders.iter().map(|o| o.order_id.as_str()).collect()
}

async fn orders_by_card_are_the_seller_s_paid_orders_on_that_card_newest_first(store: Store) {
    // GIVEN seller S's paid orders on the card at days 10, 20, 30 and 40, one on another card,
    // one without a card, another seller's on the same card, a failed attempt's card, and one
    // whose created_at is still provisional
    for (id, day) in [("pi_10", 10), ("pi_40", 40), ("pi_20", 20), ("pi_30", 30)] {
        put(&store, &on_card("acct_S", id, day * DAY, Some(CARD))).await;
    }
    put(
        &store,
        &on_card("acct_S", "pi_other", 25 * DAY, Some("Zz9other")),
    )
    .await;
    put(&store, &on_card("acct_S", "pi_nocard", 26 * DAY, None)).await;
    put(
        &store,
        &on_card("acct_T", "pi_theirs", 27 * DAY, Some(CARD)),
    )
    .await;
    let mut failed = on_card("acct_S", "pi_failed", 28 * DAY, Some(CARD));
    failed.facts.succeeded_at = None;
    put(&store, &failed).await;
    let mut declined_card = on_card("acct_S", "pi_declined", 29 * DAY, Some(CARD));
    declined_card.facts.card.as_mut().unwrap().rank = source::billing::OTHER_CHARGE;
    put(&store, &declined_card).await;
    let mut provisional = on_card("acct_S", "pi_provisional", 31 * DAY, Some(CARD));
    provisional.facts.pi_created = None;
    put(&store, &provisional).await;
    // WHEN the seller's orders on the card are read over the whole range
    let all = store
        .list_orders_by_card("acct_S", "visa", CARD, 0, 100 * DAY, 25)
        .await
        .unwrap();
    // THEN only its paid, settled orders on that card, newest first
    assert_eq!(ids(&all), ["pi_40", "pi_30", "pi_20", "pi_10"]);
    // AND the window's bounds are inclusive, and the limit keeps the newest
    let window = store
        .list_orders_by_card("acct_S", "visa", CARD, 20 * DAY, 30 * DAY, 25)
        .await
        .unwrap();
    assert_eq!(ids(&window), ["pi_30", "pi_20"]);
    let two = store
        .list_orders_by_card("acct_S", "visa", CARD, 0, 100 * DAY, 2)
        .await
        .unwrap();
    assert_eq!(ids(&two), ["pi_40", "pi_30"]);
    // AND another seller reads only its own
    let theirs = store
        .list_orders_by_card("acct_T", "visa", CARD, 0, 100 * DAY, 25)
        .await
        .unwrap();
    assert_eq!(ids(&theirs), ["pi_theirs"]);
    // AND the same fingerprint under another brand is another card
    assert!(store
        .list_orders_by_card("acct_S", "mastercard", CARD, 0, 100 * DAY, 25)
        .await
        .unwrap()
        .is_empty());
    // AND a range longer than fourteen months reads the newest fourteen only (both stores)
    put(&store, &on_card("acct_U", "pi_early", 10 * DAY, Some(CARD))).await;
    put(&store, &on_card("acct_U", "pi_late", 600 * DAY, Some(CARD))).await;
    let long = store
        .list_orders_by_card("acct_U", "visa", CARD, 0, 700 * DAY, 25)
        .await
        .unwrap();
    assert_eq!(ids(&long), ["pi_late"]);
    // AND an unknown card has nothing
    assert!(store
        .list_orders_by_card("acct_S", "visa", "Nope0000", 0, 100 * DAY, 25)
        .await
        .unwrap()
        .is_empty());
}

async fn an_order_joins_its_card_once_paid_and_settled(store: Store) {
    // GIVEN an order paid before its card is known (the PaymentIntent came first)
    let mut r = on_card("acct_S", "pi_1", 50 * DAY, None);
    put(&store, &r).await;
    let read = |store: Store| async move {
        store
            .list_orders_by_card("acct_S", "visa", CARD, 0, 100 * DAY, 25)
            .await
            .unwrap()
    };
    assert!(read(store.clone()).await.is_empty());
    // WHEN its charge brings the card
    let seen = r.version;
    r.version += 1;
    r.facts.card = on_card("acct_S", "pi_1", 50 * DAY, Some(CARD)).facts.card;
    store.put_order(&r, Some(seen), &[]).await.unwrap();
    // THEN it is on the card
    assert_eq!(ids(&read(store.clone()).await), ["pi_1"]);
    // AND a dispute on it does not take it off (the rule, not the index, excludes it)
    let seen = r.version;
    r.version += 1;
    crate::support::add_dispute(&mut r, "du_1");
    store.put_order(&r, Some(seen), &[]).await.unwrap();
    let listed = read(store.clone()).await;
    assert_eq!(ids(&listed), ["pi_1"]);
    assert!(!listed[0].facts.disputes.is_empty());
}

async fn a_returning_buyer_s_earlier_orders_make_ce3_evidence(store: Store) {
    // GIVEN a disputed order and, on the same card, earlier orders 130, 200 and 300 days before,
    // one 100 days before (too recent), and one 200 days before that was disputed
    let disputed_at = 1_781_524_800; // 2026-06-15T12:00:00Z
    let disputed = on_card("acct_S", "pi_disputed", disputed_at, Some(CARD));
    put(&store, &disputed).await;
    for (id, days) in [
        ("pi_130", 130),
        ("pi_200", 200),
        ("pi_300", 300),
        ("pi_100", 100),
    ] {
        put(
            &store,
            &on_card("acct_S", id, disputed_at - days * DAY, Some(CARD)),
        )
        .await;
    }
    let mut was_disputed = on_card(
        "acct_S",
        "pi_was_disputed",
        disputed_at - 150 * DAY,
        Some(CARD),
    );
    crate::support::add_dispute(&mut was_disputed, "du_old");
    put(&store, &was_disputed).await;
    // WHEN the candidates are read in the rule's window and the evidence built
    let (from, to) = ce3::window(disputed_at);
    let candidates = store
        .list_orders_by_card("acct_S", "visa", CARD, from, to, 25)
        .await
        .unwrap();
    let evidence = ce3::evidence(&disputed, &candidates).expect("two orders qualify");
    // THEN the two newest qualifying orders are its prior transactions
    let charges: Vec<&str> = evidence
        .prior_undisputed_transactions
        .iter()
        .map(|p| p.charge.as_str())
        .collect();
    assert_eq!(charges, ["ch_pi_130", "ch_pi_200"]);
    // AND the window never read the too recent one nor the disputed order itself
    assert!(ids(&candidates)
        .iter()
        .all(|id| *id != "pi_100" && *id != "pi_disputed"));
}

fn counted(
    counts: &std::collections::BTreeMap<Month, rates::MonthCounts>,
    at: i64,
    measure: Measure,
    brand: Option<Brand>,
) -> i64 {
    counts
        .get(&Month::of(at))
        .and_then(|c| c.get(&Counter { measure, brand }))
        .copied()
        .unwrap_or(0)
}

async fn rate_counters_count_each_transition_once(store: Store) {
    let nov = 1_796_083_199; // 2026-11-30T23:59:59Z
    let dec = nov + 1;
    let policy = RetryPolicy::default();
    let sale = |id: &str, created: i64, brand: Option<&str>| {
        let mut f = Facts {
            pi_created: Some(created),
            succeeded_at: Some(created + 2),
            charges: [format!("ch_{id}")].into(),
            ..Facts::default()
        };
        f.card = brand.map(|b| {
            Reg::new(
                source::billing::SUCCEEDED_CHARGE,
                created + 1,
                CardFact {
                    fingerprint: Some(CARD.into()),
                    brand: Some(b.into()),
                },
            )
        });
        f
    };
    // GIVEN a Visa sale on November's last second, folded twice; a Mastercard sale whose brand
    // arrives after the payment; a sale of another seller
    for _ in 0..2 {
        fold_into_order(
            &*store,
            "acct_S",
            "pi_v",
            &sale("pi_v", nov, Some("visa")),
            policy,
        )
        .await
        .unwrap();
    }
    fold_into_order(&*store, "acct_S", "pi_m", &sale("pi_m", dec, None), policy)
        .await
        .unwrap();
    fold_into_order(
        &*store,
        "acct_S",
        "pi_m",
        &sale("pi_m", dec, Some("mastercard")),
        policy,
    )
    .await
    .unwrap();
    fold_into_order(
        &*store,
        "acct_T",
        "pi_t",
        &sale("pi_t", dec, Some("visa")),
        policy,
    )
    .await
    .unwrap();
    // AND on the Visa order, in December, an inquiry that escalates to a chargeback and a
    // fraud warning, each delivered twice
    let dispute = |status: &str, at: i64| Facts {
        disputes: [(
            "du_1".to_owned(),
            DisputeFact {
                state: Reg::new(0, at, status.into()),
                history: Default::default(),
                reason: None,
                amount: None,
                evidence_due_by: None,
                created: Some(dec + 5),
                funds_withdrawn: false,
                funds_reinstated: false,
            },
        )]
        .into(),
        ..Facts::default()
    };
    let warning = Facts {
        fraud_warnings: [(
            "issfr_1".to_owned(),
            FraudWarningFact {
                actionable: Reg::new(0, dec + 3, true),
                fraud_type: None,
                created: Some(dec + 3),
            },
        )]
        .into(),
        ..Facts::default()
    };
    for facts in [
        dispute("warning_needs_response", dec + 5),
        dispute("warning_needs_response", dec + 5),
        warning.clone(),
        dispute("needs_response", dec + 50),
        warning,
        dispute("needs_response", dec + 50),
    ] {
        fold_into_order(&*store, "acct_S", "pi_v", &facts, policy)
            .await
            .unwrap();
    }
    // WHEN the seller's counters are read
    let months = rates::months_read(dec);
    let counts = store.get_rates("acct_S", &months).await.unwrap();
    // THEN each sale counted once in its month, all and per brand
    assert_eq!(counted(&counts, nov, Measure::Sales, None), 1);
    assert_eq!(counted(&counts, nov, Measure::Sales, Some(Brand::Visa)), 1);
    assert_eq!(counted(&counts, dec, Measure::Sales, None), 1);
    assert_eq!(
        counted(&counts, dec, Measure::Sales, Some(Brand::Mastercard)),
        1
    );
    assert_eq!(counted(&counts, dec, Measure::Sales, Some(Brand::Visa)), 0);
    // AND the chargeback once (the inquiry not), the warning once, in December, on Visa
    assert_eq!(counted(&counts, dec, Measure::Disputes, None), 1);
    assert_eq!(
        counted(&counts, dec, Measure::Disputes, Some(Brand::Visa)),
        1
    );
    assert_eq!(
        counted(&counts, dec, Measure::FraudWarnings, Some(Brand::Visa)),
        1
    );
    // AND the rates read from them: Visa's December ratio (1 warning + 1 dispute) over 0 sales
    let r = rates::rates(dec, &counts);
    assert_eq!(r.current.visa.disputes, 1);
    assert_eq!(r.previous.visa.sales, 1);
    assert_eq!(r.current.all.sales, 1);
    // AND the other seller's counters are its own
    let theirs = store.get_rates("acct_T", &months).await.unwrap();
    assert_eq!(counted(&theirs, dec, Measure::Sales, Some(Brand::Visa)), 1);
    assert_eq!(counted(&theirs, nov, Measure::Sales, None), 0);
    // AND a month never counted is absent
    let empty = store.get_rates("acct_S", &[Month::of(0)]).await.unwrap();
    assert!(empty.is_empty());
}
