//! What the order keeps of the buyer for dispute evidence (contract sections 2 and 9): the
//! storefront's `customer_ip` metadata and the charge's `billing_details` name and address,
//! folded as registers with the precedence by source, each case checked in every delivery order
//! and with duplicates; and none of it in the order's JSON.

use serde_json::{json, Value};

use super::fold_cases::{facts_in_every_order, value};
use crate::order::OrderRecord;
use crate::OrderView;

const SELLER: &str = "acct_1Buyer";
const PI: &str = "pi_3Buyer";

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

fn charge(id: &str, kind: &str, created: i64, status: &str, billing: Value) -> Value {
    event(
        &format!("evt_{id}_{kind}"),
        kind,
        created,
        json!({"id": id, "object": "charge", "payment_intent": PI, "amount": 900,
            "currency": "usd", "status": status, "billing_details": billing,
            "metadata": {}}),
    )
}

#[test]
fn given_the_session_and_the_payment_name_different_ips_when_folded_then_the_session_wins() {
    // GIVEN the PaymentIntent's metadata and, later, the Checkout Session's (mirrored, but
    // differing), in IPv6's long form
    let events = [
        pi_succeeded(
            100,
            json!({"product_id": "p", "customer_ip": "198.51.100.7"}),
        ),
        event(
            "evt_cs",
            "checkout.session.completed",
            90,
            json!({"id": "cs_1", "object": "checkout.session", "payment_intent": PI,
                "payment_status": "paid", "metadata": {"customer_ip": " 2001:DB8:0:0:0:0:0:1 "}}),
        ),
    ];
    // WHEN folded in every order, with duplicates
    let facts = facts_in_every_order(&events);
    // THEN the session's address, in its canonical form
    assert_eq!(value(&facts.customer_ip), Some("2001:db8::1"));
}

#[test]
fn given_metadata_ips_that_are_not_one_address_when_folded_then_only_a_valid_one_is_kept() {
    // GIVEN a forwarded-for list and markup from the storefront, and a valid address on the
    // charge's metadata (the lowest source)
    let mut ch = charge("ch_1", "charge.succeeded", 101, "succeeded", json!({}));
    ch["data"]["object"]["metadata"] = json!({"customer_ip": "203.0.113.9"});
    let events = [
        pi_succeeded(100, json!({"customer_ip": "203.0.113.9, 10.0.0.1"})),
        event(
            "evt_cs",
            "checkout.session.completed",
            90,
            json!({"id": "cs_1", "object": "checkout.session", "payment_intent": PI,
                "payment_status": "paid", "metadata": {"customer_ip": "<img src=x>"}}),
        ),
        ch,
    ];
    // WHEN folded in every order
    let facts = facts_in_every_order(&events);
    // THEN the only valid address is kept, and nothing else
    assert_eq!(value(&facts.customer_ip), Some("203.0.113.9"));
    let only_invalid = facts_in_every_order(&events[..2]);
    assert_eq!(only_invalid.customer_ip, None);
}

#[test]
fn given_a_declined_attempt_then_a_paid_charge_when_folded_then_the_paid_charges_billing_wins() {
    // GIVEN a declined card of another holder, then the paid charge, whose address the
    // storefront completed later (charge.updated), and the declined charge updated last of all
    let declined = json!({"name": "Someone Else", "address": {"country": "FR"}});
    let paid = json!({"name": "Jordan  Lee", "address": {"line1": null, "postal_code": "94107",
        "country": "US", "city": null, "state": "CA", "line2": null}});
    let completed = json!({"name": "Jordan Lee", "address": {"line1": "510 Townsend St",
        "line2": "Suite 2", "city": "San Francisco", "state": "CA", "postal_code": "94107",
        "country": "US"}});
    let events = [
        charge(
            "ch_declined",
            "charge.failed",
            100,
            "failed",
            declined.clone(),
        ),
        charge("ch_paid", "charge.succeeded", 110, "succeeded", paid),
        charge("ch_paid", "charge.updated", 120, "succeeded", completed),
        charge("ch_declined", "charge.updated", 130, "failed", declined),
    ];
    // WHEN folded in every order, with duplicates
    let facts = facts_in_every_order(&events);
    // THEN the paid charge's latest name and address, the address as one line
    assert_eq!(value(&facts.customer_name), Some("Jordan Lee"));
    assert_eq!(
        value(&facts.billing_address),
        Some("510 Townsend St, Suite 2, San Francisco, CA 94107, US")
    );
    // and a payment with only the country and postal code gives just those
    let partial = facts_in_every_order(&events[1..2]);
    assert_eq!(value(&partial.billing_address), Some("CA 94107, US"));
    assert_eq!(value(&partial.customer_name), Some("Jordan Lee"));
}

#[test]
fn given_hostile_billing_values_when_folded_then_one_bounded_line_and_the_event_still_reads() {
    // GIVEN a name with line breaks and 10,000 characters, and an address that is a string
    let long = format!("Eve\r\nInjected: line {}", "x".repeat(10_000));
    let events = [charge(
        "ch_1",
        "charge.succeeded",
        100,
        "succeeded",
        json!({"name": long, "address": "not an object"}),
    )];
    // WHEN folded
    let facts = facts_in_every_order(&events);
    // THEN one line of at most 200 characters, no address, and the charge still counts
    let name = value(&facts.customer_name).unwrap();
    assert!(name.starts_with("Eve Injected: line x"), "{name}");
    assert_eq!(name.chars().count(), 200);
    assert!(!name.contains('\n') && !name.contains('\r'));
    assert_eq!(facts.billing_address, None);
    assert!(facts.succeeded_at.is_some());
}

#[test]
fn given_a_huge_billing_address_when_folded_then_one_line_of_at_most_300_characters() {
    // GIVEN every address part 5,000 characters long
    let part = "y".repeat(5_000);
    let events = [charge(
        "ch_1",
        "charge.succeeded",
        100,
        "succeeded",
        json!({"address": {"line1": part, "line2": part, "city": part, "state": part,
            "postal_code": part, "country": part}}),
    )];
    // WHEN folded
    let facts = facts_in_every_order(&events);
    // THEN the order item keeps one bounded line, starting with the first part
    let address = value(&facts.billing_address).unwrap();
    assert_eq!(address.chars().count(), 300);
    assert!(address.starts_with(&"y".repeat(200)));
    assert_eq!(facts.customer_name, None);
}

#[test]
fn given_the_buyers_ip_name_and_address_when_the_order_is_shown_then_none_of_them_appear() {
    // GIVEN an order whose facts hold the buyer's IP, name and address
    let events = [
        pi_succeeded(100, json!({"customer_ip": "203.0.113.9"})),
        charge(
            "ch_1",
            "charge.succeeded",
            101,
            "succeeded",
            json!({"name": "Jordan Lee", "address": {"line1": "510 Townsend St", "country": "US"}}),
        ),
    ];
    let record = OrderRecord {
        facts: facts_in_every_order(&events),
        ..OrderRecord::new(SELLER, PI)
    };
    assert!(record.facts.customer_ip.is_some() && record.facts.billing_address.is_some());
    // WHEN the order is shown as the API shows it (contract section 4)
    let json = serde_json::to_string(&OrderView::of(&record)).unwrap();
    // THEN they are evidence only
    for secret in ["203.0.113.9", "Jordan Lee", "Townsend"] {
        assert!(!json.contains(secret), "{secret} in {json}");
    }
}
