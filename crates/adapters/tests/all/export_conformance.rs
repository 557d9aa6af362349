//! The export-job port (`ExportJobs`) on both stores, with the same expectations as the order
//! conformance suite: the embedded store (the reference) and the orders table on DynamoDB Local
//! (`DynamoExports` on the same table as `DynamoStore`). Jobs are items of their own: never in a
//! listing.

use std::sync::Arc;

use leenkies_domain::export::{ExportJob, ExportJobs, JobStatus, Upload, UploadedPart};
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
