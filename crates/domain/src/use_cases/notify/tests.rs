//! The occurrences an order owes its seller, the claim discipline, and the emails' words.

use super::email::{amount_words, compose, order_page};
use super::*;
use crate::delivery::facts::{DeliveryState, MessageFacts};
use crate::fulfillment::StoreIdentity;
use crate::order::facts::{
    AutoPlan, DisputeEvent, DisputeFact, DisputeStep, EfwDecided, EfwDecision, EvidenceFact,
    FraudWarningFact, RefundRequested, WarningActionFact,
};
use crate::ports::EmailAbout;
use crate::settings::SellerSettings;

const NOW: i64 = 1_800_000_000;
const BASE: &str = "https://shop.example";

fn paid() -> OrderRecord {
    let mut r = OrderRecord::new("acct_A", "pi_1");
    r.facts.amount = Some(Reg::new(0, 1, 2500));
    r.facts.currency = Some(Reg::new(0, 1, "usd".to_owned()));
    r.facts.product_name = Some(Reg::new(0, 1, "Cinematic LUT Pack".to_owned()));
    r.facts.customer_email = Some(Reg::new(0, 1, "jordan.lee@example.com".to_owned()));
    r.facts.store_name = Some(Reg::new(0, 1, "Northwind Presets".to_owned()));
    r.facts.succeeded_at = Some(NOW - 86_400);
    r
}

fn dispute(status: &str, history: &[(i64, &str)]) -> DisputeFact {
    DisputeFact {
        state: Reg::new(0, NOW, status.to_owned()),
        history: history
            .iter()
            .map(|(at, s)| DisputeEvent(*at, DisputeStep::Updated, (*s).to_owned()))
            .collect(),
        reason: Some(Reg::new(0, NOW, "fraudulent".to_owned())),
        amount: Some(Reg::new(0, NOW, 2500)),
        evidence_due_by: Some(Reg::new(0, NOW, NOW + 10 * 86_400)),
        created: Some(NOW - 60),
        ..DisputeFact::default()
    }
}

fn with_dispute(status: &str, history: &[(i64, &str)]) -> OrderRecord {
    let mut r = paid();
    r.facts
        .disputes
        .insert("du_1".to_owned(), dispute(status, history));
    r
}

fn keys(record: &OrderRecord) -> Vec<String> {
    pending(record).into_iter().map(|o| o.key).collect()
}

fn email_for(record: &OrderRecord, occurrence: &Occurrence) -> crate::ports::OutgoingEmail {
    compose(
        record,
        occurrence,
        &StoreIdentity::default(),
        &SellerSettings::default(),
        BASE,
        "seller@example.com",
    )
    .expect("an email")
}

/// Claims, then records sent: what one successful sender writes.
fn send(record: &OrderRecord, key: &str, message_id: &str) -> OrderRecord {
    let occurrence = pending(record)
        .into_iter()
        .find(|o| o.key == key)
        .expect("pending");
    let Claim::Claimed(claimed) = claim(record, key, NOW, 60, 5) else {
        panic!("claimable")
    };
    sent(&claimed, &occurrence, NOW, message_id)
}

#[test]
fn given_a_paid_order_when_nothing_happened_then_nothing_is_owed() {
    assert!(pending(&paid()).is_empty());
    assert!(!due(&paid()));
}

#[test]
fn given_an_open_dispute_when_listed_then_one_dispute_notice_until_sent() {
    // GIVEN a dispute that became open
    let r = with_dispute("needs_response", &[(NOW - 60, "needs_response")]);
    // THEN one dispute notice is owed
    assert_eq!(keys(&r), vec!["d:du_1"]);
    assert!(due(&r));
    // WHEN it is claimed and sent
    let done = send(&r, "d:du_1", "m-1");
    // THEN nothing is owed any more, and a second claim finds nothing to do
    assert!(pending(&done).is_empty());
    assert_eq!(claim(&done, "d:du_1", NOW, 60, 5), Claim::Done);
}

#[test]
fn given_a_dispute_already_closed_when_first_seen_then_no_notice() {
    let r = with_dispute("lost", &[(NOW - 60, "needs_response"), (NOW, "lost")]);
    assert!(pending(&r).is_empty());
}

#[test]
fn given_an_inquiry_when_it_escalates_after_its_notice_then_a_second_notice_once() {
    // GIVEN an inquiry whose notice was sent
    let inquiry = with_dispute(
        "warning_needs_response",
        &[(NOW - 60, "warning_needs_response")],
    );
    let notified = send(&inquiry, "d:du_1", "m-1");
    // WHEN it escalates to a chargeback
    let mut escalated = notified.clone();
    escalated.facts.disputes.insert(
        "du_1".to_owned(),
        dispute(
            "needs_response",
            &[
                (NOW - 60, "warning_needs_response"),
                (NOW, "needs_response"),
            ],
        ),
    );
    // THEN one escalation notice is owed, saying so
    assert_eq!(keys(&escalated), vec!["e:du_1"]);
    let occurrence = &pending(&escalated)[0];
    let email = email_for(&escalated, occurrence);
    assert!(
        email.subject.contains("Inquiry escalated to a chargeback"),
        "{}",
        email.subject
    );
    // AND once sent, nothing more
    assert!(pending(&send(&escalated, "e:du_1", "m-2")).is_empty());
}

#[test]
fn given_an_escalated_inquiry_first_seen_at_once_when_owed_then_one_email_covers_both() {
    // GIVEN the inquiry and its escalation folded in before any notice went out
    let r = with_dispute(
        "needs_response",
        &[
            (NOW - 60, "warning_needs_response"),
            (NOW, "needs_response"),
        ],
    );
    // THEN one notice is owed, covering the escalation
    let owed = pending(&r);
    assert_eq!(owed.len(), 1);
    assert_eq!(owed[0].key, "d:du_1");
    assert_eq!(owed[0].covers, vec!["e:du_1".to_owned()]);
    // WHEN sent THEN both keys are settled
    let done = send(&r, "d:du_1", "m-1");
    assert!(pending(&done).is_empty());
    assert_eq!(
        done.facts.notices["e:du_1"].skipped.map(|s| s.why),
        Some(NoticeSkip::Covered)
    );
}

#[test]
fn given_an_automatic_submission_when_listed_then_one_notice_per_phase() {
    // GIVEN a notified dispute whose chargeback evidence the sweep submitted
    let mut r = send(
        &with_dispute("needs_response", &[(NOW - 60, "needs_response")]),
        "d:du_1",
        "m-1",
    );
    r.facts.dispute_evidence.insert(
        "du_1".to_owned(),
        EvidenceFact {
            submitted_at: Some(NOW),
            submitted_by: Some(Submitter::Auto),
            ..EvidenceFact::default()
        },
    );
    // AND the inquiry phase's evidence, submitted by the seller (no notice for that)
    r.facts.dispute_evidence.insert(
        "du_1#inquiry".to_owned(),
        EvidenceFact {
            submitted_at: Some(NOW - 30),
            submitted_by: Some(Submitter::Seller),
            ..EvidenceFact::default()
        },
    );
    // THEN only the automatic one is owed
    assert_eq!(keys(&r), vec!["a:du_1"]);
    let email = email_for(&r, &pending(&r)[0]);
    assert!(email
        .subject
        .contains("Evidence submitted automatically: 25.00 USD"));
}

fn bounced(mut r: OrderRecord, message_id: &str, at_ms: i64) -> OrderRecord {
    r.fulfillment.message_id = Some(message_id.to_owned());
    r.fulfillment.sent_at = Some(at_ms / 1000 - 5);
    r.facts.mail.insert(
        message_id.to_owned(),
        MessageFacts {
            accepted_ms: Some(at_ms - 5_000),
            state: Some(DeliveryState::new(
                DeliveryStatus::Bounced,
                at_ms,
                "Permanent",
            )),
            delivery: None,
        },
    );
    r
}

#[test]
fn given_a_bounced_delivery_email_when_listed_then_one_notice_for_that_message() {
    // GIVEN the order's newest email bounced
    let r = bounced(paid(), "ses-1", NOW * 1000);
    // THEN one delivery_failed notice, keyed by the message
    assert_eq!(keys(&r), vec!["m:ses-1"]);
    let email = email_for(&r, &pending(&r)[0]);
    assert_eq!(email.about, EmailAbout::Seller(NoticeKind::DeliveryFailed));
    assert!(email.subject.contains("Download email bounced"));
    assert!(email
        .text
        .contains(&format!("{BASE}/dashboard/orders/pi_1")));
    assert!(email.text.contains("Resend"));
    // AND never the customer's download link
    assert!(!email.text.contains("/downloads/"));
    assert!(!email.html.contains("/downloads/"));
}

#[test]
fn given_a_bounce_then_a_delivered_resend_when_listed_then_nothing_owed() {
    // GIVEN a bounce, and a later resend that was delivered
    let mut r = bounced(paid(), "ses-1", NOW * 1000);
    r.facts.mail.insert(
        "ses-2".to_owned(),
        MessageFacts {
            accepted_ms: Some(NOW * 1000 + 60_000),
            state: Some(DeliveryState::new(
                DeliveryStatus::Delivered,
                NOW * 1000 + 61_000,
                "250 ok",
            )),
            delivery: None,
        },
    );
    // THEN the seller is not told about a failure that is already repaired
    assert!(pending(&r).is_empty());
}

fn warned(decision: EfwDecision, requested: bool, error: bool) -> OrderRecord {
    let mut r = paid();
    r.facts.warning_actions.insert(
        "issfr_1".to_owned(),
        WarningActionFact {
            decided: Some(EfwDecided { at: NOW, decision }),
            requested: requested.then(|| RefundRequested {
                at: NOW + 1,
                refund_id: "re_1".to_owned(),
            }),
            last_error: error.then(|| Reg::new(0, NOW, "card_declined".to_owned())),
            ..WarningActionFact::default()
        },
    );
    r
}

#[test]
fn given_an_early_fraud_warning_when_the_rule_decided_then_one_notice_once_the_outcome_is_known() {
    // GIVEN a refund decided but not yet accepted by Stripe: not yet
    assert!(pending(&warned(EfwDecision::RefundAlways, false, false)).is_empty());
    // WHEN Stripe accepted it THEN owed, saying refunded automatically
    let refunded = warned(EfwDecision::RefundAlways, true, false);
    assert_eq!(keys(&refunded), vec!["w:issfr_1"]);
    let email = email_for(&refunded, &pending(&refunded)[0]);
    assert!(email
        .subject
        .ends_with("Early fraud warning: refunded automatically"));
    // WHEN it failed THEN owed, saying it failed and is retried
    let failed = warned(EfwDecision::RefundAlways, false, true);
    let email = email_for(&failed, &pending(&failed)[0]);
    assert!(email.text.contains("failed; it will be retried"));
    // WHEN the rule said no THEN owed at once, saying why
    let kept = warned(EfwDecision::Downloaded, false, false);
    let email = email_for(&kept, &pending(&kept)[0]);
    assert!(email.subject.ends_with("not refunded"));
    assert!(email.text.contains(EfwDecision::Downloaded.words()));
}

#[test]
fn given_a_store_without_a_name_when_composed_then_the_first_line_names_its_account() {
    // GIVEN an order whose store has no name, on the storefront or on Stripe
    let mut r = with_dispute("needs_response", &[(NOW - 60, "needs_response")]);
    r.facts.store_name = None;
    // WHEN its dispute email is composed
    let email = email_for(&r, &pending(&r)[0]);
    // THEN the first line says which of the seller's accounts it is about
    assert_eq!(email.text.lines().next(), Some("Your store (acct_A)"));
    // AND with a name, the name alone
    let named = with_dispute("needs_response", &[(NOW - 60, "needs_response")]);
    let email = email_for(&named, &pending(&named)[0]);
    assert_eq!(email.text.lines().next(), Some("Northwind Presets"));
}

#[test]
fn given_a_warning_s_fraud_type_when_composed_then_in_words_or_as_stripe_sent_it() {
    for (code, expected) in [
        (
            "made_with_stolen_card",
            "Fraud type: made with a stolen card",
        ),
        (
            "unauthorized_use_of_card",
            "Fraud type: unauthorized use of the card",
        ),
        ("misc", "Fraud type: other fraud"),
        // A label Stripe adds later reads as Stripe sent it, on one line
        (
            "synthetic_new_label\r\nBcc: x@evil.test",
            "Fraud type: synthetic_new_labelBcc: x@evil.test",
        ),
    ] {
        // GIVEN a warning refunded by the rule, labelled `code` by the issuer
        let mut r = warned(EfwDecision::RefundAlways, true, false);
        r.facts.fraud_warnings.insert(
            "issfr_1".to_owned(),
            FraudWarningFact {
                actionable: Reg::new(0, NOW, true),
                fraud_type: Some(Reg::new(0, NOW, code.to_owned())),
                created: Some(NOW),
            },
        );
        // WHEN its email is composed
        let email = email_for(&r, &pending(&r)[0]);
        // THEN the label reads in words where Stripe documents it
        assert!(
            email.text.lines().any(|l| l == expected),
            "{code:?}: {}",
            email.text
        );
    }
}

#[test]
fn given_a_dispute_email_when_composed_then_store_order_amount_deadline_plan_and_link() {
    // GIVEN an open dispute whose automatic submission the sweep planned
    let mut r = with_dispute("needs_response", &[(NOW - 60, "needs_response")]);
    r.facts.dispute_evidence.insert(
        "du_1".to_owned(),
        EvidenceFact {
            plan: Some(Reg::new(
                0,
                NOW,
                AutoPlan {
                    at: Some(NOW + 8 * 86_400),
                    why: None,
                },
            )),
            ..EvidenceFact::default()
        },
    );
    // WHEN composed
    let email = email_for(&r, &pending(&r)[0]);
    // THEN it names the store, the order, the amount with its currency, the deadline, the plan
    assert_eq!(email.subject, "Northwind Presets: New dispute: 25.00 USD");
    assert_eq!(email.to, "seller@example.com");
    assert_eq!(email.reply_to, None);
    assert_eq!(email.about, EmailAbout::Seller(NoticeKind::Dispute));
    for want in [
        "Northwind Presets",
        "Order: pi_1",
        "Amount disputed: 25.00 USD",
        "Reason: fraudulent",
        "Respond by: ",
        "Automatic submission: planned for ",
        "https://shop.example/dashboard/orders/pi_1",
    ] {
        assert!(
            email.text.contains(want),
            "{want} missing from {}",
            email.text
        );
    }
    assert!(!email.text.contains("/downloads/"));
}

#[test]
fn given_a_dispute_the_sweep_will_not_file_when_composed_then_it_says_why() {
    let mut r = with_dispute("needs_response", &[(NOW - 60, "needs_response")]);
    r.facts.dispute_evidence.insert(
        "du_1".to_owned(),
        EvidenceFact {
            plan: Some(Reg::new(
                0,
                NOW,
                AutoPlan {
                    at: None,
                    why: Some("setting_off".to_owned()),
                },
            )),
            ..EvidenceFact::default()
        },
    );
    let email = email_for(&r, &pending(&r)[0]);
    assert!(email
        .text
        .contains("Automatic submission: none: automatic submission is off in your settings"));
}

#[test]
fn given_hostile_values_when_composed_then_no_header_injection_and_escaped_html() {
    // GIVEN a store name, a reason and an order id carrying line breaks and markup
    let mut r = with_dispute("needs_response", &[(NOW - 60, "needs_response")]);
    r.order_id = "pi_1\r\nBcc: evil@x.example".to_owned();
    r.facts.store_name = Some(Reg::new(0, 1, "Evil\r\nBcc: a@x.example <b>".to_owned()));
    r.facts.disputes.get_mut("du_1").unwrap().reason = Some(Reg::new(
        0,
        NOW,
        "<script>x</script>\nInjected: 1".to_owned(),
    ));
    // WHEN composed
    let email = email_for(&r, &pending(&r)[0]);
    // THEN the subject is one line, the HTML escapes, the link's id is percent-encoded
    assert!(!email.subject.contains('\n') && !email.subject.contains('\r'));
    assert!(!email.html.contains("<script>"));
    assert!(!email.text.lines().any(|l| l.starts_with("Injected:")));
    assert!(email
        .text
        .contains("/dashboard/orders/pi_1%0D%0ABcc%3A%20evil%40x.example"));
    // AND an address that is not one plain address gets no email at all
    assert!(compose(
        &r,
        &pending(&r)[0],
        &StoreIdentity::default(),
        &SellerSettings::default(),
        BASE,
        "a@x.example, b@y.example",
    )
    .is_none());
}

#[test]
fn given_a_live_claim_when_another_sender_looks_then_in_flight_until_the_lease_ends() {
    // GIVEN one sender's claim
    let r = with_dispute("needs_response", &[(NOW - 60, "needs_response")]);
    let Claim::Claimed(claimed) = claim(&r, "d:du_1", NOW, 60, 5) else {
        panic!()
    };
    // WHEN another looks within the lease THEN it waits
    assert_eq!(
        claim(&claimed, "d:du_1", NOW + 10, 60, 5),
        Claim::InFlight { until: NOW + 60 }
    );
    // AND after the lease (the first sender crashed) it takes over with the next attempt
    let Claim::Claimed(taken) = claim(&claimed, "d:du_1", NOW + 61, 60, 5) else {
        panic!("taken over")
    };
    assert_eq!(taken.facts.notices["d:du_1"].attempts(), 2);
    assert!(!holds_claim(&taken, "d:du_1", &claimed));
    assert!(holds_claim(&taken, "d:du_1", &taken));
}

#[test]
fn given_a_transient_failure_when_released_then_claimable_at_once_until_attempts_run_out() {
    let r = with_dispute("needs_response", &[(NOW - 60, "needs_response")]);
    let mut current = r;
    for attempt in 1..=3 {
        let Claim::Claimed(claimed) = claim(&current, "d:du_1", NOW, 60, 3) else {
            panic!("attempt {attempt} claimable")
        };
        current = released(&claimed, "d:du_1", NOW, "SES timed out");
    }
    // THEN after the third failed attempt it is given up, not sent
    let Claim::Exhausted(gave_up) = claim(&current, "d:du_1", NOW, 60, 3) else {
        panic!("exhausted")
    };
    assert_eq!(
        gave_up.facts.notices["d:du_1"].skipped.map(|s| s.why),
        Some(NoticeSkip::GaveUp)
    );
    assert!(pending(&gave_up).is_empty());
}

#[test]
fn given_recorded_notices_when_merged_with_a_stale_copy_in_any_order_then_still_recorded() {
    // GIVEN the order as a webhook read it before the notice was sent, with a new fact
    let r = with_dispute("needs_response", &[(NOW - 60, "needs_response")]);
    let done = send(&r, "d:du_1", "m-1");
    let mut stale = r.facts.clone();
    stale.reference = Some(Reg::new(0, 5, "ord_1".to_owned()));
    // WHEN the facts merge either way THEN the notice stays sent and the new fact is kept
    let mut a = done.facts.clone();
    a.merge(&stale);
    let mut b = stale.clone();
    b.merge(&done.facts);
    assert_eq!(a, b);
    assert!(a.notices["d:du_1"].done());
    assert!(a.reference.is_some());
}

#[test]
fn given_amounts_and_ids_when_formatted_then_readable_and_safe() {
    assert_eq!(amount_words(2500, Some("usd")), "25.00 USD");
    assert_eq!(amount_words(1000, Some("jpy")), "1000 JPY");
    assert_eq!(amount_words(7, None), "7 (minor units)");
    assert_eq!(
        order_page("https://x.example/", "pi_1"),
        "https://x.example/dashboard/orders/pi_1"
    );
    assert_eq!(
        order_page("https://x.example", "a/b?c"),
        "https://x.example/dashboard/orders/a%2Fb%3Fc"
    );
}

#[test]
fn given_the_kinds_when_the_settings_turn_one_off_then_only_it_is_unwanted() {
    let notify = crate::settings::Notify {
        delivery_failed: false,
        ..Default::default()
    };
    for kind in NoticeKind::ALL {
        assert_eq!(wanted(&notify, kind), kind != NoticeKind::DeliveryFailed);
    }
}

#[test]
fn given_a_suspected_failure_pattern_when_composed_then_counts_rule_and_dashboard() {
    use crate::order::facts::FailedAttempt;
    use crate::order::failure_tally::FailureTally;
    // GIVEN three customers failing on one day
    let mut tally = FailureTally::default();
    for (i, who) in ["a@x.example", "b@x.example", "c@x.example"]
        .iter()
        .enumerate()
    {
        let mut r = OrderRecord::new("acct_A", format!("pi_{i}"));
        r.facts.customer_email = Some(Reg::new(0, 1, (*who).to_owned()));
        r.facts.failures.insert(
            format!("ch_{i}"),
            FailedAttempt {
                at: NOW,
                decline_code: Some(Reg::new(0, NOW, "do_not_honor".to_owned())),
                ..FailedAttempt::default()
            },
        );
        tally.add(&r);
    }
    assert!(tally.suspected());
    // WHEN composed
    let store = StoreIdentity {
        name: Some("Northwind\r\nBcc: x@y.example".into()),
        support_email: None,
    };
    let email = super::email::compose_failure_pattern(
        "acct_A",
        &tally,
        30,
        &store,
        BASE,
        "seller@example.com",
    )
    .unwrap();
    // THEN the store, the counts, the rule and the dashboard, on safe headers
    assert_eq!(email.about, EmailAbout::Seller(NoticeKind::FailurePattern));
    assert!(!email.subject.contains('\n') && !email.subject.contains('\r'));
    assert!(email
        .subject
        .ends_with("Payments are failing for many customers"));
    assert!(email
        .text
        .contains("3 failed payments from 3 different customers"));
    assert!(email.text.contains("https://shop.example/dashboard\n"));
    assert!(email.text.contains("card declined: 3"));
}
