//! What every handler borrows: the store, how sellers are authenticated, the keys, where product
//! files live, and the clock. Built once (in `main` or by `leenkies-local`) and shared.

use std::path::PathBuf;
use std::sync::Arc;

use leenkies_domain::evidence::filing::DisputeFiler;
use leenkies_domain::ports::OrderStore;
use leenkies_domain::tokens::DownloadKey;

use crate::auth::{Auth, HasAuth};
use crate::dashboard::config::DashboardConfig;

/// The current time in Unix seconds; replaceable so tests can pin "now".
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

pub struct ApiState {
    pub store: Arc<dyn OrderStore>,
    pub auth: Auth,
    /// Verifies the customers' download links (`DOWNLOAD_SIGNING_KEY`).
    pub download_key: DownloadKey,
    /// Signs list cursors so they cannot be forged or replayed by another seller.
    pub cursor_key: Vec<u8>,
    pub products: ProductFiles,
    pub clock: Clock,
    /// Stripe's dispute API (section 9); `None` without a Stripe key: `503 stripe_not_configured`.
    pub disputes: Option<Arc<dyn DisputeFiler>>,
    /// What `POST /orders/{order_id}/resend` needs; `None`: that route answers `503`.
    pub resend: Option<crate::routes::resend::ResendConfig>,
    /// The dashboard's sign-in settings (`GET /dashboard/config.json`); none by default.
    pub dashboard: DashboardConfig,
    /// Export jobs (`POST /orders/exports`); `None`: those routes answer `503`.
    pub exports: Option<crate::routes::exports::ExportsConfig>,
    /// The operator route `GET /health/webhooks`; `None`: it answers `404`.
    pub health: Option<crate::health::HealthConfig>,
}

impl ApiState {
    /// A state with the real clock.
    pub fn new(
        store: Arc<dyn OrderStore>,
        auth: Auth,
        download_key: DownloadKey,
        cursor_key: Vec<u8>,
        products: ProductFiles,
    ) -> Self {
        Self {
            store,
            auth,
            download_key,
            cursor_key,
            products,
            clock: Arc::new(leenkies_domain::clock::now_secs),
            disputes: None,
            resend: None,
            dashboard: DashboardConfig::default(),
            exports: None,
            health: None,
        }
    }

    /// The same state filing dispute evidence through `disputes`.
    pub fn with_disputes(mut self, disputes: Arc<dyn DisputeFiler>) -> Self {
        self.disputes = Some(disputes);
        self
    }

    /// The same state able to resend delivery emails (contract section 10).
    pub fn with_resend(mut self, resend: crate::routes::resend::ResendConfig) -> Self {
        self.resend = Some(resend);
        self
    }

    /// The same state serving export jobs.
    pub fn with_exports(mut self, exports: crate::routes::exports::ExportsConfig) -> Self {
        self.exports = Some(exports);
        self
    }

    /// The same state answering the operator route `GET /health/webhooks`.
    pub fn with_health(mut self, health: crate::health::HealthConfig) -> Self {
        self.health = Some(health);
        self
    }

    /// The same state with a fixed or simulated clock (tests).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The same state with the dashboard's sign-in settings.
    pub fn with_dashboard(mut self, dashboard: DashboardConfig) -> Self {
        self.dashboard = dashboard;
        self
    }

    pub fn now(&self) -> i64 {
        (self.clock)()
    }
}

/// Where the files behind download links come from.
#[derive(Clone, Debug)]
pub enum ProductFiles {
    /// Serves `<dir>/<seller_id>/<product_id>`, else `<dir>/<product_id>`, else (or with no
    /// directory) a small text placeholder naming the product: enough to try the flow locally.
    LocalDir(Option<PathBuf>),
    /// Answers `302` to a presigned GET of `<seller_id>/<product_id>` in the bucket.
    S3 {
        client: aws_sdk_s3::Client,
        bucket: String,
        expires_secs: u64,
    },
}

impl HasAuth for ApiState {
    fn auth(&self) -> &Auth {
        &self.auth
    }
}
