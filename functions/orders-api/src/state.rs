//! What every handler borrows: the store, how sellers are authenticated, the keys, where product
//! files live, and the clock. Built once (in `main` or by `leenkies-local`) and shared.

use std::path::PathBuf;
use std::sync::Arc;

use leenkies_domain::evidence::filing::DisputeFiler;
use leenkies_domain::ports::OrderStore;
use leenkies_domain::seller_settings::SettingsStore;
use leenkies_domain::tokens::DownloadKey;

use leenkies_domain::delivery::MessageIndex;
use leenkies_domain::export::ExportJobs;
use leenkies_domain::ops::staleness::StalePolicy;
use leenkies_domain::ops::{Mode, OpsStore};
use leenkies_domain::ports::{Mailer, StoreProfiles};

use crate::auth::{Auth, HasAuth, OperatorClaim};
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
    pub resend: Option<ResendConfig>,
    /// The dashboard's sign-in settings (`GET /dashboard/config.json`); none by default.
    pub dashboard: DashboardConfig,
    /// Export jobs (`POST /orders/exports`); `None`: those routes answer `503`.
    pub exports: Option<ExportsConfig>,
    /// The operator route `GET /health/webhooks`; `None`: it answers `404`.
    pub health: Option<HealthConfig>,
    /// The sellers' settings (section 11); `None`: `/settings` answers `503` and evidence is
    /// built with the defaults.
    pub settings: Option<Arc<dyn SettingsStore>>,
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
            settings: None,
        }
    }

    /// The same state keeping sellers' settings in `settings`.
    pub fn with_settings(mut self, settings: Arc<dyn SettingsStore>) -> Self {
        self.settings = Some(settings);
        self
    }

    /// The seller's settings in force (defaults without a settings store).
    pub async fn seller_settings(
        &self,
        seller_id: &str,
    ) -> Result<leenkies_domain::settings::SellerSettings, leenkies_domain::ports::StoreError> {
        match &self.settings {
            Some(store) => {
                leenkies_domain::seller_settings::settings_of(store.as_ref(), seller_id).await
            }
            None => Ok(Default::default()),
        }
    }

    /// The same state filing dispute evidence through `disputes`.
    pub fn with_disputes(mut self, disputes: Arc<dyn DisputeFiler>) -> Self {
        self.disputes = Some(disputes);
        self
    }

    /// The same state able to resend delivery emails (contract section 10).
    pub fn with_resend(mut self, resend: ResendConfig) -> Self {
        self.resend = Some(resend);
        self
    }

    /// The same state serving export jobs.
    pub fn with_exports(mut self, exports: ExportsConfig) -> Self {
        self.exports = Some(exports);
        self
    }

    /// The same state answering the operator route `GET /health/webhooks`.
    pub fn with_health(mut self, health: HealthConfig) -> Self {
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

/// What the route reads, beside the API's own `Auth` and clock.
#[derive(Clone)]
pub struct HealthConfig {
    pub ops: Arc<dyn OpsStore>,
    pub claim: OperatorClaim,
    pub policy: StalePolicy,
    pub watched: Mode,
}

/// What export jobs need besides the order store.
pub struct ExportsConfig {
    pub jobs: Arc<dyn ExportJobs>,
    pub links: ExportLinks,
    /// Seconds a download link stays valid.
    pub link_secs: u64,
}

/// How a finished export's download link is made.
pub enum ExportLinks {
    /// A presigned S3 GET of `<seller>/<id>.csv` (with `Content-Disposition: attachment`).
    S3 {
        client: aws_sdk_s3::Client,
        bucket: String,
    },
    /// A link the local runner serves (`/local/exports/…`), signed with `key`, under `base_url`
    /// (empty: `http://<the request's Host>`).
    Local { base_url: String, key: Vec<u8> },
}

/// What a resend needs besides the store: the mailer, the message links, where links point.
pub struct ResendConfig {
    pub mailer: Arc<dyn Mailer>,
    pub messages: Arc<dyn MessageIndex>,
    /// Base of download links (`PUBLIC_BASE_URL`); empty: `https://<the request's Host>`, the
    /// API's own domain in AWS (the template cannot name it without a cycle).
    pub public_base_url: String,
    /// The seller's store name and support address; `None`: metadata `store_name` or neutral.
    pub profiles: Option<Arc<dyn StoreProfiles>>,
    /// Seconds a resend's claim holds; longer than one SES call.
    pub lease_secs: i64,
}
