//! Early fraud warnings refunded by the seller's rule (contract section 12) on both stores:
//! the sweep decides once, refunds in full through the real Stripe adapter against the fake
//! Stripe API (which checks `POST /v1/refunds` against Stripe's published parameters), at most
//! once however many sweeps run and however the events arrive, records a failure in
//! `attention` and retries it with the right key. Time is moved by hand, never slept.

use std::sync::Arc;

use leenkies_domain::ingest::{ingest_body, IngestDeps};
use leenkies_domain::order::facts::{EfwDecision, FraudWarningFact, Reg};
use leenkies_domain::order::OrderRecord;
use leenkies_domain::ports::{DownloadEntry, OrderStore, Refunder};
use leenkies_domain::seller_settings::{update_settings, SettingsStore};
use leenkies_domain::sweep::{DueOrders, SweepReport, Sweeper};
use leenkies_domain::OrderView;
use leenkies_integration_tests::fake_stripe::FakeStripe;
use serde_json::json;

use crate::support::sweep_world::{self, SweepStores};
use crate::support::{order, Status};

const SELLER: &str = "acct_1Efw8cKdV3nWpTqQ";
const T0: i64 = 1_778_227_200;
const HOUR: i64 = 3_600;

struct World {
    store: Arc<dyn OrderStore>,
    index: Arc<dyn DueOrders>,
    settings: Arc<dyn SettingsStore>,
    fake: FakeStripe,
    refunder: Arc<dyn Refunder>,
}

impl World {
    fn on(stores: SweepStores, fake: FakeStripe) -> Self {
        Self {
            store: stores.store,
            index: stores.index,
            settings: stores.settings,
            refunder: sweep_world::stripe(&fake),
            fake,
        }
    }

    fn sweeper(&self) -> Sweeper {
        Sweeper {
            store: self.store.clone(),
            index: self.index.clone(),
            settings: self.settings.clone(),
            filer: None,
            refunder: Some(self.refunder.clone()),
        }
    }

    async fn sweep(&self, now: i64) -> SweepReport {
        self.sweeper().run(now).await.unwrap()
    }

    async fn order(&self, id: &str) -> OrderRecord {
        self.store.get_order(SELLER, id).await.unwrap().unwrap()
    }

    fn view(record: &OrderRecord) -> serde_json::Value {
        serde_json::to_value(OrderView::of(record)).unwrap()
    }

    async fn rule(&self, rule: &str) {
        update_settings(
            self.settings.as_ref(),
            SELLER,
            &json!({"efw_auto_refund": rule}),
        )
        .await
        .unwrap();
    }

    /// `POST /v1/refunds` calls that reached the fake (replays included).
    fn refund_calls(&self) -> Vec<leenkies_integration_tests::fake_stripe::SeenRequest> {
        self.fake
            .seen()
            .into_iter()
            .filter(|r| r.path == "/v1/refunds")
            .collect()
    }

    /// A paid order of 1,000 through charge `ch_<id>` (known to the fake), warned by
    /// `issfr_<id>` an hour later.
    async fn warned(&self, id: &str) {
        let mut r = order(
            SELLER,
            id,
            T0,
            Some("jordan.lee@example.com"),
            Status::Succeeded,
        );
        let charge = format!("ch_{id}");
        r.facts.charges.insert(charge.clone());
        r.facts.fraud_warnings.insert(
            format!("issfr_{id}"),
            FraudWarningFact {
                actionable: Reg::new(0, T0 + HOUR, true),
                fraud_type: Some(Reg::new(0, T0 + HOUR, "made_with_stolen_card".into())),
                created: Some(T0 + HOUR),
            },
        );
        self.store.put_order(&r, None, &[]).await.unwrap();
        self.fake.add_charge(SELLER, &charge, 1_000);
    }
}

both_sweep_stores!(
    always_refunds_the_warned_charge_once_as_the_seller_and_says_so,
    off_refunds_nothing_and_a_later_change_does_not_reopen_a_decided_warning,
    not_downloaded_refunds_only_the_order_never_downloaded,
    an_order_already_disputed_or_refunded_is_not_refunded,
    many_sweeps_at_once_make_one_refund_call,
    a_refusal_is_in_attention_and_retried_with_the_next_key,
    no_answer_keeps_the_key_and_is_replayed_after_the_lease,
    a_storm_of_duplicated_and_reordered_events_and_sweeps_makes_one_refund,
    without_a_stripe_key_the_warning_is_decided_and_nothing_refunded,
);

async fn without_a_stripe_key_the_warning_is_decided_and_nothing_refunded(w: World) {
    // GIVEN the rule `always`, a warned order, and a sweep with no Stripe key
    w.rule("always").await;
    w.warned("pi_efw9").await;
    let sweeper = Sweeper {
        refunder: None,
        ..w.sweeper()
    };
    // WHEN it runs
    sweeper.run(T0 + 2 * HOUR).await.unwrap();
    // THEN nothing reaches Stripe; the warning is decided, saying why (so the seller is told)
    assert!(w.fake.seen().is_empty());
    let record = w.order("pi_efw9").await;
    assert_eq!(
        record.facts.warning_actions["issfr_pi_efw9"]
            .decided
            .unwrap()
            .decision,
        EfwDecision::NoStripeKey
    );
    // AND the order left the index: a later sweep reads nothing
    let again = sweeper.run(T0 + 3 * HOUR).await.unwrap();
    assert_eq!(again.orders_read, 0, "{again:?}");
}

async fn always_refunds_the_warned_charge_once_as_the_seller_and_says_so(w: World) {
    // GIVEN a warned, paid order and the rule `always`
    w.rule("always").await;
    w.warned("pi_efw1").await;
    // WHEN the sweep runs
    let report = w.sweep(T0 + 2 * HOUR).await;
    // THEN one refund of the whole charge, as the seller, fraudulent, keyed by the warning
    let refunds = w.fake.refunds();
    assert_eq!(refunds.len(), 1, "{report:?}");
    let r = &refunds[0];
    assert_eq!(
        (r.account.as_str(), r.charge.as_str(), r.amount),
        (SELLER, "ch_pi_efw1", 1_000)
    );
    assert_eq!(r.reason.as_deref(), Some("fraudulent"));
    assert_eq!(
        r.idempotency_key.as_deref(),
        Some("efw-refund:issfr_pi_efw1:0")
    );
    assert_eq!(w.refund_calls()[0].account.as_deref(), Some(SELLER));
    // AND the timeline says it was automatic and why; nothing needs the seller about it
    let view = World::view(&w.order("pi_efw1").await);
    let entry = view["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "efw_refund_requested")
        .expect("timeline entry");
    let detail = entry["detail"].as_str().unwrap();
    assert!(
        detail.contains("automatically") && detail.contains("always"),
        "{detail}"
    );
    assert!(!view["attention"]
        .as_array()
        .unwrap()
        .contains(&json!("efw_refund_failed")));
    // WHEN the sweep runs again, later
    let again = w.sweep(T0 + 3 * HOUR).await;
    // THEN nothing more: the order left the index (one index read, no order read)
    assert_eq!(w.refund_calls().len(), 1);
    assert_eq!((again.pages, again.orders_read), (1, 0), "{again:?}");
}

async fn off_refunds_nothing_and_a_later_change_does_not_reopen_a_decided_warning(w: World) {
    // GIVEN a warned order and the default rule (`off`)
    w.warned("pi_efw2").await;
    // WHEN the sweep runs
    w.sweep(T0 + 2 * HOUR).await;
    // THEN no call; the decision is recorded with its reason, in the timeline
    assert!(w.refund_calls().is_empty());
    let record = w.order("pi_efw2").await;
    let decided = record.facts.warning_actions["issfr_pi_efw2"]
        .decided
        .unwrap();
    assert_eq!(decided.decision, EfwDecision::SettingOff);
    let view = World::view(&record);
    assert!(view["timeline"].as_array().unwrap().iter().any(|e| {
        e["kind"] == "early_fraud_warning_decided" && e["detail"].as_str().unwrap().contains("off")
    }));
    // the warning still shows as today
    assert_eq!(view["early_fraud_warning"], json!(true));
    // WHEN the seller turns the rule on afterwards and the sweep runs
    w.rule("always").await;
    let report = w.sweep(T0 + 3 * HOUR).await;
    // THEN the decided warning stays decided: no refund (the rule applies to new warnings)
    assert!(w.refund_calls().is_empty(), "{report:?}");
    assert_eq!(report.orders_read, 0);
}

async fn not_downloaded_refunds_only_the_order_never_downloaded(w: World) {
    // GIVEN the rule `not_downloaded`, two warned orders, one downloaded
    w.rule("not_downloaded").await;
    w.warned("pi_efw3a").await;
    w.warned("pi_efw3b").await;
    let entry = DownloadEntry {
        at: T0 + 60,
        ip: Some("203.0.113.9".into()),
        user_agent: Some("Mozilla/5.0".into()),
    };
    w.store
        .record_download(SELLER, "pi_efw3b", &entry)
        .await
        .unwrap();
    // WHEN the sweep runs
    w.sweep(T0 + 2 * HOUR).await;
    // THEN only the order never downloaded is refunded
    let charges: Vec<String> = w.fake.refunds().into_iter().map(|r| r.charge).collect();
    assert_eq!(charges, vec!["ch_pi_efw3a".to_owned()]);
    let b = w.order("pi_efw3b").await;
    assert_eq!(
        b.facts.warning_actions["issfr_pi_efw3b"]
            .decided
            .unwrap()
            .decision,
        EfwDecision::Downloaded
    );
}

async fn an_order_already_disputed_or_refunded_is_not_refunded(w: World) {
    // GIVEN the rule `always`, one warned order already disputed, one already refunded in full
    w.rule("always").await;
    w.warned("pi_efw4a").await;
    w.warned("pi_efw4b").await;
    let mut a = w.order("pi_efw4a").await;
    crate::support::add_dispute(&mut a, "du_efw4a");
    let v = a.version;
    a.version += 1;
    w.store.put_order(&a, Some(v), &[]).await.unwrap();
    let mut b = w.order("pi_efw4b").await;
    b.facts.refunds.insert(
        "re_seller".into(),
        leenkies_domain::order::facts::RefundFact {
            state: Reg::new(
                leenkies_domain::order::facts::refund_rank("succeeded"),
                T0 + 2 * HOUR,
                "succeeded".into(),
            ),
            amount: 1_000,
            created: Some(T0 + 2 * HOUR),
            failure_reason: None,
        },
    );
    let v = b.version;
    b.version += 1;
    w.store.put_order(&b, Some(v), &[]).await.unwrap();
    // WHEN the sweep runs
    w.sweep(T0 + 3 * HOUR).await;
    // THEN no refund; each decision says why
    assert!(w.refund_calls().is_empty());
    let decision =
        |r: &OrderRecord, id: &str| r.facts.warning_actions[id].decided.unwrap().decision;
    assert_eq!(
        decision(&w.order("pi_efw4a").await, "issfr_pi_efw4a"),
        EfwDecision::Disputed
    );
    assert_eq!(
        decision(&w.order("pi_efw4b").await, "issfr_pi_efw4b"),
        EfwDecision::FullyRefunded
    );
}

async fn many_sweeps_at_once_make_one_refund_call(w: World) {
    // GIVEN a warned order under `always`
    w.rule("always").await;
    w.warned("pi_efw5").await;
    // WHEN eight sweeps run at once
    let at = T0 + 2 * HOUR;
    tokio::join!(
        w.sweep(at),
        w.sweep(at),
        w.sweep(at),
        w.sweep(at),
        w.sweep(at),
        w.sweep(at),
        w.sweep(at),
        w.sweep(at)
    );
    // THEN exactly one refund call reached Stripe, and one refund exists
    assert_eq!(w.refund_calls().len(), 1);
    assert_eq!(w.fake.refunds().len(), 1);
}

async fn a_refusal_is_in_attention_and_retried_with_the_next_key(w: World) {
    // GIVEN a warned order under `always` whose charge Stripe does not know on this account
    w.rule("always").await;
    let mut r = order(
        SELLER,
        "pi_efw6",
        T0,
        Some("a@example.com"),
        Status::Succeeded,
    );
    r.facts.charges.insert("ch_unknown".into());
    r.facts.fraud_warnings.insert(
        "issfr_6".into(),
        FraudWarningFact {
            actionable: Reg::new(0, T0 + HOUR, true),
            fraud_type: None,
            created: Some(T0 + HOUR),
        },
    );
    w.store.put_order(&r, None, &[]).await.unwrap();
    // WHEN the sweep runs
    w.sweep(T0 + 2 * HOUR).await;
    // THEN Stripe refused (404), nothing refunded, and the order says so in attention
    let calls = w.refund_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].status, 404);
    let view = World::view(&w.order("pi_efw6").await);
    assert!(
        view["attention"]
            .as_array()
            .unwrap()
            .contains(&json!("efw_refund_failed")),
        "{view}"
    );
    // WHEN the charge exists after all and the next sweep runs
    w.fake.add_charge(SELLER, "ch_unknown", 1_000);
    w.sweep(T0 + 3 * HOUR).await;
    // THEN it is refunded with the next attempt's key, and attention clears
    let refunds = w.fake.refunds();
    assert_eq!(refunds.len(), 1);
    assert_eq!(
        refunds[0].idempotency_key.as_deref(),
        Some("efw-refund:issfr_6:1")
    );
    let view = World::view(&w.order("pi_efw6").await);
    assert!(!view["attention"]
        .as_array()
        .unwrap()
        .contains(&json!("efw_refund_failed")));
}

async fn no_answer_keeps_the_key_and_is_replayed_after_the_lease(w: World) {
    // GIVEN a warned order under `always`, and Stripe rate limiting every try of one sweep
    w.rule("always").await;
    w.warned("pi_efw7").await;
    w.fake.fail_next(429, 2);
    // WHEN the sweep runs
    let now = T0 + 2 * HOUR;
    w.sweep(now).await;
    // THEN nothing refunded; the failure is shown
    assert!(w.fake.refunds().is_empty());
    let record = w.order("pi_efw7").await;
    assert!(record.facts.warning_actions["issfr_pi_efw7"]
        .last_error()
        .is_some());
    // WHEN a sweep runs inside the claim's lease
    w.sweep(now + 60).await;
    // THEN it leaves the claim alone
    assert_eq!(w.refund_calls().len(), 2);
    // WHEN a sweep runs after the lease
    w.sweep(now + leenkies_domain::sweep::efw::REFUND_LEASE_SECS + 1)
        .await;
    // THEN the same attempt's key is sent and the refund made
    let refunds = w.fake.refunds();
    assert_eq!(refunds.len(), 1);
    assert_eq!(
        refunds[0].idempotency_key.as_deref(),
        Some("efw-refund:issfr_pi_efw7:0")
    );
}

/// One event body of the seller's account, as Stripe sends it.
fn event(id: &str, kind: &str, created: i64, object: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": id, "object": "event", "account": SELLER, "api_version": "2025-03-31.basil",
        "created": created, "livemode": false, "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
        "type": kind, "data": {"object": object}
    }))
    .unwrap()
}

async fn a_storm_of_duplicated_and_reordered_events_and_sweeps_makes_one_refund(w: World) {
    // GIVEN the rule `always` and the events of a paid, then warned, order
    w.rule("always").await;
    w.fake.add_charge(SELLER, "ch_efw8", 2_500);
    let pi = json!({
        "id": "pi_efw8", "object": "payment_intent", "amount": 2500, "amount_received": 2500,
        "currency": "usd", "status": "succeeded", "created": T0, "latest_charge": "ch_efw8",
        "livemode": false, "metadata": {"product_id": "prod_lut_pack"},
        "receipt_email": "jordan.lee@example.com"
    });
    let warning = |actionable: bool| {
        json!({
            "id": "issfr_efw8", "object": "radar.early_fraud_warning", "actionable": actionable,
            "charge": "ch_efw8", "payment_intent": "pi_efw8", "created": T0 + HOUR,
            "fraud_type": "made_with_stolen_card", "livemode": false
        })
    };
    let bodies = [
        event("evt_efw8_pi", "payment_intent.succeeded", T0 + 1, pi),
        event(
            "evt_efw8_w1",
            "radar.early_fraud_warning.created",
            T0 + HOUR,
            warning(true),
        ),
        event(
            "evt_efw8_w2",
            "radar.early_fraud_warning.updated",
            T0 + HOUR + 5,
            warning(true),
        ),
    ];
    let deps = IngestDeps::new(w.store.clone(), Default::default());
    // WHEN each arrives four times, warning first, with sweeps running between and alongside
    let mut order_of_delivery: Vec<&Vec<u8>> = Vec::new();
    for _ in 0..4 {
        order_of_delivery.extend([&bodies[2], &bodies[1], &bodies[0]]);
    }
    for (i, body) in order_of_delivery.into_iter().enumerate() {
        let outcome = ingest_body(body, &deps).await;
        assert!(outcome.is_ok(), "{outcome:?}");
        if i % 3 == 2 {
            w.sweep(T0 + 2 * HOUR + i as i64).await;
        }
    }
    let at = T0 + 3 * HOUR;
    tokio::join!(w.sweep(at), w.sweep(at), w.sweep(at), w.sweep(at));
    w.sweep(T0 + 5 * HOUR).await;
    // THEN exactly one refund call, of the whole charge
    let calls = w.refund_calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let refunds = w.fake.refunds();
    assert_eq!((refunds.len(), refunds[0].amount), (1, 2_500));
}
