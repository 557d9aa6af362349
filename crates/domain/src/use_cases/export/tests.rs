//! The worker's decisions on the embedded store with a sink that records what it is asked:
//! a refusing bucket fails the job in words and aborts the upload; a stale record is skipped.

use std::sync::Mutex;

use async_trait::async_trait;

use super::*;
use crate::memory_store::MemoryStore;

#[derive(Default)]
struct Recorder {
    refuse_parts: bool,
    calls: Mutex<Vec<String>>,
}

#[async_trait]
impl ExportSink for Recorder {
    async fn start(&self, key: &str) -> Result<String, SinkError> {
        self.calls.lock().unwrap().push(format!("start {key}"));
        Ok("u1".into())
    }
    async fn upload_part(
        &self,
        _key: &str,
        _upload_id: &str,
        number: u32,
        _offset: u64,
        _bytes: Vec<u8>,
    ) -> Result<String, SinkError> {
        self.calls.lock().unwrap().push(format!("part {number}"));
        if self.refuse_parts {
            Err(SinkError::Refused("AccessDenied".into()))
        } else {
            Ok(format!("e{number}"))
        }
    }
    async fn complete(&self, _: &str, _: &str, parts: &[UploadedPart]) -> Result<(), SinkError> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("complete {}", parts.len()));
        Ok(())
    }
    async fn abort(&self, _: &str, upload_id: &str) -> Result<(), SinkError> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("abort {upload_id}"));
        Ok(())
    }
}

fn worker<'a>(store: &'a MemoryStore, sink: &'a Recorder) -> Worker<'a> {
    Worker {
        orders: store,
        jobs: store,
        sink,
        part_bytes: MIN_PART_BYTES,
        out_of_time: &|| false,
        now: 5,
    }
}

#[tokio::test]
async fn given_a_bucket_that_refuses_when_the_job_runs_then_it_fails_in_words_and_aborts() {
    // GIVEN a queued job and a sink that refuses every part
    let store = MemoryStore::new();
    let sink = Recorder {
        refuse_parts: true,
        ..Recorder::default()
    };
    store
        .create_job(&ExportJob::new("acct_A", "j1", ListFilters::default(), 0))
        .await
        .unwrap();
    // WHEN the worker runs its steps
    let w = worker(&store, &sink);
    assert_eq!(
        w.advance("acct_A", "j1", Some(1)).await,
        Ok(Step::Progressed)
    );
    assert_eq!(w.advance("acct_A", "j1", Some(2)).await, Ok(Step::Failed));
    // THEN the job is failed with a reason a seller can act on, and the upload was aborted
    let job = store.get_job("acct_A", "j1").await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Failed);
    let why = job.error.unwrap();
    assert!(
        why.contains("new export") && !why.contains("AccessDenied"),
        "{why}"
    );
    assert_eq!(
        *sink.calls.lock().unwrap(),
        ["start acct_A/j1.csv", "part 1", "abort u1"]
    );
    // AND a later record of the failed job does nothing
    assert_eq!(w.advance("acct_A", "j1", None).await, Ok(Step::Skipped));
}

#[tokio::test]
async fn given_a_record_older_than_the_job_when_run_then_skipped() {
    // GIVEN a job already at version 2 (started)
    let store = MemoryStore::new();
    let sink = Recorder::default();
    store
        .create_job(&ExportJob::new("acct_A", "j1", ListFilters::default(), 0))
        .await
        .unwrap();
    let w = worker(&store, &sink);
    w.advance("acct_A", "j1", Some(1)).await.unwrap();
    // WHEN the version-1 record is delivered again
    // THEN nothing is started twice
    assert_eq!(w.advance("acct_A", "j1", Some(1)).await, Ok(Step::Skipped));
    // AND the current record finishes the empty export: the header alone, one part
    assert_eq!(
        w.advance("acct_A", "j1", Some(2)).await,
        Ok(Step::Succeeded)
    );
    let job = store.get_job("acct_A", "j1").await.unwrap().unwrap();
    assert_eq!((job.rows, job.parts()), (0, 1));
    assert_eq!(job.bytes as usize, csv::render(true, &[]).unwrap().len());
    assert_eq!(
        *sink.calls.lock().unwrap(),
        ["start acct_A/j1.csv", "part 1", "complete 1"]
    );
}

#[test]
fn given_part_sizes_when_checked_then_below_5_mib_is_refused() {
    assert!(checked_part_bytes(MIN_PART_BYTES - 1).is_err());
    assert_eq!(checked_part_bytes(MIN_PART_BYTES), Ok(MIN_PART_BYTES));
}

#[test]
fn given_a_running_job_unwritten_for_15_minutes_when_read_then_it_is_failed_with_why() {
    // GIVEN a job last written at t=1000, still running
    let mut job = ExportJob::new("acct_1", "abc", ListFilters::default(), 1000);
    job.status = JobStatus::Running;
    // WHEN read a second before the limit, THEN it is still running
    let early = job.clone().as_seen_at(1000 + STALLED_AFTER_SECS - 1);
    assert_eq!(early.status, JobStatus::Running);
    assert_eq!(early.error, None);
    // WHEN read at the limit, THEN it reads as failed, in words
    let late = job.clone().as_seen_at(1000 + STALLED_AFTER_SECS);
    assert_eq!(late.status, JobStatus::Failed);
    assert_eq!(late.error.as_deref(), Some(STALLED_MESSAGE));
    // AND a finished job is never touched, however old
    job.status = JobStatus::Succeeded;
    assert_eq!(job.clone().as_seen_at(i64::MAX / 2), job);
}
