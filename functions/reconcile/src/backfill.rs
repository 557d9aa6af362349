//! Backfill: replays each connected account's events from Stripe's Events API through exactly the
//! webhook's code path (the domain's `ingest`, as the webhook after its signature check), oldest first. Duplicates cost nothing: the
//! fold is idempotent, so replaying events the webhook already delivered changes no order.
//!
//! How "oldest first" is read from a newest-first API:
//!
//! 1. Stripe accepts at most 20 `types[]` per call and the contract handles more, so each account
//!    has a few *streams*, one per group of types, each with its own progress. The groups and their
//!    stable names come from the domain's `EventType::backfill_stream`: adding a type changes one
//!    stream's type list (which restarts that stream only), never another stream's progress.
//! 2. Anchor: the newest event *before* `since` (`created[lt]`, `limit=1`). Walking forward from it
//!    with `ending_before=<id>` returns the `limit` events just newer than the cursor, and
//!    `has_more` says whether newer ones remain: oldest pages first, one page in memory.
//!    When nothing older exists (older than Stripe's 30-day retention, or a new account), the
//!    oldest page is the last page of the newest-first list: it is found once by paging with
//!    `starting_after`, then the walk continues forward from it.
//! 3. Each page is folded oldest event first, then the stream's progress (the newest event applied,
//!    and its `created`) is stored. An interrupted run resumes from there with `ending_before`:
//!    finished pages are never read again, and a rerun reads one (empty) page per stream.
//!
//! A store failure stops that account (its progress stays at the last finished page) and the run
//! goes on with the next one; the summary says what happened to each.

use std::time::Instant;

use leenkies_adapters::metrics::{self, Metrics};
use leenkies_domain::clock::rfc3339;
use leenkies_domain::ingest::{ingest_body, IngestDeps, IngestError, IngestOutcome};
use leenkies_domain::ops::{BackfillProgress, OpsStore, StreamProgress};
use leenkies_domain::ports::StoreError;
use leenkies_domain::stripe::event::BackfillStream;
use serde::Serialize;

use crate::stripe_api::{ApiError, Created, Cursor, EventPage, ListedEvent, StripeApi, MAX_PAGE};

/// Stripe's ceiling on `types[]` in one list call.
pub const MAX_TYPES_PER_CALL: usize = 20;

/// Stripe keeps events retrievable for 30 days.
pub const EVENT_RETENTION_SECS: i64 = 30 * 86_400;

#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("stopped before the deadline; the next run resumes from the stored progress")]
    OutOfTime,
}

/// What to backfill.
#[derive(Debug, Clone)]
pub struct BackfillRequest {
    /// Events created at or after this time (Unix seconds).
    pub since: i64,
    /// One connected account, or every seller the table knows.
    pub account: Option<String>,
}

/// How to backfill.
#[derive(Debug, Clone, Copy)]
pub struct BackfillOptions {
    pub page_size: i64,
    /// Stop (cleanly, progress stored) after this many pages in one run; a Lambda's time budget.
    pub max_pages: Option<u64>,
    /// Stop before this instant (the Lambda's deadline less a margin).
    pub deadline: Option<Instant>,
}

impl Default for BackfillOptions {
    fn default() -> Self {
        Self {
            page_size: MAX_PAGE,
            max_pages: None,
            deadline: None,
        }
    }
}

/// What one account's backfill did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct AccountSummary {
    pub account: String,
    pub pages: u64,
    pub events_read: u64,
    pub applied: u64,
    pub duplicates: u64,
    pub ignored: u64,
    /// Events the webhook path could not read (logged; not retried).
    pub unreadable: u64,
    /// Every stream reached the newest event.
    pub caught_up: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct BackfillSummary {
    pub since: String,
    pub accounts: Vec<AccountSummary>,
}

impl BackfillSummary {
    pub fn applied(&self) -> u64 {
        self.accounts.iter().map(|a| a.applied).sum()
    }

    pub fn events_read(&self) -> u64 {
        self.accounts.iter().map(|a| a.events_read).sum()
    }

    pub fn failed(&self) -> bool {
        self.accounts.iter().any(|a| a.error.is_some())
    }

    /// One line for a terminal.
    pub fn line(&self) -> String {
        format!(
            "backfill since {}: {} account(s), {} event(s) read, {} applied, {} already known, {} ignored, {} unreadable{}",
            self.since,
            self.accounts.len(),
            self.events_read(),
            self.applied(),
            self.accounts.iter().map(|a| a.duplicates).sum::<u64>(),
            self.accounts.iter().map(|a| a.ignored).sum::<u64>(),
            self.accounts.iter().map(|a| a.unreadable).sum::<u64>(),
            if self.failed() { "; some accounts stopped early (see above), rerun to resume" } else { "" },
        )
    }
}

/// The type groups, each at most [`MAX_TYPES_PER_CALL`], as named streams.
pub fn streams() -> Vec<(String, Vec<String>)> {
    BackfillStream::ALL
        .iter()
        .map(|stream| {
            let types = stream
                .event_types()
                .into_iter()
                .map(|t| t.as_str().to_owned());
            (stream.name().to_owned(), types.collect())
        })
        .collect()
}

/// Everything a backfill run needs, borrowed.
pub struct Backfill<'a> {
    pub api: &'a StripeApi,
    pub ingest: &'a IngestDeps,
    pub ops: &'a dyn OpsStore,
    pub metrics: &'a Metrics,
    pub options: BackfillOptions,
    pub now: i64,
}

impl Backfill<'_> {
    pub async fn run(&self, request: &BackfillRequest) -> Result<BackfillSummary, BackfillError> {
        if self.now - request.since > EVENT_RETENTION_SECS {
            tracing::warn!(since = %rfc3339(request.since),
                "since is older than Stripe's 30-day event retention: older events cannot be replayed");
        }
        let accounts = match &request.account {
            Some(account) => vec![account.clone()],
            None => self.ops.list_sellers().await?,
        };
        let mut summary = BackfillSummary {
            since: rfc3339(request.since),
            accounts: Vec::new(),
        };
        let mut pages_left = self.options.max_pages;
        for account in accounts {
            let mut result = AccountSummary {
                account: account.clone(),
                ..Default::default()
            };
            match self
                .run_account(&account, request.since, &mut result, &mut pages_left)
                .await
            {
                Ok(()) => {
                    if request.account.is_some() {
                        // A named account becomes part of the scheduled runs from now on.
                        self.ops.note_seller(&account, self.now).await?;
                    }
                }
                Err(error) => {
                    tracing::error!(account = %account, %error, "backfill of this account stopped");
                    result.error = Some(error.to_string());
                }
            }
            tracing::info!(
                account = %account,
                pages = result.pages,
                events_read = result.events_read,
                applied = result.applied,
                duplicates = result.duplicates,
                caught_up = result.caught_up,
                "backfill account done"
            );
            summary.accounts.push(result);
            if matches!(pages_left, Some(0)) {
                break;
            }
        }
        Ok(summary)
    }

    async fn run_account(
        &self,
        account: &str,
        since: i64,
        result: &mut AccountSummary,
        pages_left: &mut Option<u64>,
    ) -> Result<(), BackfillError> {
        let mut progress = self
            .ops
            .get_backfill_progress(account)
            .await?
            .unwrap_or_else(|| BackfillProgress {
                account: account.to_owned(),
                ..Default::default()
            });
        let mut caught_up = true;
        for (name, types) in streams() {
            caught_up &= self
                .run_stream(&mut progress, &name, &types, since, result, pages_left)
                .await?;
        }
        result.caught_up = caught_up;
        Ok(())
    }

    /// One stream of one account; `Ok(true)` when it reached the newest event.
    async fn run_stream(
        &self,
        progress: &mut BackfillProgress,
        name: &str,
        types: &[String],
        since: i64,
        result: &mut AccountSummary,
        pages_left: &mut Option<u64>,
    ) -> Result<bool, BackfillError> {
        if matches!(pages_left, Some(0)) {
            return Ok(false);
        }
        let account = progress.account.clone();
        let resumable = progress.streams.get(name).filter(|s| {
            s.types == types && s.since <= since && s.last_event_created.is_some_and(|c| c >= since)
        });
        let mut cursor = match resumable.and_then(|s| s.last_event_id.clone()) {
            Some(id) => Cursor::NewerThan(id),
            None => {
                progress.streams.insert(
                    name.to_owned(),
                    StreamProgress {
                        types: types.to_vec(),
                        since,
                        last_event_id: None,
                        last_event_created: None,
                        pages: 0,
                        events: 0,
                        caught_up_at: None,
                    },
                );
                match self.anchor(&account, types, since).await? {
                    Some(anchor) => Cursor::NewerThan(anchor),
                    None => {
                        // Nothing older than `since`: the oldest page is the last one.
                        let (oldest, was_only_page) =
                            self.oldest_page(&account, types, since).await?;
                        self.take_page(progress, name, &oldest, result, pages_left)
                            .await?;
                        match oldest.events.first() {
                            Some(newest) if !was_only_page => Cursor::NewerThan(newest.id.clone()),
                            _ => return self.finish(progress, name).await,
                        }
                    }
                }
            }
        };
        loop {
            if matches!(pages_left, Some(0)) {
                return Ok(false);
            }
            if self.options.deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(BackfillError::OutOfTime);
            }
            let page = self
                .api
                .list_events(
                    &account,
                    types,
                    Created::Since(since),
                    &cursor,
                    self.options.page_size,
                )
                .await?;
            self.take_page(progress, name, &page, result, pages_left)
                .await?;
            match page.events.first() {
                Some(newest) if page.has_more => cursor = Cursor::NewerThan(newest.id.clone()),
                _ => return self.finish(progress, name).await,
            }
        }
    }

    /// The id of the newest event of `types` created before `since`, if Stripe still has one.
    async fn anchor(
        &self,
        account: &str,
        types: &[String],
        since: i64,
    ) -> Result<Option<String>, BackfillError> {
        let page = self
            .api
            .list_events(account, types, Created::Before(since), &Cursor::Newest, 1)
            .await?;
        Ok(page.events.into_iter().next().map(|e| e.id))
    }

    /// The last page of the newest-first list (the oldest events) and whether it was the only one.
    async fn oldest_page(
        &self,
        account: &str,
        types: &[String],
        since: i64,
    ) -> Result<(EventPage, bool), BackfillError> {
        let mut cursor = Cursor::Newest;
        let mut first = true;
        loop {
            let page = self
                .api
                .list_events(
                    account,
                    types,
                    Created::Since(since),
                    &cursor,
                    self.options.page_size,
                )
                .await?;
            match page.events.last() {
                Some(oldest) if page.has_more => {
                    cursor = Cursor::OlderThan(oldest.id.clone());
                    first = false;
                }
                _ => return Ok((page, first)),
            }
        }
    }

    /// Folds one page oldest first, then stores the stream's progress.
    async fn take_page(
        &self,
        progress: &mut BackfillProgress,
        name: &str,
        page: &EventPage,
        result: &mut AccountSummary,
        pages_left: &mut Option<u64>,
    ) -> Result<(), BackfillError> {
        let (mut applied, mut read) = (0u64, 0u64);
        for event in page.events.iter().rev() {
            read += 1;
            match self.fold(event).await? {
                Some(IngestOutcome::Applied { .. }) => {
                    applied += 1;
                    result.applied += 1
                }
                Some(IngestOutcome::Duplicate { .. }) => result.duplicates += 1,
                Some(IngestOutcome::Ignored(reason)) if reason.is_unreadable() => {
                    result.unreadable += 1
                }
                Some(IngestOutcome::Ignored(_)) => result.ignored += 1,
                None => result.unreadable += 1,
            }
        }
        result.pages += 1;
        result.events_read += read;
        if let Some(left) = pages_left.as_mut() {
            *left = left.saturating_sub(1);
        }
        // The stream entry is inserted before its first page is read.
        if let Some(stream) = progress.streams.get_mut(name) {
            if let Some(newest) = page.events.first() {
                stream.last_event_id = Some(newest.id.clone());
                stream.last_event_created = Some(newest.created);
            }
            stream.pages += 1;
            stream.events += read;
        }
        progress.updated_at = self.now;
        self.ops.put_backfill_progress(progress).await?;
        self.metrics.emit(
            &[],
            &[
                (
                    metrics::BACKFILL_EVENTS_READ,
                    read as f64,
                    metrics::Unit::Count,
                ),
                (
                    metrics::BACKFILL_EVENTS_APPLIED,
                    applied as f64,
                    metrics::Unit::Count,
                ),
            ],
        );
        tracing::info!(account = %progress.account, stream = name, events = read, applied,
            has_more = page.has_more, "backfill page folded");
        Ok(())
    }

    /// One event through the webhook's path: its outcome, `None` when the listed bytes are not
    /// an event at all, or a store error that stops the account.
    async fn fold(&self, event: &ListedEvent) -> Result<Option<IngestOutcome>, BackfillError> {
        match ingest_body(&event.body, self.ingest).await {
            Ok(outcome) => Ok(Some(outcome)),
            Err(IngestError::Store(e)) => Err(BackfillError::Store(e)),
            Err(error @ IngestError::NotAnEvent(_)) => {
                tracing::error!(event_id = %event.id, %error, "backfilled event is not a readable event");
                Ok(None)
            }
        }
    }

    async fn finish(
        &self,
        progress: &mut BackfillProgress,
        name: &str,
    ) -> Result<bool, BackfillError> {
        if let Some(stream) = progress.streams.get_mut(name) {
            stream.caught_up_at = Some(self.now);
        }
        progress.updated_at = self.now;
        self.ops.put_backfill_progress(progress).await?;
        Ok(true)
    }
}
