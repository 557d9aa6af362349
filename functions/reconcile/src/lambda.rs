//! The Lambda adapter: one invocation is one [`Job`] run, stopped cleanly a margin before the
//! invocation's deadline (progress is stored per page, so the next run resumes).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_runtime::LambdaEvent;
use leenkies_domain::clock::now_secs;
use serde_json::Value;

use crate::job::{Job, JobRequest};

/// Time left for storing progress and answering after the last page.
const DEADLINE_MARGIN: Duration = Duration::from_secs(30);

pub async fn handle(job: &Job, event: LambdaEvent<Value>) -> Result<Value, lambda_runtime::Error> {
    // EventBridge's scheduled envelope has none of our fields: a plain scheduled run.
    let request: JobRequest = serde_json::from_value(event.payload).unwrap_or_default();
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let left = Duration::from_millis(event.context.deadline.saturating_sub(now_ms));
    let deadline = Instant::now() + left.saturating_sub(DEADLINE_MARGIN);
    let summary = job.run(&request, now_secs(), Some(deadline)).await?;
    tracing::info!(
        applied = summary.backfill.applied(),
        events_read = summary.backfill.events_read(),
        stale = summary.stale,
        "reconcile run done"
    );
    Ok(serde_json::to_value(&summary)?)
}
