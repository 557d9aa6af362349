//! Export jobs on one machine: the worker fed by the store's job writes (as the exports
//! function's stream event source does in AWS, with the same filter), and the signed download
//! links it hands out (`GET /local/exports/<seller>/<id>.csv?expires=…&sig=…`) served from the
//! exports folder (`--exports-dir`). Files are deleted a day after they were written, as the
//! bucket's lifecycle rule expires them in AWS ([`sweep`], at start and every hour).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::dynamodb::EventRecord;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use leenkies_adapters::dynamodb::exports::{job_of_record, job_to_image};
use leenkies_adapters::dynamodb::stream_filter::passes_exports_filter;
use leenkies_adapters::exports::folder::FolderSink;
use leenkies_domain::export::{link, ExportJob, ExportJobs, ExportSink, Worker};
use leenkies_domain::ports::OrderStore;
use tokio::sync::mpsc::UnboundedReceiver;

/// What the local worker runs with.
#[derive(Clone)]
pub struct LocalExports {
    pub orders: Arc<dyn OrderStore>,
    pub jobs: Arc<dyn ExportJobs>,
    pub sink: Arc<dyn ExportSink>,
    pub part_bytes: usize,
}

impl LocalExports {
    /// One step of the job a stream record names, retried with back-off while the store is
    /// unavailable (as Lambda retries a failed stream batch).
    pub async fn handle(&self, record: &EventRecord) {
        let Some((seller, id, version)) = job_of_record(record) else {
            return;
        };
        let mut delay = Duration::from_millis(100);
        loop {
            let worker = Worker {
                orders: self.orders.as_ref(),
                jobs: self.jobs.as_ref(),
                sink: self.sink.as_ref(),
                part_bytes: self.part_bytes,
                out_of_time: &|| false,
                now: leenkies_domain::clock::now_secs(),
            };
            match worker.advance(&seller, &id, Some(version)).await {
                Ok(_) => return,
                Err(error) => {
                    tracing::warn!(%error, job_id = %id, "export step failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
}

/// Feeds the embedded store's job writes to the worker, through the template's filter.
pub async fn pump(mut writes: UnboundedReceiver<ExportJob>, exports: LocalExports) {
    while let Some(job) = writes.recv().await {
        let Ok(image) = job_to_image(&job) else {
            tracing::error!(job_id = %job.id, "export job could not be encoded as a stream record");
            continue;
        };
        let mut record = EventRecord::default();
        record.event_name = "MODIFY".to_owned();
        record.event_source = Some("aws:dynamodb".to_owned());
        record.change.new_image = image;
        if passes_exports_filter(&record) {
            exports.handle(&record).await;
        }
    }
}

/// How often the exports folder is swept.
pub const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// Deletes the export files (`<dir>/<seller>/<file>`) last written before `cutoff`, and the
/// seller folders left empty; answers how many files went. A file that cannot be read or
/// deleted is left for the next sweep.
pub fn sweep(dir: &std::path::Path, cutoff: std::time::SystemTime) -> usize {
    let mut removed = 0;
    let Ok(sellers) = std::fs::read_dir(dir) else {
        return 0;
    };
    for seller in sellers.filter_map(Result::ok) {
        let folder = seller.path();
        if !folder.is_dir() {
            continue;
        }
        let Ok(files) = std::fs::read_dir(&folder) else {
            continue;
        };
        for file in files.filter_map(Result::ok) {
            let old = file
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|at| at < cutoff);
            if old && std::fs::remove_file(file.path()).is_ok() {
                removed += 1;
            }
        }
        // Only an empty folder goes (remove_dir refuses any other).
        let _ = std::fs::remove_dir(&folder);
    }
    removed
}

/// Sweeps `dir` now and every [`SWEEP_EVERY`], forever (the runner aborts it at stop).
pub async fn sweep_forever(dir: PathBuf) {
    let retention = Duration::from_secs(leenkies_domain::export::JOB_RETENTION_SECS as u64);
    loop {
        let cutoff = std::time::SystemTime::now() - retention;
        let target = dir.clone();
        match tokio::task::spawn_blocking(move || sweep(&target, cutoff)).await {
            Ok(0) | Err(_) => {}
            Ok(n) => tracing::info!(files = n, "export files older than a day deleted"),
        }
        tokio::time::sleep(SWEEP_EVERY).await;
    }
}

/// The folder and key that serve the signed links.
#[derive(Clone)]
pub struct Links {
    pub dir: PathBuf,
    pub key: Vec<u8>,
}

#[derive(serde::Deserialize)]
pub struct LinkQuery {
    expires: i64,
    sig: String,
}

pub fn router(links: Links) -> Router {
    Router::new()
        .route("/local/exports/{seller}/{file}", get(download))
        .with_state(Arc::new(links))
}

async fn download(
    State(links): State<Arc<Links>>,
    Path((seller, file)): Path<(String, String)>,
    Query(q): Query<LinkQuery>,
) -> Response {
    let safe = |s: &str| {
        !s.is_empty() && s.len() <= 255 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    };
    let Some(id) = file.strip_suffix(".csv").filter(|id| safe(id)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !safe(&seller) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let now = leenkies_domain::clock::now_secs();
    if !link::verify(&links.key, &seller, id, q.expires, &q.sig, now) {
        return (
            StatusCode::FORBIDDEN,
            "this link is invalid or has expired\n",
        )
            .into_response();
    }
    let sink = FolderSink::new(&links.dir);
    match tokio::fs::read(sink.path_of(&leenkies_domain::export::object_key(&seller, id))).await {
        Ok(bytes) => {
            let mut response = bytes.into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            headers.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"orders.csv\""),
            );
            response
        }
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    #[test]
    fn given_export_files_older_and_younger_than_a_day_when_swept_then_only_the_old_ones_go() {
        // GIVEN two sellers' files, one written 25 hours ago, two just now
        let dir = tempfile::tempdir().unwrap();
        let day = Duration::from_secs(24 * 3600);
        for (seller, file, age) in [
            ("acct_A", "old.csv", day + Duration::from_secs(3600)),
            ("acct_A", "new.csv", Duration::ZERO),
            ("acct_B", "new.csv", Duration::ZERO),
            ("acct_C", "old.csv", day * 2),
        ] {
            std::fs::create_dir_all(dir.path().join(seller)).unwrap();
            let path = dir.path().join(seller).join(file);
            std::fs::write(&path, "order_id\n").unwrap();
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(SystemTime::now() - age)
                .unwrap();
        }
        // WHEN swept with a cutoff of a day ago
        let removed = sweep(dir.path(), SystemTime::now() - day);
        // THEN the two old files went, the new ones stayed, and the emptied folder too
        assert_eq!(removed, 2);
        assert!(!dir.path().join("acct_A/old.csv").exists());
        assert!(dir.path().join("acct_A/new.csv").exists());
        assert!(dir.path().join("acct_B/new.csv").exists());
        assert!(!dir.path().join("acct_C").exists());
        // AND a folder that does not exist is no error
        assert_eq!(sweep(&dir.path().join("missing"), SystemTime::now()), 0);
    }
}
