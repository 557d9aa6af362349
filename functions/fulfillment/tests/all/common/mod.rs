//! Shared test plumbing: an embedded store whose changes become DynamoDB stream records (as the
//! real stream would carry them), orders seeded from the shared Stripe fixtures, the outbox
//! mailer, and a scripted mailer for injecting SES failures.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use fulfillment::{Fulfiller, FulfillmentConfig};
use leenkies_adapters::dynamodb::item::order_to_image;
use leenkies_adapters::mail::OutboxMailer;
use leenkies_domain::apply::{fold, RetryPolicy};
use leenkies_domain::memory_store::{MemoryStore, OrderChange};
use leenkies_domain::order::from_event::{interpret, Interpretation};
use leenkies_domain::ports::{MailError, Mailer, OrderStore, OutgoingEmail};
use leenkies_domain::stripe::event::Event as StripeEvent;
use leenkies_domain::tokens::DownloadKey;
use leenkies_domain::OrderRecord;
use tokio::sync::mpsc::UnboundedReceiver;

pub const SELLER: &str = "acct_1QHx4R8cKdV3nWpT";
/// ord_1001: paid, jordan.lee@example.com, "Cinematic LUT Pack".
pub const PAID: &str = "pi_3QMpFn8cKdV3nWpT2DksRg19";
/// ord_1009: paid, then fully refunded.
pub const REFUNDED: &str = "pi_3QqekS8cKdV3nWpT1ZAC7TCN";
/// ord_1002: failed, then paid.
pub const RETRIED: &str = "pi_3Qzboq8cKdV3nWpT0QoIKERc";
pub const BASE_URL: &str = "https://shop.example";
pub const KEY: &str = "test-download-key";

pub fn config(max_attempts: u32) -> FulfillmentConfig {
    FulfillmentConfig {
        public_base_url: BASE_URL.into(),
        download_key: DownloadKey::new(KEY),
        max_attempts,
        lease_secs: 60,
    }
}

fn fixtures() -> PathBuf {
    leenkies_integration_tests::stripe::shared_fixtures().join("events")
}

/// The embedded store and its change feed, turned into stream records on demand.
pub struct Harness {
    pub store: Arc<MemoryStore>,
    changes: UnboundedReceiver<OrderChange>,
    seq: AtomicU64,
}

impl Harness {
    pub fn new() -> Self {
        let store = Arc::new(MemoryStore::new());
        let changes = store.subscribe();
        Self {
            store,
            changes,
            seq: AtomicU64::new(0),
        }
    }

    /// Folds a shared fixture event through the webhook's code path.
    pub async fn fold(&self, file: &str) {
        let body = std::fs::read(fixtures().join(file)).expect("fixture exists");
        let event = StripeEvent::parse(&body).expect("fixture is an event");
        if let Interpretation::Fold(folding) = interpret(&event).expect("fixture is readable") {
            fold(self.store.as_ref(), &folding, RetryPolicy::default())
                .await
                .expect("fold");
        }
    }

    /// Every change since the last call, in write order.
    pub fn drain(&mut self) -> Vec<OrderChange> {
        let mut out = Vec::new();
        while let Ok(change) = self.changes.try_recv() {
            out.push(change);
        }
        out
    }

    /// Every change since the last call, as one stream batch.
    pub fn take_batch(&mut self) -> Event {
        let changes = self.drain();
        self.batch(&changes)
    }

    /// The changes as one stream batch with increasing sequence numbers.
    pub fn batch(&self, changes: &[OrderChange]) -> Event {
        let records = changes
            .iter()
            .map(|c| self.record(c.old.as_ref(), Some(&c.new)))
            .collect();
        event(records)
    }

    /// One stream record (`new: None` is a REMOVE).
    pub fn record(&self, old: Option<&OrderRecord>, new: Option<&OrderRecord>) -> EventRecord {
        let seq = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        let mut record = EventRecord::default();
        record.event_id = format!("evt-{seq}");
        record.event_name = match (old, new) {
            (None, Some(_)) => "INSERT",
            (Some(_), Some(_)) => "MODIFY",
            _ => "REMOVE",
        }
        .into();
        record.change.sequence_number = Some(format!("{seq:021}"));
        if let Some(old) = old {
            record.change.old_image = order_to_image(old).expect("encodes");
        }
        if let Some(new) = new {
            record.change.new_image = order_to_image(new).expect("encodes");
        }
        record
    }

    pub async fn order(&self, order_id: &str) -> OrderRecord {
        self.store
            .get_order(SELLER, order_id)
            .await
            .expect("store answers")
            .expect("order exists")
    }

    /// Writes a changed copy of the order, as another writer would.
    pub async fn update(&self, order_id: &str, change: impl FnOnce(&mut OrderRecord)) {
        let current = self.order(order_id).await;
        let mut next = current.clone();
        change(&mut next);
        next.version = current.version + 1;
        self.store
            .put_order(&next, Some(current.version), &[])
            .await
            .expect("write");
    }
}

pub fn event(records: Vec<EventRecord>) -> Event {
    let mut event = Event::default();
    event.records = records;
    event
}

pub fn fulfiller(harness: &Harness, mailer: Arc<dyn Mailer>, max_attempts: u32) -> Fulfiller {
    Fulfiller::new(harness.store.clone(), mailer, config(max_attempts))
}

pub fn failed_items(
    response: &aws_lambda_events::event::streams::DynamoDbEventResponse,
) -> Vec<String> {
    response
        .batch_item_failures
        .iter()
        .filter_map(|f| f.item_identifier.clone())
        .collect()
}

pub fn outbox(dir: &Path) -> Arc<OutboxMailer> {
    Arc::new(OutboxMailer::new(dir))
}

/// The `.eml` files in the outbox, oldest first.
pub fn emails(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("readable"))
        .collect()
}

/// A fake mailer, used only to inject SES failures (throttling, rejection) that the real
/// adapters cannot be made to produce on demand; delivery itself is checked with the outbox.
pub struct ScriptedMailer {
    script: Mutex<VecDeque<Result<String, MailError>>>,
    /// Answer once the script is used up.
    otherwise: Result<String, MailError>,
    calls: Mutex<Vec<OutgoingEmail>>,
}

impl ScriptedMailer {
    pub fn new(
        script: Vec<Result<String, MailError>>,
        otherwise: Result<String, MailError>,
    ) -> Arc<Self> {
        Arc::new(Self {
            script: Mutex::new(script.into()),
            otherwise,
            calls: Mutex::new(Vec::new()),
        })
    }

    pub fn calls(&self) -> Vec<OutgoingEmail> {
        self.calls.lock().unwrap().clone()
    }
}

#[async_trait]
impl Mailer for ScriptedMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError> {
        self.calls.lock().unwrap().push(email.clone());
        let next = self.script.lock().unwrap().pop_front();
        next.unwrap_or_else(|| self.otherwise.clone())
    }
}

pub fn transient() -> Result<String, MailError> {
    Err(MailError::Transient(
        "TooManyRequestsException: slow down".into(),
    ))
}
