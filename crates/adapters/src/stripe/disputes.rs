//! Files dispute evidence through Stripe's API, as the seller.
//!
//! 1. `POST {STRIPE_FILES_BASE}/v1/files`, once per document (the receipt, the delivery email
//!    as sent, the refund policy): the PDF, multipart, `purpose=dispute_evidence` (async-stripe
//!    1.0.0-rc.10 has no file-upload request, so this one call uses reqwest);
//! 2. `POST {STRIPE_API_BASE}/v1/disputes/{id}` with async-stripe's `UpdateDispute`: the
//!    `evidence[…]` fields (with `enhanced_evidence[<network>_compliance][fee_acknowledged]`
//!    when the seller acknowledged a compliance fee) and `submit`;
//! 3. to accept, `POST {STRIPE_API_BASE}/v1/disputes/{id}/close` with `CloseDispute`.
//!
//! Every call carries `Stripe-Account: <seller>` (none for the seller `platform`) and an
//! `Idempotency-Key` derived from what is sent: the upload's from the account and the file's
//! bytes, the update's from the account, the dispute, its phase (an inquiry and the chargeback
//! it escalates to are different requests), every field and `submit`, the close's from the
//! account, the dispute and its phase. The key is the
//! same across the retries of one call (429, 5xx and network errors, with exponential back-off),
//! so Stripe applies a call once however often it arrives. Stripe replays a key's first answer
//! for 24 hours, errors included: after a definitive failure that call's key moves to a new
//! generation, so the next request is really tried again. The generations are the order's
//! (`EvidenceFact`, given in `FilingRequest::generations`, moved on by the use case from the
//! call this adapter names in its `FilingFailure`): every process, a cold one too, derives the
//! same next key, and the upload's key (so its file) stays when only the update failed.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use leenkies_domain::evidence::ce3::VisaCe3;
use leenkies_domain::evidence::filing::{
    CloseRequest, ComplianceNetwork, DisputeFiler, FilingCall, FilingError, FilingFailure,
    FilingRequest,
};
use leenkies_domain::evidence::EvidenceField;
use leenkies_domain::stripe::event::PLATFORM_SELLER;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use stripe::{Client, ClientBuilder, RequestStrategy, StripeError};
use stripe_client_core::{IdempotencyKey, StripeRequest};
use stripe_core::dispute::{
    CloseDispute, UpdateDispute, UpdateDisputeEvidence, UpdateDisputeEvidenceEnhancedEvidence,
    UpdateDisputeEvidenceEnhancedEvidenceMastercardCompliance,
    UpdateDisputeEvidenceEnhancedEvidenceVisaCompellingEvidence3 as Ce3Request,
    UpdateDisputeEvidenceEnhancedEvidenceVisaCompellingEvidence3DisputedTransaction as Ce3Disputed,
    UpdateDisputeEvidenceEnhancedEvidenceVisaCompellingEvidence3DisputedTransactionMerchandiseOrServices as Ce3Merchandise,
    UpdateDisputeEvidenceEnhancedEvidenceVisaCompellingEvidence3PriorUndisputedTransactions as Ce3Prior,
    UpdateDisputeEvidenceEnhancedEvidenceVisaCompliance,
};

use super::receipt_pdf;

/// Stripe's hosts; `STRIPE_API_BASE` / `STRIPE_FILES_BASE` replace them (tests, local runs).
pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";
pub const DEFAULT_FILES_BASE: &str = "https://files.stripe.com";

/// Longest Stripe message passed on to the seller: Stripe's are a sentence or two.
const MAX_MESSAGE_CHARS: usize = 500;

/// Where and as whom to call Stripe.
#[derive(Clone)]
pub struct StripeConfig {
    pub api_key: String,
    pub api_base: String,
    pub files_base: String,
}

impl std::fmt::Debug for StripeConfig {
    // The key is a secret: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeConfig")
            .field("api_base", &self.api_base)
            .field("files_base", &self.files_base)
            .finish_non_exhaustive()
    }
}

/// How hard to retry one call.
#[derive(Debug, Clone, Copy)]
pub struct StripeRetry {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for StripeRetry {
    /// Bounded to stay well inside an API Gateway request (29 s): 4 attempts, 0.25 s doubling.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(4),
        }
    }
}

impl StripeRetry {
    pub(super) fn delay(&self, attempt: u32) -> Duration {
        self.base_delay
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max_delay)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StripeSetupError {
    #[error("Stripe client configuration: {0}")]
    Config(String),
}

/// The [`DisputeFiler`] on Stripe's API.
pub struct StripeDisputes {
    pub(super) client: Client,
    http: reqwest::Client,
    config: StripeConfig,
    pub(super) retry: StripeRetry,
}

impl std::fmt::Debug for StripeDisputes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeDisputes")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// One attempt's failure: the HTTP status (0 when none came back), Stripe's message, and
/// whether waiting may help.
pub(super) struct Failure {
    pub(super) status: u16,
    pub(super) message: String,
    pub(super) retryable: bool,
}

#[derive(Deserialize)]
struct StripeErrorBody {
    error: StripeErrorDetail,
}

#[derive(Deserialize)]
struct StripeErrorDetail {
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct FileObject {
    id: String,
}

impl StripeDisputes {
    pub fn new(config: StripeConfig) -> Result<Self, StripeSetupError> {
        // Two TLS crypto back-ends are linked (the AWS SDK's and ring): rustls then needs a
        // process default before any client is built. Already installed is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        // async-stripe appends `v1/…` to the base as given: it needs the trailing slash.
        let base = format!("{}/", config.api_base.trim_end_matches('/'));
        let client = ClientBuilder::new(config.api_key.trim())
            .url(base)
            .request_strategy(RequestStrategy::Once)
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| StripeSetupError::Config(e.to_string()))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| StripeSetupError::Config(e.to_string()))?;
        Ok(Self {
            client,
            http,
            config,
            retry: StripeRetry::default(),
        })
    }

    pub fn with_retry(mut self, retry: StripeRetry) -> Self {
        self.retry = retry;
        self
    }

    /// The key for `base` in `generation`.
    fn key(base: &str, generation: u32) -> String {
        let digest = Sha256::digest(format!("{base}\n{generation}").as_bytes());
        format!("leenkies-{}", hex::encode(&digest[..24]))
    }

    /// Retries `attempt` with one key until it succeeds, fails for good or attempts run out.
    pub(super) async fn with_retries<T, F, Fut>(
        &self,
        call: &'static str,
        account: &str,
        key: String,
        mut attempt_fn: F,
    ) -> Result<T, FilingError>
    where
        F: FnMut(String) -> Fut,
        Fut: std::future::Future<Output = Result<T, Failure>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let started = Instant::now();
            let result = attempt_fn(key.clone()).await;
            let duration_ms = started.elapsed().as_millis() as u64;
            let failure = match result {
                Ok(value) => {
                    tracing::info!(
                        api = "stripe",
                        call,
                        account,
                        attempt,
                        status = 200,
                        outcome = "ok",
                        duration_ms,
                        "stripe api call"
                    );
                    return Ok(value);
                }
                Err(f) => f,
            };
            let last = attempt >= self.retry.max_attempts;
            let outcome = if failure.retryable && !last {
                "retried"
            } else {
                "failed"
            };
            // Stripe's message can name ids, never a secret or personal data: it is logged
            // only as its status, like the rest of our Stripe calls.
            tracing::warn!(
                api = "stripe",
                call,
                account,
                attempt,
                status = failure.status,
                outcome,
                duration_ms,
                "stripe api call"
            );
            if failure.retryable && !last {
                tokio::time::sleep(self.retry.delay(attempt - 1)).await;
                continue;
            }
            let message = bounded(&failure.message);
            return Err(if failure.retryable {
                FilingError::Unavailable { message }
            } else {
                FilingError::Refused {
                    status: failure.status,
                    message,
                }
            });
        }
    }

    /// Uploads one document; returns its file id.
    async fn upload(
        &self,
        account: &str,
        pdf: &[u8],
        file_name: &'static str,
        generation: u32,
    ) -> Result<String, FilingError> {
        let base = format!("file\n{account}\n{}", hex::encode(Sha256::digest(pdf)));
        let key = Self::key(&base, generation);
        let url = format!("{}/v1/files", self.config.files_base.trim_end_matches('/'));
        self.with_retries("files.create", account, key, |key| {
            let url = url.clone();
            let pdf = pdf.to_vec();
            async move {
                let part = reqwest::multipart::Part::bytes(pdf)
                    .file_name(file_name)
                    .mime_str("application/pdf")
                    .map_err(|e| Failure {
                        status: 0,
                        message: e.to_string(),
                        retryable: false,
                    })?;
                let form = reqwest::multipart::Form::new()
                    .text("purpose", "dispute_evidence")
                    .part("file", part);
                let mut request = self
                    .http
                    .post(url)
                    .bearer_auth(self.config.api_key.trim())
                    .header("Idempotency-Key", key)
                    .multipart(form);
                if account != PLATFORM_SELLER {
                    request = request.header("Stripe-Account", account);
                }
                let response = request.send().await.map_err(|e| Failure {
                    status: 0,
                    message: format!("Stripe could not be reached ({})", network_kind(&e)),
                    retryable: true,
                })?;
                let status = response.status().as_u16();
                let body = response.bytes().await.map_err(|e| Failure {
                    status,
                    message: format!("Stripe's answer was cut off ({})", network_kind(&e)),
                    retryable: true,
                })?;
                if (200..300).contains(&status) {
                    return serde_json::from_slice::<FileObject>(&body)
                        .map(|f| f.id)
                        .map_err(|_| Failure {
                            status,
                            message: "Stripe's answer to the file upload is unreadable".into(),
                            retryable: false,
                        });
                }
                let message = serde_json::from_slice::<StripeErrorBody>(&body)
                    .ok()
                    .and_then(|b| b.error.message)
                    .unwrap_or_else(|| format!("Stripe answered {status}"));
                Err(Failure {
                    status,
                    message,
                    retryable: status == 429 || status >= 500,
                })
            }
        })
        .await
    }

    /// Updates the dispute with `fields` (the file ids included), the compliance fee
    /// acknowledgement if any, and `submit`.
    async fn update(
        &self,
        request: &FilingRequest,
        fields: &BTreeMap<EvidenceField, String>,
    ) -> Result<(), FilingError> {
        let account = request.seller_id.as_str();
        let dispute_id = request.dispute_id.as_str();
        let submit = request.submit;
        let mut base = format!(
            "dispute\n{account}\n{dispute_id}\n{}\nsubmit={submit}",
            request.phase.as_str()
        );
        if let Some(network) = request.compliance_fee {
            base.push_str(&format!("\nfee={network:?}"));
        }
        for (field, value) in fields {
            base.push_str(&format!(
                "\n{}={}",
                field.as_str(),
                hex::encode(Sha256::digest(value.as_bytes()))
            ));
        }
        if let Some(ce3) = &request.ce3 {
            // The CE 3.0 evidence is part of the request, so part of its key.
            for (field, value) in ce3.form_fields() {
                base.push_str(&format!(
                    "\n{field}={}",
                    hex::encode(Sha256::digest(value.as_bytes()))
                ));
            }
        }
        let mut evidence = evidence(fields);
        let mut enhanced = UpdateDisputeEvidenceEnhancedEvidence::new();
        let mut any_enhanced = false;
        if let Some(ce3) = &request.ce3 {
            enhanced.visa_compelling_evidence_3 = Some(ce3_request(ce3));
            any_enhanced = true;
        }
        if let Some(network) = request.compliance_fee {
            any_enhanced = true;
            match network {
                ComplianceNetwork::Visa => {
                    let mut visa = UpdateDisputeEvidenceEnhancedEvidenceVisaCompliance::new();
                    visa.fee_acknowledged = Some(true);
                    enhanced.visa_compliance = Some(visa);
                }
                ComplianceNetwork::Mastercard => {
                    let mut mc = UpdateDisputeEvidenceEnhancedEvidenceMastercardCompliance::new();
                    mc.fee_acknowledged = Some(true);
                    enhanced.mastercard_compliance = Some(mc);
                }
            }
        }
        if any_enhanced {
            evidence.enhanced_evidence = Some(enhanced);
        }
        let update = UpdateDispute::new(dispute_id)
            .evidence(evidence)
            .submit(submit);
        let key = Self::key(&base, request.generations.update);
        self.with_retries("disputes.update", account, key, |key| {
            let update = &update;
            async move {
                let key = IdempotencyKey::new(&key).map_err(|e| Failure {
                    status: 0,
                    message: e.to_string(),
                    retryable: false,
                })?;
                let mut custom = update
                    .build()
                    .customize::<miniserde::json::Value>()
                    .request_strategy(RequestStrategy::Idempotent(key));
                if account != PLATFORM_SELLER {
                    custom = custom.account_id(stripe::AccountId::from(account));
                }
                custom
                    .send(&self.client)
                    .await
                    .map(|_| ())
                    .map_err(classify)
            }
        })
        .await
    }
}

/// The domain's CE 3.0 evidence as async-stripe's request parameters.
fn ce3_request(ce3: &VisaCe3) -> Ce3Request {
    let d = &ce3.disputed_transaction;
    let mut disputed = Ce3Disputed::new();
    disputed.customer_account_id = d.customer_account_id.clone();
    disputed.customer_device_fingerprint = d.customer_device_fingerprint.clone();
    disputed.customer_email_address = d.customer_email_address.clone();
    disputed.customer_purchase_ip = d.customer_purchase_ip.clone();
    disputed.product_description = d.product_description.clone();
    disputed.merchandise_or_services = Some(match d.merchandise_or_services {
        "services" => Ce3Merchandise::Services,
        _ => Ce3Merchandise::Merchandise,
    });
    let prior = ce3
        .prior_undisputed_transactions
        .iter()
        .map(|p| {
            let mut t = Ce3Prior::new(p.charge.clone());
            t.customer_account_id = p.customer_account_id.clone();
            t.customer_device_fingerprint = p.customer_device_fingerprint.clone();
            t.customer_email_address = p.customer_email_address.clone();
            t.customer_purchase_ip = p.customer_purchase_ip.clone();
            t.product_description = p.product_description.clone();
            t
        })
        .collect();
    let mut out = Ce3Request::new();
    out.disputed_transaction = Some(disputed);
    out.prior_undisputed_transactions = Some(prior);
    out
}

#[async_trait]
impl DisputeFiler for StripeDisputes {
    async fn file(
        &self,
        request: &FilingRequest,
    ) -> Result<BTreeMap<EvidenceField, String>, FilingFailure> {
        let failed = |call: FilingCall| move |error: FilingError| FilingFailure { call, error };
        let mut fields = request.fields.clone();
        for (field, document) in &request.files {
            let pdf = receipt_pdf::render(document);
            let file_id = self
                .upload(
                    &request.seller_id,
                    &pdf,
                    file_name(*field),
                    request.generations.upload,
                )
                .await
                .map_err(failed(FilingCall::Upload))?;
            fields.insert(*field, file_id);
        }
        self.update(request, &fields)
            .await
            .map_err(failed(FilingCall::Update))?;
        Ok(fields)
    }

    async fn close(&self, request: &CloseRequest) -> Result<(), FilingError> {
        let account = request.seller_id.as_str();
        let base = format!(
            "close\n{account}\n{}\n{}",
            request.dispute_id,
            request.phase.as_str()
        );
        let key = Self::key(&base, request.generation);
        let close = CloseDispute::new(request.dispute_id.as_str());
        self.with_retries("disputes.close", account, key, |key| {
            let close = &close;
            async move {
                let key = IdempotencyKey::new(&key).map_err(|e| Failure {
                    status: 0,
                    message: e.to_string(),
                    retryable: false,
                })?;
                let mut custom = close
                    .build()
                    .customize::<miniserde::json::Value>()
                    .request_strategy(RequestStrategy::Idempotent(key));
                if account != PLATFORM_SELLER {
                    custom = custom.account_id(stripe::AccountId::from(account));
                }
                custom
                    .send(&self.client)
                    .await
                    .map(|_| ())
                    .map_err(classify)
            }
        })
        .await
    }
}

/// The uploaded file's name, by the evidence field it fills.
fn file_name(field: EvidenceField) -> &'static str {
    match field {
        EvidenceField::CustomerCommunication => "delivery-email.pdf",
        EvidenceField::RefundPolicy => "refund-policy.pdf",
        _ => "receipt.pdf",
    }
}

/// Our fields into async-stripe's evidence parameters (Stripe's names on both sides).
fn evidence(fields: &BTreeMap<EvidenceField, String>) -> UpdateDisputeEvidence {
    let mut e = UpdateDisputeEvidence::new();
    for (field, value) in fields {
        let value = Some(value.clone());
        match field {
            EvidenceField::AccessActivityLog => e.access_activity_log = value,
            EvidenceField::BillingAddress => e.billing_address = value,
            EvidenceField::CancellationRebuttal => e.cancellation_rebuttal = value,
            EvidenceField::CustomerEmailAddress => e.customer_email_address = value,
            EvidenceField::CustomerName => e.customer_name = value,
            EvidenceField::CustomerPurchaseIp => e.customer_purchase_ip = value,
            EvidenceField::CustomerCommunication => e.customer_communication = value,
            EvidenceField::RefundPolicy => e.refund_policy = value,
            EvidenceField::RefundPolicyDisclosure => e.refund_policy_disclosure = value,
            EvidenceField::DuplicateChargeExplanation => e.duplicate_charge_explanation = value,
            EvidenceField::ProductDescription => e.product_description = value,
            EvidenceField::Receipt => e.receipt = value,
            EvidenceField::RefundRefusalExplanation => e.refund_refusal_explanation = value,
            EvidenceField::ServiceDate => e.service_date = value,
            EvidenceField::UncategorizedText => e.uncategorized_text = value,
        }
    }
    e
}

pub(super) fn classify(error: StripeError) -> Failure {
    match error {
        StripeError::Stripe(body, status) => Failure {
            status,
            message: body
                .message
                .clone()
                .unwrap_or_else(|| format!("Stripe answered {status}")),
            retryable: status == 429 || status >= 500,
        },
        // An error body that is not Stripe's JSON comes from something between us and Stripe
        // (a proxy's 502 page): transient as well.
        StripeError::JSONDeserialize(_) => Failure {
            status: 0,
            message: "Stripe's answer was unreadable".into(),
            retryable: true,
        },
        StripeError::ClientError(_) | StripeError::Timeout => Failure {
            status: 0,
            message: "Stripe could not be reached".into(),
            retryable: true,
        },
        StripeError::ConfigError(e) => Failure {
            status: 0,
            message: e,
            retryable: false,
        },
    }
}

fn network_kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection refused"
    } else {
        "network error"
    }
}

pub(super) fn bounded(message: &str) -> String {
    let cleaned: String = message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_MESSAGE_CHARS)
        .collect();
    cleaned.trim().to_owned()
}
