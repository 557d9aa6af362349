//! The scheduled sweep: work that is owed to a seller and due by time, found without a scan and
//! done at most once (contract section 9.3; section 12's jobs join it the same way).
//!
//! **How due work is found.** Every order write derives [`next_look`] from the order: the
//! earliest time any job may have something to do for it, or `None` when no job has. The store
//! keeps that time in a sparse, keys-only index (DynamoDB: the `sweep_due` GSI, written only
//! while some work is pending; the embedded store: an ordered set), and the sweep reads the
//! entries up to now, page by page: its reads follow the orders with work pending, never the
//! table. A job's rule is pure and deterministic on the order, so the index never disagrees
//! with the facts.
//!
//! **The jobs**: [`disputes`] (drafts and automatic submissions) and [`efw`] (early fraud
//! warnings refunded by the seller's rule).
//!
//! **Adding a job**: write its rule
//! (`fn(&OrderRecord) -> Option<i64>`) and add it to [`next_look`]; implement [`SweepJob`] for
//! its runner; pass the runner to [`run`] with the others. Each job re-checks everything on the
//! order it is given (an entry may be stale by one write) and claims before acting outside.

pub mod disputes;
pub mod efw;

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::order::OrderRecord;
use crate::ports::{OrderStore, StoreError};
use crate::seller_settings::SettingsStore;
use crate::settings::SellerSettings;

/// The earliest time a job may need to look at `record` (Unix seconds), or `None`: the key of
/// the order's entry in the sweep's index. Add each new job's rule here.
pub fn next_look(record: &OrderRecord) -> Option<i64> {
    [disputes::next_look(record), efw::next_look(record)]
        .into_iter()
        .flatten()
        .min()
}

/// One due order, as the index lists it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DueOrder {
    pub due: i64,
    pub seller_id: String,
    pub order_id: String,
}

/// One page of due orders, oldest due first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DuePage {
    pub orders: Vec<DueOrder>,
    /// Where the next page starts (the last entry of this one), or `None` on the last page.
    pub next: Option<DueOrder>,
}

/// The store's index of due work (both stores implement it; the conformance suite checks them).
#[async_trait]
pub trait DueOrders: Send + Sync {
    /// The orders whose [`next_look`] is at most `up_to`, oldest first, after `after`.
    async fn due_orders(
        &self,
        up_to: i64,
        after: Option<&DueOrder>,
        limit: usize,
    ) -> Result<DuePage, StoreError>;
}

/// What one sweep saw and did: the numbers its log line and metric carry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Index pages read, orders read, settings records read (one per seller at most).
    pub pages: u32,
    pub orders_read: u32,
    pub settings_read: u32,
    /// Per job: what it did, by the job's own words (e.g. `drafted`, `submitted`, `failed`).
    pub done: BTreeMap<String, u32>,
}

impl SweepReport {
    pub fn count(&mut self, what: &str) {
        *self.done.entry(what.to_owned()).or_default() += 1;
    }
}

/// What a job needs besides the order: the store, the seller's settings, and "now".
pub struct SweepContext<'a> {
    pub store: &'a dyn OrderStore,
    pub settings: &'a SellerSettings,
    pub now: i64,
}

/// One kind of work the sweep does.
#[async_trait]
pub trait SweepJob: Send + Sync {
    fn name(&self) -> &'static str;

    /// Does what is due on `record` (as read now), re-checking every rule; counts what it did
    /// in `report`. A failure to act outside (Stripe) is the job's to record on the order and
    /// retry next time; only a store failure is an error (the sweep then stops, to run again).
    async fn run(
        &self,
        ctx: &SweepContext<'_>,
        record: &OrderRecord,
        report: &mut SweepReport,
    ) -> Result<(), StoreError>;
}

/// Orders read per index page.
pub const PAGE: usize = 100;

/// One sweep at `now`: every due order read once, the seller's settings read once per seller,
/// and each job run on it. No due order: one index read and nothing else.
pub async fn run(
    store: &dyn OrderStore,
    index: &dyn DueOrders,
    settings: &dyn SettingsStore,
    jobs: &[&dyn SweepJob],
    now: i64,
) -> Result<SweepReport, StoreError> {
    let mut report = SweepReport::default();
    let mut sellers: BTreeMap<String, SellerSettings> = BTreeMap::new();
    let mut after: Option<DueOrder> = None;
    loop {
        let page = index.due_orders(now, after.as_ref(), PAGE).await?;
        report.pages += 1;
        for due in &page.orders {
            let Some(record) = store.get_order(&due.seller_id, &due.order_id).await? else {
                continue;
            };
            report.orders_read += 1;
            if !sellers.contains_key(&due.seller_id) {
                let s = crate::seller_settings::settings_of(settings, &due.seller_id).await?;
                report.settings_read += 1;
                sellers.insert(due.seller_id.clone(), s);
            }
            let ctx = SweepContext {
                store,
                settings: &sellers[&due.seller_id],
                now,
            };
            for job in jobs {
                job.run(&ctx, &record, &mut report).await?;
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    Ok(report)
}

/// The sweep with its dependencies, built once per process (the reconcile function in AWS, the
/// local runner's timer on one machine).
pub struct Sweeper {
    pub store: std::sync::Arc<dyn OrderStore>,
    pub index: std::sync::Arc<dyn DueOrders>,
    pub settings: std::sync::Arc<dyn SettingsStore>,
    /// Stripe's dispute API; `None` without a Stripe key: nothing is drafted or submitted.
    pub filer: Option<std::sync::Arc<dyn crate::evidence::filing::DisputeFiler>>,
    /// Stripe's Refunds API; `None` without a Stripe key: no warning is decided or refunded.
    pub refunder: Option<std::sync::Arc<dyn crate::ports::Refunder>>,
}

impl Sweeper {
    /// One sweep at `now`. With no job to run (no Stripe key), nothing is read at all.
    pub async fn run(&self, now: i64) -> Result<SweepReport, StoreError> {
        let disputes = self
            .filer
            .as_deref()
            .map(|filer| disputes::DisputeJob { filer });
        let efw = self
            .refunder
            .as_deref()
            .map(|refunder| efw::EfwRefundJob { refunder });
        let mut jobs: Vec<&dyn SweepJob> = Vec::new();
        if let Some(job) = &disputes {
            jobs.push(job);
        }
        if let Some(job) = &efw {
            jobs.push(job);
        }
        if jobs.is_empty() {
            return Ok(SweepReport::default());
        }
        let report = run(
            self.store.as_ref(),
            self.index.as_ref(),
            self.settings.as_ref(),
            &jobs,
            now,
        )
        .await?;
        tracing::info!(
            job = "sweep",
            pages = report.pages,
            orders_read = report.orders_read,
            settings_read = report.settings_read,
            done = ?report.done,
            "sweep finished"
        );
        Ok(report)
    }
}
