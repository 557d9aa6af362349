//! The Stripe objects we read out of `data.object`, and the lenient field readers they share.
//!
//! Only the fields we use, into our own structs: unknown fields are ignored, every enum has a
//! catch-all variant, expandable references are read whether expanded or not, and a metadata
//! value that is not a string is absent rather than fatal (contract section 3).

use serde::{Deserialize, Deserializer};

/// The objects we read out of `data.object`.
#[derive(Debug, Clone)]
pub enum StripeObject {
    CheckoutSession(CheckoutSession),
    PaymentIntent(PaymentIntent),
    Charge(Charge),
    Refund(Refund),
    Dispute(Dispute),
    EarlyFraudWarning(EarlyFraudWarning),
}

/// The storefront's metadata; other keys are ignored.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Metadata {
    #[serde(default, deserialize_with = "lenient_string")]
    pub order_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub product_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub product_name: Option<String>,
    /// The seller's store as the delivery email names it (contract section 2).
    #[serde(default, deserialize_with = "lenient_string")]
    pub store_name: Option<String>,
    /// The buyer's IP address as the storefront saw it, for dispute evidence (contract section
    /// 2). Untrusted text: the fold keeps it only when it is a valid IP address.
    #[serde(default, deserialize_with = "lenient_string")]
    pub customer_ip: Option<String>,
    /// The buyer's account on the storefront, when signed in, and a browser fingerprint: for
    /// Visa Compelling Evidence 3.0 (contract section 9.5). Untrusted text: the fold validates.
    #[serde(default, deserialize_with = "lenient_string")]
    pub customer_account_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub device_fingerprint: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CheckoutSession {
    pub id: String,
    #[serde(default, deserialize_with = "expandable_id")]
    pub payment_intent: Option<String>,
    #[serde(default)]
    pub payment_status: CheckoutPaymentStatus,
    #[serde(default)]
    pub customer_details: Option<CustomerDetails>,
    /// The email the session was created with; older sessions may have no `customer_details`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub customer_email: Option<String>,
    #[serde(default)]
    pub client_reference_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: Metadata,
    #[serde(default)]
    pub amount_total: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
    /// `payment`, `setup`, `subscription`, or a newer value: kept as Stripe's string.
    #[serde(default, deserialize_with = "lenient_string")]
    pub mode: Option<String>,
}

impl CheckoutSession {
    /// A session that needed no payment (a free product, a 100 % coupon): an order of its own,
    /// keyed by the session id (contract section 2). A setup-mode session only saves a card.
    pub fn is_free_order(&self) -> bool {
        self.payment_status == CheckoutPaymentStatus::NoPaymentRequired
            && self.payment_intent.is_none()
            && self.mode.as_deref() != Some("setup")
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CheckoutPaymentStatus {
    Paid,
    Unpaid,
    NoPaymentRequired,
    #[default]
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CustomerDetails {
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PaymentIntent {
    pub id: String,
    #[serde(default)]
    pub created: Option<i64>,
    #[serde(default)]
    pub amount: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub receipt_email: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: Metadata,
    #[serde(default)]
    pub last_payment_error: Option<PaymentError>,
    #[serde(default, deserialize_with = "expandable_id")]
    pub latest_charge: Option<String>,
    /// API versions before 2022-11-15 list the charges here instead of `latest_charge`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub charges: ChargeList,
}

/// A Stripe list of charges (`charges` on PaymentIntents of API versions before 2022-11-15):
/// only the ids are read.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ChargeList {
    #[serde(default, deserialize_with = "null_as_default")]
    pub data: Vec<ChargeRef>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ChargeRef {
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
}

/// `PaymentIntent.last_payment_error`: the issuer's and Stripe's reasons for a failed attempt.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PaymentError {
    #[serde(default, deserialize_with = "expandable_id")]
    pub charge: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub decline_code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Charge {
    pub id: String,
    #[serde(default)]
    pub amount: Option<i64>,
    #[serde(default)]
    pub amount_refunded: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub status: ChargeStatus,
    #[serde(default, deserialize_with = "expandable_id")]
    pub payment_intent: Option<String>,
    /// Boxed, like `payment_method_details`: every event's object is sized by the largest.
    #[serde(default)]
    pub billing_details: Option<Box<BillingDetails>>,
    /// Set at payment or added later (`charge.updated`); before `billing_details.email` in
    /// contract section 2's email order.
    #[serde(default, deserialize_with = "lenient_string")]
    pub receipt_email: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: Metadata,
    #[serde(default)]
    pub failure_code: Option<String>,
    #[serde(default)]
    pub failure_message: Option<String>,
    #[serde(default)]
    pub outcome: Option<ChargeOutcome>,
    /// API versions before 2022-11-15 embed the charge's refunds here (auto-expanded); newer
    /// versions send an unexpanded list or nothing. Each readable refund counts.
    #[serde(default, deserialize_with = "null_as_default")]
    pub refunds: RefundList,
    /// The card's fingerprint and brand (Visa CE 3.0, dispute rates by brand); another shape
    /// (another payment method type, a newer form) is absent. Boxed: the charge is the largest
    /// object we read, and every event's object is sized by the largest.
    #[serde(default, deserialize_with = "lenient_object")]
    pub payment_method_details: Option<Box<PaymentMethodDetails>>,
}

/// `Charge.payment_method_details`: only the card's part is read.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PaymentMethodDetails {
    #[serde(default, deserialize_with = "lenient_object")]
    pub card: Option<CardDetails>,
}

/// `payment_method_details.card`: the fields CE 3.0 and the dispute rates need.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CardDetails {
    #[serde(default, deserialize_with = "lenient_string")]
    pub fingerprint: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub brand: Option<String>,
}

/// `Charge.refunds`: a Stripe list whose items are read leniently (an item that is not a refund
/// we can read is skipped, never fatal).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RefundList {
    #[serde(default, deserialize_with = "lenient_items")]
    pub data: Vec<Refund>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChargeStatus {
    Succeeded,
    Pending,
    Failed,
    #[default]
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct BillingDetails {
    #[serde(default)]
    pub email: Option<String>,
    /// The card holder's name, for dispute evidence (`customer_name`).
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: Option<String>,
    /// For dispute evidence (`billing_address`); an address of another shape is absent.
    #[serde(default, deserialize_with = "lenient_object")]
    pub address: Option<Address>,
}

/// Stripe's `address` object; every part may be null (a digital product often collects only
/// the country and postal code).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Address {
    #[serde(default, deserialize_with = "lenient_string")]
    pub line1: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub line2: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub city: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub state: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub postal_code: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub country: Option<String>,
}

/// `Charge.outcome`: Radar's and the network's verdict. `type` is kept as a string because new
/// values appear and only `blocked` and `issuer_declined` matter to us.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ChargeOutcome {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Refund {
    pub id: String,
    #[serde(default)]
    pub amount: Option<i64>,
    #[serde(default, deserialize_with = "expandable_id")]
    pub charge: Option<String>,
    #[serde(default, deserialize_with = "expandable_id")]
    pub payment_intent: Option<String>,
    /// Kept as a string: Stripe's values (`pending`, `requires_action`, `succeeded`, `failed`,
    /// `canceled`) are ranked by the fold, and a newer one is stored as it is.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub created: Option<i64>,
    #[serde(default)]
    pub failure_reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Dispute {
    pub id: String,
    #[serde(default)]
    pub amount: Option<i64>,
    #[serde(default, deserialize_with = "expandable_id")]
    pub charge: Option<String>,
    #[serde(default, deserialize_with = "expandable_id")]
    pub payment_intent: Option<String>,
    /// Stripe's own status, passed through (contract section 4), newer values included.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub created: Option<i64>,
    #[serde(default, deserialize_with = "lenient_object")]
    pub evidence_details: Option<EvidenceDetails>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub balance_transactions: Vec<BalanceTransaction>,
    /// The card network's view of the dispute (`case_type`, `network_reason_code`).
    #[serde(default, deserialize_with = "lenient_object")]
    pub payment_method_details: Option<DisputePaymentMethodDetails>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct DisputePaymentMethodDetails {
    #[serde(default, deserialize_with = "lenient_object")]
    pub card: Option<DisputeCardDetails>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct DisputeCardDetails {
    /// `inquiry`, `chargeback`, `compliance`, `block`, `resolution`, or a newer value.
    #[serde(default, deserialize_with = "lenient_string")]
    pub case_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub network_reason_code: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub brand: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct EvidenceDetails {
    /// 0 when the bank allows no response (no response is possible).
    #[serde(default)]
    pub due_by: Option<i64>,
    /// The last submission reached Stripe after the due date.
    #[serde(default)]
    pub past_due: Option<bool>,
    #[serde(default)]
    pub submission_count: Option<i64>,
    /// Stripe's Visa CE 3.0 eligibility (contract section 9.5); another shape is absent.
    #[serde(default, deserialize_with = "lenient_object")]
    pub enhanced_eligibility: Option<EnhancedEligibility>,
}

/// `evidence_details.enhanced_eligibility`: only Visa CE 3.0 is read.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EnhancedEligibility {
    #[serde(default, deserialize_with = "lenient_object")]
    pub visa_compelling_evidence_3: Option<Ce3EligibilityDetails>,
}

/// `enhanced_eligibility.visa_compelling_evidence_3`: Stripe's verdict and what is missing.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Ce3EligibilityDetails {
    #[serde(default, deserialize_with = "lenient_string")]
    pub status: Option<String>,
    /// Unreadable items (not strings) are dropped.
    #[serde(default, deserialize_with = "lenient_items")]
    pub required_actions: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct BalanceTransaction {
    #[serde(default)]
    pub amount: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EarlyFraudWarning {
    pub id: String,
    #[serde(default)]
    pub actionable: Option<bool>,
    #[serde(default, deserialize_with = "expandable_id")]
    pub charge: Option<String>,
    #[serde(default, deserialize_with = "expandable_id")]
    pub payment_intent: Option<String>,
    #[serde(default)]
    pub created: Option<i64>,
    #[serde(default)]
    pub fraud_type: Option<String>,
}

/// The issuer's label on an early fraud warning (`fraud_type`), as Stripe documents it
/// (`Radar.EarlyFraudWarning.fraud_type` in the `stripe@23.2.0` types). A label Stripe adds later is
/// not an error: [`FraudType::from_code`] gives `None` and readers show Stripe's word as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FraudType {
    CardNeverReceived,
    FraudulentCardApplication,
    MadeWithCounterfeitCard,
    MadeWithLostCard,
    MadeWithStolenCard,
    Misc,
    UnauthorizedUseOfCard,
}

impl FraudType {
    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "card_never_received" => Self::CardNeverReceived,
            "fraudulent_card_application" => Self::FraudulentCardApplication,
            "made_with_counterfeit_card" => Self::MadeWithCounterfeitCard,
            "made_with_lost_card" => Self::MadeWithLostCard,
            "made_with_stolen_card" => Self::MadeWithStolenCard,
            "misc" => Self::Misc,
            "unauthorized_use_of_card" => Self::UnauthorizedUseOfCard,
            _ => return None,
        })
    }

    /// The label in a seller's words, for emails and the page.
    pub fn words(self) -> &'static str {
        match self {
            Self::CardNeverReceived => "the card was never received by its owner",
            Self::FraudulentCardApplication => {
                "the card was obtained with a fraudulent application"
            }
            Self::MadeWithCounterfeitCard => "made with a counterfeit card",
            Self::MadeWithLostCard => "made with a lost card",
            Self::MadeWithStolenCard => "made with a stolen card",
            Self::Misc => "other fraud",
            Self::UnauthorizedUseOfCard => "unauthorized use of the card",
        }
    }
}

/// An expandable reference: Stripe sends either the id or the expanded object with an `id`.
fn expandable_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum IdOrObject {
        Id(String),
        Object { id: String },
        Other(serde::de::IgnoredAny),
    }
    Ok(match Option::<IdOrObject>::deserialize(d)? {
        Some(IdOrObject::Id(id)) | Some(IdOrObject::Object { id }) if !id.is_empty() => Some(id),
        _ => None,
    })
}

/// Metadata values are strings in Stripe; anything else is treated as absent rather than fatal.
fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Lenient {
        S(String),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Option::<Lenient>::deserialize(d)? {
        Some(Lenient::S(s)) if !s.is_empty() => Some(s),
        _ => None,
    })
}

/// An object of a shape we cannot read (a string, a list, a newer form) is absent, not fatal.
fn lenient_object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Lenient<T> {
        Read(T),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Option::<Lenient<T>>::deserialize(d)? {
        Some(Lenient::Read(t)) => Some(t),
        _ => None,
    })
}

/// A list whose unreadable items are dropped (a newer or partial shape must not fail the event).
fn lenient_items<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Item<T> {
        Read(T),
        Other(serde::de::IgnoredAny),
    }
    let items = Option::<Vec<Item<T>>>::deserialize(d)?.unwrap_or_default();
    Ok(items
        .into_iter()
        .filter_map(|i| match i {
            Item::Read(t) => Some(t),
            Item::Other(_) => None,
        })
        .collect())
}

/// `null` where we expect an object or a list is read as its empty default.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
