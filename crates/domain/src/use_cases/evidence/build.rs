//! The evidence builder: pure. The order, its downloads, the delivery receipt, what we know of the
//! buyer and the seller's statement in; Stripe's evidence fields and the receipt document out.
//!
//! Every value from Stripe or the storefront is untrusted text: control characters (newlines
//! included) are replaced before it goes into a field, so one access stays one line of the log
//! and nobody can forge a line. Generated text is cut to Stripe's limits and marked where cut; the
//! seller's statement is never cut (it is refused past [`MAX_STATEMENT_CHARS`] instead).

use std::collections::BTreeMap;

use super::{
    CustomerDetails, DeliveryReceipt, DisputeReason, EvidenceField, CUT_MARK, MAX_FIELD_CHARS,
    MAX_STATEMENT_CHARS, MAX_TOTAL_CHARS,
};
use crate::clock::rfc3339;
use crate::ports::DownloadEntry;
use crate::OrderRecord;

/// Longest single value (a user agent, a product name) taken from outside, in characters.
const MAX_VALUE_CHARS: usize = 500;

/// Everything the builder reads.
#[derive(Debug, Clone, Copy)]
pub struct EvidenceInput<'a> {
    pub record: &'a OrderRecord,
    pub dispute_id: &'a str,
    /// The order's download log, oldest first.
    pub downloads: &'a [DownloadEntry],
    /// The SES `Delivery` event of the confirmation email, when one is recorded.
    pub delivery: Option<&'a DeliveryReceipt>,
    pub customer: &'a CustomerDetails,
    /// The store's name (metadata `store_name`), when known.
    pub store_name: Option<&'a str>,
    /// The seller's own words, at most [`MAX_STATEMENT_CHARS`].
    pub statement: Option<&'a str>,
    /// The seller's refund policy (section 11), sent as a PDF, and how the customer saw it.
    pub refund_policy: Option<&'a str>,
    pub refund_policy_disclosure: Option<&'a str>,
}

/// Why the evidence cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("the statement has {chars} characters; at most {max} are accepted")]
    StatementTooLong { chars: usize, max: usize },
}

/// The order confirmation as a document (rendered to PDF at the edge): labelled lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptDocument {
    pub title: String,
    pub lines: Vec<(String, String)>,
}

/// Stripe's evidence for one dispute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltEvidence {
    pub reason: DisputeReason,
    /// Text fields by Stripe's names. The file fields' ids are added once uploaded.
    pub fields: BTreeMap<EvidenceField, String>,
    /// The order confirmation (`receipt`).
    pub receipt: ReceiptDocument,
    /// Every document to upload, by the file field it fills: `receipt`,
    /// `customer_communication` (the delivery email as sent, once one went out) and
    /// `refund_policy` (when the seller set one).
    pub files: BTreeMap<EvidenceField, ReceiptDocument>,
}

impl BuiltEvidence {
    /// Characters across all fields, as Stripe counts them against [`MAX_TOTAL_CHARS`].
    pub fn total_chars(&self) -> usize {
        self.fields.values().map(|v| v.chars().count()).sum()
    }
}

/// One field while it is being fitted: the seller's words (kept whole) and generated text (cut).
struct Draft {
    statement: Option<String>,
    generated: String,
}

const SEPARATOR: &str = "\n\n";

impl Draft {
    fn generated(text: String) -> Self {
        Draft {
            statement: None,
            generated: text,
        }
    }

    fn chars(&self) -> usize {
        let g = self.generated.chars().count();
        match &self.statement {
            Some(s) if g > 0 => s.chars().count() + SEPARATOR.len() + g,
            Some(s) => s.chars().count(),
            None => g,
        }
    }

    /// Cuts the generated part so the whole field has at most `max` characters.
    fn shrink_to(&mut self, max: usize) {
        let fixed = self
            .statement
            .as_ref()
            .map_or(0, |s| s.chars().count() + SEPARATOR.len());
        let room = max.saturating_sub(fixed);
        // Not even the mark fits: drop the generated part rather than leave a stub.
        if room <= CUT_MARK.len() {
            self.generated.clear();
        } else {
            self.generated = cut(&self.generated, room);
        }
    }

    fn finish(self) -> String {
        match self.statement {
            Some(s) if !self.generated.is_empty() => format!("{s}{SEPARATOR}{}", self.generated),
            Some(s) => s,
            None => self.generated,
        }
    }
}

/// `text` in at most `max` characters, marked with [`CUT_MARK`] when it was cut.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let keep = max.saturating_sub(CUT_MARK.chars().count());
    let mut out: String = text.chars().take(keep).collect();
    if keep > 0 {
        out.push_str(CUT_MARK);
    }
    out
}

/// Untrusted text made safe for one line: control characters become spaces, trimmed, bounded.
pub fn clean(text: &str) -> String {
    // Bidirectional controls out first (the display-text sanitiser), so evidence reads as typed.
    let replaced: String = crate::text::display_text(text)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let trimmed = replaced.trim();
    if trimmed.chars().count() > MAX_VALUE_CHARS {
        let mut out: String = trimmed.chars().take(MAX_VALUE_CHARS).collect();
        out.push('…');
        out
    } else {
        trimmed.to_owned()
    }
}

fn cleaned(value: Option<&str>) -> Option<String> {
    value.map(clean).filter(|v| !v.is_empty())
}

/// Stripe's decimals for the currency ([`crate::money::decimals`]).
fn decimals(currency: &str) -> u32 {
    crate::money::decimals(currency)
}

/// `2500 usd` → `25.00 USD`; unknown amount → `not recorded`.
pub fn format_amount(amount: Option<i64>, currency: Option<&str>) -> String {
    let Some(amount) = amount else {
        return "not recorded".into();
    };
    let code = currency.map(clean).unwrap_or_default().to_uppercase();
    let d = currency.map_or(2, decimals);
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    let major = if d == 0 {
        abs.to_string()
    } else {
        let unit = 10u64.pow(d);
        format!("{}.{:0width$}", abs / unit, abs % unit, width = d as usize)
    };
    format!("{sign}{major} {code}").trim().to_owned()
}

/// Builds the evidence for `input.dispute_id` of `input.record`.
pub fn build(input: &EvidenceInput<'_>) -> Result<BuiltEvidence, BuildError> {
    let statement = input.statement.map(str::trim).filter(|s| !s.is_empty());
    if let Some(s) = statement {
        let chars = s.chars().count();
        if chars > MAX_STATEMENT_CHARS {
            return Err(BuildError::StatementTooLong {
                chars,
                max: MAX_STATEMENT_CHARS,
            });
        }
    }
    let record = input.record;
    let facts = &record.facts;
    let dispute = facts.disputes.get(input.dispute_id);
    let reason = DisputeReason::parse(
        dispute
            .and_then(|d| d.reason.as_ref())
            .map(|r| r.value.as_str()),
    );
    let product = cleaned(facts.product_name()).unwrap_or_else(|| "the product".into());
    let amount = format_amount(facts.amount(), facts.currency());
    let purchased = rfc3339(facts.created_at());
    let email_sent = record.fulfillment.sent_at;
    let downloads = input.downloads;

    let mut drafts: BTreeMap<EvidenceField, Draft> = BTreeMap::new();
    if let Some(email) = cleaned(facts.customer_email()) {
        drafts.insert(EvidenceField::CustomerEmailAddress, Draft::generated(email));
    }
    // The store the customer bought from (metadata `store_name`): what their statement names.
    let sold_by = cleaned(input.store_name)
        .map(|s| format!(", sold by {s}"))
        .unwrap_or_default();
    drafts.insert(
        EvidenceField::ProductDescription,
        Draft::generated(format!(
            "{product}{sold_by}: a digital product, delivered by email as a download link right \
             after payment ({amount}, purchased {purchased})."
        )),
    );
    if let Some(at) = email_sent {
        // Stripe asks for a human-readable date: the day the delivery email went out.
        drafts.insert(
            EvidenceField::ServiceDate,
            Draft::generated(crate::fulfillment::purchase_date(at)),
        );
    }
    let log = access_log(record, input.delivery, downloads);
    if !log.is_empty() {
        drafts.insert(EvidenceField::AccessActivityLog, Draft::generated(log));
    }
    if let Some(ip) = cleaned(input.customer.purchase_ip.as_deref()) {
        drafts.insert(EvidenceField::CustomerPurchaseIp, Draft::generated(ip));
    }
    if let Some(name) = cleaned(input.customer.name.as_deref()) {
        drafts.insert(EvidenceField::CustomerName, Draft::generated(name));
    }
    if let Some(address) = cleaned(input.customer.billing_address.as_deref()) {
        drafts.insert(EvidenceField::BillingAddress, Draft::generated(address));
    }
    if let Some(disclosure) = input
        .refund_policy_disclosure
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        // The seller's words, already bounded by the settings (2,000 characters).
        drafts.insert(
            EvidenceField::RefundPolicyDisclosure,
            Draft {
                statement: Some(disclosure.to_owned()),
                generated: String::new(),
            },
        );
    }
    let delivered = delivered_sentence(record, input.delivery, downloads);
    match reason {
        DisputeReason::ProductNotReceived
        | DisputeReason::ProductUnacceptable
        | DisputeReason::CreditNotProcessed => {
            let refunds = refunds_sentence(record);
            drafts.insert(
                EvidenceField::RefundRefusalExplanation,
                Draft {
                    statement: statement.map(str::to_owned),
                    generated: format!("{delivered} {refunds}").trim().to_owned(),
                },
            );
        }
        DisputeReason::SubscriptionCanceled => {
            drafts.insert(
                EvidenceField::CancellationRebuttal,
                Draft::generated(format!(
                    "This was a one-time purchase of a digital product, not a subscription: \
                     there was no recurring charge to cancel. {delivered}"
                )),
            );
        }
        DisputeReason::Duplicate => {
            drafts.insert(
                EvidenceField::DuplicateChargeExplanation,
                Draft::generated(format!(
                    "This payment is one order ({}) for one purchase of {product} ({amount}) on \
                     {purchased}. Each order has its own payment and its own download link. \
                     {delivered}",
                    record.order_id
                )),
            );
        }
        DisputeReason::Fraudulent | DisputeReason::Unrecognized | DisputeReason::General => {}
    }
    drafts.insert(
        EvidenceField::UncategorizedText,
        Draft {
            statement: statement.map(str::to_owned),
            generated: summary(input, reason, &product, &amount, &purchased, &delivered),
        },
    );

    fit(&mut drafts);
    let fields = drafts
        .into_iter()
        .map(|(field, draft)| (field, draft.finish()))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let receipt = receipt(input, &product, &amount, &purchased);
    let mut files = BTreeMap::from([(EvidenceField::Receipt, receipt.clone())]);
    if let Some(email) = communication(input) {
        files.insert(EvidenceField::CustomerCommunication, email);
    }
    if let Some(policy) = input.refund_policy.map(str::trim).filter(|s| !s.is_empty()) {
        files.insert(
            EvidenceField::RefundPolicy,
            ReceiptDocument {
                title: "Refund policy".into(),
                lines: policy.lines().map(|l| (String::new(), clean(l))).collect(),
            },
        );
    }
    Ok(BuiltEvidence {
        reason,
        fields,
        receipt,
        files,
    })
}

/// Stands where the download link was: the link is the customer's key to the file.
pub const REDACTED_LINK: &str = "[download link removed]";

/// The delivery email as the customer received it (contract section 9.2): its recorded headers
/// and its text rendered again with the download link redacted, or `None` before it went out.
fn communication(input: &EvidenceInput<'_>) -> Option<ReceiptDocument> {
    let record = input.record;
    let f = &record.fulfillment;
    let sent_at = f.sent_at?;
    let store = crate::fulfillment::StoreIdentity::from_profile(input.store_name, None);
    // As sent: the recorded template version's wording (none recorded: today's template).
    let version = f
        .template_version
        .unwrap_or(crate::fulfillment::TEMPLATE_VERSION);
    let email = crate::fulfillment::compose_version(version, record, REDACTED_LINK, &store).ok()?;
    let recipient = cleaned(f.recipient.as_deref()).unwrap_or_else(|| clean(&email.to));
    let subject = cleaned(f.subject.as_deref()).unwrap_or_else(|| clean(&email.subject));
    let mut lines = vec![
        ("To".to_owned(), recipient),
        ("Subject".to_owned(), subject),
        ("Date".to_owned(), rfc3339(sent_at)),
        (
            "Message id".to_owned(),
            cleaned(f.message_id.as_deref()).unwrap_or_else(|| "not recorded".into()),
        ),
        (
            "Template".to_owned(),
            match f.template_version {
                Some(v) => format!("delivery email template version {v}, as sent"),
                None => format!(
                    "the template version was not recorded when this email was sent: rendered \
                     with today's template (version {})",
                    crate::fulfillment::TEMPLATE_VERSION
                ),
            },
        ),
        (String::new(), String::new()),
    ];
    lines.extend(email.text.lines().map(|l| (String::new(), clean(l))));
    Some(ReceiptDocument {
        title: "Delivery email".into(),
        lines,
    })
}

/// Cuts generated text until every field and the total are within Stripe's limits, the largest
/// generated text first (the access log of a much-downloaded order, usually).
fn fit(drafts: &mut BTreeMap<EvidenceField, Draft>) {
    for draft in drafts.values_mut() {
        if draft.chars() > MAX_FIELD_CHARS {
            draft.shrink_to(MAX_FIELD_CHARS);
        }
    }
    loop {
        let total: usize = drafts.values().map(Draft::chars).sum();
        if total <= MAX_TOTAL_CHARS {
            return;
        }
        let excess = total - MAX_TOTAL_CHARS;
        let Some(largest) = drafts
            .values_mut()
            .filter(|d| !d.generated.is_empty())
            .max_by_key(|d| d.generated.chars().count())
        else {
            // Only statements left: each is bounded, and there are at most two copies.
            return;
        };
        let target = largest.chars().saturating_sub(excess);
        largest.shrink_to(target);
    }
}

/// One line per access: the confirmation email, its delivery, every download (time, what, IP,
/// user agent), oldest first.
fn access_log(
    record: &OrderRecord,
    delivery: Option<&DeliveryReceipt>,
    downloads: &[DownloadEntry],
) -> String {
    let mut lines: Vec<(i64, String)> = Vec::new();
    let f = &record.fulfillment;
    if let Some(at) = f.sent_at {
        let to = cleaned(f.recipient.as_deref()).unwrap_or_else(|| "the customer".into());
        let id = cleaned(f.message_id.as_deref()).unwrap_or_else(|| "not recorded".into());
        lines.push((
            at,
            format!(
                "{} | download link emailed to {to} (message id {id}) | IP - | user agent -",
                rfc3339(at)
            ),
        ));
    }
    if let Some(d) = delivery {
        let smtp = cleaned(d.smtp_response.as_deref()).unwrap_or_else(|| "accepted".into());
        lines.push((
            d.at,
            format!(
                "{} | email delivered to the customer's mail server ({smtp}) | IP - | user agent -",
                rfc3339(d.at)
            ),
        ));
    }
    for d in downloads {
        let ip = cleaned(d.ip.as_deref()).unwrap_or_else(|| "unknown".into());
        let ua = cleaned(d.user_agent.as_deref()).unwrap_or_else(|| "unknown".into());
        lines.push((
            d.at,
            format!(
                "{} | product downloaded | IP {ip} | user agent {ua}",
                rfc3339(d.at)
            ),
        ));
    }
    lines.sort();
    lines
        .into_iter()
        .map(|(_, l)| l)
        .collect::<Vec<_>>()
        .join("\n")
}

fn delivered_sentence(
    record: &OrderRecord,
    delivery: Option<&DeliveryReceipt>,
    downloads: &[DownloadEntry],
) -> String {
    let mut out = match record.fulfillment.sent_at {
        Some(at) => format!("The download link was emailed on {}.", rfc3339(at)),
        None => "No download email has been sent.".to_owned(),
    };
    if let Some(d) = delivery {
        out.push_str(&format!(
            " The customer's mail server accepted it on {}.",
            rfc3339(d.at)
        ));
    }
    match (downloads.first(), downloads.last()) {
        (Some(first), Some(last)) => out.push_str(&format!(
            " The product was downloaded {} time(s), first on {}, last on {}.",
            downloads.len(),
            rfc3339(first.at),
            rfc3339(last.at)
        )),
        _ => out.push_str(" No download has been recorded."),
    }
    out
}

fn refunds_sentence(record: &OrderRecord) -> String {
    let f = &record.facts;
    if f.refunds.is_empty() {
        return "No refund was requested through the store.".into();
    }
    let items: Vec<String> = f
        .refunds
        .values()
        .map(|r| {
            format!(
                "{} ({})",
                format_amount(Some(r.amount), f.currency()),
                clean(r.status())
            )
        })
        .collect();
    let earlier = &f.spilled_refunds;
    let earlier = if earlier.is_empty() {
        String::new()
    } else {
        format!(
            "; and {} earlier refunds, {} of it still counted",
            earlier.count,
            format_amount(Some(earlier.active), f.currency())
        )
    };
    format!("Refunds on this order: {}{earlier}.", items.join(", "))
}

fn summary(
    input: &EvidenceInput<'_>,
    reason: DisputeReason,
    product: &str,
    amount: &str,
    purchased: &str,
    delivered: &str,
) -> String {
    let record = input.record;
    let f = &record.facts;
    let mut lines = vec![format!("Order {}", clean(&record.order_id))];
    if let Some(r) = cleaned(f.reference()) {
        lines.push(format!("Store reference: {r}"));
    }
    if let Some(store) = cleaned(input.store_name) {
        lines.push(format!("Store: {store}"));
    }
    lines.push(format!("Product: {product}"));
    lines.push(format!("Amount: {amount}"));
    lines.push(format!("Purchase date: {purchased}"));
    lines.push(format!("Payment status: {}", f.payment_status().as_str()));
    if let Some(email) = cleaned(f.customer_email()) {
        lines.push(format!("Customer email: {email}"));
    }
    lines.push(delivered.to_owned());
    if !f.refunds.is_empty() {
        lines.push(refunds_sentence(record));
    }
    lines.push(format!(
        "Dispute {} (reason: {}).",
        clean(input.dispute_id),
        reason.as_str()
    ));
    lines.join("\n")
}

fn receipt(
    input: &EvidenceInput<'_>,
    product: &str,
    amount: &str,
    purchased: &str,
) -> ReceiptDocument {
    let record = input.record;
    let f = &record.fulfillment;
    let na = || "not recorded".to_owned();
    let mut lines = vec![
        ("Order id".to_owned(), clean(&record.order_id)),
        (
            "Store".to_owned(),
            cleaned(input.store_name).unwrap_or_else(|| clean(&record.seller_id)),
        ),
        ("Product".to_owned(), product.to_owned()),
        ("Amount".to_owned(), amount.to_owned()),
        ("Purchase date".to_owned(), purchased.to_owned()),
        (
            "Recipient".to_owned(),
            cleaned(f.recipient.as_deref())
                .or_else(|| cleaned(record.facts.customer_email()))
                .unwrap_or_else(na),
        ),
        (
            "Subject".to_owned(),
            cleaned(f.subject.as_deref()).unwrap_or_else(na),
        ),
        (
            "Time sent".to_owned(),
            f.sent_at.map(rfc3339).unwrap_or_else(na),
        ),
        (
            "Message id".to_owned(),
            cleaned(f.message_id.as_deref()).unwrap_or_else(na),
        ),
    ];
    if let Some(reference) = cleaned(record.facts.reference()) {
        lines.insert(1, ("Store reference".to_owned(), reference));
    }
    if let Some(d) = input.delivery {
        lines.push(("Delivered".to_owned(), rfc3339(d.at)));
    }
    ReceiptDocument {
        title: "Order confirmation".into(),
        lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::facts::{dispute_rank, DisputeFact, Reg};
    use crate::order::FulfillmentState;
    use proptest::prelude::*;

    const T0: i64 = 1_778_227_200;

    fn disputed(reason: &str) -> OrderRecord {
        let mut r = OrderRecord::new("acct_A", "pi_ev");
        r.facts.pi_created = Some(T0);
        r.facts.amount = Some(Reg::new(0, T0, 2500));
        r.facts.currency = Some(Reg::new(0, T0, "usd".into()));
        r.facts.product_id = Some(Reg::new(0, T0, "prod_lut".into()));
        r.facts.product_name = Some(Reg::new(0, T0, "Cinematic LUT Pack".into()));
        r.facts.customer_email = Some(Reg::new(0, T0, "jordan.lee@example.com".into()));
        r.facts.succeeded_at = Some(T0 + 1);
        r.facts.disputes.insert(
            "dp_1".into(),
            DisputeFact {
                history: Default::default(),
                state: Reg::new(
                    dispute_rank("needs_response"),
                    T0 + 99,
                    "needs_response".into(),
                ),
                reason: Some(Reg::new(0, T0 + 99, reason.into())),
                amount: Some(Reg::new(0, T0 + 99, 2500)),
                evidence_due_by: Some(Reg::new(0, T0 + 99, T0 + 9 * 86_400)),
                created: Some(T0 + 99),
                funds_withdrawn: false,
                funds_reinstated: false,
                ..Default::default()
            },
        );
        r.fulfillment.state = FulfillmentState::Sent;
        r.fulfillment.sent_at = Some(T0 + 5);
        r.fulfillment.message_id = Some("msg-0001@email.amazonses.com".into());
        r.fulfillment.recipient = Some("jordan.lee@example.com".into());
        r.fulfillment.subject = Some("Your download: Cinematic LUT Pack".into());
        r
    }

    fn downloads() -> Vec<DownloadEntry> {
        vec![
            DownloadEntry {
                at: T0 + 60,
                ip: Some("203.0.113.9".into()),
                user_agent: Some("Mozilla/5.0 (Macintosh)".into()),
            },
            DownloadEntry {
                at: T0 + 3600,
                ip: Some("198.51.100.7".into()),
                user_agent: Some("curl/8.5".into()),
            },
        ]
    }

    fn built(record: &OrderRecord, statement: Option<&str>) -> BuiltEvidence {
        let d = downloads();
        let customer = CustomerDetails {
            purchase_ip: Some("203.0.113.9".into()),
            ..Default::default()
        };
        build(&EvidenceInput {
            record,
            dispute_id: "dp_1",
            downloads: &d,
            delivery: None,
            customer: &customer,
            store_name: Some("Lee Presets"),
            statement,
            refund_policy: None,
            refund_policy_disclosure: None,
        })
        .unwrap()
    }

    fn field(e: &BuiltEvidence, f: EvidenceField) -> &str {
        e.fields.get(&f).map(String::as_str).unwrap_or("")
    }

    #[test]
    fn given_every_field_we_fill_then_stripe_names_it_in_its_dispute_object() {
        // GIVEN Stripe's published dispute object
        let text = String::from_utf8(leenkies_fixtures::shared_file("official/dispute.json"))
            .expect("UTF-8");
        let dispute: serde_json::Value = serde_json::from_str(&text).unwrap();
        // THEN every field name of ours is one of its evidence keys
        for f in EvidenceField::ALL {
            assert!(
                dispute["evidence"].get(f.as_str()).is_some(),
                "{} is not a Stripe evidence field",
                f.as_str()
            );
        }
    }

    #[test]
    fn given_a_fraud_dispute_then_the_common_fields_of_section_9() {
        // GIVEN a delivered, downloaded order disputed as fraudulent
        let r = disputed("fraudulent");
        // WHEN built
        let e = built(&r, None);
        // THEN the contract's fields, no reason-specific explanation
        assert_eq!(e.reason, DisputeReason::Fraudulent);
        assert_eq!(
            field(&e, EvidenceField::CustomerEmailAddress),
            "jordan.lee@example.com"
        );
        assert_eq!(field(&e, EvidenceField::ServiceDate), "2026-05-08");
        assert_eq!(field(&e, EvidenceField::CustomerPurchaseIp), "203.0.113.9");
        assert!(field(&e, EvidenceField::ProductDescription).contains("Cinematic LUT Pack"));
        assert!(field(&e, EvidenceField::ProductDescription).contains("25.00 USD"));
        assert!(field(&e, EvidenceField::ProductDescription)
            .starts_with("Cinematic LUT Pack, sold by Lee Presets: "));
        let log: Vec<&str> = field(&e, EvidenceField::AccessActivityLog)
            .lines()
            .collect();
        assert_eq!(log.len(), 3, "{log:?}");
        assert!(log[0].starts_with("2026-05-08T08:00:05Z | download link emailed"));
        assert!(log[0].contains("msg-0001@email.amazonses.com"));
        assert_eq!(
            log[1],
            "2026-05-08T08:01:00Z | product downloaded | IP 203.0.113.9 | user agent Mozilla/5.0 (Macintosh)"
        );
        assert!(log[2].contains("IP 198.51.100.7 | user agent curl/8.5"));
        let text = field(&e, EvidenceField::UncategorizedText);
        assert!(text.starts_with("Order pi_ev\n"), "{text}");
        assert!(text.contains("Store: Lee Presets"));
        assert!(text.contains("downloaded 2 time(s)"));
        assert!(!e
            .fields
            .contains_key(&EvidenceField::RefundRefusalExplanation));
        assert!(!e.fields.contains_key(&EvidenceField::Receipt));
    }

    #[test]
    fn given_each_reason_then_its_explanation_field() {
        for (reason, expected) in [
            (
                "product_not_received",
                Some(EvidenceField::RefundRefusalExplanation),
            ),
            (
                "product_unacceptable",
                Some(EvidenceField::RefundRefusalExplanation),
            ),
            (
                "credit_not_processed",
                Some(EvidenceField::RefundRefusalExplanation),
            ),
            (
                "subscription_canceled",
                Some(EvidenceField::CancellationRebuttal),
            ),
            ("duplicate", Some(EvidenceField::DuplicateChargeExplanation)),
            ("unrecognized", None),
            ("general", None),
            ("a_reason_stripe_adds_tomorrow", None),
        ] {
            // GIVEN an order disputed for this reason
            let r = disputed(reason);
            // WHEN built
            let e = built(&r, Some("I sent it."));
            // THEN the reason's own field, and only then
            let specific = [
                EvidenceField::RefundRefusalExplanation,
                EvidenceField::CancellationRebuttal,
                EvidenceField::DuplicateChargeExplanation,
            ];
            for f in specific {
                assert_eq!(
                    e.fields.contains_key(&f),
                    expected == Some(f),
                    "{reason}: {}",
                    f.as_str()
                );
            }
            if let Some(f) = expected {
                assert!(field(&e, f).contains("2026-05-08T08:00:05Z"), "{reason}");
            }
            assert!(field(&e, EvidenceField::UncategorizedText).starts_with("I sent it.\n\n"));
        }
        assert_eq!(
            DisputeReason::parse(Some("a_reason_stripe_adds_tomorrow")),
            DisputeReason::General
        );
        assert_eq!(DisputeReason::parse(None), DisputeReason::General);
        for reason in DisputeReason::ALL {
            assert_eq!(DisputeReason::parse(Some(reason.as_str())), reason);
        }
    }

    #[test]
    fn given_a_refund_and_credit_not_processed_then_the_refund_is_named() {
        let mut r = disputed("credit_not_processed");
        r.facts.refunds.insert(
            "re_1".into(),
            crate::order::facts::RefundFact {
                state: Reg::new(2, T0 + 50, "succeeded".into()),
                amount: 500,
                created: Some(T0 + 50),
                failure_reason: None,
            },
        );
        let e = built(&r, None);
        assert!(field(&e, EvidenceField::RefundRefusalExplanation)
            .contains("Refunds on this order: 5.00 USD (succeeded)."));
    }

    #[test]
    fn given_an_undelivered_order_then_no_service_date_and_it_says_so() {
        let mut r = disputed("product_not_received");
        r.fulfillment = Default::default();
        let e = build(&EvidenceInput {
            record: &r,
            dispute_id: "dp_1",
            downloads: &[],
            delivery: None,
            customer: &CustomerDetails::default(),
            store_name: None,
            statement: None,
            refund_policy: None,
            refund_policy_disclosure: None,
        })
        .unwrap();
        assert!(!e.fields.contains_key(&EvidenceField::ServiceDate));
        assert!(!e.fields.contains_key(&EvidenceField::AccessActivityLog));
        assert!(!e.fields.contains_key(&EvidenceField::CustomerPurchaseIp));
        assert!(field(&e, EvidenceField::RefundRefusalExplanation)
            .contains("No download email has been sent."));
    }

    #[test]
    fn given_a_delivery_receipt_then_it_is_a_line_of_the_log_and_of_the_receipt() {
        let r = disputed("product_not_received");
        let receipt = DeliveryReceipt {
            at: T0 + 7,
            message_id: Some("msg-0001@email.amazonses.com".into()),
            smtp_response: Some("250 2.6.0 Message received".into()),
        };
        let e = build(&EvidenceInput {
            record: &r,
            dispute_id: "dp_1",
            downloads: &[],
            delivery: Some(&receipt),
            customer: &CustomerDetails::default(),
            store_name: None,
            statement: None,
            refund_policy: None,
            refund_policy_disclosure: None,
        })
        .unwrap();
        let log = field(&e, EvidenceField::AccessActivityLog);
        assert!(log
            .lines()
            .nth(1)
            .unwrap()
            .contains("(250 2.6.0 Message received)"));
        assert!(e
            .receipt
            .lines
            .contains(&("Delivered".to_owned(), "2026-05-08T08:00:07Z".to_owned())));
    }

    #[test]
    fn given_a_hostile_user_agent_then_it_cannot_add_a_line() {
        let r = disputed("fraudulent");
        let d = vec![DownloadEntry {
            at: T0 + 60,
            ip: Some("1.2.3.4\n2026-01-01T00:00:00Z | product downloaded".into()),
            user_agent: Some("x\r\nforged line\u{7}".into()),
        }];
        let e = build(&EvidenceInput {
            record: &r,
            dispute_id: "dp_1",
            downloads: &d,
            delivery: None,
            customer: &CustomerDetails::default(),
            store_name: None,
            statement: None,
            refund_policy: None,
            refund_policy_disclosure: None,
        })
        .unwrap();
        assert_eq!(
            field(&e, EvidenceField::AccessActivityLog).lines().count(),
            2
        );
    }

    #[test]
    fn given_a_statement_over_the_limit_then_refused_with_the_limit() {
        let r = disputed("general");
        let long = "é".repeat(MAX_STATEMENT_CHARS + 1);
        let err = build(&EvidenceInput {
            record: &r,
            dispute_id: "dp_1",
            downloads: &[],
            delivery: None,
            customer: &CustomerDetails::default(),
            store_name: None,
            statement: Some(&long),
            refund_policy: None,
            refund_policy_disclosure: None,
        })
        .unwrap_err();
        assert_eq!(
            err,
            BuildError::StatementTooLong {
                chars: 20_001,
                max: 20_000
            }
        );
        assert!(err.to_string().contains("20000"));
        // exactly at the limit (in characters, not bytes) is accepted, whole
        let ok = "é".repeat(MAX_STATEMENT_CHARS);
        let e = built(&r, Some(&ok));
        assert!(field(&e, EvidenceField::UncategorizedText).starts_with(&ok));
    }

    #[test]
    fn given_many_long_downloads_then_the_log_is_cut_and_marked() {
        let r = disputed("product_not_received");
        let d: Vec<DownloadEntry> = (0..200)
            .map(|i| DownloadEntry {
                at: T0 + i,
                ip: Some("203.0.113.9".into()),
                user_agent: Some("U".repeat(400)),
            })
            .collect();
        let e = build(&EvidenceInput {
            record: &r,
            dispute_id: "dp_1",
            downloads: &d,
            delivery: None,
            customer: &CustomerDetails::default(),
            store_name: None,
            statement: None,
            refund_policy: None,
            refund_policy_disclosure: None,
        })
        .unwrap();
        let log = field(&e, EvidenceField::AccessActivityLog);
        assert_eq!(log.chars().count(), MAX_FIELD_CHARS);
        assert!(log.ends_with(CUT_MARK));
    }

    #[test]
    fn given_fields_over_the_total_then_the_largest_generated_text_is_cut_first() {
        // GIVEN eight full fields (160,000 characters), two of them carrying a statement
        let mut drafts: BTreeMap<EvidenceField, Draft> = EvidenceField::ALL[..8]
            .iter()
            .map(|f| (*f, Draft::generated("g".repeat(MAX_FIELD_CHARS))))
            .collect();
        for f in &EvidenceField::ALL[..2] {
            drafts.insert(
                *f,
                Draft {
                    statement: Some("s".repeat(15_000)),
                    generated: "g".repeat(4_998),
                },
            );
        }
        // WHEN fitted
        fit(&mut drafts);
        // THEN the total is within the limit, statements whole, cuts marked
        let total: usize = drafts.values().map(Draft::chars).sum();
        assert!(total <= MAX_TOTAL_CHARS, "{total}");
        assert!(
            total > MAX_TOTAL_CHARS - 100,
            "cut more than needed: {total}"
        );
        for (f, d) in &drafts {
            if let Some(s) = &d.statement {
                assert_eq!(s.len(), 15_000, "{}", f.as_str());
            }
        }
        assert!(drafts.values().any(|d| d.generated.ends_with(CUT_MARK)));
    }

    #[test]
    fn given_amounts_then_major_units_by_stripes_decimals() {
        assert_eq!(format_amount(Some(2500), Some("usd")), "25.00 USD");
        assert_eq!(format_amount(Some(1000), Some("jpy")), "1000 JPY");
        assert_eq!(format_amount(Some(1234), Some("kwd")), "1.234 KWD");
        assert_eq!(format_amount(Some(-5), Some("eur")), "-0.05 EUR");
        assert_eq!(
            format_amount(Some(i64::MIN), Some("usd")),
            "-92233720368547758.08 USD"
        );
        assert_eq!(format_amount(None, Some("usd")), "not recorded");
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z@. ]{0,20}",
            ".{0,200}",
            (1usize..30_000).prop_map(|n| "x\n".repeat(n / 2)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_order_yields_fields_within_stripes_limits(
            reason in prop_oneof![Just("fraudulent".to_owned()), Just("duplicate".to_owned()),
                Just("product_not_received".to_owned()), Just("subscription_canceled".to_owned()),
                ".{0,12}"],
            email in text(),
            product in text(),
            subject in text(),
            ua in text(),
            ip in text(),
            count in 0usize..200,
            statement in prop_oneof![Just(None), ".{0,50}".prop_map(Some),
                (0usize..=MAX_STATEMENT_CHARS).prop_map(|n| Some("s".repeat(n)))],
            address in text(),
        ) {
            // GIVEN any order, however large its untrusted text and its download log
            let mut r = disputed(&reason);
            r.facts.customer_email = Some(Reg::new(0, T0, email.clone()));
            r.facts.product_name = Some(Reg::new(0, T0, product));
            r.facts.reference = Some(Reg::new(0, T0, subject.clone()));
            r.fulfillment.subject = Some(subject);
            r.fulfillment.recipient = Some(email);
            let d: Vec<DownloadEntry> = (0..count).map(|i| DownloadEntry {
                at: T0 + i as i64, ip: Some(ip.clone()), user_agent: Some(ua.clone()),
            }).collect();
            let customer = CustomerDetails {
                purchase_ip: Some(ip.clone()), name: Some(ua.clone()), billing_address: Some(address),
            };
            // WHEN built
            let e = build(&EvidenceInput {
                record: &r, dispute_id: "dp_1", downloads: &d, delivery: None,
                customer: &customer, store_name: Some(&ua), statement: statement.as_deref(),
                refund_policy: None, refund_policy_disclosure: None,
            }).unwrap();
            // THEN every field and the total are within Stripe's limits
            for (f, v) in &e.fields {
                prop_assert!(v.chars().count() <= MAX_FIELD_CHARS, "{} too long", f.as_str());
            }
            prop_assert!(e.total_chars() <= MAX_TOTAL_CHARS);
            // and the seller's words arrive whole
            if let Some(s) = statement.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                prop_assert!(e.fields[&EvidenceField::UncategorizedText].starts_with(s));
            }
            // and each access is one line at most (cut or whole)
            if let Some(log) = e.fields.get(&EvidenceField::AccessActivityLog) {
                prop_assert!(log.lines().count() <= count + 2);
            }
        }
    }
}
