//! The Lambda adapter: one invocation is one [`Job`] run, stopped cleanly a margin before the
//! invocation's deadline (progress is stored per page, so the next run resumes).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_runtime::LambdaEvent;
use leenkies_domain::clock::now_secs;
use serde_json::Value;

use crate::job::{Job, JobRequest};

/// Time left for storing progress and answering after the last page.
const DEADLINE_MARGIN: Duration = Duration::from_secs(30);

/// What an invocation asks for. A scheduled event (EventBridge's envelope: `source`,
/// `detail-type`, and an `account` that is the AWS account id, not a seller) is a plain scheduled
/// run; only a direct invocation's own JSON can name a seller or a start.
pub fn request_of(payload: Value) -> JobRequest {
    if payload.get("detail-type").is_some() || payload.get("source").is_some() {
        return JobRequest::default();
    }
    serde_json::from_value(payload).unwrap_or_default()
}

pub async fn handle(job: &Job, event: LambdaEvent<Value>) -> Result<Value, lambda_runtime::Error> {
    let request = request_of(event.payload);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_eventbridges_scheduled_envelope_when_read_then_a_plain_run_for_every_seller() {
        // GIVEN the envelope EventBridge sends, whose `account` is the AWS account id
        let scheduled = serde_json::json!({
            "version": "0", "id": "1", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2026-12-07T18:00:00Z", "region": "us-east-1",
            "resources": [], "detail": {}
        });
        // WHEN read THEN it names no seller
        assert_eq!(request_of(scheduled).account, None);
        // AND a direct invocation still can
        let direct = serde_json::json!({"account": "acct_1", "since": "2026-05-01T00:00:00Z"});
        assert_eq!(request_of(direct).account.as_deref(), Some("acct_1"));
    }
}
