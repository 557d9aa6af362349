//! The seller's notification emails (contract section 12): short and plain, from the platform,
//! naming the store, the order, the amount (with its currency) and the deadline where there is
//! one, with a link to the order's page on the dashboard, and never a customer's download link.
//!
//! Everything from Stripe, SES or the storefront is untrusted text: every value is one line with
//! no control character ([`crate::text::one_line`]) and bounded, the subject and the address too
//! (no header injection), the HTML part escapes every value, and the order id in the link is
//! percent-encoded.

use super::{Occasion, Occurrence};
use crate::clock::rfc3339;
use crate::fulfillment::{date_in_words, html_escape, StoreIdentity};
use crate::order::facts::{DisputeFact, DisputePhase, EfwDecision, EvidenceFact};
use crate::order::OrderRecord;
use crate::ports::{EmailAbout, OutgoingEmail};
use crate::settings::{AutoSubmit, SellerSettings};
use crate::stripe::objects::FraudType;
use crate::text::{one_line, recipient};

/// Longest value kept from outside in one line of the email, in characters.
const VALUE_MAX: usize = 150;
/// Longest subject, in characters.
const SUBJECT_MAX: usize = 200;

/// `{PUBLIC_BASE_URL}/dashboard/orders/{order_id}` (the id percent-encoded).
pub fn order_page(public_base_url: &str, order_id: &str) -> String {
    let mut id = String::new();
    for b in order_id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'~') {
            id.push(b as char);
        } else {
            id.push_str(&format!("%{b:02X}"));
        }
    }
    format!(
        "{}/dashboard/orders/{id}",
        public_base_url.trim_end_matches('/')
    )
}

/// An amount as people read it: `25.00 USD`; without a currency, the minor units as Stripe gave
/// them.
pub fn amount_words(amount: i64, currency: Option<&str>) -> String {
    match currency
        .map(one_line)
        .filter(|c| !c.is_empty() && c.len() <= 8)
    {
        Some(c) => format!(
            "{} {}",
            crate::money::major_units(amount, &c),
            c.to_ascii_uppercase()
        ),
        None => format!("{amount} (minor units)"),
    }
}

/// A deadline in words, to the minute: `December 20, 2026 at 23:59 UTC`.
pub fn deadline_words(secs: i64) -> String {
    let time: String = rfc3339(secs).chars().skip(11).take(5).collect();
    format!("{} at {time} UTC", date_in_words(secs))
}

fn bounded(value: &str, max: usize) -> String {
    one_line(value).chars().take(max).collect::<String>()
}

/// The email's first line: the store's name, else the Stripe account it is about (a seller with
/// several accounts must still tell which one needs them).
fn heading(store_name: Option<&str>, seller_id: &str) -> String {
    match store_name {
        Some(name) => name.to_owned(),
        None => format!("Your store ({})", bounded(seller_id, VALUE_MAX)),
    }
}

/// The email for one occurrence, to `to` (one plain address; `None` when it is not one).
pub fn compose(
    record: &OrderRecord,
    occurrence: &Occurrence,
    store: &StoreIdentity,
    settings: &SellerSettings,
    public_base_url: &str,
    to: &str,
) -> Option<OutgoingEmail> {
    let to = recipient(to)?;
    let facts = &record.facts;
    // The store's name as the delivery email gives it: the storefront's, else the account's.
    let store_name = store.name_for(facts.store_name());
    let order_id = bounded(&record.order_id, VALUE_MAX);
    let page = order_page(public_base_url, &record.order_id);
    let order_amount = facts
        .amount()
        .map(|a| amount_words(a, facts.currency()))
        .unwrap_or_else(|| "unknown".to_owned());

    let mut lines: Vec<String> = Vec::new();
    let (subject, opening) = match &occurrence.occasion {
        Occasion::DisputeOpened { dispute_id } | Occasion::DisputeEscalated { dispute_id } => {
            let d = facts.disputes.get(dispute_id)?;
            let amount = d
                .amount
                .as_ref()
                .map(|a| amount_words(a.value, facts.currency()))
                .unwrap_or(order_amount.clone());
            let escalated = matches!(occurrence.occasion, Occasion::DisputeEscalated { .. })
                || !occurrence.covers.is_empty();
            let inquiry = d.phase() == DisputePhase::Inquiry;
            let (subject, opening) = if escalated {
                (
                    format!("Inquiry escalated to a chargeback: {amount}"),
                    "A customer's inquiry about a payment became a chargeback: the bank has taken \
                     the amount back until the dispute is decided."
                        .to_owned(),
                )
            } else if inquiry {
                (
                    format!("New inquiry about a payment: {amount}"),
                    "A customer's bank opened an inquiry about a payment. Answering it may stop \
                     it from becoming a chargeback."
                        .to_owned(),
                )
            } else {
                (
                    format!("New dispute: {amount}"),
                    "A customer disputed a payment (a chargeback).".to_owned(),
                )
            };
            lines.push(format!("Amount disputed: {amount}"));
            if let Some(reason) = d.reason() {
                lines.push(format!("Reason: {}", bounded(reason, VALUE_MAX)));
            }
            match d.due_by() {
                Some(due) => lines.push(format!("Respond by: {}", deadline_words(due))),
                None => lines.push("Respond by: Stripe gave no deadline to respond".to_owned()),
            }
            lines.push(format!(
                "Automatic submission: {}",
                auto_submission(record, dispute_id, d, settings)
            ));
            (subject, opening)
        }
        Occasion::AutoSubmitted { dispute_id, phase } => {
            let d = facts.disputes.get(dispute_id);
            let amount = d
                .and_then(|d| d.amount.as_ref())
                .map(|a| amount_words(a.value, facts.currency()))
                .unwrap_or(order_amount.clone());
            let what = match phase {
                DisputePhase::Inquiry => "inquiry",
                DisputePhase::Chargeback => "dispute",
            };
            lines.push(format!("Amount disputed: {amount}"));
            if let Some(reason) = d.and_then(DisputeFact::reason) {
                lines.push(format!("Reason: {}", bounded(reason, VALUE_MAX)));
            }
            if let Some(due) = d.and_then(DisputeFact::due_by) {
                lines.push(format!("Deadline was: {}", deadline_words(due)));
            }
            (
                format!("Evidence submitted automatically: {amount}"),
                format!(
                    "The evidence for a {what} was submitted to Stripe automatically under your \
                     dispute settings. The bank decides now; nothing more can be sent."
                ),
            )
        }
        Occasion::DeliveryFailed { status, detail, .. } => {
            let what = match status.as_str() {
                "bounced" => "bounced",
                "complained" => "drew a spam complaint",
                _ => "was rejected",
            };
            lines.push(format!("Amount: {order_amount}"));
            if let Some(product) = facts.product_name() {
                lines.push(format!("Product: {}", bounded(product, VALUE_MAX)));
            }
            if !detail.is_empty() {
                lines.push(format!("Detail: {}", bounded(detail, VALUE_MAX)));
            }
            (
                format!("Download email {what}: order {order_id}"),
                format!(
                    "The download email of an order {what}, so the customer may not have their \
                     file. Check the address with the customer and send it again from the order's \
                     page (Resend)."
                ),
            )
        }
        Occasion::FraudWarning { warning_id } => {
            let action = facts.warning_actions.get(warning_id)?;
            let decided = action.decided?;
            // Our own sentence, said to the seller.
            let words = decided
                .decision
                .words()
                .replace("the seller's rule", "your rule");
            let (subject, outcome) = if action.requested.is_some() {
                (
                    "Early fraud warning: refunded automatically".to_owned(),
                    format!("The payment was {words}."),
                )
            } else if decided.decision.refunds() {
                (
                    "Early fraud warning: the automatic refund failed".to_owned(),
                    "The automatic refund under your rule failed; it will be retried. Check the \
                     order's page."
                        .to_owned(),
                )
            } else {
                // A refund now is worth suggesting only where one is still possible and useful.
                let suggest = matches!(
                    decided.decision,
                    EfwDecision::SettingOff | EfwDecision::Downloaded | EfwDecision::NoStripeKey
                );
                let advice = if suggest {
                    " Consider refunding it yourself: a refund now usually avoids a fraud \
                     dispute and its fee."
                } else {
                    ""
                };
                (
                    "Early fraud warning: not refunded".to_owned(),
                    format!("The payment was {words}.{advice}"),
                )
            };
            lines.push(format!("Amount: {order_amount}"));
            if let Some(kind) = facts
                .fraud_warnings
                .get(warning_id)
                .and_then(|w| w.fraud_type.as_ref())
            {
                // Stripe's code in words where we know it; a newer code as Stripe sent it.
                let kind = FraudType::from_code(&kind.value)
                    .map(|t| t.words().to_owned())
                    .unwrap_or_else(|| bounded(&kind.value, VALUE_MAX));
                lines.push(format!("Fraud type: {kind}"));
            }
            (
                subject,
                format!(
                    "The card issuer reported this payment as likely fraud (an early fraud \
                     warning). {outcome}"
                ),
            )
        }
    };

    let heading = heading(store_name.as_deref(), &record.seller_id);
    let mut text = format!("{heading}\n\n{opening}\n\nOrder: {order_id}\n");
    if let Some(reference) = facts.reference() {
        text.push_str(&format!("Reference: {}\n", bounded(reference, VALUE_MAX)));
    }
    for line in &lines {
        text.push_str(line);
        text.push('\n');
    }
    text.push_str(&format!(
        "\nOpen the order:\n{page}\n\n\
         You get this email because {} notifications are on in your settings.\n",
        occurrence.kind.as_str().replace('_', " ")
    ));

    let prefix = store_name.map(|n| format!("{n}: ")).unwrap_or_default();
    let subject = bounded(&format!("{prefix}{subject}"), SUBJECT_MAX);
    let html = html_of(&text);
    Some(OutgoingEmail {
        to,
        reply_to: None,
        subject,
        text,
        html,
        order_id: record.order_id.clone(),
        seller_id: record.seller_id.clone(),
        about: EmailAbout::Seller(occurrence.kind),
    })
}

/// The planned automatic submission, or why there is none, as the order's JSON says it
/// (`auto_submit_at` / `auto_submit_skipped`); before the sweep has planned it, what the
/// seller's setting will make of it.
fn auto_submission(
    record: &OrderRecord,
    dispute_id: &str,
    d: &DisputeFact,
    settings: &SellerSettings,
) -> String {
    if d.is_compliance() {
        return "none: a compliance case is never filed automatically; decide on the order's page"
            .to_owned();
    }
    let evidence: Option<&EvidenceFact> =
        crate::order::view::current_evidence(&record.facts, dispute_id, d);
    if evidence.is_some_and(|e| e.submitted_at.is_some()) {
        return "none: the evidence was already submitted".to_owned();
    }
    if let Some(at) = evidence.and_then(EvidenceFact::auto_submit_at) {
        return format!(
            "planned for {} unless you submit or accept first",
            deadline_words(at)
        );
    }
    if let Some(why) = evidence
        .and_then(|e| e.plan.as_ref())
        .and_then(|p| p.value.why.as_deref())
    {
        return format!("none: {}", why_words(why));
    }
    let Some(due) = d.due_by() else {
        return "none: there is no deadline to respond".to_owned();
    };
    let at = deadline_words(due - settings.auto_submit_lead_secs());
    match settings.dispute_auto_submit {
        AutoSubmit::Off => format!("none: {}", why_words("setting_off")),
        AutoSubmit::Always => format!("planned for {at} unless you submit or accept first"),
        AutoSubmit::StrongEvidence => format!(
            "planned for {at} if the customer downloaded the product after the email or Visa \
             Compelling Evidence 3.0 applies; otherwise none (the order's page shows the plan)"
        ),
    }
}

/// `auto_submit_skipped`'s words (a `sweep::NoAutoSubmit` word), in the seller's language.
fn why_words(why: &str) -> String {
    match why {
        "setting_off" => "automatic submission is off in your settings".to_owned(),
        "no_strong_evidence" => "the customer has not downloaded the product since the email \
                                 and Visa Compelling Evidence 3.0 does not apply"
            .to_owned(),
        "past_due" => "the deadline has passed".to_owned(),
        other => bounded(other, VALUE_MAX),
    }
}

/// The HTML part: the text's lines, escaped, the order page's link clickable.
fn html_of(text: &str) -> String {
    let mut body = String::new();
    for line in text.lines() {
        let escaped = html_escape(line);
        if line.starts_with("https://") || line.starts_with("http://") {
            body.push_str(&format!("<a href=\"{escaped}\">{escaped}</a><br>\n"));
        } else {
            body.push_str(&format!("{escaped}<br>\n"));
        }
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"></head>\n\
         <body style=\"font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;\
         color:#111827;font-size:15px;line-height:1.5\">\n{body}</body></html>\n"
    )
}

/// The `failure_pattern` email: the window's counts, the rule, the advice, and the dashboard.
/// About no one order (its `order_id` is empty; the outbox names it by its kind).
pub fn compose_failure_pattern(
    seller_id: &str,
    tally: &crate::order::failure_tally::FailureTally,
    days: i64,
    store: &StoreIdentity,
    public_base_url: &str,
    to: &str,
) -> Option<OutgoingEmail> {
    use crate::order::failure_tally::{ADVICE_SUSPECTED, RULE};
    let to = recipient(to)?;
    let store_name = store.name_for(None);
    let heading = heading(store_name.as_deref(), seller_id);
    let mut text = format!(
        "{heading}\n\n\
         Many different customers' payments are failing: this looks like a problem with your \
         payment configuration rather than with their cards.\n\n\
         In the last {days} days: {} failed payments from {} different customers, among {} orders \
         ({:.0}% failed).\n",
        tally.failed_payments,
        tally.distinct_customers(),
        tally.total_orders,
        tally.failure_rate() * 100.0
    );
    for (category, count) in &tally.by_category {
        if count.failed_payments > 0 {
            text.push_str(&format!(
                "- {}: {}\n",
                category.as_str().replace('_', " "),
                count.failed_payments
            ));
        }
    }
    let dashboard = format!("{}/dashboard", public_base_url.trim_end_matches('/'));
    text.push_str(&format!(
        "\n{ADVICE_SUSPECTED}\n\nThe rule: {RULE}.\n\nOpen your dashboard:\n{dashboard}\n\n\
         You get this email at most once a day because failure pattern notifications are on in \
         your settings.\n"
    ));
    let prefix = store_name.map(|n| format!("{n}: ")).unwrap_or_default();
    Some(OutgoingEmail {
        to,
        reply_to: None,
        subject: bounded(
            &format!("{prefix}Payments are failing for many customers"),
            SUBJECT_MAX,
        ),
        html: html_of(&text),
        text,
        order_id: String::new(),
        seller_id: seller_id.to_owned(),
        about: EmailAbout::Seller(crate::order::notices::NoticeKind::FailurePattern),
    })
}
