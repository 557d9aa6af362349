//! The sweep's tests on either store: the order store, its `sweep_due` index and the settings
//! store of one backend, a fake Stripe API that knows the test's seller, and the real Stripe
//! adapter pointed at it with short retries. `sweep.rs` (disputes) and `efw.rs` (early fraud
//! warnings) each build their own world from these, through [`both_sweep_stores!`].

use std::sync::Arc;
use std::time::Duration;

use leenkies_adapters::dynamodb::settings::DynamoSettings;
use leenkies_adapters::stripe::{StripeConfig, StripeDisputes, StripeRetry};
use leenkies_domain::memory_store::MemoryStore;
use leenkies_domain::ports::OrderStore;
use leenkies_domain::seller_settings::SettingsStore;
use leenkies_domain::sweep::DueOrders;
use leenkies_integration_tests::fake_stripe::{FakeStripe, FAKE_STRIPE_KEY};

/// One backend's three views the sweep reads and writes.
pub struct SweepStores {
    pub store: Arc<dyn OrderStore>,
    pub index: Arc<dyn DueOrders>,
    pub settings: Arc<dyn SettingsStore>,
}

impl SweepStores {
    /// The embedded store, which is all three.
    pub fn memory() -> Self {
        let store = Arc::new(MemoryStore::new());
        Self {
            store: store.clone(),
            index: store.clone(),
            settings: store,
        }
    }

    /// A fresh table on DynamoDB Local (`None` when skipped, as `dynamo_store` says).
    pub async fn dynamodb() -> Option<Self> {
        let store = super::dynamo_store().await?;
        let settings = DynamoSettings::new(store.client().clone(), store.table());
        let store = Arc::new(store);
        Some(Self {
            store: store.clone(),
            index: store,
            settings: Arc::new(settings),
        })
    }
}

/// The real Stripe adapter on the fake, retrying twice within milliseconds so a scripted
/// failure is seen at once (the retry policy has tests of its own).
pub fn stripe(fake: &FakeStripe) -> Arc<StripeDisputes> {
    Arc::new(
        StripeDisputes::new(StripeConfig {
            api_key: FAKE_STRIPE_KEY.into(),
            api_base: fake.base.clone(),
            files_base: fake.base.clone(),
        })
        .expect("the fake's address is a valid base")
        .with_retry(StripeRetry {
            max_attempts: 2,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(5),
        }),
    )
}

/// Runs every listed scenario once per store. Each is an `async fn(World)` in the invoking
/// file, which also defines `SELLER` and `World::on(SweepStores, FakeStripe) -> World`.
#[allow(unused_macros)] // only the sweep's test files invoke it
macro_rules! both_sweep_stores {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let stores = crate::support::sweep_world::SweepStores::memory();
                    let fake = leenkies_integration_tests::fake_stripe::FakeStripe::start(&[super::SELLER]).await;
                    super::$name(super::World::on(stores, fake)).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(stores) = crate::support::sweep_world::SweepStores::dynamodb().await else { return };
                    let fake = leenkies_integration_tests::fake_stripe::FakeStripe::start(&[super::SELLER]).await;
                    super::$name(super::World::on(stores, fake)).await;
                }
            )*
        }
    };
}
