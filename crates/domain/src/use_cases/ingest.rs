//! Ingestion: what happens to one Stripe event once we trust where it came from. The webhook (after
//! the signature), the backfill (events listed from Stripe's API over TLS) and the reconcile job
//! (objects re-read from Stripe, wrapped as events) all call [`ingest`], so an event means the
//! same thing whichever way it arrived.
//!
//! The steps, in order: the mode check (`STRIPE_LIVEMODE`), the handled-type check, reading the
//! object into facts, the plausibility of the ids that become store keys, the fold. Every way an
//! event can change no order is an [`IgnoreReason`]; callers match on [`IngestOutcome`] (the
//! webhook's answer, metrics, logs, the backfill's summary), never on strings.

use std::sync::Arc;

use crate::apply::{fold, FoldOutcome, RetryPolicy};
use crate::ops::ModeFilter;
use crate::order::from_event::{self, interpret, Folding, Interpretation, Target};
use crate::ports::{OrderStore, StoreError};
use crate::stripe::event::{is_seller_id, Event, EventParseError, ObjectKind};

/// What ingestion needs: the store, which mode is accepted, how hard to retry a contended fold.
#[derive(Clone)]
pub struct IngestDeps {
    pub store: Arc<dyn OrderStore>,
    pub modes: ModeFilter,
    pub retry: RetryPolicy,
}

impl IngestDeps {
    pub fn new(store: Arc<dyn OrderStore>, modes: ModeFilter) -> Self {
        Self {
            store,
            modes,
            retry: RetryPolicy::default(),
        }
    }
}

/// What ingesting one event did. Every variant is a `200` to Stripe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestOutcome {
    /// The order (or its charge's waiting facts: `order_id` none) changed.
    Applied { order_id: Option<String> },
    /// Everything the event says was already known.
    Duplicate { order_id: Option<String> },
    /// The event changes no order, for this reason.
    Ignored(IgnoreReason),
}

/// Why a trusted event changes no order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IgnoreReason {
    /// A test-mode event on a live endpoint, or the reverse (`STRIPE_LIVEMODE`).
    LivemodeMismatch,
    /// A type this service does not fold.
    UnhandledType,
    /// A handled type whose object names neither a PaymentIntent nor a charge (e.g. a Checkout
    /// Session in setup mode).
    NoPaymentReference,
    /// A handled type whose `data.object` cannot be read as that object. Rejecting it would make
    /// Stripe retry for days and then disable the endpoint; the reconcile job can re-read it.
    UnreadableObject,
    /// An account or object id that is not shaped like a Stripe id (it would become a store key):
    /// an account other than `acct_` and letters and digits, an object id with other characters
    /// than letters, digits and `_`, or either longer than Stripe's documented 255 characters.
    /// Acknowledged (`200`, `"outcome": "ignored"`, `"reason": "implausible_id"`), never refused:
    /// only Stripe signs, so a retry would bring the same id again.
    ImplausibleId,
}

impl IgnoreReason {
    pub const ALL: [IgnoreReason; 5] = [
        IgnoreReason::LivemodeMismatch,
        IgnoreReason::UnhandledType,
        IgnoreReason::NoPaymentReference,
        IgnoreReason::UnreadableObject,
        IgnoreReason::ImplausibleId,
    ];

    /// The wire and metric name (the webhook's `reason`, the metric's `Outcome`).
    pub fn as_str(self) -> &'static str {
        match self {
            IgnoreReason::LivemodeMismatch => "livemode_mismatch",
            IgnoreReason::UnhandledType => "unhandled_type",
            IgnoreReason::NoPaymentReference => "no_payment_reference",
            IgnoreReason::UnreadableObject => "unreadable_object",
            IgnoreReason::ImplausibleId => "implausible_id",
        }
    }

    /// Whether the event was meant for us but could not be used: worth an operator's look (the
    /// backfill counts these as unreadable, not as ignored).
    pub fn is_unreadable(self) -> bool {
        matches!(
            self,
            IgnoreReason::UnreadableObject | IgnoreReason::ImplausibleId
        )
    }
}

impl From<from_event::IgnoreReason> for IgnoreReason {
    fn from(reason: from_event::IgnoreReason) -> Self {
        match reason {
            from_event::IgnoreReason::UnhandledType => IgnoreReason::UnhandledType,
            from_event::IgnoreReason::NoPaymentReference => IgnoreReason::NoPaymentReference,
        }
    }
}

impl IngestOutcome {
    /// `applied`, `duplicate` or `ignored` (the webhook's `outcome`).
    pub fn as_str(&self) -> &'static str {
        match self {
            IngestOutcome::Applied { .. } => "applied",
            IngestOutcome::Duplicate { .. } => "duplicate",
            IngestOutcome::Ignored(_) => "ignored",
        }
    }

    pub fn reason(&self) -> Option<IgnoreReason> {
        match self {
            IngestOutcome::Ignored(reason) => Some(*reason),
            _ => None,
        }
    }

    pub fn order_id(&self) -> Option<&str> {
        match self {
            IngestOutcome::Applied { order_id } | IngestOutcome::Duplicate { order_id } => {
                order_id.as_deref()
            }
            IngestOutcome::Ignored(_) => None,
        }
    }

    /// The most specific name: the reason when ignored, else the outcome (metrics' `Outcome`).
    pub fn metric_name(&self) -> &'static str {
        self.reason()
            .map_or_else(|| self.as_str(), IgnoreReason::as_str)
    }
}

impl From<FoldOutcome> for IngestOutcome {
    fn from(outcome: FoldOutcome) -> Self {
        match outcome {
            FoldOutcome::Applied { order_id } => IngestOutcome::Applied { order_id },
            FoldOutcome::Duplicate { order_id } => IngestOutcome::Duplicate { order_id },
        }
    }
}

/// Why an event was not ingested (and nothing was written).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The bytes are not a Stripe event ([`ingest_body`] only; the webhook parses first).
    #[error("{0}")]
    NotAnEvent(#[from] EventParseError),
    /// The store failed: retry later (transient) or look at the logs.
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl IngestError {
    /// Whether the same event may succeed later (throttled, unavailable, contended).
    pub fn is_transient(&self) -> bool {
        matches!(self, IngestError::Store(e) if e.is_transient())
    }
}

/// Whether this service folds events of this type: the one place that decides "unhandled".
fn is_handled(event_type: &str) -> bool {
    ObjectKind::of_event_type(event_type).is_some()
}

/// Ingests one trusted, parsed event: mode, type, facts, ids, fold.
pub async fn ingest(event: &Event<'_>, deps: &IngestDeps) -> Result<IngestOutcome, IngestError> {
    if !deps.modes.accepts(event.livemode) {
        return Ok(IngestOutcome::Ignored(IgnoreReason::LivemodeMismatch));
    }
    if !is_handled(&event.kind) {
        return Ok(IngestOutcome::Ignored(IgnoreReason::UnhandledType));
    }
    let folding = match interpret(event) {
        Ok(Interpretation::Fold(folding)) => folding,
        Ok(Interpretation::Ignore(reason)) => return Ok(IngestOutcome::Ignored(reason.into())),
        Err(error) => {
            tracing::error!(event_id = %event.id, event_type = %event.kind, %error,
                "signed event with an unreadable object acknowledged without folding");
            return Ok(IngestOutcome::Ignored(IgnoreReason::UnreadableObject));
        }
    };
    if !plausible_keys(&folding) {
        tracing::error!(event_id = %event.id, event_type = %event.kind,
            "signed event with an implausible account or object id acknowledged without folding");
        return Ok(IngestOutcome::Ignored(IgnoreReason::ImplausibleId));
    }
    Ok(fold(deps.store.as_ref(), &folding, deps.retry)
        .await?
        .into())
}

/// Parses the bytes as a Stripe event, then [`ingest`]s it (the backfill and the reconcile job).
pub async fn ingest_body(body: &[u8], deps: &IngestDeps) -> Result<IngestOutcome, IngestError> {
    let event = Event::parse(body)?;
    ingest(&event, deps).await
}

/// Longest account or object id we fold; Stripe's are far shorter.
const MAX_ID_LEN: usize = 255;

/// Whether the ids that become store keys look like Stripe ids: the seller a seller id
/// ([`is_seller_id`]: `acct_…` or `platform`, as the API accepts in a token), the object
/// `[A-Za-z0-9_]`, 1–255 bytes. Only Stripe can sign, and Stripe's ids never hold `#` (the
/// store's key separator), `/`, `.`, whitespace or control characters: such an order could never
/// be read through the API. An id longer than Stripe's documented 255 characters is acknowledged
/// as ignored with this reason ([`IgnoreReason::ImplausibleId`]), never refused.
fn plausible_keys(folding: &Folding) -> bool {
    let plausible = |id: &str| {
        !id.is_empty()
            && id.len() <= MAX_ID_LEN
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    };
    let target = match &folding.target {
        Target::Order { order_id } => order_id,
        Target::Charge { charge_id } => charge_id,
    };
    is_seller_id(&folding.seller_id) && plausible(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory_store::MemoryStore;
    use crate::ops::Mode;

    fn deps(modes: ModeFilter) -> (Arc<MemoryStore>, IngestDeps) {
        let store = Arc::new(MemoryStore::new());
        (store.clone(), IngestDeps::new(store, modes))
    }

    fn succeeded(livemode: bool, account: &str, pi: &str) -> Vec<u8> {
        format!(
            r#"{{"id":"evt_1","type":"payment_intent.succeeded","created":10,"livemode":{livemode},
            "account":"{account}","data":{{"object":{{"id":"{pi}","object":"payment_intent",
            "amount":2500,"currency":"usd","status":"succeeded","created":9}}}}}}"#
        )
        .into_bytes()
    }

    async fn ingested(body: &[u8], deps: &IngestDeps) -> IngestOutcome {
        ingest_body(body, deps).await.unwrap()
    }

    #[tokio::test]
    async fn given_a_new_event_when_ingested_twice_then_applied_then_duplicate() {
        // GIVEN an empty store and a payment that succeeded
        let (store, deps) = deps(ModeFilter::Any);
        let body = succeeded(false, "acct_1", "pi_1");
        // WHEN it is ingested twice
        let first = ingested(&body, &deps).await;
        let second = ingested(&body, &deps).await;
        // THEN the first changed the order, the second nothing
        assert_eq!(
            first,
            IngestOutcome::Applied {
                order_id: Some("pi_1".into())
            }
        );
        assert_eq!(
            second,
            IngestOutcome::Duplicate {
                order_id: Some("pi_1".into())
            }
        );
        assert!(store.get_order("acct_1", "pi_1").await.unwrap().is_some());
    }

    #[tokio::test]
    async fn given_a_live_only_endpoint_when_a_test_event_arrives_then_ignored_and_nothing_written()
    {
        let (store, deps) = deps(ModeFilter::Only(Mode::Live));
        let outcome = ingested(&succeeded(false, "acct_1", "pi_1"), &deps).await;
        assert_eq!(
            outcome,
            IngestOutcome::Ignored(IgnoreReason::LivemodeMismatch)
        );
        assert!(store.get_order("acct_1", "pi_1").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn given_an_unhandled_type_when_ingested_then_ignored_as_unhandled() {
        let (_, deps) = deps(ModeFilter::Any);
        let body =
            br#"{"id":"evt_1","type":"plan.created","created":5,"data":{"object":{"id":"x"}}}"#;
        let outcome = ingested(body, &deps).await;
        assert_eq!(outcome, IngestOutcome::Ignored(IgnoreReason::UnhandledType));
        assert_eq!(outcome.metric_name(), "unhandled_type");
        assert!(!IgnoreReason::UnhandledType.is_unreadable());
    }

    #[tokio::test]
    async fn given_a_handled_type_with_an_unreadable_object_when_ingested_then_unreadable_not_plain_ignored(
    ) {
        let (_, deps) = deps(ModeFilter::Any);
        let body = br#"{"id":"evt_1","type":"charge.succeeded","created":5,"data":{"object":{"amount":5}}}"#;
        let outcome = ingested(body, &deps).await;
        assert_eq!(
            outcome,
            IngestOutcome::Ignored(IgnoreReason::UnreadableObject)
        );
        assert!(outcome.reason().is_some_and(IgnoreReason::is_unreadable));
        assert_eq!(outcome.as_str(), "ignored");
    }

    #[tokio::test]
    async fn given_an_id_with_the_key_separator_when_ingested_then_implausible_and_nothing_written()
    {
        let (store, deps) = deps(ModeFilter::Any);
        let outcome = ingested(&succeeded(true, "acct_1", "pi_1#x"), &deps).await;
        assert_eq!(outcome, IngestOutcome::Ignored(IgnoreReason::ImplausibleId));
        assert!(store.get_order("acct_1", "pi_1#x").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn given_an_account_not_shaped_like_stripes_when_ingested_then_ignored_and_nothing_written(
    ) {
        // GIVEN events whose account is not `acct_` and letters and digits, or whose id is longer
        // than Stripe's documented 255 characters
        let (store, deps) = deps(ModeFilter::Any);
        let long = format!("pi_{}", "a".repeat(253));
        for (account, pi) in [
            ("acct_A#PROVISIONAL", "pi_1"),
            ("user_1", "pi_1"),
            ("acct_", "pi_1"),
            ("acct_1", long.as_str()),
        ] {
            // WHEN ingested THEN acknowledged as ignored with its reason, nothing written
            let outcome = ingested(&succeeded(true, account, pi), &deps).await;
            assert_eq!(
                outcome,
                IngestOutcome::Ignored(IgnoreReason::ImplausibleId),
                "{account} {pi}"
            );
            assert!(store.get_order(account, pi).await.unwrap().is_none());
        }
        // AND a Stripe-shaped account is folded
        assert!(matches!(
            ingested(&succeeded(true, "acct_1QHx4R8cKdV3nWpT", "pi_1"), &deps).await,
            IngestOutcome::Applied { .. }
        ));
    }

    #[tokio::test]
    async fn given_bytes_that_are_not_an_event_when_ingested_then_an_error_that_is_not_transient() {
        let (_, deps) = deps(ModeFilter::Any);
        let error = ingest_body(b"not json", &deps).await.unwrap_err();
        assert!(matches!(error, IngestError::NotAnEvent(_)));
        assert!(!error.is_transient());
    }

    #[test]
    fn given_every_reason_then_each_has_its_own_name() {
        let mut names: Vec<_> = IgnoreReason::ALL.iter().map(|r| r.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), IgnoreReason::ALL.len());
    }
}
