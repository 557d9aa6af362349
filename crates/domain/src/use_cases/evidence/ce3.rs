//! Visa Compelling Evidence 3.0 (contract section 9.5): which disputes it answers, which earlier
//! orders of the same seller qualify as the buyer's prior undisputed purchases, and the
//! `enhanced_evidence.visa_compelling_evidence_3` Stripe takes. Pure functions of orders: the
//! caller reads the candidates (the seller's orders on the disputed card, [`window`]) from the
//! store and files what [`evidence`] builds.
//!
//! Visa's rule (Visa Core Rules, dispute condition 10.4 "Other Fraud: Card-Absent Environment",
//! the Compelling Evidence 3.0 remedy, in force since April 2023) as Stripe describes it
//! (<https://support.stripe.com/questions/how-does-stripe-support-visa-compelling-evidence-3-0>,
//! <https://docs.stripe.com/disputes/api/visa-ce3>): two earlier transactions on the same card,
//! with no fraud reported, processed 120 to 365 days before the disputed one, sharing identifying
//! data with it. Which data must match is the contract's (section 9.5): at least two of purchase
//! IP, device fingerprint and customer account id, or one of those and the customer email.

use serde::Serialize;

use crate::order::OrderRecord;
use crate::PaymentStatus;

/// Visa's dispute condition "Other Fraud: Card-Absent Environment".
pub const FRAUD_NETWORK_REASON_CODE: &str = "10.4";
/// Stripe's dispute reason for a fraud claim, used when Stripe gives no network reason code.
pub const FRAUD_REASON: &str = "fraudulent";
/// The prior transactions are 120 to 365 whole UTC days older than the disputed one, both
/// bounds included.
pub const MIN_DAYS: i64 = 120;
pub const MAX_DAYS: i64 = 365;
/// Visa asks for two prior undisputed transactions.
pub const PRIOR_TRANSACTIONS: usize = 2;
/// What a digital product is for `merchandise_or_services` (Stripe: `merchandise` or
/// `services`).
pub const MERCHANDISE: &str = "merchandise";

const DAY: i64 = 86_400;

/// Whether the dispute is a Visa fraud dispute: the paying card is a Visa, and the network
/// reason code is 10.4, or, when Stripe gives none, the reason is `fraudulent`.
pub fn is_visa_fraud(
    card_brand: Option<&str>,
    network_reason_code: Option<&str>,
    reason: Option<&str>,
) -> bool {
    if card_brand != Some("visa") {
        return false;
    }
    match network_reason_code.map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) => code == FRAUD_NETWORK_REASON_CODE,
        None => reason == Some(FRAUD_REASON),
    }
}

/// Whole UTC days between two instants' dates (`later`'s date minus `earlier`'s).
pub fn whole_days_between(earlier: i64, later: i64) -> i64 {
    later.div_euclid(DAY) - earlier.div_euclid(DAY)
}

/// The `created` range (inclusive, seconds) in which a prior order of an order created at
/// `disputed_created` may lie: from the first second of the date 365 days before to the last
/// second of the date 120 days before. What the store reads on the card's index.
pub fn window(disputed_created: i64) -> (i64, i64) {
    let day = disputed_created.div_euclid(DAY);
    ((day - MAX_DAYS) * DAY, (day - MIN_DAYS + 1) * DAY - 1)
}

/// Where the card index lists an order: its card's brand, the month of its `created_at`, and
/// the card's fingerprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexedCard<'a> {
    /// Stripe's brand (`visa`, `mastercard`, …), `unknown` when Stripe gave none.
    pub brand: &'a str,
    pub month: crate::rates::Month,
    pub fingerprint: &'a str,
}

/// How the card index lists the order, if it does: an order that succeeded, paid by its card's
/// succeeded charge (with a fingerprint), whose `created_at` is settled (a provisional one
/// would move its entry when its PaymentIntent arrives: it is listed then). Orders without a
/// card pay nothing for the index. The same entries count the sales per brand of a month
/// (`rates`).
pub fn indexed_card(order: &OrderRecord) -> Option<IndexedCard<'_>> {
    if !order.facts.succeeded() || order.created_at_provisional() {
        return None;
    }
    let card = order
        .facts
        .card
        .as_ref()
        .filter(|c| c.rank == crate::order::facts::source::billing::SUCCEEDED_CHARGE)?;
    Some(IndexedCard {
        brand: card.value.brand.as_deref().unwrap_or("unknown"),
        month: crate::rates::Month::of(order.facts.created_at()),
        fingerprint: card.value.fingerprint.as_deref()?,
    })
}

/// Why an order is not a prior undisputed transaction of the disputed one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exclusion {
    /// Another seller's order: never considered.
    OtherSeller,
    /// The disputed order itself.
    SameOrder,
    /// Not paid with the disputed card (or either card is unknown).
    OtherCard,
    /// Never succeeded (failed, pending, canceled), or no charge is known to have paid it (the
    /// evidence names the charge).
    NotSucceeded,
    FullyRefunded,
    /// It has a dispute of its own (any status).
    Disputed,
    /// An early fraud warning was reported on it.
    Warned,
    /// Fewer than 120 whole days before the disputed order.
    TooRecent,
    /// More than 365 whole days before.
    TooOld,
    /// Not enough identifying data in common (two of IP / device / account, or one and email).
    TooFewMatches,
}

fn value<T: AsRef<str>>(r: &Option<crate::order::facts::Reg<T>>) -> Option<&str> {
    r.as_ref()
        .map(|r| r.value.as_ref().trim())
        .filter(|v| !v.is_empty())
}

fn fingerprint(order: &OrderRecord) -> Option<&str> {
    order
        .facts
        .card
        .as_ref()
        .and_then(|c| c.value.fingerprint.as_deref())
}

/// How many of purchase IP, device fingerprint and customer account id the two orders share
/// (both known and equal), and whether their emails are equal (case-insensitive).
fn matches(a: &OrderRecord, b: &OrderRecord) -> (usize, bool) {
    let (fa, fb) = (&a.facts, &b.facts);
    let same = |x: Option<&str>, y: Option<&str>| matches!((x, y), (Some(x), Some(y)) if x == y);
    let identifiers = [
        same(value(&fa.customer_ip), value(&fb.customer_ip)),
        same(value(&fa.device_fingerprint), value(&fb.device_fingerprint)),
        same(
            value(&fa.customer_account_id),
            value(&fb.customer_account_id),
        ),
    ]
    .into_iter()
    .filter(|m| *m)
    .count();
    let email = matches!(
        (value(&fa.customer_email), value(&fb.customer_email)),
        (Some(x), Some(y)) if x.eq_ignore_ascii_case(y)
    );
    (identifiers, email)
}

/// Whether `prior` is a prior undisputed transaction of `disputed` (contract section 9.5), or
/// the first reason it is not.
pub fn check_prior(disputed: &OrderRecord, prior: &OrderRecord) -> Result<(), Exclusion> {
    if prior.seller_id != disputed.seller_id {
        return Err(Exclusion::OtherSeller);
    }
    if prior.order_id == disputed.order_id {
        return Err(Exclusion::SameOrder);
    }
    match (fingerprint(disputed), fingerprint(prior)) {
        (Some(a), Some(b)) if a == b => {}
        _ => return Err(Exclusion::OtherCard),
    }
    let f = &prior.facts;
    if !f.succeeded() || f.paid_charge().is_none() {
        return Err(Exclusion::NotSucceeded);
    }
    if f.payment_status() == PaymentStatus::Refunded {
        return Err(Exclusion::FullyRefunded);
    }
    if !f.disputes.is_empty() {
        return Err(Exclusion::Disputed);
    }
    if !f.fraud_warnings.is_empty() {
        return Err(Exclusion::Warned);
    }
    let days = whole_days_between(f.created_at(), disputed.facts.created_at());
    if days < MIN_DAYS {
        return Err(Exclusion::TooRecent);
    }
    if days > MAX_DAYS {
        return Err(Exclusion::TooOld);
    }
    match matches(disputed, prior) {
        (2.., _) | (1, true) => Ok(()),
        _ => Err(Exclusion::TooFewMatches),
    }
}

/// The qualifying prior orders among `candidates`, the newest first (by `created`, then order
/// id), at most [`PRIOR_TRANSACTIONS`]: what `ce3.qualifying_orders` lists.
pub fn qualifying<'a>(
    disputed: &OrderRecord,
    candidates: impl IntoIterator<Item = &'a OrderRecord>,
) -> Vec<&'a OrderRecord> {
    let mut found: Vec<&OrderRecord> = candidates
        .into_iter()
        .filter(|c| check_prior(disputed, c).is_ok())
        .collect();
    found.sort_by(|a, b| {
        (b.facts.created_at(), &b.order_id).cmp(&(a.facts.created_at(), &a.order_id))
    });
    found.dedup_by(|a, b| a.order_id == b.order_id);
    found.truncate(PRIOR_TRANSACTIONS);
    found
}

/// The disputed transaction as Stripe's `visa_compelling_evidence_3.disputed_transaction`;
/// unknown fields are left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisputedTransaction {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_device_fingerprint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_email_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_purchase_ip: Option<String>,
    pub merchandise_or_services: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_description: Option<String>,
}

/// One of `visa_compelling_evidence_3.prior_undisputed_transactions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PriorTransaction {
    /// The prior order's charge (Stripe's `charge` id).
    pub charge: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_device_fingerprint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_email_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_purchase_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_description: Option<String>,
}

/// `evidence.enhanced_evidence.visa_compelling_evidence_3`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VisaCe3 {
    pub disputed_transaction: DisputedTransaction,
    pub prior_undisputed_transactions: Vec<PriorTransaction>,
}

fn owned(v: Option<&str>) -> Option<String> {
    v.map(str::to_owned)
}

/// CE 3.0 evidence for `disputed` when at least two of `candidates` qualify (the two newest),
/// else `None`. Whether the dispute is a Visa fraud dispute ([`is_visa_fraud`]) is the
/// caller's to check first: it needs the dispute's reason and network reason code.
pub fn evidence<'a>(
    disputed: &OrderRecord,
    candidates: impl IntoIterator<Item = &'a OrderRecord>,
) -> Option<VisaCe3> {
    let priors = qualifying(disputed, candidates);
    if priors.len() < PRIOR_TRANSACTIONS {
        return None;
    }
    let f = &disputed.facts;
    let prior_undisputed_transactions = priors
        .iter()
        .map(|p| {
            let pf = &p.facts;
            PriorTransaction {
                charge: pf.paid_charge().unwrap_or_default().to_owned(),
                customer_account_id: owned(value(&pf.customer_account_id)),
                customer_device_fingerprint: owned(value(&pf.device_fingerprint)),
                customer_email_address: owned(value(&pf.customer_email)),
                customer_purchase_ip: owned(value(&pf.customer_ip)),
                product_description: owned(pf.product_name()),
            }
        })
        .collect();
    Some(VisaCe3 {
        disputed_transaction: DisputedTransaction {
            customer_account_id: owned(value(&f.customer_account_id)),
            customer_device_fingerprint: owned(value(&f.device_fingerprint)),
            customer_email_address: owned(value(&f.customer_email)),
            customer_purchase_ip: owned(value(&f.customer_ip)),
            merchandise_or_services: MERCHANDISE,
            product_description: owned(f.product_name()),
        },
        prior_undisputed_transactions,
    })
}

impl VisaCe3 {
    /// The evidence as Stripe's form fields, keys relative to `evidence`
    /// (`enhanced_evidence[visa_compelling_evidence_3][disputed_transaction][customer_purchase_ip]`,
    /// `…[prior_undisputed_transactions][0][charge]`), in a stable order.
    pub fn form_fields(&self) -> Vec<(String, String)> {
        const ROOT: &str = "enhanced_evidence[visa_compelling_evidence_3]";
        let mut out = Vec::new();
        let mut push = |key: String, v: &Option<String>| {
            if let Some(v) = v {
                out.push((key, v.clone()));
            }
        };
        let d = &self.disputed_transaction;
        let base = format!("{ROOT}[disputed_transaction]");
        push(
            format!("{base}[customer_account_id]"),
            &d.customer_account_id,
        );
        push(
            format!("{base}[customer_device_fingerprint]"),
            &d.customer_device_fingerprint,
        );
        push(
            format!("{base}[customer_email_address]"),
            &d.customer_email_address,
        );
        push(
            format!("{base}[customer_purchase_ip]"),
            &d.customer_purchase_ip,
        );
        push(
            format!("{base}[merchandise_or_services]"),
            &Some(d.merchandise_or_services.to_owned()),
        );
        push(
            format!("{base}[product_description]"),
            &d.product_description,
        );
        for (i, p) in self.prior_undisputed_transactions.iter().enumerate() {
            let base = format!("{ROOT}[prior_undisputed_transactions][{i}]");
            push(format!("{base}[charge]"), &Some(p.charge.clone()));
            push(
                format!("{base}[customer_account_id]"),
                &p.customer_account_id,
            );
            push(
                format!("{base}[customer_device_fingerprint]"),
                &p.customer_device_fingerprint,
            );
            push(
                format!("{base}[customer_email_address]"),
                &p.customer_email_address,
            );
            push(
                format!("{base}[customer_purchase_ip]"),
                &p.customer_purchase_ip,
            );
            push(
                format!("{base}[product_description]"),
                &p.product_description,
            );
        }
        out
    }
}

/// How many of the card's orders in the window one lookup reads at most: a returning buyer's
/// purchases on one card over nine months; past it the newest are read.
pub const MAX_CANDIDATES: usize = 50;

/// What CE 3.0 says of one dispute: the qualifying earlier orders (newest first, at most two:
/// `ce3.qualifying_orders`) and, when there are two, the evidence to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub qualifying_orders: Vec<String>,
    pub evidence: Option<VisaCe3>,
}

/// CE 3.0 for a dispute of `disputed`: `None` when it is not a Visa fraud dispute
/// ([`is_visa_fraud`]: the order's card brand, the dispute's network reason code and reason);
/// else the seller's earlier orders on the card, read from the card index within [`window`],
/// and what qualifies. What the dispute's `ce3` shows and what the filing sends.
pub async fn lookup(
    store: &dyn crate::ports::OrderStore,
    disputed: &OrderRecord,
    network_reason_code: Option<&str>,
    reason: Option<&str>,
) -> Result<Option<Lookup>, crate::ports::StoreError> {
    let card = disputed.facts.card.as_ref().map(|c| &c.value);
    let brand = card.and_then(|c| c.brand.as_deref());
    if !is_visa_fraud(brand, network_reason_code, reason) {
        return Ok(None);
    }
    let Some(fingerprint) = card.and_then(|c| c.fingerprint.as_deref()) else {
        return Ok(Some(Lookup {
            qualifying_orders: Vec::new(),
            evidence: None,
        }));
    };
    let (from, to) = window(disputed.facts.created_at());
    let candidates = store
        .list_orders_by_card(
            &disputed.seller_id,
            brand.unwrap_or("visa"),
            fingerprint,
            from,
            to,
            MAX_CANDIDATES,
        )
        .await?;
    Ok(Some(Lookup {
        qualifying_orders: qualifying(disputed, &candidates)
            .iter()
            .map(|o| o.order_id.clone())
            .collect(),
        evidence: evidence(disputed, &candidates),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::facts::{CardFact, DisputeFact, FraudWarningFact, RefundFact, Reg};

    const SELLER: &str = "acct_1Seller";
    const CARD: &str = "Xt5EWLLDS7FJjR1c";
    /// 2026-06-15T12:00:00Z: the disputed order's purchase.
    const DISPUTED_AT: i64 = 1_781_524_800;

    fn days_before(days: i64) -> i64 {
        DISPUTED_AT - days * DAY
    }

    /// A paid order on `CARD` with the buyer's IP, device, account and email.
    fn order(id: &str, created: i64) -> OrderRecord {
        let mut r = OrderRecord::new(SELLER, id);
        let f = &mut r.facts;
        f.pi_created = Some(created);
        f.succeeded_at = Some(created + 5);
        f.amount = Some(Reg::new(3, created, 2500));
        f.currency = Some(Reg::new(3, created, "usd".into()));
        f.product_name = Some(Reg::new(3, created, "Cinematic LUT Pack".into()));
        f.customer_email = Some(Reg::new(4, created, "jordan.lee@example.com".into()));
        f.customer_ip = Some(Reg::new(2, created, "203.0.113.9".into()));
        f.device_fingerprint = Some(Reg::new(2, created, "fp_3b8d0c1e9a7f4d2b6c5e".into()));
        f.customer_account_id = Some(Reg::new(2, created, "user_4821".into()));
        f.charges.insert(format!("ch_{id}"));
        f.card = Some(Reg::new(
            2,
            created,
            CardFact {
                fingerprint: Some(CARD.into()),
                brand: Some("visa".into()),
            },
        ));
        r
    }

    fn disputed() -> OrderRecord {
        order("pi_disputed", DISPUTED_AT)
    }

    fn ids(found: &[&OrderRecord]) -> Vec<String> {
        found.iter().map(|o| o.order_id.clone()).collect()
    }

    #[test]
    fn given_visa_cards_and_reason_codes_when_checked_then_only_visa_10_4_or_fraudulent_without_a_code_is_ce3(
    ) {
        // GIVEN / WHEN / THEN: brand, network reason code, reason → a Visa fraud dispute?
        let cases = [
            (Some("visa"), Some("10.4"), Some("fraudulent"), true),
            (Some("visa"), Some("10.4"), Some("general"), true),
            (Some("visa"), Some(" 10.4 "), None, true),
            (Some("visa"), None, Some("fraudulent"), true),
            (Some("visa"), Some(""), Some("fraudulent"), true),
            // another Visa condition: not CE 3.0, whatever the reason says
            (Some("visa"), Some("13.1"), Some("fraudulent"), false),
            (Some("visa"), Some("10.5"), Some("fraudulent"), false),
            (Some("visa"), None, Some("product_not_received"), false),
            (Some("visa"), None, None, false),
            // other brands, or an unknown brand: never
            (Some("mastercard"), Some("4837"), Some("fraudulent"), false),
            (Some("mastercard"), None, Some("fraudulent"), false),
            (Some("amex"), Some("10.4"), Some("fraudulent"), false),
            (None, Some("10.4"), Some("fraudulent"), false),
        ];
        for (brand, code, reason, expected) in cases {
            assert_eq!(
                is_visa_fraud(brand, code, reason),
                expected,
                "{brand:?} {code:?} {reason:?}"
            );
        }
    }

    #[test]
    fn given_prior_orders_around_the_day_bounds_when_checked_then_120_and_365_whole_days_are_both_included(
    ) {
        let d = disputed();
        // GIVEN orders at the bounds, counted in whole UTC days between the two dates
        let cases = [
            (days_before(119), Err(Exclusion::TooRecent)),
            (days_before(120), Ok(())),
            // the first second of the date 120 days before (earlier that day than the dispute)
            (days_before(120) - 12 * 3600, Ok(())),
            // the last second of the date 119 days before: one day short
            (
                days_before(119) + 11 * 3600 + 59 * 60 + 59,
                Err(Exclusion::TooRecent),
            ),
            (days_before(200), Ok(())),
            (days_before(365), Ok(())),
            // the last second of the date 365 days before: still in
            (days_before(365) + 11 * 3600 + 59 * 60 + 59, Ok(())),
            // the last second of the date 366 days before: out
            (days_before(365) - 12 * 3600 - 1, Err(Exclusion::TooOld)),
            (days_before(366), Err(Exclusion::TooOld)),
            (days_before(30), Err(Exclusion::TooRecent)),
            // an order after the disputed one is never a prior one
            (DISPUTED_AT + DAY, Err(Exclusion::TooRecent)),
        ];
        for (created, expected) in cases {
            // WHEN checked / THEN
            assert_eq!(
                check_prior(&d, &order("pi_prior", created)),
                expected,
                "created {created}"
            );
        }
        // AND the store's window holds exactly the dates that can qualify
        let (from, to) = window(DISPUTED_AT);
        assert_eq!(whole_days_between(from, DISPUTED_AT), 365);
        assert_eq!(whole_days_between(from - 1, DISPUTED_AT), 366);
        assert_eq!(whole_days_between(to, DISPUTED_AT), 120);
        assert_eq!(whole_days_between(to + 1, DISPUTED_AT), 119);
    }

    #[test]
    fn given_excluded_prior_orders_when_checked_then_each_says_why() {
        let d = disputed();
        let at = days_before(200);
        // GIVEN an earlier order that was disputed
        let mut disputed_before = order("pi_a", at);
        disputed_before.facts.disputes.insert(
            "du_1".into(),
            DisputeFact {
                state: Reg::new(5, at + 10, "won".into()),
                history: Default::default(),
                reason: None,
                amount: None,
                evidence_due_by: None,
                created: Some(at + 10),
                funds_withdrawn: false,
                funds_reinstated: false,
                ..Default::default()
            },
        );
        // AND one with an early fraud warning
        let mut warned = order("pi_b", at);
        warned.facts.fraud_warnings.insert(
            "issfr_1".into(),
            FraudWarningFact {
                actionable: Reg::new(0, at + 10, false),
                fraud_type: None,
                created: Some(at + 10),
            },
        );
        // AND one that failed, and one never paid
        let mut failed = order("pi_c", at);
        failed.facts.succeeded_at = None;
        failed.facts.attempt = Some(Reg::new(0, at, crate::order::facts::AttemptState::Failed));
        // AND one fully refunded, and one partially refunded (still a prior purchase)
        let refund = |amount| RefundFact {
            state: Reg::new(3, at + 10, "succeeded".into()),
            amount,
            created: Some(at + 10),
            failure_reason: None,
        };
        let mut refunded = order("pi_d", at);
        refunded.facts.refunds.insert("re_1".into(), refund(2500));
        let mut partly = order("pi_e", at);
        partly.facts.refunds.insert("re_2".into(), refund(500));
        // AND another seller's order on the same card fingerprint, the same order, another card
        let mut other_seller = order("pi_f", at);
        other_seller.seller_id = "acct_2Other".into();
        let mut other_card = order("pi_g", at);
        other_card.facts.card.as_mut().unwrap().value.fingerprint = Some("Zz9other".into());
        let mut no_card = order("pi_h", at);
        no_card.facts.card = None;
        // WHEN checked / THEN each is excluded for its reason, the partial refund is not
        assert_eq!(check_prior(&d, &disputed_before), Err(Exclusion::Disputed));
        assert_eq!(check_prior(&d, &warned), Err(Exclusion::Warned));
        assert_eq!(check_prior(&d, &failed), Err(Exclusion::NotSucceeded));
        assert_eq!(check_prior(&d, &refunded), Err(Exclusion::FullyRefunded));
        assert_eq!(check_prior(&d, &partly), Ok(()));
        assert_eq!(check_prior(&d, &other_seller), Err(Exclusion::OtherSeller));
        assert_eq!(check_prior(&d, &other_card), Err(Exclusion::OtherCard));
        assert_eq!(check_prior(&d, &no_card), Err(Exclusion::OtherCard));
        assert_eq!(check_prior(&d, &d), Err(Exclusion::SameOrder));
        // AND a disputed order whose card is unknown has no prior orders at all
        let mut unknown = disputed();
        unknown.facts.card = None;
        assert_eq!(
            check_prior(&unknown, &order("pi_i", at)),
            Err(Exclusion::OtherCard)
        );
    }

    #[test]
    fn given_each_combination_of_matching_elements_when_checked_then_two_identifiers_or_one_and_the_email_qualify(
    ) {
        let d = disputed();
        // GIVEN a prior order matching on a chosen subset of IP, device, account, email
        // (ip, device, account, email) → qualifies?
        let mut cases = Vec::new();
        for mask in 0u8..16 {
            let (ip, device, account, email) =
                (mask & 1 != 0, mask & 2 != 0, mask & 4 != 0, mask & 8 != 0);
            let identifiers = [ip, device, account].iter().filter(|m| **m).count();
            let expected = identifiers >= 2 || (identifiers == 1 && email);
            cases.push(((ip, device, account, email), expected));
        }
        for ((ip, device, account, email), expected) in cases {
            let mut prior = order("pi_prior", days_before(150));
            let f = &mut prior.facts;
            if !ip {
                f.customer_ip = Some(Reg::new(2, 1, "198.51.100.1".into()));
            }
            if !device {
                f.device_fingerprint = None;
            }
            if !account {
                f.customer_account_id = Some(Reg::new(2, 1, "user_other".into()));
            }
            if !email {
                f.customer_email = Some(Reg::new(4, 1, "someone.else@example.com".into()));
            }
            // WHEN checked / THEN
            let result = check_prior(&d, &prior);
            assert_eq!(
                result.is_ok(),
                expected,
                "ip {ip} device {device} account {account} email {email}: {result:?}"
            );
            if !expected {
                assert_eq!(result, Err(Exclusion::TooFewMatches));
            }
        }
        // AND the email matches whatever its case; an element known on one side only never does
        let mut prior = order("pi_prior", days_before(150));
        prior.facts.device_fingerprint = None;
        prior.facts.customer_account_id = None;
        prior.facts.customer_email = Some(Reg::new(4, 1, "Jordan.Lee@Example.com".into()));
        assert_eq!(check_prior(&d, &prior), Ok(()));
        let mut bare = disputed();
        bare.facts.customer_ip = None;
        bare.facts.device_fingerprint = None;
        assert_eq!(check_prior(&bare, &prior), Err(Exclusion::TooFewMatches));
    }

    #[test]
    fn given_several_qualifying_orders_when_chosen_then_the_two_newest_are_sent() {
        let d = disputed();
        // GIVEN four qualifying orders, an excluded newer one, and a duplicate in the input
        let candidates = vec![
            order("pi_old", days_before(300)),
            order("pi_newest", days_before(121)),
            order("pi_middle", days_before(200)),
            order("pi_oldest", days_before(365)),
            order("pi_too_recent", days_before(60)),
            order("pi_middle", days_before(200)),
        ];
        // WHEN the qualifying orders are chosen
        let found = qualifying(&d, &candidates);
        // THEN the two newest, newest first
        assert_eq!(ids(&found), ["pi_newest", "pi_middle"]);
        // AND the evidence names their charges in that order
        let ce3 = evidence(&d, &candidates).expect("two qualify");
        let charges: Vec<&str> = ce3
            .prior_undisputed_transactions
            .iter()
            .map(|p| p.charge.as_str())
            .collect();
        assert_eq!(charges, ["ch_pi_newest", "ch_pi_middle"]);
    }

    #[test]
    fn given_one_qualifying_order_when_built_then_there_is_no_ce3_evidence() {
        let d = disputed();
        // GIVEN one qualifying order and one a day short
        let candidates = [
            order("pi_ok", days_before(130)),
            order("pi_short", days_before(119)),
        ];
        // WHEN built / THEN nothing (Visa asks for two), but the one is listed
        assert_eq!(evidence(&d, &candidates), None);
        assert_eq!(ids(&qualifying(&d, &candidates)), ["pi_ok"]);
        assert_eq!(evidence(&d, []), None);
    }

    #[test]
    fn given_two_qualifying_orders_when_built_then_stripe_s_fields_with_unknown_ones_left_out() {
        // GIVEN a disputed order without an account id, and priors with and without a device
        let mut d = disputed();
        d.facts.customer_account_id = None;
        let first = order("pi_1", days_before(130));
        let mut second = order("pi_2", days_before(140));
        second.facts.device_fingerprint = None;
        // WHEN built
        let ce3 = evidence(&d, [&first, &second]).expect("two qualify");
        // THEN Stripe's object, unknown fields absent, merchandise on the disputed one only
        let json = serde_json::to_value(&ce3).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "disputed_transaction": {
                    "customer_device_fingerprint": "fp_3b8d0c1e9a7f4d2b6c5e",
                    "customer_email_address": "jordan.lee@example.com",
                    "customer_purchase_ip": "203.0.113.9",
                    "merchandise_or_services": "merchandise",
                    "product_description": "Cinematic LUT Pack"
                },
                "prior_undisputed_transactions": [
                    {
                        "charge": "ch_pi_1",
                        "customer_account_id": "user_4821",
                        "customer_device_fingerprint": "fp_3b8d0c1e9a7f4d2b6c5e",
                        "customer_email_address": "jordan.lee@example.com",
                        "customer_purchase_ip": "203.0.113.9",
                        "product_description": "Cinematic LUT Pack"
                    },
                    {
                        "charge": "ch_pi_2",
                        "customer_account_id": "user_4821",
                        "customer_email_address": "jordan.lee@example.com",
                        "customer_purchase_ip": "203.0.113.9",
                        "product_description": "Cinematic LUT Pack"
                    }
                ]
            })
        );
        // AND as form fields, keyed under `evidence`
        let fields = ce3.form_fields();
        let get = |k: &str| {
            fields
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        let root = "enhanced_evidence[visa_compelling_evidence_3]";
        assert_eq!(
            get(&format!(
                "{root}[disputed_transaction][merchandise_or_services]"
            )),
            Some("merchandise")
        );
        assert_eq!(
            get(&format!("{root}[prior_undisputed_transactions][1][charge]")),
            Some("ch_pi_2")
        );
        assert_eq!(
            get(&format!(
                "{root}[disputed_transaction][customer_account_id]"
            )),
            None
        );
        assert_eq!(
            get(&format!(
                "{root}[prior_undisputed_transactions][1][customer_device_fingerprint]"
            )),
            None
        );
        assert!(fields
            .iter()
            .all(|(k, _)| !k.contains("prior_undisputed_transactions][0][merchandise")));
        assert_eq!(fields.len(), 5 + 6 + 5);
    }

    #[tokio::test]
    async fn given_a_store_with_a_returning_buyer_when_looked_up_then_the_dispute_gets_its_evidence(
    ) {
        use crate::memory_store::MemoryStore;
        use crate::ports::OrderStore;
        // GIVEN the disputed order and three earlier ones on the card in the store, one of them
        // another seller's
        let store = MemoryStore::new();
        let d = disputed();
        let mut theirs = order("pi_theirs", days_before(125));
        theirs.seller_id = "acct_2Other".into();
        for o in [
            d.clone(),
            order("pi_a", days_before(130)),
            order("pi_b", days_before(300)),
            theirs,
        ] {
            store.put_order(&o, None, &[]).await.unwrap();
        }
        // WHEN a Visa 10.4 dispute is looked up
        let found = lookup(&store, &d, Some("10.4"), Some("fraudulent"))
            .await
            .unwrap()
            .expect("a Visa fraud dispute");
        // THEN the seller's two earlier orders qualify and make the evidence
        assert_eq!(found.qualifying_orders, ["pi_a", "pi_b"]);
        assert_eq!(
            found.evidence.unwrap().prior_undisputed_transactions.len(),
            2
        );
        // AND a dispute that is not a Visa fraud dispute has no CE 3.0 at all
        assert_eq!(
            lookup(&store, &d, Some("13.1"), Some("product_not_received"))
                .await
                .unwrap(),
            None
        );
        // AND a Visa fraud dispute whose card has no fingerprint has CE 3.0, with nothing found
        let mut bare = d.clone();
        bare.facts.card.as_mut().unwrap().value.fingerprint = None;
        let found = lookup(&store, &bare, None, Some("fraudulent"))
            .await
            .unwrap()
            .unwrap();
        assert!(found.qualifying_orders.is_empty() && found.evidence.is_none());
    }
}
