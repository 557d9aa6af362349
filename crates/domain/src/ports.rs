//! The ports the domain needs from the outside world: a store of orders and a mailer.
//! Adapters (in-memory, DynamoDB, SES, outbox folder) implement them at the edge.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::order::facts::Facts;
pub use crate::order::refunds::SpilledRefund;
use crate::order::{OrderRecord, PaymentStatus};
use crate::rates::{Month, MonthCounts, MonthIncrement};

/// What can go wrong talking to the store. Only `Conflict` is expected in normal operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A conditional write lost a race: re-read and retry.
    #[error("version conflict")]
    Conflict,
    /// The store did not answer or refused for now (network, 5xx, throttling): retryable.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Retries on one hot item ran out: retryable later.
    #[error("too much contention on one item")]
    Contention,
    /// An item could not be read back: a bug or a manual edit, not retryable by waiting.
    #[error("stored item is unreadable: {0}")]
    Corrupt(String),
    /// An email prefix spans more addresses than one search page may read
    /// ([`MAX_EMAIL_SEARCH_ADDRESSES`]): the caller's to narrow, never answered incompletely.
    #[error("email prefix too broad: {0}")]
    TooBroad(String),
}

impl StoreError {
    /// Whether the caller should answer "try again" (Stripe: 5xx; streams: fail the record).
    pub fn is_transient(&self) -> bool {
        !matches!(self, StoreError::Corrupt(_) | StoreError::TooBroad(_))
    }
}

/// Facts about a charge whose order is not known yet, or the order it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeLink {
    pub seller_id: String,
    pub charge_id: String,
    /// The order (PaymentIntent id) the charge belongs to, once known.
    pub order_id: Option<String>,
    /// Facts that named only this charge and arrived before its order was known.
    pub pending: Facts,
    pub version: u64,
}

/// A charge link written in the same atomic step as an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkWrite {
    pub charge_id: String,
    /// `None`: the link must not exist yet; `Some(v)`: it must still be at version `v`.
    pub expected_version: Option<u64>,
}

/// Which orders a list call reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderFilter {
    All,
    Status(PaymentStatus),
    /// Orders with at least one dispute.
    Disputed,
    /// Customer email equal to or starting with this (already lower-cased).
    EmailPrefix(String),
}

/// A position in the newest-first order: the last order of the previous page.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PagePosition {
    pub created_at: i64,
    pub order_id: String,
}

impl PagePosition {
    pub fn of(record: &OrderRecord) -> Self {
        Self {
            created_at: record.facts.created_at(),
            order_id: record.order_id.clone(),
        }
    }
}

/// One page request. `from`/`to` bound `created_at`, both inclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderQuery {
    pub filter: OrderFilter,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub limit: usize,
    pub after: Option<PagePosition>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderPage {
    /// Newest first: by `created_at` descending, then order id descending.
    pub orders: Vec<OrderRecord>,
    /// Where the next page starts, or `None` on the last page.
    pub next: Option<PagePosition>,
}

/// One download of the product through a customer's link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadEntry {
    pub at: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// How many months before the newest a card lookup reads (`OrderStore::list_orders_by_card`).
pub const MAX_CARD_MONTHS: i32 = 13;

/// How many distinct customer addresses one email-prefix search may span: past it the store
/// answers [`StoreError::TooBroad`] (both stores, so they behave the same).
pub const MAX_EMAIL_SEARCH_ADDRESSES: usize = 2_000;

/// How many downloads one order records at most; later ones are served but not logged, so a
/// script cannot grow the partition without bound.
pub const MAX_DOWNLOADS_LOGGED: usize = 200;

#[async_trait]
pub trait OrderStore: Send + Sync {
    async fn get_order(
        &self,
        seller_id: &str,
        order_id: &str,
    ) -> Result<Option<OrderRecord>, StoreError>;

    /// Writes `record` if the stored order is still at `expected_version` (`None`: must not exist),
    /// together with `links` (each set to point at this order with no pending facts), atomically
    /// (a store may write one new link, one not expected to exist, just before the order: a link
    /// that points at an order it names is true whether or not the order write follows).
    /// The record's `version` is the new version.
    async fn put_order(
        &self,
        record: &OrderRecord,
        expected_version: Option<u64>,
        links: &[LinkWrite],
    ) -> Result<(), StoreError> {
        self.write_order(record, expected_version, links, &[]).await
    }

    /// `put_order`, also writing `refunds` as items of their own in the order's partition
    /// (`order::refunds`), all in one atomic write: the order's tally sums exactly those items.
    async fn write_order(
        &self,
        record: &OrderRecord,
        expected_version: Option<u64>,
        links: &[LinkWrite],
        refunds: &[SpilledRefund],
    ) -> Result<(), StoreError>;

    /// Those of `refund_ids` the order keeps in items of their own (strongly consistent).
    async fn get_spilled_refunds(
        &self,
        seller_id: &str,
        order_id: &str,
        refund_ids: &[String],
    ) -> Result<Vec<SpilledRefund>, StoreError>;

    /// Every refund the order keeps in an item of its own, by refund id.
    async fn list_spilled_refunds(
        &self,
        seller_id: &str,
        order_id: &str,
    ) -> Result<Vec<SpilledRefund>, StoreError>;

    async fn get_charge_link(
        &self,
        seller_id: &str,
        charge_id: &str,
    ) -> Result<Option<ChargeLink>, StoreError>;

    /// Writes pending facts of a charge whose order is unknown, conditional like `put_order`.
    async fn put_charge_link(
        &self,
        link: &ChargeLink,
        expected_version: Option<u64>,
    ) -> Result<(), StoreError>;

    /// One page of a seller's orders, newest first.
    async fn list_orders(
        &self,
        seller_id: &str,
        query: &OrderQuery,
    ) -> Result<OrderPage, StoreError>;

    /// Logs one download; `Ok(false)` when the order's log is full (the download still happens).
    async fn record_download(
        &self,
        seller_id: &str,
        order_id: &str,
        entry: &DownloadEntry,
    ) -> Result<bool, StoreError>;

    /// The order's download log, oldest first.
    async fn list_downloads(
        &self,
        seller_id: &str,
        order_id: &str,
    ) -> Result<Vec<DownloadEntry>, StoreError>;

    /// The seller's orders paid with the `brand` card whose Stripe fingerprint is
    /// `fingerprint`, created within `from..=to` (seconds, both included), newest first
    /// (`created_at`, then order id), at most `limit`: Visa CE 3.0's candidates
    /// (`evidence::ce3`). Only the orders the card index holds
    /// ([`crate::evidence::ce3::indexed_card`]): succeeded, paid by that card's succeeded
    /// charge, `created_at` settled. At most the [`MAX_CARD_MONTHS`] months before `to`'s and
    /// that one are read (a bound on any lookup; CE 3.0's window spans ten). Reads one index
    /// `Query` per month of the range (the card's
    /// entries only) and the orders.
    async fn list_orders_by_card(
        &self,
        seller_id: &str,
        brand: &str,
        fingerprint: &str,
        from: i64,
        to: i64,
        limit: usize,
    ) -> Result<Vec<OrderRecord>, StoreError>;

    /// Adds `increments` to the seller's per-month dispute-rate counters (`rates`): one write
    /// per month named.
    async fn add_to_rates(
        &self,
        seller_id: &str,
        increments: &[MonthIncrement],
    ) -> Result<(), StoreError>;

    /// The seller's dispute-rate counts of `months`: its counters, and the sales per brand
    /// (`visa`, `mastercard`) counted on the card index; a month with nothing is absent.
    async fn get_rates(
        &self,
        seller_id: &str,
        months: &[Month],
    ) -> Result<std::collections::BTreeMap<Month, MonthCounts>, StoreError>;
}

/// An email ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub to: String,
    /// `Reply-To`: the seller's support address, so a customer who answers reaches the seller.
    pub reply_to: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub order_id: String,
    pub seller_id: String,
    /// Whom it is for: the outbox names its file by it, and only a customer's email is ever
    /// linked to its order's delivery.
    pub about: EmailAbout,
}

/// Whom an email is for, and so what it is about.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EmailAbout {
    /// The order's customer: the delivery email or a resend of it.
    #[default]
    Customer,
    /// The seller: a notification of this kind (contract section 12), from the platform.
    Seller(crate::order::notices::NoticeKind),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// Throttling, a network error, a 5xx: try again later.
    #[error("transient mail failure: {0}")]
    Transient(String),
    /// The message was refused (bad address, unverified identity): retrying will not help.
    #[error("mail rejected: {0}")]
    Rejected(String),
}

#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends the email; returns the provider's message id.
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError>;
}

/// Who the seller's store is, as its Stripe account describes it (`business_profile`), for the
/// delivery email (contract section 10). Implementations cache: one Accounts API call per seller
/// and process, not one per email.
#[async_trait]
pub trait StoreProfiles: Send + Sync {
    /// The store's name and support address; the default (nothing known) when the account
    /// cannot be read, so that the email still goes out, with a neutral sentence.
    async fn identity(&self, seller_id: &str) -> crate::store_identity::StoreIdentity;

    /// The account's own `email` as one plain address, read and cached with the identity: where
    /// the seller's notifications go when the settings name no `notify_email` (contract
    /// section 12). `None` when unknown or unreadable.
    async fn account_email(&self, seller_id: &str) -> Option<String> {
        let _ = seller_id;
        None
    }
}

/// A full refund of a charge, as the seller (contract section 12: an early fraud warning
/// refunded under the seller's rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    /// The seller's Stripe account (`Stripe-Account`).
    pub seller_id: String,
    pub charge_id: String,
    /// The same key for the same attempt: Stripe replays its first answer to a repeat.
    pub idempotency_key: String,
}

/// Why Stripe did not create the refund.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefundError {
    /// Stripe answered with a refusal (a 4xx other than 429): this attempt is over; `message`
    /// is Stripe's own.
    #[error("Stripe refused ({status}): {message}")]
    Refused { status: u16, message: String },
    /// Stripe answered with a server error (5xx), which it stores under the key and replays:
    /// this attempt is over too (a full refund cannot be made twice: Stripe refuses the second).
    #[error("Stripe failed ({status}): {message}")]
    Failed { status: u16, message: String },
    /// Still 429 or no answer after every retry: the same attempt (the same key) is tried
    /// again later, since the request may have been applied.
    #[error("Stripe is unavailable: {message}")]
    Unavailable { message: String },
}

impl RefundError {
    /// Whether the attempt is over, so the next one needs a new `Idempotency-Key`.
    pub fn ends_attempt(&self) -> bool {
        !matches!(self, RefundError::Unavailable { .. })
    }
}

/// Stripe's Refunds API, as the seller.
#[async_trait]
pub trait Refunder: Send + Sync {
    /// Refunds the charge in full with `reason=fraudulent`; returns the refund's id.
    async fn refund(&self, request: &RefundRequest) -> Result<String, RefundError>;
}
