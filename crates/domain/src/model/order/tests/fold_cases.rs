//! The classes of wrong answers the fold must never give (statuses by latest event, money from
//! the PaymentIntent, source ranking, zero-amount orders, failure codes, older API versions,
//! charge updates, any number of refunds), each as GIVEN / WHEN / THEN over realistic event
//! sequences, and each checked in every delivery order with duplicates: the order the API shows
//! must be the same whatever the arrival (the merge stays commutative, associative, idempotent).

use serde_json::{json, Value};

use crate::order::facts::Facts;
use crate::order::from_event::{interpret, Interpretation};
use crate::order::OrderRecord;
use crate::stripe::event::Event;
use crate::OrderView;

const SELLER: &str = "acct_1Fold";

fn event(id: &str, kind: &str, created: i64, object: Value) -> Value {
    json!({"id": id, "object": "event", "type": kind, "created": created, "livemode": true,
        "account": SELLER, "api_version": "2025-03-31.basil", "data": {"object": object}})
}

pub(super) fn facts_of(event: &Value) -> Facts {
    let body = serde_json::to_vec(event).unwrap();
    let parsed = Event::parse(&body).unwrap();
    match interpret(&parsed).unwrap() {
        Interpretation::Fold(folding) => folding.facts,
        Interpretation::Ignore(reason) => panic!("{} ignored: {reason:?}", parsed.id),
    }
}

/// Every permutation of `events` (and each with its first event delivered twice more at the end).
pub(super) fn deliveries(events: &[Value]) -> Vec<Vec<&Value>> {
    fn permute<'a>(rest: Vec<&'a Value>, done: Vec<&'a Value>, out: &mut Vec<Vec<&'a Value>>) {
        if rest.is_empty() {
            out.push(done);
            return;
        }
        for i in 0..rest.len() {
            let mut rest = rest.clone();
            let mut done = done.clone();
            done.push(rest.remove(i));
            permute(rest, done, out);
        }
    }
    let mut out = Vec::new();
    permute(events.iter().collect(), Vec::new(), &mut out);
    let with_duplicates: Vec<Vec<&Value>> = out
        .iter()
        .map(|order| {
            let mut d = order.clone();
            d.push(order[0]);
            d.push(order[0]);
            d
        })
        .collect();
    out.extend(with_duplicates);
    out
}

/// The facts after folding `events` in every order, each also with its first event delivered
/// twice more; asserts they all agree.
pub(super) fn facts_in_every_order(events: &[Value]) -> Facts {
    let mut first: Option<Facts> = None;
    for delivery in deliveries(events) {
        let mut facts = Facts::default();
        for e in delivery {
            facts.merge(&facts_of(e));
        }
        match &first {
            None => first = Some(facts),
            Some(f) => assert_eq!(f, &facts, "delivery order changed the facts"),
        }
    }
    first.expect("at least one delivery order")
}

/// A text register's value.
pub(super) fn value(r: &Option<crate::order::facts::Reg<String>>) -> Option<&str> {
    r.as_ref().map(|r| r.value.as_str())
}

/// The view of the order after folding `events` in every order; asserts they all agree.
fn view_in_every_order(order_id: &str, events: &[Value]) -> Value {
    let mut first: Option<Value> = None;
    for delivery in deliveries(events) {
        let mut facts = Facts::default();
        for e in delivery.iter() {
            facts.merge(&facts_of(e));
        }
        let record = OrderRecord {
            facts,
            ..OrderRecord::new(SELLER, order_id)
        };
        let view = serde_json::to_value(OrderView::of(&record)).unwrap();
        match &first {
            None => first = Some(view),
            Some(f) => assert_eq!(f, &view, "delivery order changed the order"),
        }
    }
    first.unwrap()
}

fn pi(id: &str, amount: i64, currency: &str, extra: Value) -> Value {
    let mut o = json!({"id": id, "object": "payment_intent", "amount": amount,
        "currency": currency, "created": 1_000, "status": "succeeded",
        "metadata": {"product_id": "prod_pi", "product_name": "PI product"},
        "receipt_email": null, "latest_charge": format!("ch_{id}")});
    merge(&mut o, extra);
    o
}

fn merge(target: &mut Value, extra: Value) {
    if let (Value::Object(t), Value::Object(e)) = (target, extra) {
        for (k, v) in e {
            t.insert(k, v);
        }
    }
}

fn refund(id: &str, pi: &str, amount: i64, status: &str) -> Value {
    json!({"id": id, "object": "refund", "amount": amount, "charge": format!("ch_{pi}"),
        "payment_intent": pi, "status": status, "created": 2_000})
}

fn dispute(id: &str, pi: &str, status: &str) -> Value {
    json!({"id": id, "object": "dispute", "amount": 2500, "charge": format!("ch_{pi}"),
        "payment_intent": pi, "status": status, "reason": "fraudulent", "created": 3_000,
        "evidence_details": {"due_by": 9_000}, "balance_transactions": []})
}

// ---- class 1: status by time, not by a fixed ranking ----------------------------------------

#[test]
fn given_an_unknown_dispute_status_then_needs_response_when_folded_then_the_seller_is_asked() {
    // GIVEN a paid order, a dispute in a status Stripe added, then `needs_response` a day later
    let events = [
        event(
            "evt_1",
            "payment_intent.succeeded",
            1_000,
            pi("pi_c1", 2500, "usd", json!({})),
        ),
        event(
            "evt_2",
            "charge.dispute.created",
            3_000,
            dispute("du_1", "pi_c1", "awaiting_network_decision"),
        ),
        event(
            "evt_3",
            "charge.dispute.updated",
            90_000,
            dispute("du_1", "pi_c1", "needs_response"),
        ),
    ];
    // WHEN folded in any order / THEN the latest status shows and asks for a response
    let view = view_in_every_order("pi_c1", &events);
    assert_eq!(view["dispute"]["status"], "needs_response");
    assert!(view["attention"]
        .as_array()
        .unwrap()
        .contains(&json!("dispute_needs_response")));
}

#[test]
fn given_an_inquiry_that_escalates_when_folded_then_it_shows_as_a_chargeback() {
    // GIVEN warning_under_review, then needs_response with funds withdrawn (a later event)
    let mut escalated = dispute("du_2", "pi_c2", "needs_response");
    escalated["balance_transactions"] = json!([{"amount": -2500}]);
    let events = [
        event(
            "evt_1",
            "payment_intent.succeeded",
            1_000,
            pi("pi_c2", 2500, "usd", json!({})),
        ),
        event(
            "evt_2",
            "charge.dispute.updated",
            3_000,
            dispute("du_2", "pi_c2", "warning_under_review"),
        ),
        event("evt_3", "charge.dispute.funds_withdrawn", 50_000, escalated),
    ];
    let view = view_in_every_order("pi_c2", &events);
    // THEN the chargeback shows, not the hidden inquiry
    assert_eq!(view["dispute"]["status"], "needs_response");
    assert_eq!(view["dispute"]["funds_withdrawn"], true);
}

#[test]
fn given_a_refund_moving_from_requires_action_to_pending_when_folded_then_pending_shows() {
    let events = [
        event(
            "evt_1",
            "payment_intent.succeeded",
            1_000,
            pi("pi_c3", 2500, "usd", json!({})),
        ),
        event(
            "evt_2",
            "refund.created",
            2_000,
            refund("re_1", "pi_c3", 2500, "requires_action"),
        ),
        event(
            "evt_3",
            "refund.updated",
            2_600,
            refund("re_1", "pi_c3", 2500, "pending"),
        ),
    ];
    let view = view_in_every_order("pi_c3", &events);
    assert_eq!(view["refunds"][0]["status"], "pending");
    assert_eq!(view["payment_status"], "refunded");
}

#[test]
fn given_a_refund_that_succeeds_then_fails_when_folded_then_the_timeline_shows_its_latest_step_from_its_fact(
) {
    // GIVEN a paid order, then a refund that succeeds and later fails
    let events = [
        event(
            "evt_1",
            "payment_intent.succeeded",
            1_000,
            pi("pi_c9", 2500, "usd", json!({})),
        ),
        event(
            "evt_2",
            "refund.created",
            2_000,
            refund("re_9", "pi_c9", 1000, "succeeded"),
        ),
        event(
            "evt_3",
            "refund.failed",
            9_000,
            refund("re_9", "pi_c9", 1000, "failed"),
        ),
    ];
    // WHEN folded in any order
    let view = view_in_every_order("pi_c9", &events);
    // THEN the timeline holds the refund once, at its latest step and time
    let refund_entries: Vec<&Value> = view["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["kind"]
                .as_str()
                .unwrap_or_default()
                .starts_with("refund_")
        })
        .collect();
    assert_eq!(refund_entries.len(), 1, "{refund_entries:?}");
    assert_eq!(refund_entries[0]["kind"], "refund_failed");
    assert_eq!(refund_entries[0]["detail"], "re_9: 1000");
    assert_eq!(refund_entries[0]["at"], "1970-01-01T02:30:00Z");
    // AND the stored history holds no note of it: its fact is the record (the order item stays small)
    let mut facts = Facts::default();
    for e in &events {
        facts.merge(&facts_of(e));
    }
    assert!(facts.timeline.is_empty(), "{:?}", facts.timeline);
}

#[test]
fn given_a_dispute_through_to_won_when_folded_then_the_timeline_tells_each_event_from_the_dispute()
{
    // GIVEN a paid order, then a dispute opened, updated and won
    let events = [
        event(
            "evt_1",
            "payment_intent.succeeded",
            1_000,
            pi("pi_d9", 2500, "usd", json!({})),
        ),
        event(
            "evt_2",
            "charge.dispute.created",
            2_000,
            dispute("du_9", "pi_d9", "needs_response"),
        ),
        event(
            "evt_3",
            "charge.dispute.updated",
            3_000,
            dispute("du_9", "pi_d9", "under_review"),
        ),
        event(
            "evt_4",
            "charge.dispute.closed",
            4_000,
            dispute("du_9", "pi_d9", "won"),
        ),
    ];
    // WHEN folded in any order
    let view = view_in_every_order("pi_d9", &events);
    // THEN the timeline says each event, in order, with the status it reported
    let said: Vec<(String, String)> = view["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["kind"]
                .as_str()
                .unwrap_or_default()
                .starts_with("dispute_")
        })
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["detail"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        said,
        [
            ("dispute_created", "du_9: needs_response"),
            ("dispute_updated", "du_9: under_review"),
            ("dispute_closed", "du_9: won"),
        ]
        .map(|(k, d)| (k.to_owned(), d.to_owned()))
    );
    // AND the order's own history holds no note of them: the dispute keeps its events
    let mut facts = Facts::default();
    for e in &events {
        facts.merge(&facts_of(e));
    }
    assert!(facts.timeline.is_empty(), "{:?}", facts.timeline);
    assert_eq!(facts.disputes["du_9"].history.len(), 3);
}

#[test]
fn given_an_unknown_refund_status_then_pending_when_folded_then_the_full_refund_counts() {
    // GIVEN a full refund first in a status Stripe added, then pending
    let events = [
        event(
            "evt_1",
            "payment_intent.succeeded",
            1_000,
            pi("pi_c4", 2500, "usd", json!({})),
        ),
        event(
            "evt_2",
            "refund.created",
            2_000,
            refund("re_2", "pi_c4", 2500, "awaiting_bank"),
        ),
        event(
            "evt_3",
            "refund.updated",
            2_001,
            refund("re_2", "pi_c4", 2500, "pending"),
        ),
    ];
    let view = view_in_every_order("pi_c4", &events);
    // THEN it counts: refunded, access revoked
    assert_eq!(view["refunded_amount"], 2500);
    assert_eq!(view["payment_status"], "refunded");
    assert_eq!(view["access_revoked"], true);
}

#[test]
fn given_two_statuses_in_one_second_when_folded_then_the_later_lifecycle_step_wins() {
    // GIVEN `succeeded` and `pending` of one refund in the same second
    let events = [
        event(
            "evt_1",
            "payment_intent.succeeded",
            1_000,
            pi("pi_c5", 2500, "usd", json!({})),
        ),
        event(
            "evt_2",
            "refund.created",
            2_000,
            refund("re_3", "pi_c5", 1000, "pending"),
        ),
        event(
            "evt_3",
            "refund.updated",
            2_000,
            refund("re_3", "pi_c5", 1000, "succeeded"),
        ),
        event(
            "evt_4",
            "charge.dispute.created",
            3_000,
            dispute("du_3", "pi_c5", "under_review"),
        ),
        event(
            "evt_5",
            "charge.dispute.closed",
            3_000,
            dispute("du_3", "pi_c5", "won"),
        ),
    ];
    let view = view_in_every_order("pi_c5", &events);
    // THEN the later step of each lifecycle shows
    assert_eq!(view["refunds"][0]["status"], "succeeded");
    assert_eq!(view["dispute"]["status"], "won");
}

// ---- class 2: amount and currency from the payment ------------------------------------------

#[test]
fn given_a_session_in_the_presentment_currency_when_folded_then_the_payments_amount_shows() {
    // GIVEN a session in EUR 23.00 for a PaymentIntent of USD 25.00, then a USD 24.00 refund
    let session = json!({"id": "cs_live_p1", "object": "checkout.session", "payment_intent": "pi_m1",
        "payment_status": "paid", "amount_total": 2300, "currency": "eur",
        "customer_details": {"email": "a@example.com"}, "metadata": {}});
    let events = [
        event("evt_1", "checkout.session.completed", 1_001, session),
        event(
            "evt_2",
            "payment_intent.succeeded",
            1_000,
            pi("pi_m1", 2500, "usd", json!({})),
        ),
        event(
            "evt_3",
            "refund.created",
            2_000,
            refund("re_m1", "pi_m1", 2400, "succeeded"),
        ),
    ];
    let view = view_in_every_order("pi_m1", &events);
    // THEN USD 25.00, partially refunded, access kept
    assert_eq!(
        (view["amount"].clone(), view["currency"].clone()),
        (json!(2500), json!("usd"))
    );
    assert_eq!(view["payment_status"], "partially_refunded");
    assert_eq!(view["access_revoked"], false);
}

#[test]
fn given_only_a_session_when_folded_then_its_amount_shows_until_the_payment_is_seen() {
    let session = json!({"id": "cs_live_p2", "payment_intent": "pi_m2", "payment_status": "paid",
        "amount_total": 2300, "currency": "eur"});
    let view = view_in_every_order(
        "pi_m2",
        &[event("evt_1", "checkout.session.completed", 5, session)],
    );
    assert_eq!(
        (view["amount"].clone(), view["currency"].clone()),
        (json!(2300), json!("eur"))
    );
}

// ---- class 3: metadata precedence by source ----------------------------------------------------

#[test]
fn given_sources_that_disagree_on_the_product_when_folded_then_the_session_wins_in_any_order() {
    let session = json!({"id": "cs_live_p3", "payment_intent": "pi_m3", "payment_status": "paid",
        "metadata": {"product_id": "prod_cs"}});
    let charge = json!({"id": "ch_pi_m3", "payment_intent": "pi_m3", "status": "succeeded",
        "metadata": {"product_id": "prod_ch"}});
    let events = [
        event("evt_1", "charge.succeeded", 1_000, charge),
        event(
            "evt_2",
            "payment_intent.succeeded",
            1_000,
            pi("pi_m3", 2500, "usd", json!({})),
        ),
        event("evt_3", "checkout.session.completed", 999, session),
    ];
    let view = view_in_every_order("pi_m3", &events);
    // THEN the Checkout Session's product, though its event is the oldest
    assert_eq!(view["product_id"], "prod_cs");
    // AND the name falls back through the sources that have one (the PaymentIntent's)
    assert_eq!(view["product_name"], "PI product");
}

#[test]
fn given_an_email_sent_for_one_product_when_the_session_names_another_then_the_seller_is_told() {
    // GIVEN a paid order whose delivery email (claimed, then sent) linked to the PI's product
    let paid = event(
        "evt_1",
        "payment_intent.succeeded",
        1_000,
        pi(
            "pi_m4",
            2500,
            "usd",
            json!({"receipt_email": "buyer@example.com"}),
        ),
    );
    let mut record = OrderRecord {
        facts: facts_of(&paid),
        ..OrderRecord::new(SELLER, "pi_m4")
    };
    let policy = crate::fulfillment::Policy {
        lease_secs: 60,
        max_attempts: 5,
    };
    let crate::fulfillment::Claim::Claimed(claimed) =
        crate::fulfillment::claim(&record, 1_010, &policy)
    else {
        panic!("a paid order is claimed");
    };
    record.fulfillment = claimed.fulfillment;
    record.fulfillment.state = crate::order::FulfillmentState::Sent;
    assert!(!record.attention().contains(&"product_changed"));
    // WHEN the Checkout Session, which ranks higher, arrives naming another product
    let session = json!({"id": "cs_live_m4", "payment_intent": "pi_m4", "payment_status": "paid",
        "metadata": {"product_id": "prod_cs"}});
    record.facts.merge(&facts_of(&event(
        "evt_2",
        "checkout.session.completed",
        999,
        session,
    )));
    // THEN the order names the session's product and asks the seller to check, the emailed
    // product being kept on the fulfillment record (its link keeps serving it)
    assert_eq!(record.facts.product_id(), Some("prod_cs"));
    assert_eq!(record.fulfillment.product_emailed(), Some("prod_pi"));
    assert!(record.attention().contains(&"product_changed"));
    // AND a resend, which links to the product named now, settles it
    record
        .fulfillment
        .resends
        .push(crate::delivery::resend::ResendRecord {
            key: "k1".into(),
            claimed_at: 1_100,
            lease_until: None,
            sent_at: Some(1_101),
            message_id: Some("m2".into()),
            product_id: Some("prod_cs".into()),
            recipient: None,
        });
    assert!(!record.attention().contains(&"product_changed"));
}

// ---- class 5: a code-less failure never hides a coded one ------------------------------------

#[test]
fn given_a_coded_failure_then_a_codeless_one_when_folded_then_the_code_is_kept() {
    // GIVEN payment_intent.payment_failed (insufficient_funds), then the session's
    // async_payment_failed one second later
    let failed = pi(
        "pi_f1",
        2500,
        "usd",
        json!({"status": "requires_payment_method",
        "last_payment_error": {"code": "card_declined", "decline_code": "insufficient_funds",
        "charge": "ch_f1", "message": "Your card has insufficient funds."}}),
    );
    let session =
        json!({"id": "cs_live_f1", "payment_intent": "pi_f1", "payment_status": "unpaid"});
    let events = [
        event("evt_1", "payment_intent.payment_failed", 1_000, failed),
        event(
            "evt_2",
            "checkout.session.async_payment_failed",
            1_001,
            session,
        ),
    ];
    let view = view_in_every_order("pi_f1", &events);
    // THEN the failure is still the coded one
    assert_eq!(view["payment_status"], "failed");
    assert_eq!(view["failure"]["category"], "insufficient_funds");
    assert_eq!(view["failure"]["code"], "insufficient_funds");
}

#[test]
fn given_only_a_codeless_failure_when_folded_then_card_declined_without_code() {
    let session =
        json!({"id": "cs_live_f2", "payment_intent": "pi_f2", "payment_status": "unpaid"});
    let view = view_in_every_order(
        "pi_f2",
        &[event(
            "evt_1",
            "checkout.session.async_payment_failed",
            5,
            session,
        )],
    );
    assert_eq!(view["failure"]["category"], "card_declined");
    assert_eq!(view["failure"]["code"], Value::Null);
}

// ---- class 6: older API shapes ----------------------------------------------------------------

#[test]
fn given_a_2019_era_payment_intent_when_interpreted_then_its_listed_charges_are_its_own() {
    // GIVEN a PaymentIntent as API versions before 2022-11-15 render it: `charges.data`, no
    // `latest_charge`
    let old = json!({"id": "pi_o1", "object": "payment_intent", "amount": 2500, "currency": "usd",
        "status": "succeeded", "charges": {"object": "list", "has_more": false,
        "data": [{"id": "ch_o1a", "object": "charge"}, {"id": "ch_o1b", "object": "charge"}]}});
    let mut e = event("evt_1", "payment_intent.succeeded", 1_000, old);
    e["api_version"] = json!("2019-12-03");
    // WHEN interpreted / THEN both charges are linked to the order, so a warning naming one finds it
    let facts = facts_of(&e);
    assert!(facts.charges.contains("ch_o1a") && facts.charges.contains("ch_o1b"));
}

// ---- class 7: charge.updated ------------------------------------------------------------------

#[test]
fn given_a_receipt_email_added_to_the_charge_later_when_folded_then_the_order_can_be_fulfilled() {
    // GIVEN a paid PaymentIntent with no email and no product, then `charge.updated` adding both
    let bare = pi("pi_u1", 2500, "usd", json!({"metadata": {}}));
    let updated = json!({"id": "ch_pi_u1", "object": "charge", "payment_intent": "pi_u1",
        "status": "succeeded", "receipt_email": "late@example.com",
        "billing_details": {"email": "billing@example.com"},
        "metadata": {"product_id": "prod_late"}});
    let events = [
        event("evt_1", "payment_intent.succeeded", 1_000, bare),
        event("evt_2", "charge.updated", 1_500, updated),
    ];
    let view = view_in_every_order("pi_u1", &events);
    // THEN the receipt email (before billing_details) and the product reach the order
    assert_eq!(view["customer_email"], "late@example.com");
    assert_eq!(view["product_id"], "prod_late");
    assert!(!view["attention"]
        .as_array()
        .unwrap()
        .contains(&json!("fulfillment_blocked")));
}

// ---- class 4: free orders ---------------------------------------------------------------------

fn free_session(id: &str, mode: &str) -> Value {
    json!({"id": id, "object": "checkout.session", "payment_intent": null, "mode": mode,
        "payment_status": "no_payment_required", "amount_total": 0, "currency": "usd",
        "customer_details": {"email": "fan@example.com"},
        "metadata": {"product_id": "prod_lead_magnet", "product_name": "Free LUT"}})
}

#[test]
fn given_a_session_that_needed_no_payment_when_interpreted_then_it_is_an_order_keyed_by_the_session(
) {
    // GIVEN a completed session for a free product, with no PaymentIntent
    let e = event(
        "evt_1",
        "checkout.session.completed",
        1_000,
        free_session("cs_live_free1", "payment"),
    );
    let body = serde_json::to_vec(&e).unwrap();
    // WHEN interpreted
    let Interpretation::Fold(folding) = interpret(&Event::parse(&body).unwrap()).unwrap() else {
        panic!("a free order was dropped")
    };
    // THEN its order is the session id
    assert_eq!(
        folding.target,
        crate::order::from_event::Target::Order {
            order_id: "cs_live_free1".into()
        }
    );
    // AND it is paid with amount 0, and deliverable like a paid order
    let view = view_in_every_order("cs_live_free1", &[e]);
    assert_eq!(view["payment_status"], "succeeded");
    assert_eq!(
        (view["amount"].clone(), view["currency"].clone()),
        (json!(0), json!("usd"))
    );
    let record = OrderRecord {
        facts: facts_of(&event(
            "evt_1",
            "checkout.session.completed",
            1_000,
            free_session("cs_live_free1", "payment"),
        )),
        ..OrderRecord::new(SELLER, "cs_live_free1")
    };
    assert!(record.awaiting_delivery());
}

#[test]
fn given_a_setup_mode_session_when_interpreted_then_no_order() {
    // GIVEN a session that only saved a card (also `no_payment_required`, no PaymentIntent)
    let e = event(
        "evt_1",
        "checkout.session.completed",
        1_000,
        free_session("cs_live_setup", "setup"),
    );
    let body = serde_json::to_vec(&e).unwrap();
    // THEN it is acknowledged without an order
    assert!(matches!(
        interpret(&Event::parse(&body).unwrap()).unwrap(),
        Interpretation::Ignore(crate::order::from_event::IgnoreReason::NoPaymentReference)
    ));
}

// ---- class 8: every refund counts ------------------------------------------------------------

#[test]
fn given_more_refunds_than_the_old_cap_when_folded_then_every_one_counts_in_any_order() {
    // GIVEN a USD 100.00 payment and 60 partial refunds of USD 1.00, and no `charge.refunded`
    let mut events = vec![event(
        "evt_pi",
        "payment_intent.succeeded",
        1_000,
        pi("pi_r1", 10_000, "usd", json!({})),
    )];
    for i in 0..60 {
        let mut r = refund(&format!("re_{i:03}"), "pi_r1", 100, "succeeded");
        r["created"] = json!(2_000 + i);
        events.push(event(&format!("evt_{i}"), "refund.created", 2_000 + i, r));
    }
    // WHEN folded oldest first, newest first, and interleaved with duplicates
    let fold_all = |order: Vec<&Value>| {
        let mut facts = Facts::default();
        for e in order {
            facts.merge(&facts_of(e));
        }
        facts
    };
    let forward = fold_all(events.iter().collect());
    let backward = fold_all(events.iter().rev().collect());
    let doubled = fold_all(events.iter().chain(events.iter().step_by(3)).collect());
    // THEN all 60 count, whatever the order
    assert_eq!(forward.refunded_amount(), 6_000);
    assert_eq!(forward, backward);
    assert_eq!(forward, doubled);
    assert_eq!(
        forward.payment_status(),
        crate::order::PaymentStatus::PartiallyRefunded
    );
}

#[test]
fn given_a_2019_era_charge_with_embedded_refunds_when_folded_then_each_refund_is_known() {
    // GIVEN a `charge.refunded` as versions before 2022-11-15 render it: refunds auto-expanded,
    // one of them unreadable (no id), and no `amount_refunded` to fall back on
    let charge = json!({"id": "ch_pi_o2", "object": "charge", "payment_intent": "pi_o2",
    "amount": 2500, "currency": "usd", "status": "succeeded",
    "refunds": {"object": "list", "data": [
        {"id": "re_o2a", "object": "refund", "amount": 500, "status": "succeeded", "created": 1_500},
        {"id": "re_o2b", "object": "refund", "amount": 700, "status": "pending", "created": 1_600},
        {"object": "refund", "amount": 9}
    ]}});
    let events = [
        event(
            "evt_1",
            "payment_intent.succeeded",
            1_000,
            pi("pi_o2", 2500, "usd", json!({})),
        ),
        event("evt_2", "charge.refunded", 1_700, charge),
        event(
            "evt_3",
            "refund.updated",
            1_800,
            refund("re_o2b", "pi_o2", 700, "failed"),
        ),
    ];
    // WHEN folded in any order
    let view = view_in_every_order("pi_o2", &events);
    // THEN both readable refunds are listed, the later failure of one gives its amount back
    assert_eq!(view["refunds"].as_array().unwrap().len(), 2);
    assert_eq!(view["refunded_amount"], 500);
    assert_eq!(view["payment_status"], "partially_refunded");
}

// ---- contract 9.1: the dispute as Stripe describes it ---------------------------------------

#[test]
fn given_an_inquiry_escalating_with_stripes_case_fields_when_folded_then_the_newest_fact_shows() {
    // GIVEN an inquiry (case type inquiry, no reason code yet), then the chargeback it became
    // on the same id (Visa 10.4, a late submission, one submission, CE 3.0 eligibility)
    let mut inquiry = dispute("du_91", "pi_91", "warning_needs_response");
    inquiry["payment_method_details"] = json!({"type": "card", "card": {"brand": "visa", "case_type": "inquiry", "network_reason_code": null}});
    inquiry["evidence_details"] =
        json!({"due_by": 9_000, "past_due": false, "submission_count": 0});
    let mut chargeback = dispute("du_91", "pi_91", "needs_response");
    chargeback["payment_method_details"] = json!({"type": "card", "card": {"brand": "visa",
        "case_type": "chargeback", "network_reason_code": "10.4"}});
    chargeback["evidence_details"] = json!({"due_by": 90_000, "past_due": true,
        "submission_count": 1, "enhanced_eligibility": {"visa_compelling_evidence_3": {
            "status": "requires_action", "required_actions": ["missing_prior_undisputed_transactions", 7]}}});
    let events = [
        event(
            "evt_1",
            "payment_intent.succeeded",
            1_000,
            pi("pi_91", 2500, "usd", json!({})),
        ),
        event("evt_2", "charge.dispute.created", 3_000, inquiry),
        event("evt_3", "charge.dispute.updated", 40_000, chargeback),
    ];
    // WHEN folded in every order
    let view = view_in_every_order("pi_91", &events);
    // THEN the chargeback's facts show
    let d = &view["dispute"];
    assert_eq!(d["status"], "needs_response");
    assert_eq!(d["case_type"], "chargeback");
    assert_eq!(d["network_reason_code"], "10.4");
    assert_eq!(d["submitted_late"], true);
    assert_eq!(d["submission_count"], 1);
    assert_eq!(d["evidence_due_by"], "1970-01-02T01:00:00Z");
    assert_eq!(
        d["ce3"],
        json!({"status": "requires_action", "required_actions": ["missing_prior_undisputed_transactions"], "qualifying_orders": []})
    );
    assert_eq!(d["auto_submit_at"], Value::Null);
    assert_eq!(d["evidence"], Value::Null);
}

#[test]
fn given_a_dispute_without_stripes_case_fields_when_folded_then_their_defaults() {
    let events = [event(
        "evt_1",
        "charge.dispute.created",
        3_000,
        dispute("du_92", "pi_92", "needs_response"),
    )];
    let d = view_in_every_order("pi_92", &events)["dispute"].clone();
    assert_eq!(d["case_type"], Value::Null);
    assert_eq!(d["network_reason_code"], Value::Null);
    assert_eq!(d["submitted_late"], false);
    assert_eq!(d["submission_count"], 0);
    // not a Visa fraud dispute that we know of (no brand): no ce3
    assert_eq!(d["ce3"], Value::Null);
}

#[test]
fn given_a_deadline_then_a_newer_due_by_of_zero_when_folded_then_no_deadline_shows() {
    // GIVEN a dispute with a deadline, then a later event where Stripe allows no response
    let mut closed_window = dispute("du_93", "pi_93", "needs_response");
    closed_window["evidence_details"] = json!({"due_by": 0});
    let events = [
        event(
            "evt_1",
            "charge.dispute.created",
            3_000,
            dispute("du_93", "pi_93", "needs_response"),
        ),
        event("evt_2", "charge.dispute.updated", 4_000, closed_window),
    ];
    // THEN in every order the newest fact wins: no deadline
    let d = view_in_every_order("pi_93", &events)["dispute"].clone();
    assert_eq!(d["evidence_due_by"], Value::Null);
}

// ---- the mode the order lives in (links to the seller's Stripe Dashboard) -------------------

#[test]
fn given_test_mode_events_when_folded_then_the_order_says_livemode_false_and_live_ones_true() {
    // GIVEN the same payment and refund, once from test mode and once from live mode
    let events = |live: bool| {
        let mut e = [
            event(
                "evt_m1",
                "payment_intent.succeeded",
                1_000,
                pi("pi_mode", 2500, "usd", json!({})),
            ),
            event(
                "evt_m2",
                "refund.created",
                2_000,
                refund("re_mode", "pi_mode", 500, "succeeded"),
            ),
        ];
        for x in &mut e {
            x["livemode"] = json!(live);
        }
        e
    };
    // WHEN each is folded in every delivery order
    let test = view_in_every_order("pi_mode", &events(false));
    let live = view_in_every_order("pi_mode", &events(true));
    // THEN the order carries the mode of its events
    assert_eq!(test["livemode"], json!(false));
    assert_eq!(live["livemode"], json!(true));
}
