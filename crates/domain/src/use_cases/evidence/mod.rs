//! Dispute evidence (contract section 9): what we know about an order, turned into Stripe's
//! `evidence` fields for one dispute, and the use case that files it through a port.
//!
//! - [`ce3`]: Visa Compelling Evidence 3.0: the rule (which earlier orders qualify) and
//!   Stripe's `enhanced_evidence.visa_compelling_evidence_3`, pure;
//! - [`build`]: the pure builder: the order, its emails, its downloads, the delivery receipt and
//!   the seller's statement in; Stripe's evidence fields (by Stripe's own names) and the receipt
//!   document out, within Stripe's limits;
//! - [`filing`]: the port to Stripe ([`filing::DisputeFiler`]) and the use case that checks the
//!   request, files it and records it on the order.

pub mod build;
pub mod ce3;
pub mod filing;

pub use build::{build, BuiltEvidence};

/// The seller's statement: at most this many characters (contract section 9).
pub const MAX_STATEMENT_CHARS: usize = 20_000;
/// Stripe: every text field at most 20,000 characters.
pub const MAX_FIELD_CHARS: usize = 20_000;
/// Stripe: the combined character count of all evidence fields is limited to 150,000.
pub const MAX_TOTAL_CHARS: usize = 150_000;
/// Appended where generated text was cut to fit, so nobody reads a cut log as complete.
pub const CUT_MARK: &str = "\n[cut to fit Stripe's evidence limit]";

/// Stripe's dispute reasons. A reason Stripe adds later is built as `General`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DisputeReason {
    Fraudulent,
    ProductNotReceived,
    ProductUnacceptable,
    Unrecognized,
    Duplicate,
    CreditNotProcessed,
    SubscriptionCanceled,
    General,
}

impl DisputeReason {
    pub const ALL: [DisputeReason; 8] = [
        DisputeReason::Fraudulent,
        DisputeReason::ProductNotReceived,
        DisputeReason::ProductUnacceptable,
        DisputeReason::Unrecognized,
        DisputeReason::Duplicate,
        DisputeReason::CreditNotProcessed,
        DisputeReason::SubscriptionCanceled,
        DisputeReason::General,
    ];

    /// Stripe's `reason`; unknown or missing reasons are `General`.
    pub fn parse(reason: Option<&str>) -> Self {
        match reason.unwrap_or("general") {
            "fraudulent" => DisputeReason::Fraudulent,
            "product_not_received" => DisputeReason::ProductNotReceived,
            "product_unacceptable" => DisputeReason::ProductUnacceptable,
            "unrecognized" => DisputeReason::Unrecognized,
            "duplicate" => DisputeReason::Duplicate,
            "credit_not_processed" => DisputeReason::CreditNotProcessed,
            "subscription_canceled" => DisputeReason::SubscriptionCanceled,
            _ => DisputeReason::General,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DisputeReason::Fraudulent => "fraudulent",
            DisputeReason::ProductNotReceived => "product_not_received",
            DisputeReason::ProductUnacceptable => "product_unacceptable",
            DisputeReason::Unrecognized => "unrecognized",
            DisputeReason::Duplicate => "duplicate",
            DisputeReason::CreditNotProcessed => "credit_not_processed",
            DisputeReason::SubscriptionCanceled => "subscription_canceled",
            DisputeReason::General => "general",
        }
    }
}

/// The evidence fields we fill, by Stripe's names (the keys of a Dispute's `evidence`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EvidenceField {
    AccessActivityLog,
    BillingAddress,
    CancellationRebuttal,
    CustomerEmailAddress,
    CustomerName,
    CustomerPurchaseIp,
    /// A file id: the delivery email as sent, as a PDF.
    CustomerCommunication,
    DuplicateChargeExplanation,
    ProductDescription,
    /// A file id: the receipt PDF uploaded with `purpose=dispute_evidence`.
    Receipt,
    /// A file id: the seller's refund policy (settings) as a PDF.
    RefundPolicy,
    RefundPolicyDisclosure,
    RefundRefusalExplanation,
    ServiceDate,
    UncategorizedText,
}

impl EvidenceField {
    pub const ALL: [EvidenceField; 15] = [
        EvidenceField::AccessActivityLog,
        EvidenceField::BillingAddress,
        EvidenceField::CancellationRebuttal,
        EvidenceField::CustomerEmailAddress,
        EvidenceField::CustomerName,
        EvidenceField::CustomerPurchaseIp,
        EvidenceField::CustomerCommunication,
        EvidenceField::DuplicateChargeExplanation,
        EvidenceField::ProductDescription,
        EvidenceField::Receipt,
        EvidenceField::RefundPolicy,
        EvidenceField::RefundPolicyDisclosure,
        EvidenceField::RefundRefusalExplanation,
        EvidenceField::ServiceDate,
        EvidenceField::UncategorizedText,
    ];

    /// Stripe's field name.
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceField::AccessActivityLog => "access_activity_log",
            EvidenceField::BillingAddress => "billing_address",
            EvidenceField::CancellationRebuttal => "cancellation_rebuttal",
            EvidenceField::CustomerEmailAddress => "customer_email_address",
            EvidenceField::CustomerName => "customer_name",
            EvidenceField::CustomerPurchaseIp => "customer_purchase_ip",
            EvidenceField::CustomerCommunication => "customer_communication",
            EvidenceField::RefundPolicy => "refund_policy",
            EvidenceField::RefundPolicyDisclosure => "refund_policy_disclosure",
            EvidenceField::DuplicateChargeExplanation => "duplicate_charge_explanation",
            EvidenceField::ProductDescription => "product_description",
            EvidenceField::Receipt => "receipt",
            EvidenceField::RefundRefusalExplanation => "refund_refusal_explanation",
            EvidenceField::ServiceDate => "service_date",
            EvidenceField::UncategorizedText => "uncategorized_text",
        }
    }

    /// Whether the value is a file id (uploaded first) rather than text.
    pub fn is_file(self) -> bool {
        matches!(
            self,
            EvidenceField::Receipt
                | EvidenceField::CustomerCommunication
                | EvidenceField::RefundPolicy
        )
    }

    /// What the page calls a file field's document.
    pub fn title(self) -> &'static str {
        match self {
            EvidenceField::Receipt => "Order confirmation (PDF)",
            EvidenceField::CustomerCommunication => "Delivery email as sent (PDF)",
            EvidenceField::RefundPolicy => "Refund policy (PDF)",
            _ => self.as_str(),
        }
    }
}

/// Proof that the delivery email reached the customer's mail server (the SES `Delivery` event),
/// when one is recorded (contract section 10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReceipt {
    pub at: i64,
    pub message_id: Option<String>,
    /// The receiving server's SMTP response, e.g. `250 2.6.0 Message received`.
    pub smtp_response: Option<String>,
}

/// What the storefront and the charge said about the buyer, when they said it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerDetails {
    /// PaymentIntent metadata `customer_ip`.
    pub purchase_ip: Option<String>,
    /// The charge's `billing_details.name`.
    pub name: Option<String>,
    /// The charge's `billing_details.address`, one line.
    pub billing_address: Option<String>,
}
