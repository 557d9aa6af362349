//! What the order keeps for Visa Compelling Evidence 3.0 and the dispute rates (contract sections
//! 2, 9.5 and 12): the storefront's `customer_account_id` and `device_fingerprint` metadata
//! (validated, by source precedence), the paying card's fingerprint and brand, and Stripe's CE 3.0
//! eligibility of each dispute; each case checked in every delivery order with duplicates, and
//! none of the buyer's identifiers in the order's JSON.

use serde_json::{json, Value};

use super::fold_cases::{facts_in_every_order, value};
use crate::order::facts::{CardFact, Ce3Fact};
use crate::order::OrderRecord;
use crate::OrderView;

const SELLER: &str = "acct_1Ce3";
const PI: &str = "pi_3Ce3";
const DEVICE: &str = "fp_3b8d0c1e9a7f4d2b6c5e";

fn event(id: &str, kind: &str, created: i64, object: Value) -> Value {
    json!({"id": id, "object": "event", "type": kind, "created": created, "livemode": true,
        "account": SELLER, "api_version": "2025-03-31.basil", "data": {"object": object}})
}

fn pi_succeeded(created: i64, metadata: Value) -> Value {
    event(
        "evt_pi",
        "payment_intent.succeeded",
        created,
        json!({"id": PI, "object": "payment_intent", "amount": 900, "currency": "usd",
            "status": "succeeded", "created": created, "metadata": metadata}),
    )
}

fn checkout(created: i64, metadata: Value) -> Value {
    event(
        "evt_cs",
        "checkout.session.completed",
        created,
        json!({"id": "cs_1", "object": "checkout.session", "payment_intent": PI,
            "payment_status": "paid", "metadata": metadata}),
    )
}

fn charge(id: &str, kind: &str, created: i64, status: &str, card: Value, metadata: Value) -> Value {
    event(
        &format!("evt_{id}_{kind}"),
        kind,
        created,
        json!({"id": id, "object": "charge", "payment_intent": PI, "amount": 900,
            "currency": "usd", "status": status, "metadata": metadata,
            "payment_method_details": {"type": "card", "card": card}}),
    )
}

#[test]
fn given_the_session_payment_and_charge_name_different_ids_when_folded_then_the_session_wins() {
    // GIVEN the three sources naming different account ids and devices
    let events = [
        charge(
            "ch_1",
            "charge.succeeded",
            99,
            "succeeded",
            json!({}),
            json!({"customer_account_id": "user_charge", "device_fingerprint": "c".repeat(24)}),
        ),
        pi_succeeded(
            100,
            json!({"customer_account_id": "user_pi", "device_fingerprint": "p".repeat(24)}),
        ),
        checkout(
            98,
            json!({"customer_account_id": " user_4821 ", "device_fingerprint": DEVICE}),
        ),
    ];
    // WHEN folded in every order, with duplicates
    let facts = facts_in_every_order(&events);
    // THEN the Checkout Session's values, trimmed (contract section 2's precedence)
    assert_eq!(value(&facts.customer_account_id), Some("user_4821"));
    assert_eq!(value(&facts.device_fingerprint), Some(DEVICE));
    // AND without the session, the PaymentIntent's over the charge's
    let facts = facts_in_every_order(&events[..2]);
    assert_eq!(value(&facts.customer_account_id), Some("user_pi"));
}

#[test]
fn given_invalid_identifiers_when_folded_then_they_are_dropped_and_a_valid_source_stays() {
    // GIVEN a session whose values are invalid (a 19-character device, a 201-character account,
    // a control character) and a PaymentIntent whose values are valid at the bounds
    let events = [
        checkout(
            98,
            json!({"customer_account_id": "a".repeat(201), "device_fingerprint": "d".repeat(19)}),
        ),
        pi_succeeded(
            100,
            json!({"customer_account_id": "a".repeat(200), "device_fingerprint": "d".repeat(20)}),
        ),
    ];
    // WHEN folded
    let facts = facts_in_every_order(&events);
    // THEN the invalid ones are not kept, whatever their source's rank: the valid ones are
    assert_eq!(
        value(&facts.customer_account_id),
        Some("a".repeat(200).as_str())
    );
    assert_eq!(
        value(&facts.device_fingerprint),
        Some("d".repeat(20).as_str())
    );
    // AND values that are only invalid leave nothing (a device of 201, markup with a newline,
    // blank text, a number where a string belongs)
    for metadata in [
        json!({"device_fingerprint": "d".repeat(201), "customer_account_id": "   "}),
        json!({"device_fingerprint": "<img src=x onerror=alert(1)>\n<b>hi</b>", "customer_account_id": "u\u{7}1"}),
        json!({"device_fingerprint": 1.5e20, "customer_account_id": 42}),
    ] {
        let facts = facts_in_every_order(&[pi_succeeded(100, metadata.clone())]);
        assert_eq!(facts.device_fingerprint, None, "{metadata}");
        assert_eq!(facts.customer_account_id, None, "{metadata}");
    }
}

#[test]
fn given_a_declined_card_then_a_paid_one_when_folded_then_the_succeeded_charge_s_card_is_kept() {
    // GIVEN a declined attempt on a Mastercard and the succeeded charge on a Visa
    let events = [
        charge(
            "ch_declined",
            "charge.failed",
            120,
            "failed",
            json!({"brand": "mastercard", "fingerprint": "Mc0declined00000"}),
            json!({}),
        ),
        charge(
            "ch_paid",
            "charge.succeeded",
            110,
            "succeeded",
            json!({"brand": "Visa", "fingerprint": "Xt5EWLLDS7FJjR1c", "last4": "4242"}),
            json!({}),
        ),
        pi_succeeded(100, json!({})),
    ];
    // WHEN folded in every order, with duplicates
    let facts = facts_in_every_order(&events);
    // THEN the paid charge's card, its brand in lower case, whatever arrived last
    assert_eq!(
        facts.card.clone().map(|c| c.value),
        Some(CardFact {
            fingerprint: Some("Xt5EWLLDS7FJjR1c".into()),
            brand: Some("visa".into()),
        })
    );
    // AND the paid charge is the one no failed attempt names
    assert_eq!(facts.paid_charge(), Some("ch_paid"));
    // AND an order with only the declined attempt keeps that card (the best known so far)
    let facts = facts_in_every_order(&events[..1]);
    assert_eq!(
        facts.card.unwrap().value.fingerprint.as_deref(),
        Some("Mc0declined00000")
    );
    // AND a charge of another payment method, or a card of an unreadable shape, adds none
    for card in [json!(null), json!("card_1"), json!({"fingerprint": "x y"})] {
        let facts = facts_in_every_order(&[charge(
            "ch_other",
            "charge.succeeded",
            110,
            "succeeded",
            card.clone(),
            json!({}),
        )]);
        assert_eq!(facts.card, None, "{card}");
    }
}

#[test]
fn given_stripe_s_ce3_eligibility_on_dispute_events_when_folded_then_the_newest_statement_wins() {
    let dispute = |id: &str, kind: &str, created: i64, eligibility: Value| {
        event(
            id,
            kind,
            created,
            json!({"id": "du_1", "object": "dispute", "payment_intent": PI, "charge": "ch_1",
                "amount": 900, "status": "needs_response", "reason": "fraudulent", "created": 200,
                "evidence_details": {"due_by": 999_999, "enhanced_eligibility": eligibility}}),
        )
    };
    // GIVEN the dispute created needing prior transactions, then updated as qualified, and an
    // event that says nothing of CE 3.0
    let events = [
        dispute(
            "evt_c",
            "charge.dispute.created",
            200,
            json!({"visa_compelling_evidence_3": {"status": "requires_action",
                "required_actions": ["missing_prior_undisputed_transactions", 7]}}),
        ),
        dispute(
            "evt_u",
            "charge.dispute.updated",
            260,
            json!({"visa_compelling_evidence_3": {"status": "qualified", "required_actions": []}}),
        ),
        dispute("evt_w", "charge.dispute.funds_withdrawn", 300, json!(null)),
    ];
    // WHEN folded in every order, with duplicates
    let facts = facts_in_every_order(&events);
    // THEN the newest statement
    assert_eq!(
        facts.disputes["du_1"].ce3.as_ref().map(|r| r.value.clone()),
        Some(Ce3Fact {
            status: Some("qualified".into()),
            required_actions: vec![],
        })
    );
    // AND the first alone keeps the actions it names (an unreadable item dropped)
    let facts = facts_in_every_order(&events[..1]);
    assert_eq!(
        facts.disputes["du_1"]
            .ce3
            .as_ref()
            .unwrap()
            .value
            .required_actions,
        ["missing_prior_undisputed_transactions"]
    );
}

#[test]
fn given_the_buyer_s_identifiers_and_card_when_the_order_is_shown_then_none_of_them_appear() {
    // GIVEN an order with an account id, a device and a card fingerprint
    let events = [
        pi_succeeded(
            100,
            json!({"customer_account_id": "user_4821", "device_fingerprint": DEVICE}),
        ),
        charge(
            "ch_1",
            "charge.succeeded",
            101,
            "succeeded",
            json!({"brand": "visa", "fingerprint": "Xt5EWLLDS7FJjR1c"}),
            json!({}),
        ),
    ];
    let record = OrderRecord {
        facts: facts_in_every_order(&events),
        ..OrderRecord::new(SELLER, PI)
    };
    // WHEN shown as the API shows it
    let json = serde_json::to_string(&OrderView::of(&record)).unwrap();
    // THEN they are evidence only
    for secret in ["user_4821", DEVICE, "Xt5EWLLDS7FJjR1c"] {
        assert!(!json.contains(secret), "{secret} in {json}");
    }
}
