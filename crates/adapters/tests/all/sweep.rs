//! The sweep (contract section 9.3) on both stores, filing through the real Stripe adapter
//! against the fake Stripe API, with time moved by hand (never slept): drafted at once,
//! submitted at the deadline minus the seller's lead time under their rule, never after the
//! deadline, never a compliance case, nothing without a Stripe key, at most once under two
//! sweeps, a seller's click, or a crash between Stripe's answer and the record. Also the
//! measured numbers: Stripe calls per dispute and per idle sweep, store reads per sweep.

use std::sync::Arc;

use leenkies_domain::evidence::filing::{file_evidence, Actor, DisputeFiler, EvidenceRequest};
use leenkies_domain::order::facts::{Reg, Submitter};
use leenkies_domain::order::{FulfillmentState, OrderRecord};
use leenkies_domain::ports::{DownloadEntry, OrderStore};
use leenkies_domain::seller_settings::{update_settings, SettingsStore};
use leenkies_domain::settings::SellerSettings;
use leenkies_domain::sweep::{DueOrders, SweepReport, Sweeper};
use leenkies_domain::OrderView;
use leenkies_integration_tests::fake_stripe::FakeStripe;
use serde_json::json;

use crate::support::sweep_world::{self, SweepStores};
use crate::support::{add_dispute, order, Status};

const SELLER: &str = "acct_1Sweep8cKdV3nWpT";
const T0: i64 = 1_778_227_200;
const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;
/// The disputes' deadline: ten days after the order.
const DUE: i64 = T0 + 10 * DAY;

struct World {
    store: Arc<dyn OrderStore>,
    index: Arc<dyn DueOrders>,
    settings: Arc<dyn SettingsStore>,
    fake: FakeStripe,
    filer: Arc<dyn DisputeFiler>,
}

impl World {
    fn on(stores: SweepStores, fake: FakeStripe) -> Self {
        Self {
            store: stores.store,
            index: stores.index,
            settings: stores.settings,
            filer: sweep_world::stripe(&fake),
            fake,
        }
    }

    fn sweeper(&self) -> Sweeper {
        Sweeper {
            store: self.store.clone(),
            index: self.index.clone(),
            settings: self.settings.clone(),
            filer: Some(self.filer.clone()),
            refunder: None,
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

    /// Stripe calls so far (uploads and dispute updates, replays included).
    fn calls(&self) -> usize {
        self.fake.seen().len()
    }

    /// A paid order whose email went out at T0 + 5, with an open dispute due at [`DUE`], and
    /// (when `downloaded`) a download after the email.
    async fn disputed(&self, id: &str, downloaded: bool, tweak: impl FnOnce(&mut OrderRecord)) {
        let mut r = order(
            SELLER,
            id,
            T0,
            Some("jordan.lee@example.com"),
            Status::Succeeded,
        );
        r.facts.product_name = Some(Reg::new(0, T0, "Cinematic LUT Pack".into()));
        r.fulfillment.state = FulfillmentState::Sent;
        r.fulfillment.sent_at = Some(T0 + 5);
        r.fulfillment.message_id = Some("msg-1@email.amazonses.com".into());
        let dispute_id = format!("du_{id}");
        add_dispute(&mut r, &dispute_id);
        let d = r.facts.disputes.get_mut(&dispute_id).unwrap();
        d.evidence_due_by = Some(Reg::new(0, T0 + 5, DUE));
        tweak(&mut r);
        self.store.put_order(&r, None, &[]).await.unwrap();
        self.fake
            .add_dispute(SELLER, &dispute_id, r.facts.disputes[&dispute_id].status());
        if downloaded {
            let entry = DownloadEntry {
                at: T0 + 100,
                ip: Some("203.0.113.9".into()),
                user_agent: Some("Mozilla/5.0".into()),
            };
            self.store
                .record_download(SELLER, id, &entry)
                .await
                .unwrap();
        }
    }
}

both_sweep_stores!(
    a_dispute_is_drafted_at_once_then_submitted_at_its_lead_time_and_leaves_the_index,
    without_a_download_strong_evidence_plans_nothing_and_always_plans_anyway,
    the_setting_off_plans_nothing_and_a_change_is_followed_by_the_next_sweep,
    a_compliance_case_is_never_drafted_nor_submitted,
    a_dispute_past_its_deadline_is_never_submitted_and_leaves_the_index,
    two_sweeps_at_once_submit_once,
    a_sweep_racing_the_sellers_click_submits_once,
    a_crash_between_stripes_answer_and_the_record_is_replayed_not_repeated,
    a_stripe_failure_is_recorded_and_retried_by_the_next_sweep,
    a_dispute_arriving_inside_the_lead_time_is_drafted_and_submitted_by_one_sweep,
    no_stripe_key_means_no_reads_and_no_calls,
    an_accepted_dispute_is_never_submitted,
    a_returning_buyer_s_visa_fraud_dispute_is_strong_evidence_and_filed_with_ce3,
);

async fn a_dispute_is_drafted_at_once_then_submitted_at_its_lead_time_and_leaves_the_index(
    w: World,
) {
    // GIVEN a disputed order the customer downloaded after the email (strong evidence)
    w.disputed("pi_s1", true, |_| {}).await;
    // WHEN the sweep runs a day later
    let report = w.sweep(T0 + DAY).await;
    // THEN the evidence is saved to Stripe as a draft, and the submission planned 48 h before
    // the deadline (the default), shown on the dispute
    let stripe = w.fake.dispute(SELLER, "du_pi_s1").unwrap();
    assert_eq!((stripe.updates, stripe.submission_count), (1, 0));
    assert_eq!(report.done.get("disputes.drafted"), Some(&1));
    let draft_calls = w.calls();
    let view = World::view(&w.order("pi_s1").await);
    let d = &view["disputes"][0];
    assert_eq!(
        d["auto_submit_at"],
        leenkies_domain::clock::rfc3339(DUE - 48 * HOUR)
    );
    assert!(d["evidence"]["saved_at"].is_string());
    assert_eq!(d["evidence"]["submitted_at"], serde_json::Value::Null);
    // WHEN sweeps run before the planned time (and before the look-ahead window)
    w.sweep(T0 + 2 * DAY).await;
    w.sweep(DUE - 48 * HOUR - 60).await;
    // THEN Stripe is not called
    assert_eq!(w.calls(), draft_calls, "an idle sweep makes no Stripe call");
    // WHEN the sweep runs at the planned time
    let report = w.sweep(DUE - 48 * HOUR).await;
    // THEN submitted once, by the backend, as the timeline says
    assert_eq!(report.done.get("disputes.submitted"), Some(&1));
    let stripe = w.fake.dispute(SELLER, "du_pi_s1").unwrap();
    assert_eq!(
        (stripe.status.as_str(), stripe.submission_count),
        ("under_review", 1)
    );
    let record = w.order("pi_s1").await;
    let view = World::view(&record);
    assert_eq!(view["disputes"][0]["evidence"]["submitted_by"], "auto");
    assert!(record
        .facts
        .timeline
        .iter()
        .any(|t| t.kind == "evidence_submitted" && t.detail.contains("automatically")));
    // Measured: Stripe calls per dispute in the common case (draft, then one submission)
    let per_dispute = w.calls();
    eprintln!("MEASURE stripe calls per dispute (draft + submission): {per_dispute} (draft {draft_calls})");
    assert!(per_dispute <= 6, "{per_dispute}");
    // AND the order left the index: the next sweep reads nothing and calls nothing
    let report = w.sweep(DUE - HOUR).await;
    assert_eq!((report.orders_read, report.settings_read), (0, 0));
    assert_eq!(w.calls(), per_dispute);
    eprintln!(
        "MEASURE idle sweep: {} index page(s), 0 orders, 0 settings, 0 Stripe calls",
        report.pages
    );
}

async fn without_a_download_strong_evidence_plans_nothing_and_always_plans_anyway(w: World) {
    // GIVEN a disputed order never downloaded
    w.disputed("pi_s2", false, |_| {}).await;
    // WHEN swept under the default rule (strong_evidence), even after the lead time
    w.sweep(DUE - 40 * HOUR).await;
    // THEN drafted, not submitted, and the page is told why
    let view = World::view(&w.order("pi_s2").await);
    assert_eq!(
        view["disputes"][0]["auto_submit_at"],
        serde_json::Value::Null
    );
    assert_eq!(
        view["disputes"][0]["auto_submit_skipped"],
        "no_strong_evidence"
    );
    assert_eq!(
        w.fake.dispute(SELLER, "du_pi_s2").unwrap().submission_count,
        0
    );
    // WHEN the seller sets `always` with a 24 h lead; the next sweep (past it) files
    update_settings(
        w.settings.as_ref(),
        SELLER,
        &json!({"dispute_auto_submit": "always", "dispute_auto_submit_hours": 24}),
    )
    .await
    .unwrap();
    w.sweep(DUE - 30 * HOUR).await;
    let view = World::view(&w.order("pi_s2").await);
    assert_eq!(
        view["disputes"][0]["auto_submit_at"],
        leenkies_domain::clock::rfc3339(DUE - 24 * HOUR)
    );
    assert_eq!(
        w.fake.dispute(SELLER, "du_pi_s2").unwrap().submission_count,
        0
    );
    w.sweep(DUE - 24 * HOUR).await;
    assert_eq!(
        w.fake.dispute(SELLER, "du_pi_s2").unwrap().submission_count,
        1
    );
}

async fn the_setting_off_plans_nothing_and_a_change_is_followed_by_the_next_sweep(w: World) {
    update_settings(
        w.settings.as_ref(),
        SELLER,
        &json!({"dispute_auto_submit": "off"}),
    )
    .await
    .unwrap();
    w.disputed("pi_s3", true, |_| {}).await;
    w.sweep(DUE - 47 * HOUR).await;
    let view = World::view(&w.order("pi_s3").await);
    assert_eq!(view["disputes"][0]["auto_submit_skipped"], "setting_off");
    assert_eq!(
        w.fake.dispute(SELLER, "du_pi_s3").unwrap().submission_count,
        0
    );
    // a draft was still saved (drafting is free and changes nothing at the bank)
    assert_eq!(w.fake.dispute(SELLER, "du_pi_s3").unwrap().updates, 1);
    // WHEN turned back on, the next sweep submits (past the default lead time)
    update_settings(
        w.settings.as_ref(),
        SELLER,
        &json!({"dispute_auto_submit": "strong_evidence"}),
    )
    .await
    .unwrap();
    w.sweep(DUE - 46 * HOUR).await;
    assert_eq!(
        w.fake.dispute(SELLER, "du_pi_s3").unwrap().submission_count,
        1
    );
}

async fn a_compliance_case_is_never_drafted_nor_submitted(w: World) {
    update_settings(
        w.settings.as_ref(),
        SELLER,
        &json!({"dispute_auto_submit": "always"}),
    )
    .await
    .unwrap();
    w.disputed("pi_s4", true, |r| {
        let d = r.facts.disputes.get_mut("du_pi_s4").unwrap();
        d.case_type = Some(Reg::new(0, T0, "compliance".into()));
    })
    .await;
    let report = w.sweep(DUE - HOUR).await;
    assert_eq!(report.orders_read, 0, "not even in the index");
    assert!(w.fake.seen().is_empty());
}

async fn a_dispute_past_its_deadline_is_never_submitted_and_leaves_the_index(w: World) {
    w.disputed("pi_s5", true, |_| {}).await;
    // WHEN the first sweep after the dispute arrived runs after the deadline
    let report = w.sweep(DUE + 60).await;
    // THEN no Stripe call, the plan says past_due, and the order left the index
    assert!(w.fake.seen().is_empty());
    assert_eq!(report.done.get("disputes.past_due"), Some(&1));
    let view = World::view(&w.order("pi_s5").await);
    assert_eq!(view["disputes"][0]["auto_submit_skipped"], "past_due");
    let report = w.sweep(DUE + 120).await;
    assert_eq!(report.orders_read, 0);
}

async fn two_sweeps_at_once_submit_once(w: World) {
    w.disputed("pi_s6", true, |_| {}).await;
    w.sweep(T0 + DAY).await;
    // WHEN two sweeps run at the same time at the planned time
    let (a, b) = tokio::join!(w.sweep(DUE - 47 * HOUR), w.sweep(DUE - 47 * HOUR));
    // THEN one submission at Stripe, recorded once
    let submitted = a.done.get("disputes.submitted").copied().unwrap_or(0)
        + b.done.get("disputes.submitted").copied().unwrap_or(0);
    assert_eq!(submitted, 1, "{a:?} {b:?}");
    assert_eq!(
        w.fake.dispute(SELLER, "du_pi_s6").unwrap().submission_count,
        1
    );
    let record = w.order("pi_s6").await;
    let entries = record
        .facts
        .timeline
        .iter()
        .filter(|t| t.kind == "evidence_submitted")
        .count();
    assert_eq!(entries, 1);
}

async fn a_sweep_racing_the_sellers_click_submits_once(w: World) {
    w.disputed("pi_s7", true, |_| {}).await;
    w.sweep(T0 + DAY).await;
    let now = DUE - 47 * HOUR;
    let click = async {
        file_evidence(
            w.store.as_ref(),
            Some(w.filer.as_ref()),
            &SellerSettings::default(),
            Actor {
                seller_id: SELLER,
                order_id: "pi_s7",
                dispute_id: "du_pi_s7",
                by: Submitter::Seller,
                now,
            },
            &EvidenceRequest {
                submit: true,
                statement: Some("Downloaded twice.".into()),
                fee_acknowledged: false,
            },
        )
        .await
    };
    let (clicked, _) = tokio::join!(click, w.sweep(now));
    assert_eq!(
        w.fake.dispute(SELLER, "du_pi_s7").unwrap().submission_count,
        1
    );
    let view = World::view(&w.order("pi_s7").await);
    let by = view["disputes"][0]["evidence"]["submitted_by"].clone();
    assert_eq!(by, if clicked.is_ok() { "seller" } else { "auto" });
}

/// A port that files through Stripe and then dies before anyone can record the answer.
struct CrashAfterStripe(Arc<dyn DisputeFiler>);

#[async_trait::async_trait]
impl DisputeFiler for CrashAfterStripe {
    async fn file(
        &self,
        request: &leenkies_domain::evidence::filing::FilingRequest,
    ) -> Result<
        std::collections::BTreeMap<leenkies_domain::evidence::EvidenceField, String>,
        leenkies_domain::evidence::filing::FilingFailure,
    > {
        let answer = self.0.file(request).await;
        if request.submit {
            panic!("the process died after Stripe's answer");
        }
        answer
    }

    async fn close(
        &self,
        request: &leenkies_domain::evidence::filing::CloseRequest,
    ) -> Result<(), leenkies_domain::evidence::filing::FilingError> {
        self.0.close(request).await
    }
}

async fn a_crash_between_stripes_answer_and_the_record_is_replayed_not_repeated(w: World) {
    w.disputed("pi_s8", true, |_| {}).await;
    w.sweep(T0 + DAY).await;
    let at = DUE - 47 * HOUR;
    // WHEN a sweep submits and its process dies right after Stripe's answer
    let crashing = Sweeper {
        filer: Some(Arc::new(CrashAfterStripe(w.filer.clone()))),
        refunder: None,
        ..w.sweeper()
    };
    let died = tokio::spawn(async move { crashing.run(at).await }).await;
    assert!(died.is_err(), "the sweep's task panicked");
    assert_eq!(
        w.fake.dispute(SELLER, "du_pi_s8").unwrap().submission_count,
        1
    );
    let record = w.order("pi_s8").await;
    assert_eq!(
        World::view(&record)["disputes"][0]["evidence"]["submitted_at"],
        serde_json::Value::Null
    );
    // AND the next sweep comes within the claim's lease: it leaves it alone
    let report = w.sweep(at + 60).await;
    assert_eq!(report.done.get("disputes.in_flight"), Some(&1));
    // WHEN a sweep comes after the lease
    let before = w.fake.seen().len();
    w.sweep(at + 15 * 60).await;
    // THEN it sent the same request with the same keys: Stripe replayed its first answer (no
    // second submission), and the order records the submission once
    let replayed: Vec<_> = w.fake.seen()[before..].to_vec();
    assert!(replayed.iter().all(|r| r.replayed), "{replayed:?}");
    let stripe = w.fake.dispute(SELLER, "du_pi_s8").unwrap();
    assert_eq!(stripe.submission_count, 1);
    let view = World::view(&w.order("pi_s8").await);
    assert_eq!(view["disputes"][0]["evidence"]["submitted_by"], "auto");
}

async fn a_stripe_failure_is_recorded_and_retried_by_the_next_sweep(w: World) {
    w.disputed("pi_s9", true, |_| {}).await;
    w.sweep(T0 + DAY).await;
    // WHEN Stripe fails the submission's first call (a 5xx is replayed to every retry of its
    // key, as Stripe does)
    w.fake.fail_next(500, 1);
    w.sweep(DUE - 47 * HOUR).await;
    // THEN the error is on the dispute in words, nothing submitted
    let view = World::view(&w.order("pi_s9").await);
    let evidence = &view["disputes"][0]["evidence"];
    assert!(
        evidence["last_error"].as_str().unwrap().contains("Stripe"),
        "{evidence}"
    );
    assert_eq!(evidence["submitted_at"], serde_json::Value::Null);
    // AND the next sweep files it, and the error is gone
    w.sweep(DUE - 46 * HOUR).await;
    let view = World::view(&w.order("pi_s9").await);
    assert_eq!(
        view["disputes"][0]["evidence"]["last_error"],
        serde_json::Value::Null
    );
    assert_eq!(
        w.fake.dispute(SELLER, "du_pi_s9").unwrap().submission_count,
        1
    );
}

async fn a_dispute_arriving_inside_the_lead_time_is_drafted_and_submitted_by_one_sweep(w: World) {
    w.disputed("pi_s10", true, |_| {}).await;
    let report = w.sweep(DUE - 20 * HOUR).await;
    assert_eq!(report.done.get("disputes.drafted"), Some(&1));
    assert_eq!(report.done.get("disputes.submitted"), Some(&1));
    let stripe = w.fake.dispute(SELLER, "du_pi_s10").unwrap();
    assert_eq!((stripe.updates, stripe.submission_count), (2, 1));
}

async fn no_stripe_key_means_no_reads_and_no_calls(w: World) {
    // GIVEN an open dispute, and a sweep with no Stripe key
    w.disputed("pi_s11", true, |_| {}).await;
    let sweeper = Sweeper {
        filer: None,
        refunder: None,
        ..w.sweeper()
    };
    // WHEN it runs
    let report = sweeper.run(DUE - HOUR).await.unwrap();
    // THEN nothing reaches Stripe and the dispute job did nothing (the order is read once, for
    // the warning job, which finds no warning)
    assert!(w.fake.seen().is_empty());
    assert!(
        report.done.keys().all(|k| !k.starts_with("disputes.")),
        "{report:?}"
    );
    assert_eq!(report.orders_read, 1, "{report:?}");
    // AND the order is still due, for when a key is configured
    let due = w.index.due_orders(DUE - HOUR, None, 10).await.unwrap();
    assert_eq!(due.orders.len(), 1);
}

async fn an_accepted_dispute_is_never_submitted(w: World) {
    w.disputed("pi_s12", true, |_| {}).await;
    w.sweep(T0 + DAY).await;
    leenkies_domain::evidence::filing::accept(
        w.store.as_ref(),
        Some(w.filer.as_ref()),
        Actor {
            seller_id: SELLER,
            order_id: "pi_s12",
            dispute_id: "du_pi_s12",
            by: Submitter::Seller,
            now: T0 + 2 * DAY,
        },
    )
    .await
    .unwrap();
    let report = w.sweep(DUE - HOUR).await;
    assert_eq!(report.orders_read, 0);
    let stripe = w.fake.dispute(SELLER, "du_pi_s12").unwrap();
    assert_eq!(
        (stripe.status.as_str(), stripe.submission_count),
        ("lost", 0)
    );
}

/// The buyer's identifiers and Visa card on an order (what CE 3.0 compares).
fn returning_buyer(r: &mut OrderRecord, created: i64) {
    use leenkies_domain::order::facts::CardFact;
    let f = &mut r.facts;
    f.customer_ip = Some(Reg::new(2, created, "203.0.113.9".into()));
    f.device_fingerprint = Some(Reg::new(2, created, "fp_3b8d0c1e9a7f4d2b6c5e".into()));
    f.customer_account_id = Some(Reg::new(2, created, "user_4821".into()));
    f.charges.insert(format!("ch_{}", r.order_id));
    f.card = Some(Reg::new(
        2,
        created,
        CardFact {
            fingerprint: Some("Xt5EWLLDS7FJjR1c".into()),
            brand: Some("visa".into()),
        },
    ));
}

async fn a_returning_buyer_s_visa_fraud_dispute_is_strong_evidence_and_filed_with_ce3(w: World) {
    // GIVEN two earlier paid orders of the same buyer on the same Visa card, 200 and 150 days
    // before a fraud-disputed order that was never downloaded
    for (id, days) in [("pi_prior_200", 200), ("pi_prior_150", 150)] {
        let created = T0 - days * DAY;
        let mut r = order(
            SELLER,
            id,
            created,
            Some("jordan.lee@example.com"),
            Status::Succeeded,
        );
        returning_buyer(&mut r, created);
        w.store.put_order(&r, None, &[]).await.unwrap();
    }
    w.disputed("pi_ce3", false, |r| {
        returning_buyer(r, T0);
        // Stripe's dispute names the card's brand too.
        let d = r.facts.disputes.get_mut("du_pi_ce3").unwrap();
        d.card_brand = Some(Reg::new(0, T0 + 5, "visa".into()));
    })
    .await;
    // WHEN swept under the default rule (strong_evidence) past the lead time
    w.sweep(DUE - 40 * HOUR).await;
    // THEN CE 3.0 counts as strong evidence: the order shows its qualifying orders, and the
    // evidence was submitted once with the two prior transactions by their charges
    let view = serde_json::to_value(
        leenkies_domain::listing::order_view(w.store.as_ref(), &w.order("pi_ce3").await)
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        view["disputes"][0]["ce3"]["qualifying_orders"],
        json!(["pi_prior_150", "pi_prior_200"])
    );
    assert_eq!(
        view["disputes"][0]["auto_submit_skipped"],
        serde_json::Value::Null
    );
    let filed = w.fake.dispute(SELLER, "du_pi_ce3").unwrap();
    assert_eq!(filed.submission_count, 1);
    let prior = |i: usize| {
        filed
            .evidence
            .get(&format!(
                "enhanced_evidence[visa_compelling_evidence_3][prior_undisputed_transactions][{i}][charge]"
            ))
            .cloned()
    };
    assert_eq!(
        (prior(0), prior(1)),
        (
            Some("ch_pi_prior_150".into()),
            Some("ch_pi_prior_200".into())
        )
    );
}
