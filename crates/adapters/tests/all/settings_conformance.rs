//! The seller-settings port (`SettingsStore`) on both stores: the embedded store (the
//! reference) and the orders table on DynamoDB Local (`DynamoSettings` on the same table as
//! `DynamoStore`). One record per seller, every field kept, conditional on its version, and
//! never in an order listing.

use std::sync::Arc;

use leenkies_domain::ports::{OrderFilter, OrderStore, StoreError};
use leenkies_domain::seller_settings::{
    settings_of, update_settings, SettingsStore, UpdateSettingsError,
};
use leenkies_domain::settings::{AutoSubmit, EfwAutoRefund, SellerSettings};
use serde_json::json;

use crate::support::all_pages;

type Stores = (Arc<dyn OrderStore>, Arc<dyn SettingsStore>);

macro_rules! both_settings_stores {
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
                    let settings = leenkies_adapters::dynamodb::settings::DynamoSettings::new(
                        store.client().clone(),
                        store.table(),
                    );
                    super::$name((std::sync::Arc::new(store), std::sync::Arc::new(settings))).await;
                }
            )*
        }
    };
}

both_settings_stores!(
    nothing_saved_reads_the_defaults,
    every_field_round_trips_per_seller,
    writes_are_conditional_on_the_version,
    an_invalid_change_saves_nothing,
    settings_never_appear_in_listings,
);

fn seller(tag: &str) -> String {
    format!("acct_settings_{tag}_{}", std::process::id())
}

async fn nothing_saved_reads_the_defaults((_, settings): Stores) {
    // GIVEN a seller who never saved settings
    let s = seller("defaults");
    // WHEN read / THEN nothing stored, the contract's defaults in force
    assert_eq!(settings.get_settings(&s).await.unwrap(), None);
    assert_eq!(
        settings_of(settings.as_ref(), &s).await.unwrap(),
        SellerSettings::default()
    );
}

async fn every_field_round_trips_per_seller((_, settings): Stores) {
    // GIVEN every field changed for seller A
    let (a, b) = (seller("a"), seller("b"));
    let change = json!({
        "dispute_auto_submit": "always",
        "dispute_auto_submit_hours": 72,
        "refund_policy": "Refunds within 14 days if not downloaded.\nContact us first.",
        "refund_policy_disclosure": "Shown on the checkout page above the Pay button.",
        "efw_auto_refund": "not_downloaded",
        "notify_email": "ops@lee-presets.example",
        "notify": {"dispute": false, "delivery_failed": true, "failure_pattern": false, "early_fraud_warning": true}
    });
    // WHEN saved
    let saved = update_settings(settings.as_ref(), &a, &change)
        .await
        .unwrap();
    // THEN read back whole, as version 1; seller B still has the defaults
    let stored = settings.get_settings(&a).await.unwrap().unwrap();
    assert_eq!(stored.settings, saved);
    assert_eq!(stored.version, 1);
    assert_eq!(saved.dispute_auto_submit, AutoSubmit::Always);
    assert_eq!(saved.dispute_auto_submit_hours, 72);
    assert_eq!(saved.efw_auto_refund, EfwAutoRefund::NotDownloaded);
    assert!(!saved.notify.dispute && !saved.notify.failure_pattern);
    assert_eq!(
        serde_json::to_value(&stored.settings).unwrap(),
        change,
        "every field kept as given"
    );
    assert_eq!(settings.get_settings(&b).await.unwrap(), None);
    // AND a later partial change keeps the rest
    let next = update_settings(
        settings.as_ref(),
        &a,
        &json!({"dispute_auto_submit": "off"}),
    )
    .await
    .unwrap();
    assert_eq!(next.dispute_auto_submit, AutoSubmit::Off);
    assert_eq!(next.dispute_auto_submit_hours, 72);
    assert_eq!(settings.get_settings(&a).await.unwrap().unwrap().version, 2);
}

async fn writes_are_conditional_on_the_version((_, settings): Stores) {
    let s = seller("cond");
    let d = SellerSettings::default();
    settings.put_settings(&s, &d, None).await.unwrap();
    // a second create, and a write from a stale version, both lose
    assert_eq!(
        settings.put_settings(&s, &d, None).await,
        Err(StoreError::Conflict)
    );
    settings.put_settings(&s, &d, Some(1)).await.unwrap();
    assert_eq!(
        settings.put_settings(&s, &d, Some(1)).await,
        Err(StoreError::Conflict)
    );
    assert_eq!(settings.get_settings(&s).await.unwrap().unwrap().version, 2);
}

async fn an_invalid_change_saves_nothing((_, settings): Stores) {
    // GIVEN saved settings
    let s = seller("invalid");
    update_settings(
        settings.as_ref(),
        &s,
        &json!({"dispute_auto_submit_hours": 100}),
    )
    .await
    .unwrap();
    // WHEN a change holds one good key and one out of range
    let e = update_settings(
        settings.as_ref(),
        &s,
        &json!({"dispute_auto_submit": "off", "dispute_auto_submit_hours": 500}),
    )
    .await;
    // THEN refused naming the field, and nothing changed
    match e {
        Err(UpdateSettingsError::Invalid(e)) => assert_eq!(e.field, "dispute_auto_submit_hours"),
        other => panic!("{other:?}"),
    }
    let stored = settings.get_settings(&s).await.unwrap().unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(
        stored.settings.dispute_auto_submit,
        AutoSubmit::StrongEvidence
    );
    assert_eq!(stored.settings.dispute_auto_submit_hours, 100);
}

async fn settings_never_appear_in_listings((orders, settings): Stores) {
    let s = seller("listing");
    update_settings(settings.as_ref(), &s, &json!({"refund_policy": "none"}))
        .await
        .unwrap();
    let pages = all_pages(orders.as_ref(), &s, OrderFilter::All, None, None, 100).await;
    assert!(pages.iter().all(|p| p.orders.is_empty()), "{pages:?}");
}
