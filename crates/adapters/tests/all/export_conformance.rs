//! The export-job port (`ExportJobs`) on both stores, with the same expectations as the order
//! conformance suite: the embedded store (the reference) and the orders table on DynamoDB Local
//! (`DynamoExports` on the same table as `DynamoStore`). Jobs are items of their own: never in a
//! listing.

use std::sync::Arc;

use leenkies_domain::export::{
    self, job_id, ExportJob, ExportJobs, JobStatus, Limit, Start, Upload, UploadedPart,
    JOBS_WINDOW_SECS, MAX_ACTIVE_JOBS, MAX_JOBS_PER_DAY,
};
use leenkies_domain::listing::{ListFilters, StatusFilter};
use leenkies_domain::ports::{OrderFilter, OrderStore, StoreError};
use leenkies_domain::PaymentStatus;

use crate::support::{all_pages, order, Status};

type Stores = (Arc<dyn OrderStore>, Arc<dyn ExportJobs>);

macro_rules! both_job_stores {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let store = std::sync::Arc::new(leenkies_domain::memory_store::MemoryStore::new());
                    super::$name((store.clone(), store)).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(store) = crate::support::dynamo_store().await else { return };
                    let jobs = leenkies_adapters::dynamodb::exports::DynamoExports::new(
                        store.client().clone(),
                        store.table(),
                    );
                    super::$name((std::sync::Arc::new(store), std::sync::Arc::new(jobs))).await;
                }
            )*
        }
    };
}

both_job_stores!(
    a_job_round_trips_and_is_the_sellers_only,
    job_writes_are_conditional_on_the_version,
    jobs_never_appear_in_listings,
    recent_jobs_are_the_sellers_own_of_the_window,
    identical_exports_make_one_job_and_the_limits_answer_with_a_wait,
    fifty_exports_a_day_then_a_wait_until_the_oldest_leaves_the_window,
);

fn job(seller: &str, id: &str) -> ExportJob {
    ExportJob::new(
        seller,
        id,
        ListFilters {
            status: Some(StatusFilter::Payment(PaymentStatus::Failed)),
            email: Some("jo".into()),
            from: Some(10),
            to: None,
        },
        100,
    )
}

async fn a_job_round_trips_and_is_the_sellers_only((_, jobs): Stores) {
    // GIVEN a job of seller A with filters and a recorded part
    let mut j = job("acct_A", "j1");
    j.status = JobStatus::Running;
    j.upload = Some(Upload {
        upload_id: "u1".into(),
        parts: vec![UploadedPart {
            number: 1,
            etag: "\"e1\"".into(),
        }],
        position: None,
    });
    jobs.create_job(&j).await.unwrap();
    // WHEN it is read back by its seller, and by another seller
    // THEN the seller gets it as written, the other nothing, and an unknown id nothing
    assert_eq!(jobs.get_job("acct_A", "j1").await, Ok(Some(j)));
    assert_eq!(jobs.get_job("acct_B", "j1").await, Ok(None));
    assert_eq!(jobs.get_job("acct_A", "j2").await, Ok(None));
}

async fn job_writes_are_conditional_on_the_version((_, jobs): Stores) {
    // GIVEN a job at version 1
    let v1 = job("acct_A", "j1");
    jobs.create_job(&v1).await.unwrap();
    // WHEN it is created again, saved from version 1, then saved again from version 1
    let again = jobs.create_job(&v1).await;
    let mut v2 = v1.clone();
    v2.version = 2;
    v2.rows = 7;
    let first = jobs.save_job(&v2, 1).await;
    let mut stale = v1.clone();
    stale.version = 2;
    stale.rows = 99;
    let second = jobs.save_job(&stale, 1).await;
    // THEN the create and the stale save conflict, and the first save stands
    assert_eq!(again, Err(StoreError::Conflict));
    assert_eq!(first, Ok(()));
    assert_eq!(second, Err(StoreError::Conflict));
    assert_eq!(jobs.get_job("acct_A", "j1").await, Ok(Some(v2)));
}

async fn jobs_never_appear_in_listings((orders, jobs): Stores) {
    // GIVEN two orders of seller A and a job of theirs
    for (id, at) in [("pi_1", 100), ("pi_2", 200)] {
        let o = order("acct_A", id, at, Some("jo@example.com"), Status::Failed);
        orders.put_order(&o, None, &[]).await.unwrap();
    }
    jobs.create_job(&job("acct_A", "j1")).await.unwrap();
    // WHEN every listing is read
    for filter in [
        OrderFilter::All,
        OrderFilter::Status(PaymentStatus::Failed),
        OrderFilter::EmailPrefix("jo".into()),
    ] {
        let pages = all_pages(orders.as_ref(), "acct_A", filter.clone(), None, None, 10).await;
        // THEN only the orders are there
        let ids: Vec<_> = pages
            .iter()
            .flat_map(|p| p.orders.iter().map(|o| o.order_id.as_str()))
            .collect();
        assert_eq!(ids, ["pi_2", "pi_1"], "{filter:?}");
    }
}

const DAY: i64 = 24 * 3600;
/// 2026-12-07T12:00:00Z: ids made from it sort after any made a day before.
const NOW: i64 = 1_796_644_800;

fn filters(email: &str) -> ListFilters {
    ListFilters {
        email: Some(email.into()),
        ..ListFilters::default()
    }
}

async fn started(jobs: &dyn ExportJobs, seller: &str, f: ListFilters, now: i64, n: u32) -> Start {
    export::start(jobs, seller, f, now, &format!("{n:022x}"))
        .await
        .unwrap()
}

async fn recent_jobs_are_the_sellers_own_of_the_window((_, jobs): Stores) {
    // GIVEN jobs of seller A two days ago, an hour ago and now, and one of seller B now
    for (seller, at, n) in [
        ("acct_A", NOW - 2 * DAY, 1),
        ("acct_A", NOW - 3600, 2),
        ("acct_A", NOW, 3),
        ("acct_B", NOW, 4),
        ("acct_AB", NOW, 5),
    ] {
        let job = ExportJob::new(seller, &job_id(at, &format!("{n:022x}")), filters("a"), at);
        jobs.create_job(&job).await.unwrap();
    }
    // WHEN A's jobs of the last day are asked for
    let mut got: Vec<i64> = jobs
        .recent_jobs("acct_A", NOW - DAY)
        .await
        .unwrap()
        .iter()
        .map(|j| j.created_at)
        .collect();
    got.sort();
    // THEN the two of the window, none of B's or of an older day
    assert_eq!(got, vec![NOW - 3600, NOW]);
    assert!(jobs.recent_jobs("acct_C", 0).await.unwrap().is_empty());
}

async fn identical_exports_make_one_job_and_the_limits_answer_with_a_wait((_, jobs): Stores) {
    // GIVEN a seller asking 40 times for the same export
    let mut ids = std::collections::BTreeSet::new();
    for n in 0..40 {
        match started(&*jobs, "acct_A", filters("jo"), NOW + i64::from(n), n).await {
            Start::Queued(job) | Start::Existing(job) => {
                ids.insert(job.id);
            }
            other => panic!("{other:?}"),
        }
    }
    // THEN one job was made
    assert_eq!(ids.len(), 1);
    assert_eq!(jobs.recent_jobs("acct_A", 0).await.unwrap().len(), 1);
    // WHEN two other filters are asked for THEN two more jobs: three queued at once
    for (n, f) in [(41, "ka"), (42, "lu")] {
        assert!(matches!(
            started(&*jobs, "acct_A", filters(f), NOW + 50, n).await,
            Start::Queued(_)
        ));
    }
    // AND a fourth different export waits: 429 with a wait
    let fourth = started(&*jobs, "acct_A", filters("mo"), NOW + 60, 43).await;
    assert_eq!(
        fourth,
        Start::Limited {
            retry_after: export::ACTIVE_RETRY_SECS,
            reason: Limit::Active
        }
    );
    assert_eq!(
        jobs.recent_jobs("acct_A", 0).await.unwrap().len(),
        MAX_ACTIVE_JOBS
    );
    // AND another seller is not held by A's jobs
    assert!(matches!(
        started(&*jobs, "acct_B", filters("mo"), NOW + 60, 44).await,
        Start::Queued(_)
    ));
    // WHEN one of A's jobs finishes THEN the same filters make a new job, and a slot is free
    let mut done = jobs
        .recent_jobs("acct_A", 0)
        .await
        .unwrap()
        .into_iter()
        .find(|j| j.filters == filters("jo"))
        .unwrap();
    let read = done.version;
    done.version += 1;
    done.status = JobStatus::Succeeded;
    jobs.save_job(&done, read).await.unwrap();
    match started(&*jobs, "acct_A", filters("jo"), NOW + 70, 45).await {
        Start::Queued(job) => assert_ne!(job.id, done.id),
        other => panic!("{other:?}"),
    }
}

async fn fifty_exports_a_day_then_a_wait_until_the_oldest_leaves_the_window((_, jobs): Stores) {
    // GIVEN 50 exports started over the last 20 hours, all finished
    let first = NOW - 20 * 3600;
    for n in 0..MAX_JOBS_PER_DAY as i64 {
        let at = first + n * 60;
        let mut job = ExportJob::new(
            "acct_A",
            &job_id(at, &format!("{n:022x}")),
            filters(&format!("e{n}")),
            at,
        );
        job.status = JobStatus::Succeeded;
        jobs.create_job(&job).await.unwrap();
    }
    // WHEN a 51st is asked for
    let got = started(&*jobs, "acct_A", filters("new"), NOW, 99).await;
    // THEN 429 until the oldest leaves the 24-hour window (in 4 hours)
    assert_eq!(
        got,
        Start::Limited {
            retry_after: first + JOBS_WINDOW_SECS - NOW,
            reason: Limit::Daily
        }
    );
    // AND once it has left, a new export starts
    assert!(matches!(
        started(
            &*jobs,
            "acct_A",
            filters("new"),
            first + JOBS_WINDOW_SECS + 1,
            100
        )
        .await,
        Start::Queued(_)
    ));
}
