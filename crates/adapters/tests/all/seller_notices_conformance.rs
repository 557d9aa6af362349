//! The seller-level notice port (`SellerNotices`, contract section 12: `failure_pattern` at most
//! once a day) on both stores: the embedded store (the reference) and the orders table on
//! DynamoDB Local (`DynamoSellerNotices` on the same table as `DynamoStore`). Conditional on the
//! version, one winner among concurrent claims, per seller and key, never in an order listing.

use std::sync::Arc;

use leenkies_domain::notify::failure_pattern::{self, SellerNotices};
use leenkies_domain::ports::{OrderFilter, OrderStore, StoreError};

use crate::support::all_pages;

type Stores = (Arc<dyn OrderStore>, Arc<dyn SellerNotices>);

macro_rules! both_notice_stores {
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
                    let notices =
                        leenkies_adapters::dynamodb::seller_notices::DynamoSellerNotices::new(
                            store.client().clone(),
                            store.table(),
                        );
                    super::$name((std::sync::Arc::new(store), std::sync::Arc::new(notices))).await;
                }
            )*
        }
    };
}

both_notice_stores!(
    a_record_round_trips_conditionally_on_its_version,
    concurrent_claims_of_one_day_have_one_winner,
    records_never_appear_in_listings,
);

fn seller(tag: &str) -> String {
    format!("acct_notices_{tag}_{}", std::process::id())
}

async fn a_record_round_trips_conditionally_on_its_version((_, notices): Stores) {
    let s = seller("round_trip");
    let key = failure_pattern::day_key(1_800_000_000);
    // GIVEN nothing written
    assert_eq!(notices.get_seller_notice(&s, &key).await.unwrap(), None);
    // WHEN a claim is written as new
    let claim = failure_pattern::claim(None, 1_800_000_000, 60).unwrap();
    notices
        .put_seller_notice(&s, &key, &claim, None)
        .await
        .unwrap();
    // THEN it reads back at version 1, and a second "new" write conflicts
    let stored = notices.get_seller_notice(&s, &key).await.unwrap().unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(stored.fact, claim);
    assert_eq!(
        notices.put_seller_notice(&s, &key, &claim, None).await,
        Err(StoreError::Conflict)
    );
    // AND the record of sent, written on version 1, is version 2; a stale write conflicts
    let sent = failure_pattern::sent(Some(&stored), 1_800_000_010, "m-1");
    notices
        .put_seller_notice(&s, &key, &sent, Some(1))
        .await
        .unwrap();
    assert_eq!(
        notices.put_seller_notice(&s, &key, &claim, Some(1)).await,
        Err(StoreError::Conflict)
    );
    let now = notices.get_seller_notice(&s, &key).await.unwrap().unwrap();
    assert_eq!(now.version, 2);
    assert!(now.fact.done());
    // AND another seller's and another day's records are apart
    assert_eq!(
        notices
            .get_seller_notice(&seller("other"), &key)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        notices
            .get_seller_notice(&s, &failure_pattern::day_key(1_800_086_400))
            .await
            .unwrap(),
        None
    );
}

async fn concurrent_claims_of_one_day_have_one_winner((_, notices): Stores) {
    let s = seller("race");
    let key = failure_pattern::day_key(1_800_000_000);
    // WHEN eight senders read nothing and claim at once
    let tries: Vec<_> = (0..8)
        .map(|_| {
            let notices = notices.clone();
            let (s, key) = (s.clone(), key.clone());
            tokio::spawn(async move {
                let stored = notices.get_seller_notice(&s, &key).await.unwrap();
                let Some(claim) = failure_pattern::claim(stored.as_ref(), 1_800_000_000, 60) else {
                    return false;
                };
                notices
                    .put_seller_notice(&s, &key, &claim, stored.map(|x| x.version))
                    .await
                    .is_ok()
            })
        })
        .collect();
    let mut won = 0;
    for t in tries {
        won += usize::from(t.await.unwrap());
    }
    // THEN exactly one holds the claim
    assert_eq!(won, 1);
}

async fn records_never_appear_in_listings((orders, notices): Stores) {
    let s = seller("listing");
    let claim = failure_pattern::claim(None, 1_800_000_000, 60).unwrap();
    notices
        .put_seller_notice(&s, failure_pattern::CHECK_KEY, &claim, None)
        .await
        .unwrap();
    let pages = all_pages(orders.as_ref(), &s, OrderFilter::All, None, None, 50).await;
    assert!(pages.iter().all(|p| p.orders.is_empty()));
}
