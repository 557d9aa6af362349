//! The whole system in this process for every test of this binary: `leenkies-local` on DynamoDB
//! Local (or the embedded store) with the fixtures' secrets (or a test's own), an outbox folder,
//! signed deliveries, a seller JWT, and a small deterministic RNG for shuffles.

use leenkies_integration_tests::env::unique_table;
use leenkies_integration_tests::fake_stripe::{FakeStripe, FAKE_STRIPE_KEY};
use leenkies_local::cli::{ServerArgs, StoreKind};
use leenkies_local::serve::{start, Running};
use leenkies_local::settings::Settings;
use serde_json::{json, Value};

/// The fixtures' signing secret (shared and ours use the same one).
pub const WEBHOOK_SECRET: &str = "whsec_corpusTestSecret9Yk3pQ7vL2mX8nR4tB6w";
pub const JWT_SECRET: &str = "integration-jwt-secret-0123456789";

pub fn jwt(sub: &str) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"sub": sub, "iat": now, "exp": now + 3600}),
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap()
}

pub struct System {
    pub running: Running,
    pub outbox: tempfile::TempDir,
    pub http: reqwest::Client,
}

impl System {
    /// On `endpoint`'s DynamoDB (a fresh table) or the embedded store, with Stripe's API at
    /// `fake` (dispute evidence, the store's name in the email).
    pub async fn start_with_stripe(endpoint: Option<&str>, fake: &FakeStripe) -> Self {
        let mut settings = Settings::for_tests(WEBHOOK_SECRET, JWT_SECRET);
        settings.stripe = Some(leenkies_adapters::stripe::StripeConfig {
            api_key: FAKE_STRIPE_KEY.into(),
            api_base: fake.base.clone(),
            files_base: fake.base.clone(),
        });
        Self::start_with(endpoint, settings).await
    }

    /// On DynamoDB at `endpoint` (a fresh table).
    pub async fn start(endpoint: &str) -> Self {
        Self::start_with(
            Some(endpoint),
            Settings::for_tests(WEBHOOK_SECRET, JWT_SECRET),
        )
        .await
    }

    pub async fn start_with(endpoint: Option<&str>, settings: Settings) -> Self {
        let outbox = tempfile::tempdir().unwrap();
        let args = ServerArgs {
            addr: "127.0.0.1:0".into(),
            store: if endpoint.is_some() {
                StoreKind::Dynamodb
            } else {
                StoreKind::Memory
            },
            dynamodb_endpoint: endpoint.map(str::to_owned),
            table: unique_table("sec"),
            outbox: outbox.path().to_path_buf(),
            exports_dir: outbox.path().join("exports"),
            products_dir: None,
            keys_file: None,
        };
        let running = start(args, settings).await.expect("leenkies-local starts");
        Self {
            running,
            outbox,
            // A hung server fails the test (status 0) instead of hanging it.
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .unwrap(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.running.addr)
    }

    /// Posts `body` signed now; the status, or 0 when no answer came at all.
    pub async fn deliver(&self, body: Vec<u8>) -> u16 {
        self.deliver_full(body).await.0
    }

    /// Posts `body` signed now; the status and body.
    pub async fn deliver_full(&self, body: Vec<u8>) -> (u16, Value) {
        self.deliver_signed(body, WEBHOOK_SECRET).await
    }

    /// Posts `body` signed now with `secret` (another endpoint's, for the signature cases); the
    /// status (0 when no answer came at all) and body.
    pub async fn deliver_signed(&self, body: Vec<u8>, secret: &str) -> (u16, Value) {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let signature = leenkies_domain::stripe::signature::sign(secret, now, &body);
        match self
            .http
            .post(self.url("/webhooks/stripe"))
            .header("content-type", "application/json")
            .header("stripe-signature", signature)
            .body(body)
            .send()
            .await
        {
            Ok(r) => {
                let status = r.status().as_u16();
                (status, r.json().await.unwrap_or(Value::Null))
            }
            Err(_) => (0, Value::Null),
        }
    }

    pub async fn order(&self, seller: &str, order_id: &str) -> (u16, Value) {
        let response = self
            .http
            .get(self.url(&format!("/orders/{order_id}")))
            .bearer_auth(jwt(seller))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The emails written for `order_id`.
    pub fn email_files(&self, order_id: &str) -> Vec<std::path::PathBuf> {
        std::fs::read_dir(self.outbox.path())
            .map(|dir| {
                dir.filter_map(Result::ok)
                    .filter(|e| {
                        e.file_name()
                            .to_string_lossy()
                            .ends_with(&format!("-{order_id}.eml"))
                    })
                    .map(|e| e.path())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn emails(&self, order_id: &str) -> usize {
        self.email_files(order_id).len()
    }

    pub async fn stop(self) {
        self.running.stop().await;
    }
}

/// xorshift64*: a seeded, reproducible shuffle without a dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}
