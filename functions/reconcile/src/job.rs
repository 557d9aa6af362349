//! One run of the `reconcile` Lambda: backfill (resuming each account's stored progress), then
//! reconcile what is still open, then publish how long ago each mode last heard from Stripe.
//!
//! Invoked by the EventBridge schedule (any payload without `since`: resume, or look back
//! [`JobConfig::default_window_secs`] for accounts never backfilled), or by an operator with
//! `{"since": "2026-05-08T00:00:00Z", "account": "acct_…"}` after an outage.

use std::sync::Arc;
use std::time::Instant;

use leenkies_adapters::metrics::{self, Metrics, Unit};
use leenkies_domain::clock::parse_rfc3339;
use leenkies_domain::ingest::IngestDeps;
use leenkies_domain::ops::staleness::StalePolicy;
use leenkies_domain::ops::{Mode, OpsStore};
use leenkies_domain::ports::OrderStore;
use serde::{Deserialize, Serialize};

use crate::backfill::{Backfill, BackfillOptions, BackfillRequest, BackfillSummary};
use crate::reconcile::{Reconcile, ReconcileOptions, ReconcileSummary};
use crate::stripe_api::StripeApi;

/// The invocation payload. Every field is optional; EventBridge's own scheduled-event envelope
/// deserializes to all `None`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct JobRequest {
    /// RFC 3339: replay events created since then.
    #[serde(default)]
    pub since: Option<String>,
    #[serde(default)]
    pub account: Option<String>,
    /// Skip reconciling open objects (a pure backfill).
    #[serde(default)]
    pub skip_reconcile: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct JobSummary {
    pub backfill: BackfillSummary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reconcile: Option<ReconcileSummary>,
    /// What the sweep did (contract section 9.3), when it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepSummary>,
    pub stale: bool,
}

/// The sweep's numbers: index pages, orders and settings read, and what each job did.
#[derive(Debug, Clone, Serialize)]
pub struct SweepSummary {
    pub pages: u32,
    pub orders_read: u32,
    pub settings_read: u32,
    pub done: std::collections::BTreeMap<String, u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("since is not an RFC 3339 time: {0}")]
    BadSince(String),
    #[error(transparent)]
    Backfill(#[from] crate::backfill::BackfillError),
    #[error("store: {0}")]
    Store(#[from] leenkies_domain::ports::StoreError),
}

#[derive(Debug, Clone, Copy)]
pub struct JobConfig {
    /// How far back a scheduled run looks for an account with no stored progress.
    pub default_window_secs: i64,
    pub backfill: BackfillOptions,
    pub reconcile: ReconcileOptions,
    pub stale: StalePolicy,
    /// The mode whose silence is alarming (`live` in production).
    pub watched: Mode,
}

impl Default for JobConfig {
    fn default() -> Self {
        Self {
            default_window_secs: 86_400,
            backfill: BackfillOptions::default(),
            reconcile: ReconcileOptions::default(),
            stale: StalePolicy::default(),
            watched: Mode::Live,
        }
    }
}

/// Everything one run needs, built once per process.
pub struct Job {
    pub api: StripeApi,
    /// The ingestion use case the backfill and reconcile fold through (as the webhook does).
    pub ingest: IngestDeps,
    pub store: Arc<dyn OrderStore>,
    pub ops: Arc<dyn OpsStore>,
    pub metrics: Metrics,
    pub config: JobConfig,
    /// The sweep (drafts and automatic submissions of dispute evidence), run after the
    /// reconcile pass so that it works on freshly re-read disputes; `None`: not run.
    pub sweep: Option<leenkies_domain::sweep::Sweeper>,
}

impl Job {
    pub async fn run(
        &self,
        request: &JobRequest,
        now: i64,
        deadline: Option<Instant>,
    ) -> Result<JobSummary, JobError> {
        let since = match &request.since {
            Some(s) => parse_rfc3339(s).ok_or_else(|| JobError::BadSince(s.clone()))?,
            None => now - self.config.default_window_secs,
        };
        let backfill = Backfill {
            api: &self.api,
            ingest: &self.ingest,
            ops: self.ops.as_ref(),
            metrics: &self.metrics,
            options: BackfillOptions {
                deadline,
                ..self.config.backfill
            },
            now,
        }
        .run(&BackfillRequest {
            since,
            account: request.account.clone(),
        })
        .await?;
        let reconcile = if request.skip_reconcile {
            None
        } else {
            Some(
                Reconcile {
                    api: &self.api,
                    ingest: &self.ingest,
                    store: self.store.as_ref(),
                    ops: self.ops.as_ref(),
                    metrics: &self.metrics,
                    options: self.config.reconcile,
                    now,
                }
                .run(request.account.as_deref())
                .await?,
            )
        };
        // A sweep that fails (the store) does not cost the heartbeat: the next run sweeps again.
        let sweep = match &self.sweep {
            Some(sweeper) => match sweeper.run(now).await {
                Ok(r) => Some(SweepSummary {
                    pages: r.pages,
                    orders_read: r.orders_read,
                    settings_read: r.settings_read,
                    done: r.done,
                }),
                Err(e) => {
                    tracing::warn!(job = "sweep", error = %e, "sweep stopped; the next run sweeps again");
                    None
                }
            },
            None => None,
        };
        let stale = self.publish_heartbeat(now).await?;
        Ok(JobSummary {
            backfill,
            reconcile,
            sweep,
            stale,
        })
    }

    /// Publishes each mode's age and the watched mode's staleness (what the alarm reads).
    pub async fn publish_heartbeat(&self, now: i64) -> Result<bool, JobError> {
        let last = self.ops.last_events().await?;
        for event in &last {
            self.metrics.emit(
                &[("Mode", event.mode.as_str())],
                &[(
                    metrics::WEBHOOK_EVENT_AGE,
                    (now - event.at).max(0) as f64,
                    Unit::Seconds,
                )],
            );
        }
        let watched = last
            .iter()
            .find(|l| l.mode == self.config.watched)
            .map(|l| l.at);
        let stale = self.config.stale.is_stale(watched, now);
        self.metrics
            .count(metrics::WEBHOOK_STALE, &[], u64::from(stale));
        Ok(stale)
    }
}
