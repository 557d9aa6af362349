//! Export jobs (issue 17 item 4): a CSV of every order matching the list filters, of any size,
//! written outside the request in parts.
//!
//! The job's life: `POST /orders/exports` stores a `queued` job; every write of a job that still
//! needs work (`queued` or `running`) reaches the worker through the table's stream (the local
//! change pump on one machine), which does **one step** per record ([`advance`]): it starts the
//! multipart upload, or renders whole pages of orders until one part is full (or the listing
//! ends), uploads that part and records it on the job (upload id, next part number, ETags, list
//! position, rows, bytes) with a version condition. That write is the next step's stream record,
//! so the stream is the queue and a crash or a timeout resumes from the last recorded part:
//! re-uploading a part number overwrites it, so no row is lost or doubled. The last step
//! completes the upload (`succeeded`); a sink that refuses for good ends the job `failed` and
//! aborts the upload.
//!
//! - [`csv`]: the rows, shared with `GET /orders/export.csv`;
//! - [`ExportJobs`]: where jobs live (the orders table, items of their own);
//! - [`ExportSink`]: where the CSV goes (S3 multipart upload, or a local folder).

pub mod csv;
pub mod link;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::listing::{self, ListFilters};
use crate::ports::{OrderStore, PagePosition, StoreError};

/// The smallest part S3 accepts (except the last): the production floor of the part size.
pub const MIN_PART_BYTES: usize = 5 * 1024 * 1024;
/// The configured part size (`EXPORT_PART_BYTES`), refused below S3's 5 MiB minimum: a smaller
/// part would make the upload fail only at its completion. (Tests that want several parts of a
/// small export build a [`Worker`] with a smaller size directly, against a moto started with
/// `S3_UPLOAD_PART_MIN_SIZE`.)
pub fn checked_part_bytes(bytes: usize) -> Result<usize, String> {
    if bytes < MIN_PART_BYTES {
        Err(format!(
            "EXPORT_PART_BYTES must be at least {MIN_PART_BYTES} (S3's minimum part size), got {bytes}"
        ))
    } else {
        Ok(bytes)
    }
}

/// Orders read per store page while exporting (the same as `export.csv`).
pub const EXPORT_PAGE: usize = 100;
/// How long a finished job (and its file) is kept: the bucket's lifecycle rule expires exports
/// after one day.
pub const JOB_RETENTION_SECS: i64 = 24 * 3600;

/// Where a job stands. `queued` and `running` need work; the other two are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "queued" => Some(JobStatus::Queued),
            "running" => Some(JobStatus::Running),
            "succeeded" => Some(JobStatus::Succeeded),
            "failed" => Some(JobStatus::Failed),
            _ => None,
        }
    }

    /// Whether the worker still has something to do.
    pub fn needs_work(self) -> bool {
        matches!(self, JobStatus::Queued | JobStatus::Running)
    }
}

/// One uploaded part: its number (from 1) and the ETag the sink answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadedPart {
    pub number: u32,
    pub etag: String,
}

/// The multipart upload in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    pub upload_id: String,
    /// Recorded parts, in order; the next part's number is `parts.len() + 1`.
    pub parts: Vec<UploadedPart>,
    /// Where the listing resumes: the last order of the last recorded part (`None`: the start).
    pub position: Option<PagePosition>,
}

/// An export job as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportJob {
    pub seller_id: String,
    pub id: String,
    pub status: JobStatus,
    pub created_at: i64,
    pub updated_at: i64,
    pub filters: ListFilters,
    /// Orders written so far (rows after the header).
    pub rows: u64,
    /// Bytes written so far (header included).
    pub bytes: u64,
    pub upload: Option<Upload>,
    /// Why a failed job failed, in words for the seller.
    pub error: Option<String>,
    /// Steps that ran out of time or failed transiently since the last recorded part; bumped so
    /// that the write itself is a new stream record that resumes the job.
    pub retries: u32,
    /// Conditional-write version: 1 when created, +1 per write.
    pub version: u64,
}

impl ExportJob {
    pub fn new(seller_id: &str, id: &str, filters: ListFilters, now: i64) -> Self {
        Self {
            seller_id: seller_id.to_owned(),
            id: id.to_owned(),
            status: JobStatus::Queued,
            created_at: now,
            updated_at: now,
            filters,
            rows: 0,
            bytes: 0,
            upload: None,
            error: None,
            retries: 0,
            version: 1,
        }
    }

    /// Parts uploaded so far.
    pub fn parts(&self) -> u32 {
        self.upload.as_ref().map_or(0, |u| u.parts.len() as u32)
    }

    /// The object's key in the sink: `<seller>/<id>.csv`.
    pub fn object_key(&self) -> String {
        object_key(&self.seller_id, &self.id)
    }

    /// When the store may forget it (a TTL attribute where the store has one).
    pub fn expires_at(&self) -> i64 {
        self.created_at + JOB_RETENTION_SECS
    }

    /// The job as its seller should see it at `now`: one that still needs work but has not been
    /// written for [`STALLED_AFTER_SECS`] has been given up on (the stream's retries ran out and
    /// its record went to the failure destination, which carries no job to mark), so it reads
    /// as failed, with why, instead of running forever.
    pub fn as_seen_at(mut self, now: i64) -> Self {
        if self.status.needs_work() && now - self.updated_at >= STALLED_AFTER_SECS {
            self.status = JobStatus::Failed;
            self.error = Some(STALLED_MESSAGE.to_owned());
        }
        self
    }
}

/// How long a queued or running job may go without a write before it reads as failed. Every
/// step writes the job (a recorded part, or a retry bump) well within this: a step is bounded
/// by the function's timeout (two minutes in AWS).
pub const STALLED_AFTER_SECS: i64 = 15 * 60;

/// What a stalled job says to its seller.
pub const STALLED_MESSAGE: &str =
    "The export stopped making progress for 15 minutes and was given up. Start a new export.";

/// `<seller>/<id>.csv`: seller ids are `acct_…` or `platform`, job ids are generated hex, so the
/// key never holds a `/` or `..` of outside origin.
pub fn object_key(seller_id: &str, id: &str) -> String {
    format!("{seller_id}/{id}.csv")
}

/// Where jobs live. Implemented by both stores the same way (conformance suite).
#[async_trait]
pub trait ExportJobs: Send + Sync {
    /// Stores a new job; `Conflict` if that id exists.
    async fn create_job(&self, job: &ExportJob) -> Result<(), StoreError>;
    /// The seller's job, or `None` (another seller's job is `None` too).
    async fn get_job(&self, seller_id: &str, id: &str) -> Result<Option<ExportJob>, StoreError>;
    /// Writes `job` (whose `version` is the new one) if the stored one is at `expected_version`.
    async fn save_job(&self, job: &ExportJob, expected_version: u64) -> Result<(), StoreError>;
    /// The seller's jobs created at or after `since` (Unix seconds), in any order (strongly
    /// consistent: a job created a moment ago is among them).
    async fn recent_jobs(&self, seller_id: &str, since: i64) -> Result<Vec<ExportJob>, StoreError>;
}

/// Jobs of one seller that may be queued or running at once.
pub const MAX_ACTIVE_JOBS: usize = 3;
/// Jobs one seller may start within [`JOBS_WINDOW_SECS`].
pub const MAX_JOBS_PER_DAY: usize = 50;
/// The window [`MAX_JOBS_PER_DAY`] counts over.
pub const JOBS_WINDOW_SECS: i64 = 24 * 3600;
/// `Retry-After` when [`MAX_ACTIVE_JOBS`] are running: about the time a large export takes.
pub const ACTIVE_RETRY_SECS: i64 = 60;

/// An id that sorts by creation time: the time in 10 hex digits, then `random` (hex), 32 hex
/// digits in all, so a store lists a seller's jobs of the last day by key.
pub fn job_id(now: i64, random: &str) -> String {
    let mut id = format!("{:010x}", now.max(0));
    id.extend(random.chars().filter(char::is_ascii_hexdigit).take(22));
    id
}

/// The smallest job id created at or after `since` (the start of [`job_id`]'s range).
pub fn job_id_floor(since: i64) -> String {
    format!("{:010x}", since.max(0))
}

/// What starting an export did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// A new job, queued.
    Queued(ExportJob),
    /// A job of the same seller and filters is queued or running: that job, answered again.
    Existing(ExportJob),
    /// Over a limit: retry after this many seconds.
    Limited { retry_after: i64, reason: Limit },
}

/// Which limit refused a new job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// [`MAX_ACTIVE_JOBS`] queued or running.
    Active,
    /// [`MAX_JOBS_PER_DAY`] within the window.
    Daily,
}

impl Limit {
    pub fn as_str(self) -> &'static str {
        match self {
            Limit::Active => "too_many_active_exports",
            Limit::Daily => "too_many_exports_today",
        }
    }

    pub fn message(self) -> String {
        match self {
            Limit::Active => format!(
                "{MAX_ACTIVE_JOBS} exports are already being written; wait for one to finish"
            ),
            Limit::Daily => {
                format!("{MAX_JOBS_PER_DAY} exports were started within 24 hours; try again later")
            }
        }
    }
}

/// Starts an export of `filters` for `seller_id` (the use case behind `POST /orders/exports`):
/// the same seller and filters already queued or running answer that job again, else the limits
/// ([`MAX_ACTIVE_JOBS`] at once, [`MAX_JOBS_PER_DAY`] a day) decide, else a new job is stored.
/// Forty identical requests make one job, one read of the orders and one file.
///
/// The check and the write are two steps: requests arriving in the same instant can each pass
/// the check (at most one job more per concurrent request); the limits bound a flood, they are
/// not a lock.
pub async fn start(
    jobs: &dyn ExportJobs,
    seller_id: &str,
    filters: ListFilters,
    now: i64,
    random: &str,
) -> Result<Start, StoreError> {
    // Each as its seller sees it now: a stalled job reads as failed, so it holds no slot and is
    // not answered again.
    let recent: Vec<ExportJob> = jobs
        .recent_jobs(seller_id, now - JOBS_WINDOW_SECS)
        .await?
        .into_iter()
        .filter(|j| j.seller_id == seller_id && j.created_at > now - JOBS_WINDOW_SECS)
        .map(|j| j.as_seen_at(now))
        .collect();
    let active = |j: &&ExportJob| j.status.needs_work();
    if let Some(same) = recent
        .iter()
        .filter(active)
        .filter(|j| j.filters == filters)
        .max_by_key(|j| (j.created_at, j.id.clone()))
    {
        return Ok(Start::Existing(same.clone()));
    }
    if recent.iter().filter(active).count() >= MAX_ACTIVE_JOBS {
        return Ok(Start::Limited {
            retry_after: ACTIVE_RETRY_SECS,
            reason: Limit::Active,
        });
    }
    if recent.len() >= MAX_JOBS_PER_DAY {
        // The slot that frees first: the oldest job of the window leaves it.
        let oldest = recent.iter().map(|j| j.created_at).min().unwrap_or(now);
        return Ok(Start::Limited {
            retry_after: (oldest + JOBS_WINDOW_SECS - now).max(1),
            reason: Limit::Daily,
        });
    }
    let job = ExportJob::new(seller_id, &job_id(now, random), filters, now);
    jobs.create_job(&job).await?;
    Ok(Start::Queued(job))
}

/// What can go wrong writing the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// Network, throttling, 5xx: the step is retried from the last recorded part.
    #[error("export storage unavailable: {0}")]
    Transient(String),
    /// Refused for good (no such bucket, access denied, the upload is gone): the job fails.
    #[error("export storage refused: {0}")]
    Refused(String),
}

/// Where the CSV goes, as a multipart upload of numbered parts.
#[async_trait]
pub trait ExportSink: Send + Sync {
    async fn start(&self, key: &str) -> Result<String, SinkError>;
    /// Uploads part `number` (from 1), which starts at byte `offset` of the file; uploading a
    /// number again replaces that part. Answers the part's ETag.
    async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: u32,
        offset: u64,
        bytes: Vec<u8>,
    ) -> Result<String, SinkError>;
    async fn complete(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[UploadedPart],
    ) -> Result<(), SinkError>;
    async fn abort(&self, key: &str, upload_id: &str) -> Result<(), SinkError>;
}

/// What one step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Nothing to do: the job is final, unknown, or the record was older than the job.
    Skipped,
    /// Progress recorded; the write's stream record carries the next step.
    Progressed,
    /// Out of time before a part was full: the retry count was bumped to resume from the last
    /// recorded part.
    Deferred,
    Succeeded,
    Failed,
}

/// How a step is run.
pub struct Worker<'a> {
    pub orders: &'a dyn OrderStore,
    pub jobs: &'a dyn ExportJobs,
    pub sink: &'a dyn ExportSink,
    /// Bytes per part (every part but the last is at least this big).
    pub part_bytes: usize,
    /// Whether the invocation's deadline is near: checked between store pages.
    pub out_of_time: &'a (dyn Fn() -> bool + Send + Sync),
    pub now: i64,
}

/// Transient failures in a row after which a job is given up (and its upload aborted).
pub const MAX_RETRIES: u32 = 20;

const FAILED_STORAGE: &str =
    "the export could not be written to storage; please start a new export";
const FAILED_UNREADABLE: &str =
    "some orders could not be read; please start a new export, and contact support if it fails again";
const FAILED_RETRIES: &str =
    "the export kept being interrupted; please start a new export, or narrow the filters";
const FAILED_TOO_BROAD: &str =
    "too many customer emails start with this search; type more of the address and export again";

impl Worker<'_> {
    /// One step of the job `(seller_id, id)`, seen by a stream record at `seen_version` (`None`:
    /// run whatever the stored version is). A record older than the stored job is skipped: the
    /// newer write has its own record. Errors are transient (retry the record).
    pub async fn advance(
        &self,
        seller_id: &str,
        id: &str,
        seen_version: Option<u64>,
    ) -> Result<Step, StoreError> {
        let Some(job) = self.jobs.get_job(seller_id, id).await? else {
            return Ok(Step::Skipped);
        };
        if !job.status.needs_work() || seen_version.is_some_and(|v| v != job.version) {
            return Ok(Step::Skipped);
        }
        match self.step(&job).await {
            Ok(step) => Ok(step),
            Err(StepError::Store(e)) if e.is_transient() => Err(e),
            Err(StepError::Store(StoreError::TooBroad(_))) => {
                self.fail(job, FAILED_TOO_BROAD).await
            }
            Err(StepError::Store(_)) => self.fail(job, FAILED_UNREADABLE).await,
            Err(StepError::Sink(SinkError::Refused(reason))) => {
                tracing::warn!(job_id = %job.id, %reason, "export storage refused; job failed");
                self.fail(job, FAILED_STORAGE).await
            }
            Err(StepError::Sink(SinkError::Transient(reason))) => {
                tracing::warn!(job_id = %job.id, %reason, "export storage unavailable; retrying");
                if job.retries >= MAX_RETRIES {
                    return self.fail(job, FAILED_RETRIES).await;
                }
                self.bump(job).await?;
                Ok(Step::Deferred)
            }
        }
    }

    async fn step(&self, job: &ExportJob) -> Result<Step, StepError> {
        let key = job.object_key();
        let Some(upload) = &job.upload else {
            let upload_id = self.sink.start(&key).await?;
            let mut next = job.clone();
            next.status = JobStatus::Running;
            next.upload = Some(Upload {
                upload_id,
                parts: Vec::new(),
                position: None,
            });
            self.save(next, job.version).await?;
            return Ok(Step::Progressed);
        };
        let first = upload.parts.is_empty();
        let mut buffer = Vec::with_capacity(self.part_bytes + self.part_bytes / 8);
        let mut rows = 0u64;
        let mut position = upload.position.clone();
        let mut done = false;
        let mut header = first;
        while buffer.len() < self.part_bytes {
            if (self.out_of_time)() {
                if job.retries >= MAX_RETRIES {
                    return Ok(self.fail(job.clone(), FAILED_RETRIES).await?);
                }
                self.bump(job.clone()).await?;
                return Ok(Step::Deferred);
            }
            let page = listing::page(
                self.orders,
                &job.seller_id,
                &job.filters,
                EXPORT_PAGE,
                position.clone(),
            )
            .await?;
            csv::render_into(&mut buffer, header, &page.orders)
                .map_err(|e| StepError::Store(StoreError::Corrupt(e.to_string())))?;
            header = false;
            rows += page.orders.len() as u64;
            match page.next {
                Some(next) => position = Some(next),
                None => {
                    done = true;
                    break;
                }
            }
        }
        let mut next = job.clone();
        next.retries = 0;
        let mut parts = upload.parts.clone();
        // An empty last part is skipped (S3 refuses a zero-byte part after the first); an empty
        // first part still holds the header.
        if !buffer.is_empty() {
            let number = parts.len() as u32 + 1;
            let len = buffer.len() as u64;
            let etag = self
                .sink
                .upload_part(&key, &upload.upload_id, number, job.bytes, buffer)
                .await?;
            parts.push(UploadedPart { number, etag });
            next.rows += rows;
            next.bytes += len;
        }
        if done {
            self.sink.complete(&key, &upload.upload_id, &parts).await?;
            next.status = JobStatus::Succeeded;
        }
        next.upload = Some(Upload {
            upload_id: upload.upload_id.clone(),
            parts,
            position,
        });
        self.save(next, job.version).await?;
        Ok(if done {
            Step::Succeeded
        } else {
            Step::Progressed
        })
    }

    async fn save(&self, mut job: ExportJob, expected: u64) -> Result<(), StoreError> {
        job.version = expected + 1;
        job.updated_at = self.now;
        match self.jobs.save_job(&job, expected).await {
            // Another step of the same job won (a duplicate stream record): its write has its
            // own record, and a part uploaded twice under one number holds the same rows.
            Err(StoreError::Conflict) => Ok(()),
            other => other,
        }
    }

    async fn bump(&self, mut job: ExportJob) -> Result<(), StoreError> {
        let expected = job.version;
        job.retries += 1;
        self.save(job, expected).await
    }

    async fn fail(&self, mut job: ExportJob, why: &str) -> Result<Step, StoreError> {
        if let Some(upload) = &job.upload {
            if let Err(e) = self.sink.abort(&job.object_key(), &upload.upload_id).await {
                // The bucket's lifecycle rule aborts incomplete uploads after a day anyway.
                tracing::warn!(job_id = %job.id, error = %e, "aborting the export upload failed");
            }
        }
        let expected = job.version;
        job.status = JobStatus::Failed;
        job.error = Some(why.to_owned());
        self.save(job, expected).await?;
        Ok(Step::Failed)
    }
}

enum StepError {
    Store(StoreError),
    Sink(SinkError),
}

impl From<StoreError> for StepError {
    fn from(e: StoreError) -> Self {
        StepError::Store(e)
    }
}

impl From<SinkError> for StepError {
    fn from(e: SinkError) -> Self {
        StepError::Sink(e)
    }
}

#[cfg(test)]
mod tests;
