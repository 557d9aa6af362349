//! `leenkies-local --demo` (contract section 6): a realistic sample store, so that a newcomer sees
//! the product at once. One seller, `acct_demo` ("Lumen Presets"), about sixty orders over seven
//! weeks in six currencies: paid, failed for each of the five reasons, fully and partly refunded,
//! a refund that failed, an open dispute, a won and a lost one, an early fraud warning, a free
//! order, and a delivery email that bounced.
//!
//! Everything goes in the way real data does: each Stripe event is signed with the runner's own
//! webhook secret and posted to its `POST /webhooks/stripe`, and the bounce is an SES event posted
//! to `POST /local/ses-events` once the delivery email is out. Nothing is written to the store
//! directly, so the sample exercises the same code as production. The events are made here, from
//! a fixed plan (no randomness: every run shows the same store, dated relative to now).

use std::time::Duration;

use leenkies_domain::ports::OrderStore;
use leenkies_domain::stripe::signature::sign;
use serde_json::{json, Value};

/// The sample store's Stripe account.
pub const DEMO_SELLER: &str = "acct_demo";
const STORE_NAME: &str = "Lumen Presets";
/// Orders in the sample.
pub const ORDERS: usize = 60;
const DAY: i64 = 86_400;
/// The sample's history: seven weeks up to an hour ago.
const SPAN: i64 = 49 * DAY;

const PRODUCTS: [(&str, &str, i64); 6] = [
    ("prod_demo_film", "Film Emulation Presets", 2900),
    ("prod_demo_lut", "Cinematic LUT Pack", 2500),
    ("prod_demo_portrait", "Portrait Retouching Actions", 1900),
    (
        "prod_demo_course",
        "Colour Grading Masterclass (video course)",
        8900,
    ),
    (
        "prod_demo_brushes",
        "Watercolour Brush Set for Procreate",
        1200,
    ),
    (
        "prod_demo_bundle",
        "The Complete Creator Bundle: every preset, LUT and action",
        14900,
    ),
];

/// (currency, multiplier of the USD price in minor units): two-decimal, zero-decimal yen and
/// three-decimal dinar, so every amount format shows.
const CURRENCIES: [(&str, f64); 6] = [
    ("usd", 1.0),
    ("eur", 0.92),
    ("gbp", 0.79),
    ("brl", 5.0),
    ("jpy", 150.0),
    ("kwd", 0.31),
];

const CUSTOMERS: [(&str, &str, &str); 12] = [
    ("Ana Souza", "ana.souza@example.com.br", "BR"),
    ("Jordan Lee", "jordan.lee@example.com", "US"),
    ("Priya Natarajan", "priya.n@example.org", "GB"),
    ("Lukas Becker", "lukas.becker@example.de", "DE"),
    ("Yuki Tanaka", "yuki.tanaka@example.jp", "JP"),
    ("Sam Rivera", "sam.rivera@example.net", "US"),
    ("Chloé Martin", "chloe.martin@example.fr", "FR"),
    ("Kim Okafor", "kim.okafor@example.org", "NG"),
    (
        "Maximiliana van den Berg-Oppenheimer",
        "maximiliana.vandenberg-oppenheimer@example-photography-studio.co.uk",
        "GB",
    ),
    ("Omar Al-Sabah", "omar.alsabah@example.com.kw", "KW"),
    ("Alex Moreau", "alex.moreau@example.com", "CA"),
    ("Casey Ng", "casey.ng@example.com", "AU"),
];

/// The five failure reasons of the contract, as Stripe reports them: (decline code, failure
/// code, message, blocked by Radar).
const FAILURES: [(&str, &str, &str, bool); 5] = [
    (
        "insufficient_funds",
        "card_declined",
        "Your card has insufficient funds.",
        false,
    ),
    (
        "generic_decline",
        "card_declined",
        "Your card was declined.",
        false,
    ),
    (
        "expired_card",
        "expired_card",
        "Your card has expired.",
        false,
    ),
    (
        "incorrect_cvc",
        "incorrect_cvc",
        "Your card's security code is incorrect.",
        false,
    ),
    (
        "fraudulent",
        "card_declined",
        "Your card was declined.",
        true,
    ),
];

/// What happens to one order of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Story {
    Paid,
    Failed(usize),
    Refunded,
    PartlyRefunded,
    RefundFailed,
    DisputeOpen,
    DisputeWon,
    DisputeLost,
    FraudWarning,
    Bounced,
    Free,
}

/// The plan: which story each order tells (the rest are simply paid).
pub fn story(i: usize) -> Story {
    match i {
        3 | 16 | 29 | 41 | 54 => Story::Failed(
            [3, 16, 29, 41, 54]
                .iter()
                .position(|x| *x == i)
                .unwrap_or(0),
        ),
        8 => Story::Failed(0),
        7 | 33 => Story::Refunded,
        19 | 46 => Story::PartlyRefunded,
        25 => Story::RefundFailed,
        57 => Story::DisputeOpen,
        22 => Story::DisputeWon,
        37 => Story::DisputeLost,
        52 => Story::FraudWarning,
        58 => Story::Bounced,
        11 => Story::Free,
        _ => Story::Paid,
    }
}

struct Ids {
    pi: String,
    ch: String,
    n: usize,
}

fn ids(i: usize) -> Ids {
    Ids {
        pi: format!("pi_3Demo{:04}LumenPresets{:02}", 1000 + i, i % 97),
        ch: format!("ch_3Demo{:04}LumenPresets{:02}", 1000 + i, i % 97),
        n: i,
    }
}

fn event(kind: &str, n: usize, step: usize, created: i64, object: Value) -> Value {
    json!({
        "id": format!("evt_3Demo{:04}s{step}", 1000 + n),
        "object": "event",
        "type": kind,
        "created": created,
        "livemode": false,
        "account": DEMO_SELLER,
        "api_version": "2025-03-31.basil",
        "pending_webhooks": 1,
        "data": {"object": object},
    })
}

/// A price in `currency` near `usd_minor` US cents, rounded the way a store prices it.
fn amount_in(usd_minor: i64, currency: &str, factor: f64) -> i64 {
    let major = usd_minor as f64 / 100.0 * factor;
    match leenkies_domain::money::decimals(currency) {
        // ¥4,350: whole tens of yen.
        0 => ((major / 10.0).round() as i64) * 10,
        // KWD 8.990: a three-decimal price in whole hundredths.
        3 => ((major * 100.0).round() as i64) * 10,
        // €26.99: just under a whole unit.
        _ => (major.round() as i64).max(1) * 100 - 1,
    }
}

/// Every event of the sample store, in delivery order, dated relative to `now`.
pub fn events(now: i64) -> Vec<Value> {
    let start = now - SPAN;
    let mut out = Vec::new();
    for i in 0..ORDERS {
        let id = ids(i);
        let created = start + (SPAN - 3600) * i as i64 / ORDERS as i64 + (i as i64 * 7_919) % 3_600;
        let (product_id, product, usd) = PRODUCTS[(i * 7 + i / 5) % PRODUCTS.len()];
        let (currency, factor) = CURRENCIES[(i * 5 + 1) % CURRENCIES.len()];
        let (name, email, country) = CUSTOMERS[(i * 5 + i / 3) % CUSTOMERS.len()];
        let amount = amount_in(usd, currency, factor);
        let reference = format!("LP-{}", 2001 + i);
        let metadata = json!({
            "product_id": product_id, "product_name": product, "order_id": reference,
            "store_name": STORE_NAME, "customer_ip": format!("203.0.113.{}", 10 + i),
        });
        let story = story(i);
        if story == Story::Free {
            out.push(event("checkout.session.completed", id.n, 1, created, json!({
                "id": format!("cs_test_Demo{:04}LumenFreeSampler", 1000 + i), "object": "checkout.session",
                "payment_intent": null, "payment_status": "no_payment_required", "status": "complete",
                "mode": "payment", "amount_total": 0, "currency": currency, "created": created,
                "client_reference_id": reference,
                "customer_details": {"email": email, "name": name},
                "metadata": {"product_id": "prod_demo_sampler", "product_name": "Free Preset Sampler",
                    "order_id": reference, "store_name": STORE_NAME},
            })));
            continue;
        }
        let billing = json!({"name": name, "email": email, "address": {"country": country, "postal_code": null}});
        if let Story::Failed(k) = story {
            let (decline, code, message, blocked) = FAILURES[k % FAILURES.len()];
            out.push(event(
                "payment_intent.payment_failed",
                id.n,
                1,
                created + 20,
                json!({
                    "id": id.pi, "object": "payment_intent", "amount": amount, "currency": currency,
                    "created": created, "status": "requires_payment_method", "receipt_email": email,
                    "latest_charge": id.ch, "metadata": metadata,
                    "last_payment_error": {"type": "card_error", "charge": id.ch, "code": code,
                        "decline_code": decline, "message": message},
                }),
            ));
            out.push(event("charge.failed", id.n, 2, created + 19, json!({
                "id": id.ch, "object": "charge", "amount": amount, "currency": currency,
                "created": created + 18, "status": "failed", "paid": false, "payment_intent": id.pi,
                "receipt_email": email, "billing_details": billing, "failure_code": code,
                "failure_message": message, "amount_refunded": 0,
                "outcome": if blocked {
                    json!({"type": "blocked", "reason": "highest_risk_level", "network_status": "not_sent_to_network"})
                } else {
                    json!({"type": "issuer_declined", "reason": decline, "network_status": "declined_by_network"})
                },
            })));
            continue;
        }
        out.push(event(
            "payment_intent.succeeded",
            id.n,
            1,
            created + 12,
            json!({
                "id": id.pi, "object": "payment_intent", "amount": amount, "currency": currency,
                "created": created, "status": "succeeded", "receipt_email": email,
                "latest_charge": id.ch, "metadata": metadata,
            }),
        ));
        let charge = |amount_refunded: i64, at: i64| {
            json!({
                "id": id.ch, "object": "charge", "amount": amount, "currency": currency,
                "created": created + 10, "status": "succeeded", "paid": true, "captured": true,
                "payment_intent": id.pi, "receipt_email": email, "billing_details": billing,
                "amount_refunded": amount_refunded, "refunded": amount_refunded >= amount,
                "outcome": {"type": "authorized", "network_status": "approved_by_network"},
                "payment_method_details": {"type": "card", "card": {"brand": if i % 3 == 0 { "mastercard" } else { "visa" },
                    "country": country, "last4": format!("{:04}", 4242 + i), "fingerprint": format!("fpDemo{i:04}")}},
                "metadata": {}, "refunds": {"object": "list", "data": [], "has_more": false},
                "updated": at,
            })
        };
        out.push(event(
            "charge.succeeded",
            id.n,
            2,
            created + 11,
            charge(0, created + 11),
        ));
        let refund = |step: usize, amount: i64, status: &str, at: i64| {
            event(
                if status == "failed" {
                    "refund.failed"
                } else {
                    "refund.created"
                },
                id.n,
                step,
                at,
                json!({
                    "id": format!("re_3Demo{:04}LumenPresets", 1000 + i), "object": "refund", "amount": amount,
                    "charge": id.ch, "payment_intent": id.pi, "currency": currency, "created": at - 60 * (step as i64 - 2),
                    "status": status, "reason": "requested_by_customer",
                    "failure_reason": if status == "failed" { json!("expired_or_canceled_card") } else { Value::Null },
                }),
            )
        };
        let dispute = |step: usize,
                       kind: &str,
                       status: &str,
                       at: i64,
                       due_by: i64,
                       reason: &str| {
            event(
                kind,
                id.n,
                step,
                at,
                json!({
                    "id": format!("du_1Demo{:04}LumenPresets", 1000 + i), "object": "dispute", "amount": amount,
                    "charge": id.ch, "payment_intent": id.pi, "currency": currency, "created": created + 3 * DAY,
                    "status": status, "reason": reason, "is_charge_refundable": false,
                    "evidence_details": {"due_by": due_by, "has_evidence": false, "past_due": false, "submission_count": 0},
                    "balance_transactions": [],
                }),
            )
        };
        match story {
            Story::Refunded => {
                out.push(event(
                    "charge.refunded",
                    id.n,
                    3,
                    created + 2 * DAY,
                    charge(amount, created + 2 * DAY),
                ));
                out.push(refund(4, amount, "succeeded", created + 2 * DAY + 5));
            }
            Story::PartlyRefunded => {
                let part = amount / 2;
                out.push(event(
                    "charge.refunded",
                    id.n,
                    3,
                    created + DAY,
                    charge(part, created + DAY),
                ));
                out.push(refund(4, part, "succeeded", created + DAY + 5));
            }
            Story::RefundFailed => {
                out.push(event(
                    "charge.refunded",
                    id.n,
                    3,
                    created + DAY,
                    charge(amount, created + DAY),
                ));
                out.push(refund(4, amount, "pending", created + DAY + 5));
                out.push(refund(5, amount, "failed", created + 3 * DAY));
            }
            Story::DisputeOpen => {
                // Opened yesterday; Stripe asks for evidence within about a week.
                out.push(dispute(
                    3,
                    "charge.dispute.created",
                    "needs_response",
                    now - DAY,
                    now + 6 * DAY,
                    "product_not_received",
                ));
            }
            Story::DisputeWon => {
                let opened = created + 3 * DAY;
                out.push(dispute(
                    3,
                    "charge.dispute.created",
                    "needs_response",
                    opened,
                    opened + 7 * DAY,
                    "fraudulent",
                ));
                out.push(dispute(
                    4,
                    "charge.dispute.closed",
                    "won",
                    opened + 20 * DAY,
                    opened + 7 * DAY,
                    "fraudulent",
                ));
            }
            Story::DisputeLost => {
                let opened = created + 3 * DAY;
                out.push(dispute(
                    3,
                    "charge.dispute.created",
                    "needs_response",
                    opened,
                    opened + 7 * DAY,
                    "product_unacceptable",
                ));
                out.push(dispute(
                    4,
                    "charge.dispute.closed",
                    "lost",
                    opened + 9 * DAY,
                    opened + 7 * DAY,
                    "product_unacceptable",
                ));
            }
            Story::FraudWarning => {
                out.push(event("radar.early_fraud_warning.created", id.n, 3, created + DAY, json!({
                    "id": format!("issfr_1Demo{:04}Lumen", 1000 + i), "object": "radar.early_fraud_warning",
                    "actionable": true, "charge": id.ch, "payment_intent": id.pi, "created": created + DAY,
                    "fraud_type": "made_with_stolen_card",
                })));
            }
            _ => {}
        }
    }
    out
}

/// The order whose delivery email bounces in the sample.
pub fn bounced_order() -> String {
    let i = (0..ORDERS)
        .find(|i| story(*i) == Story::Bounced)
        .unwrap_or(ORDERS - 2);
    ids(i).pi
}

/// An SES `Bounce` event for `message_id` as EventBridge delivers it.
fn bounce(message_id: &str, to: &str, now_ms: i64) -> Value {
    let at = leenkies_domain::delivery::rfc3339_ms(now_ms);
    json!({
        "version": "0", "id": format!("demo-bounce-{message_id}"), "detail-type": "Email Bounced",
        "source": "aws.ses", "account": "123456789012", "time": at, "region": "us-east-1", "resources": [],
        "detail": {
            "eventType": "Bounce",
            "mail": {"timestamp": at, "messageId": message_id, "destination": [to], "source": "orders@leenkies.example"},
            "bounce": {"bounceType": "Permanent", "bounceSubType": "General", "timestamp": at,
                "bouncedRecipients": [{"emailAddress": to, "action": "failed", "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown"}]},
        },
    })
}

/// What the seeding did.
#[derive(Debug, Default)]
pub struct Seeded {
    pub events: usize,
    pub bounced: bool,
}

/// Posts the sample store's events, signed with `secret`, to the runner at `base`; then, once
/// the bounced order's email is out, SES's bounce for it.
pub async fn seed(
    base: &str,
    secret: &str,
    store: &dyn OrderStore,
    now: i64,
) -> Result<Seeded, String> {
    let client = reqwest::Client::new();
    let webhook = format!("{base}/webhooks/stripe");
    let mut seeded = Seeded::default();
    for e in events(now) {
        let body = serde_json::to_vec(&e).map_err(|e| e.to_string())?;
        let response = client
            .post(&webhook)
            .header("content-type", "application/json")
            .header(
                "stripe-signature",
                sign(secret, leenkies_domain::clock::now_secs(), &body),
            )
            .body(body)
            .send()
            .await
            .map_err(|e| format!("demo: {webhook}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!(
                "demo: the webhook answered {} to {}",
                response.status(),
                e["id"]
            ));
        }
        seeded.events += 1;
    }
    // The bounce needs the email's message id: the change pump sends it within moments.
    let pi = bounced_order();
    for _ in 0..200 {
        let order = store
            .get_order(DEMO_SELLER, &pi)
            .await
            .map_err(|e| format!("demo: {e}"))?;
        let sent = order.and_then(|o| {
            let to = o.fulfillment.recipient.clone()?;
            Some((o.fulfillment.message_id.clone()?, to))
        });
        if let Some((message_id, to)) = sent {
            let now_ms = leenkies_domain::clock::now_secs().saturating_mul(1000);
            let response = client
                .post(format!("{base}/local/ses-events"))
                .json(&bounce(&message_id, &to, now_ms))
                .send()
                .await
                .map_err(|e| format!("demo: {e}"))?;
            seeded.bounced = response.status().is_success();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(seeded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use leenkies_domain::order::facts::Facts;
    use leenkies_domain::order::from_event::{interpret, Interpretation, Target};
    use leenkies_domain::stripe::event::Event;
    use leenkies_domain::{OrderRecord, OrderView, PaymentStatus};
    use std::collections::BTreeMap;

    const NOW: i64 = 1_796_600_000;

    /// The sample folded as the webhook folds it: order id → (purchase time, view).
    fn orders() -> BTreeMap<String, (i64, OrderView)> {
        let mut facts: BTreeMap<String, Facts> = BTreeMap::new();
        for e in events(NOW) {
            let body = serde_json::to_vec(&e).unwrap();
            let parsed = Event::parse(&body).unwrap();
            match interpret(&parsed).unwrap() {
                Interpretation::Fold(f) => {
                    assert_eq!(f.seller_id, DEMO_SELLER);
                    let Target::Order { order_id } = f.target else {
                        panic!("{} names no order", parsed.id);
                    };
                    facts.entry(order_id).or_default().merge(&f.facts);
                }
                Interpretation::Ignore(reason) => panic!("{} ignored: {reason:?}", parsed.id),
            }
        }
        facts
            .into_iter()
            .map(|(id, f)| {
                let created = f.created_at();
                let record = OrderRecord {
                    facts: f,
                    ..OrderRecord::new(DEMO_SELLER, &id)
                };
                (id, (created, OrderView::of(&record)))
            })
            .collect()
    }

    #[test]
    fn given_the_sample_when_folded_then_every_state_the_page_has_is_there() {
        // GIVEN / WHEN the sample store folded as the webhook does
        let folded = orders();
        // THEN dozens of orders over weeks
        assert_eq!(folded.len(), ORDERS);
        let times: Vec<i64> = folded.values().map(|(t, _)| *t).collect();
        assert!(times.iter().max().unwrap() - times.iter().min().unwrap() > 6 * 7 * DAY);
        assert!(*times.iter().max().unwrap() < NOW);
        let orders: BTreeMap<&String, &OrderView> =
            folded.iter().map(|(id, (_, o))| (id, o)).collect();
        // AND every payment status, each failure reason, several currencies
        let statuses: Vec<PaymentStatus> = orders.values().map(|o| o.payment_status).collect();
        for s in [
            PaymentStatus::Succeeded,
            PaymentStatus::Failed,
            PaymentStatus::Refunded,
            PaymentStatus::PartiallyRefunded,
        ] {
            assert!(statuses.contains(&s), "{s:?}");
        }
        let reasons: std::collections::BTreeSet<String> = orders
            .values()
            .filter_map(|o| o.failure.as_ref().map(|f| f.category.clone()))
            .collect();
        assert_eq!(reasons.len(), 5, "{reasons:?}");
        let currencies: std::collections::BTreeSet<String> =
            orders.values().filter_map(|o| o.currency.clone()).collect();
        assert!(currencies.len() >= 5, "{currencies:?}");
        // AND an open dispute, a won and a lost one, a failed refund, a fraud warning, a free order
        let dispute = |s: &str| {
            orders
                .values()
                .filter(|o| o.dispute.as_ref().is_some_and(|d| d.status == s))
                .count()
        };
        assert_eq!(
            (dispute("needs_response"), dispute("won"), dispute("lost")),
            (1, 1, 1)
        );
        assert!(orders
            .values()
            .any(|o| o.attention.iter().any(|a| a == "refund_failed")));
        assert!(orders.values().any(|o| o.early_fraud_warning));
        assert!(orders.keys().any(|id| id.starts_with("cs_")));
        // AND the bounce has a paid order to bounce
        assert_eq!(
            orders[&bounced_order()].payment_status,
            PaymentStatus::Succeeded
        );
        assert!(orders.values().all(|o| !o.livemode), "a test-mode sample");
    }
}
