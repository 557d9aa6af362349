//! Filing evidence to a dispute: the port to Stripe and the use cases behind
//! `POST /orders/{order_id}/disputes/{dispute_id}/evidence`, its preview (`GET`), and
//! `POST …/accept` (contract sections 9.2 and 9.4), which the sweep's automatic submission
//! shares (section 9.3).
//!
//! The use case checks in the contract's order (statement, then ownership, then the dispute's
//! state: closed or accepted, already submitted, past its deadline; then the compliance fee,
//! then whether Stripe is configured), builds the evidence, has the port file it, and only then
//! records `saved_at` / `submitted_at` and a timeline entry on the order. A refusal or an outage
//! of Stripe records the error in words and nothing as sent.
//!
//! At most once: a submission (and an accept) is first claimed on the order with a conditional
//! write and a lease ([`SubmitClaim`]); only the claim's holder calls Stripe, with the key
//! generation the claim names, and the evidence is built from what was known at the claim's
//! `as_of`. A holder that crashed between Stripe's answer and the record leaves a claim that
//! expires; whoever takes it over sends the same request with the same keys, and Stripe replays
//! its first answer instead of filing twice.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::build::{build, BuildError, BuiltEvidence, EvidenceInput, ReceiptDocument};
use super::{CustomerDetails, DeliveryReceipt, EvidenceField, MAX_STATEMENT_CHARS};
use crate::apply::{fold_into_order, RetryPolicy};
use crate::order::facts::{
    dispute_is_closed, DisputeFact, DisputePhase, EvidenceFact, Facts, Reg, SubmitClaim, Submitter,
    TimelineEntry,
};
use crate::ports::{OrderStore, StoreError};
use crate::settings::SellerSettings;
use crate::OrderRecord;

/// How long a claim holds before another process may take it over: longer than any one
/// filing takes (three uploads and an update, each retried within Stripe's client bounds).
pub const CLAIM_LEASE_SECS: i64 = 120;

/// The card network whose compliance fee the seller acknowledged (contract section 9.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComplianceNetwork {
    Visa,
    Mastercard,
}

/// What the port sends to Stripe for one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilingRequest {
    /// The connected account the dispute lives on (`platform`: the platform's own).
    pub seller_id: String,
    pub dispute_id: String,
    /// The phase answered: part of every idempotency key, so the chargeback that follows an
    /// inquiry on the same id is a new request.
    pub phase: DisputePhase,
    /// Text fields by Stripe's names; the port adds the file fields after uploading `files`.
    pub fields: BTreeMap<EvidenceField, String>,
    /// The documents to upload, by the file field each fills.
    pub files: BTreeMap<EvidenceField, ReceiptDocument>,
    /// `enhanced_evidence.<network>_compliance.fee_acknowledged = true`, when acknowledged.
    pub compliance_fee: Option<ComplianceNetwork>,
    /// `enhanced_evidence.visa_compelling_evidence_3`, when the order qualifies (contract
    /// section 9.5): sent in the same update as the rest.
    pub ce3: Option<crate::evidence::ce3::VisaCe3>,
    /// `false` stages a draft; `true` submits to the bank.
    pub submit: bool,
    /// Where each call's `Idempotency-Key` is, as the order records it.
    pub generations: KeyGenerations,
}

/// The `Idempotency-Key` generation of each call (see [`EvidenceFact`]): part of the keys the
/// port derives, so a request after a definitive failure is really tried again while a retried
/// or repeated one is replayed, in whichever process it runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyGenerations {
    pub upload: u32,
    pub update: u32,
}

/// The calls of a filing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilingCall {
    /// A document's upload (`POST /v1/files`).
    Upload,
    /// The dispute's update (`POST /v1/disputes/{id}`) or close (`…/close`).
    Update,
}

/// A definitive failure and the call it ended: that call's key generation moves on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilingFailure {
    pub call: FilingCall,
    pub error: FilingError,
}

/// Why Stripe did not take the evidence. Nothing was filed in either case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilingError {
    /// Stripe answered with a refusal (a 4xx other than 429); `message` is Stripe's own.
    #[error("Stripe refused ({status}): {message}")]
    Refused { status: u16, message: String },
    /// Still 429, 5xx or unreachable after every retry.
    #[error("Stripe is unavailable: {message}")]
    Unavailable { message: String },
}

/// What the port sends to close (accept) a dispute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseRequest {
    pub seller_id: String,
    pub dispute_id: String,
    pub phase: DisputePhase,
    pub generation: u32,
}

/// Stripe's dispute API, as the seller.
#[async_trait]
pub trait DisputeFiler: Send + Sync {
    /// Uploads the documents and updates the dispute; returns every field sent, the file
    /// fields (their file ids) included, or the call that failed for good.
    async fn file(
        &self,
        request: &FilingRequest,
    ) -> Result<BTreeMap<EvidenceField, String>, FilingFailure>;

    /// Closes the dispute (the seller accepts it: `POST /v1/disputes/{id}/close`).
    async fn close(&self, request: &CloseRequest) -> Result<(), FilingError>;
}

/// The seller's request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvidenceRequest {
    pub submit: bool,
    /// `None` keeps the saved statement; `Some("")` removes it.
    pub statement: Option<String>,
    /// The network's compliance fee acknowledged (only a compliance case needs it).
    pub fee_acknowledged: bool,
}

/// What was accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filed {
    pub dispute_id: String,
    pub submitted: bool,
    pub fields: BTreeMap<EvidenceField, String>,
}

/// Every way the use cases can refuse, in the contract's order of checks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileEvidenceError {
    #[error("the statement has {chars} characters; at most {max} are accepted")]
    StatementTooLong { chars: usize, max: usize },
    /// The order or the dispute is not this seller's (or does not exist).
    #[error("not found")]
    NotFound,
    /// `won`, `lost`, `prevented`, `warning_closed`, or accepted here.
    #[error("the dispute is closed ({status})")]
    Closed { status: String },
    /// This phase was submitted here, automatically, or in Stripe's dashboard (`under_review`,
    /// `warning_under_review`), or a submission is in flight.
    #[error("evidence for this dispute was already submitted")]
    AlreadySubmitted,
    /// The deadline has passed, or Stripe allows no response (no `due_by`, or 0).
    #[error("the dispute's deadline for evidence has passed, or Stripe allows no response")]
    PastDue,
    /// A compliance case submitted without acknowledging the network's fee.
    #[error("this is a compliance dispute: submitting it costs a network fee; resend with \"fee_acknowledged\": true to accept that fee")]
    FeeNotAcknowledged,
    #[error("no Stripe API key is configured")]
    NotConfigured,
    #[error(transparent)]
    Stripe(#[from] FilingError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The dispute, as far as an answer to it goes.
#[derive(Debug, Clone, Copy)]
pub struct Answerable<'a> {
    pub dispute: &'a DisputeFact,
    pub phase: DisputePhase,
    /// The current phase's record, when anything was recorded for it.
    pub evidence: Option<&'a EvidenceFact>,
}

impl Answerable<'_> {
    /// The key of the current phase's record in `Facts::dispute_evidence`.
    pub fn key(&self, dispute_id: &str) -> String {
        self.phase.evidence_key(dispute_id)
    }
}

/// Whether the dispute was accepted here, in any phase.
fn accepted(record: &OrderRecord, dispute_id: &str) -> bool {
    [DisputePhase::Inquiry, DisputePhase::Chargeback]
        .into_iter()
        .filter_map(|p| {
            record
                .facts
                .dispute_evidence
                .get(&p.evidence_key(dispute_id))
        })
        .any(|e| e.accepted_at.is_some())
}

/// Finds the dispute (`404`) and whether it can be answered now: closed or accepted, already
/// submitted in this phase, past its deadline: in the contract's order (section 9.2).
pub fn answerable<'a>(
    record: &'a OrderRecord,
    dispute_id: &str,
    now: i64,
    check_deadline: bool,
) -> Result<Answerable<'a>, FileEvidenceError> {
    let dispute = record
        .facts
        .disputes
        .get(dispute_id)
        .ok_or(FileEvidenceError::NotFound)?;
    let status = dispute.status();
    if dispute_is_closed(status) || accepted(record, dispute_id) {
        return Err(FileEvidenceError::Closed {
            status: if dispute_is_closed(status) {
                status.to_owned()
            } else {
                "accepted".to_owned()
            },
        });
    }
    let phase = dispute.phase();
    let evidence = record
        .facts
        .dispute_evidence
        .get(&phase.evidence_key(dispute_id));
    let submitted_here = evidence.is_some_and(|e| e.submitted_at.is_some());
    if submitted_here || matches!(status, "under_review" | "warning_under_review") {
        return Err(FileEvidenceError::AlreadySubmitted);
    }
    if check_deadline && dispute.due_by().is_none_or(|due| due <= now) {
        return Err(FileEvidenceError::PastDue);
    }
    Ok(Answerable {
        dispute,
        phase,
        evidence,
    })
}

/// Whether `claim` still stands on `evidence` at `now`: the call it names has not concluded
/// (the generation did not move on), nothing was submitted, and the lease has not run out.
pub fn claim_is_live(evidence: &EvidenceFact, now: i64) -> bool {
    evidence.claim.as_ref().is_some_and(|c| {
        c.generation == evidence.update_generation
            && c.until > now
            && evidence.submitted_at.is_none()
    })
}

/// The delivery receipt of the order's email (the SES `Delivery` event of the newest email that
/// has one, `crate::delivery::delivery_receipt`), when the order records one. Without it the
/// evidence says the email was sent (SES accepted it) without claiming it was delivered.
pub fn delivery_receipt(record: &OrderRecord) -> Option<DeliveryReceipt> {
    crate::delivery::delivery_receipt(record).map(|r| DeliveryReceipt {
        at: r.receipt.at_ms.div_euclid(1000),
        message_id: Some(r.message_id.to_owned()),
        smtp_response: r.smtp_response().map(str::to_owned),
    })
}

/// What the order knows of the buyer beyond the email: the storefront's purchase IP and the
/// charge's billing name and address, as the fold kept them (contract sections 2 and 9).
pub fn customer_details(record: &OrderRecord) -> CustomerDetails {
    let f = &record.facts;
    let value = |r: &Option<crate::order::facts::Reg<String>>| r.as_ref().map(|r| r.value.clone());
    CustomerDetails {
        purchase_ip: value(&f.customer_ip),
        name: value(&f.customer_name),
        billing_address: value(&f.billing_address),
    }
}

fn check_statement(statement: Option<&str>) -> Result<(), FileEvidenceError> {
    if let Some(s) = statement {
        let chars = s.trim().chars().count();
        if chars > MAX_STATEMENT_CHARS {
            return Err(FileEvidenceError::StatementTooLong {
                chars,
                max: MAX_STATEMENT_CHARS,
            });
        }
    }
    Ok(())
}

/// The evidence for the dispute as it would be sent now, built from what was known at `as_of`
/// (downloads logged after it are left out, so a retry of a claimed call builds the same
/// request): the preview, the draft and the submission all use it.
pub async fn prepare(
    store: &dyn OrderStore,
    record: &OrderRecord,
    dispute_id: &str,
    settings: &SellerSettings,
    statement: Option<&str>,
    as_of: i64,
) -> Result<BuiltEvidence, FileEvidenceError> {
    let mut downloads = store
        .list_downloads(&record.seller_id, &record.order_id)
        .await?;
    downloads.retain(|d| d.at <= as_of);
    let delivery = delivery_receipt(record).filter(|d| d.at <= as_of);
    let customer = customer_details(record);
    build(&EvidenceInput {
        record,
        dispute_id,
        downloads: &downloads,
        delivery: delivery.as_ref(),
        customer: &customer,
        store_name: record.facts.store_name(),
        statement,
        refund_policy: settings.refund_policy.as_deref(),
        refund_policy_disclosure: settings.refund_policy_disclosure.as_deref(),
    })
    .map_err(|e| match e {
        BuildError::StatementTooLong { chars, max } => {
            FileEvidenceError::StatementTooLong { chars, max }
        }
    })
}

/// The network whose compliance fee a submission acknowledges: Mastercard's for a Mastercard
/// card, else Visa's (compliance disputes are Visa's in practice).
fn compliance_network(dispute: &DisputeFact) -> ComplianceNetwork {
    match dispute.card_brand.as_ref().map(|b| b.value.as_str()) {
        Some(b) if b.eq_ignore_ascii_case("mastercard") => ComplianceNetwork::Mastercard,
        _ => ComplianceNetwork::Visa,
    }
}

/// Who asks, and when.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub seller_id: &'a str,
    pub order_id: &'a str,
    pub dispute_id: &'a str,
    pub by: Submitter,
    pub now: i64,
}

/// Builds and files evidence for the dispute, then records it (the seller's route and the
/// sweep alike).
pub async fn file_evidence(
    store: &dyn OrderStore,
    filer: Option<&dyn DisputeFiler>,
    settings: &SellerSettings,
    actor: Actor<'_>,
    request: &EvidenceRequest,
) -> Result<Filed, FileEvidenceError> {
    check_statement(request.statement.as_deref())?;
    let record = store
        .get_order(actor.seller_id, actor.order_id)
        .await?
        .ok_or(FileEvidenceError::NotFound)?;
    let state = answerable(&record, actor.dispute_id, actor.now, true)?;
    let compliance = state.dispute.is_compliance();
    if request.submit && compliance && !request.fee_acknowledged {
        return Err(FileEvidenceError::FeeNotAcknowledged);
    }
    let filer = filer.ok_or(FileEvidenceError::NotConfigured)?;
    let compliance_fee =
        (compliance && request.fee_acknowledged).then(|| compliance_network(state.dispute));
    let (record, claim) = if request.submit {
        let (record, claim) = claim(store, actor, request.statement.as_deref()).await?;
        (record, Some(claim))
    } else {
        (record, None)
    };
    let state = answerable(&record, actor.dispute_id, actor.now, false)?;
    let key = state.key(actor.dispute_id);
    let saved = state
        .evidence
        .and_then(|e| e.statement())
        .map(str::to_owned);
    let statement = match &request.statement {
        Some(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        None => saved,
    };
    let as_of = claim.as_ref().map_or(actor.now, |c| c.as_of);
    let built = prepare(
        store,
        &record,
        actor.dispute_id,
        settings,
        statement.as_deref(),
        as_of,
    )
    .await?;
    let ce3 = crate::evidence::ce3::lookup(
        store,
        &record,
        state
            .dispute
            .network_reason_code
            .as_ref()
            .map(|r| r.value.as_str()),
        state.dispute.reason.as_ref().map(|r| r.value.as_str()),
    )
    .await?
    .and_then(|l| l.evidence);
    let known = state.evidence;
    let generations = KeyGenerations {
        upload: known.map_or(0, |e| e.upload_generation),
        update: claim
            .as_ref()
            .map_or(known.map_or(0, |e| e.update_generation), |c| c.generation),
    };
    let filed = filer
        .file(&FilingRequest {
            seller_id: actor.seller_id.to_owned(),
            dispute_id: actor.dispute_id.to_owned(),
            phase: state.phase,
            fields: built.fields,
            files: built.files,
            compliance_fee,
            ce3,
            submit: request.submit,
            generations,
        })
        .await;
    let outcome = Outcome {
        key: &key,
        generations,
        statement: request.statement.as_deref(),
        submitted: request.submit,
    };
    match filed {
        Ok(fields) => {
            record_outcome(store, actor, &outcome, Ok(())).await?;
            Ok(Filed {
                dispute_id: actor.dispute_id.to_owned(),
                submitted: request.submit,
                fields,
            })
        }
        Err(failure) => {
            // Best effort: if the store fails too, Stripe's answer is still the one to give;
            // the claim then expires and the next attempt replays the same key.
            if let Err(e) = record_outcome(store, actor, &outcome, Err(&failure)).await {
                tracing::warn!(error = %e, "could not record the filing failure");
            }
            Err(FileEvidenceError::Stripe(failure.error))
        }
    }
}

/// Claims the current phase's submission on the order (a conditional write), or says why not:
/// the dispute's state, or a live claim of someone else (a submission in flight). An expired
/// claim of the same generation is taken over with its `as_of`, so the request is the same.
pub async fn claim(
    store: &dyn OrderStore,
    actor: Actor<'_>,
    statement: Option<&str>,
) -> Result<(OrderRecord, SubmitClaim), FileEvidenceError> {
    let policy = RetryPolicy::default();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let record = store
            .get_order(actor.seller_id, actor.order_id)
            .await?
            .ok_or(FileEvidenceError::NotFound)?;
        let state = answerable(&record, actor.dispute_id, actor.now, false)?;
        let key = state.key(actor.dispute_id);
        let current = state.evidence.cloned().unwrap_or_default();
        if claim_is_live(&current, actor.now) {
            return Err(FileEvidenceError::AlreadySubmitted);
        }
        let claim = match &current.claim {
            Some(c) if c.generation == current.update_generation => SubmitClaim {
                until: actor.now + CLAIM_LEASE_SECS,
                by: actor.by,
                ..c.clone()
            },
            _ => SubmitClaim {
                until: actor.now + CLAIM_LEASE_SECS,
                generation: current.update_generation,
                as_of: actor.now,
                by: actor.by,
            },
        };
        let mut next = record.clone();
        let evidence = next.facts.dispute_evidence.entry(key).or_default();
        evidence.claim = Some(claim.clone());
        if let Some(s) = statement {
            evidence.statement = Some(Reg::new(0, actor.now, s.trim().to_owned()));
        }
        next.version = record.version + 1;
        match store.put_order(&next, Some(record.version), &[]).await {
            Ok(()) => return Ok((next, claim)),
            Err(StoreError::Conflict) if attempt < policy.max_attempts => {
                policy.pause(attempt).await;
            }
            Err(StoreError::Conflict) => return Err(StoreError::Contention.into()),
            Err(e) => return Err(e.into()),
        }
    }
}

/// What a concluded call records.
struct Outcome<'a> {
    key: &'a str,
    generations: KeyGenerations,
    statement: Option<&'a str>,
    submitted: bool,
}

/// Records a concluded call on the order, merged like every other fact: on success the times,
/// who submitted, the statement and a timeline entry, and `last_error` cleared; on a failure
/// the error in words and the failed call's generation moved on. A submission's conclusion
/// moves the update generation on either way, which ends its claim.
async fn record_outcome(
    store: &dyn OrderStore,
    actor: Actor<'_>,
    outcome: &Outcome<'_>,
    result: Result<(), &FilingFailure>,
) -> Result<(), StoreError> {
    let now = actor.now;
    let dispute_id = actor.dispute_id;
    let mut fact = EvidenceFact::default();
    let mut facts = Facts::default();
    if outcome.submitted {
        fact.update_generation = outcome.generations.update + 1;
    }
    match result {
        Ok(()) => {
            fact.saved_at = Some(now);
            fact.last_error = Some(Reg::new(0, now, String::new()));
            if let Some(s) = outcome.statement {
                fact.statement = Some(Reg::new(0, now, s.trim().to_owned()));
            }
            let (kind, detail) = if outcome.submitted {
                fact.submitted_at = Some(now);
                fact.submitted_by = Some(actor.by);
                let who = match actor.by {
                    Submitter::Seller => "by the seller",
                    Submitter::Auto => {
                        "automatically, before the deadline, under the seller's setting"
                    }
                };
                (
                    "evidence_submitted",
                    format!("evidence for dispute {dispute_id} submitted to Stripe {who}"),
                )
            } else {
                let who = match actor.by {
                    Submitter::Seller => "by the seller",
                    Submitter::Auto => "automatically",
                };
                (
                    "evidence_saved",
                    format!("evidence draft for dispute {dispute_id} saved to Stripe {who}"),
                )
            };
            facts.timeline.insert(TimelineEntry {
                at: now,
                kind: kind.into(),
                detail,
            });
        }
        Err(failure) => {
            match failure.call {
                FilingCall::Upload => {
                    fact.upload_generation = outcome.generations.upload + 1;
                }
                FilingCall::Update => {
                    fact.update_generation = outcome.generations.update + 1;
                }
            }
            fact.last_error = Some(Reg::new(0, now, failure.error.to_string()));
        }
    }
    facts.dispute_evidence.insert(outcome.key.to_owned(), fact);
    fold_into_order(
        store,
        actor.seller_id,
        actor.order_id,
        &facts,
        RetryPolicy::default(),
    )
    .await?;
    Ok(())
}

/// What the preview shows: the fields that would be sent now and the documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    pub dispute_id: String,
    pub fields: BTreeMap<EvidenceField, String>,
    pub files: Vec<(EvidenceField, String)>,
}

/// `GET …/disputes/{dispute_id}/evidence`: the evidence as it would be sent now, without
/// calling Stripe (only `404` refuses).
pub async fn preview(
    store: &dyn OrderStore,
    settings: &SellerSettings,
    seller_id: &str,
    order_id: &str,
    dispute_id: &str,
    now: i64,
) -> Result<(OrderRecord, Preview), FileEvidenceError> {
    let record = store
        .get_order(seller_id, order_id)
        .await?
        .ok_or(FileEvidenceError::NotFound)?;
    let dispute = record
        .facts
        .disputes
        .get(dispute_id)
        .ok_or(FileEvidenceError::NotFound)?;
    let statement = crate::order::view::current_evidence(&record.facts, dispute_id, dispute)
        .and_then(|e| e.statement())
        .map(str::to_owned);
    let built = prepare(
        store,
        &record,
        dispute_id,
        settings,
        statement.as_deref(),
        now,
    )
    .await?;
    let preview = Preview {
        dispute_id: dispute_id.to_owned(),
        fields: built.fields,
        files: built
            .files
            .keys()
            .map(|f| (*f, f.title().to_owned()))
            .collect(),
    };
    Ok((record, preview))
}

/// `POST …/accept` (contract section 9.4): closes the dispute in Stripe as the seller, records
/// `accepted_at` and a timeline entry (which stops any automatic submission), and answers the
/// order as it is then.
pub async fn accept(
    store: &dyn OrderStore,
    filer: Option<&dyn DisputeFiler>,
    actor: Actor<'_>,
) -> Result<OrderRecord, FileEvidenceError> {
    let record = store
        .get_order(actor.seller_id, actor.order_id)
        .await?
        .ok_or(FileEvidenceError::NotFound)?;
    answerable(&record, actor.dispute_id, actor.now, false)?;
    let filer = filer.ok_or(FileEvidenceError::NotConfigured)?;
    let (record, claim) = claim(store, actor, None).await?;
    let state = answerable(&record, actor.dispute_id, actor.now, false)?;
    let key = state.key(actor.dispute_id);
    let result = filer
        .close(&CloseRequest {
            seller_id: actor.seller_id.to_owned(),
            dispute_id: actor.dispute_id.to_owned(),
            phase: state.phase,
            generation: claim.generation,
        })
        .await;
    let mut fact = EvidenceFact {
        update_generation: claim.generation + 1,
        ..EvidenceFact::default()
    };
    let mut facts = Facts::default();
    match &result {
        Ok(()) => {
            fact.accepted_at = Some(actor.now);
            fact.last_error = Some(Reg::new(0, actor.now, String::new()));
            facts.timeline.insert(TimelineEntry {
                at: actor.now,
                kind: "dispute_accepted".into(),
                detail: format!(
                    "dispute {} accepted by the seller: closed in Stripe",
                    actor.dispute_id
                ),
            });
        }
        Err(e) => {
            fact.last_error = Some(Reg::new(0, actor.now, e.to_string()));
        }
    }
    facts.dispute_evidence.insert(key, fact);
    let recorded = fold_into_order(
        store,
        actor.seller_id,
        actor.order_id,
        &facts,
        RetryPolicy::default(),
    )
    .await;
    result?;
    recorded?;
    store
        .get_order(actor.seller_id, actor.order_id)
        .await?
        .ok_or(FileEvidenceError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory_store::MemoryStore;
    use crate::order::facts::{dispute_rank, DisputeFact, Reg};
    use std::sync::Mutex;

    const T0: i64 = 1_778_227_200;
    const DUE: i64 = T0 + 7 * 86_400;

    /// A port that answers what it is told and remembers what it was asked.
    struct Scripted {
        answers: Mutex<Vec<Result<(), FilingFailure>>>,
        calls: Mutex<Vec<FilingRequest>>,
        closes: Mutex<Vec<CloseRequest>>,
    }

    impl Scripted {
        fn new(answers: Vec<Result<(), FilingFailure>>) -> Self {
            Self {
                answers: Mutex::new(answers),
                calls: Mutex::new(Vec::new()),
                closes: Mutex::new(Vec::new()),
            }
        }
    }

    #[async_trait]
    impl DisputeFiler for Scripted {
        async fn file(
            &self,
            request: &FilingRequest,
        ) -> Result<BTreeMap<EvidenceField, String>, FilingFailure> {
            self.calls.lock().unwrap().push(request.clone());
            self.answers.lock().unwrap().remove(0)?;
            let mut fields = request.fields.clone();
            for (i, field) in request.files.keys().enumerate() {
                fields.insert(*field, format!("file_{i}"));
            }
            Ok(fields)
        }

        async fn close(&self, request: &CloseRequest) -> Result<(), FilingError> {
            self.closes.lock().unwrap().push(request.clone());
            self.answers.lock().unwrap().remove(0).map_err(|f| f.error)
        }
    }

    fn dispute(status: &str, reason: &str, due: Option<i64>) -> DisputeFact {
        DisputeFact {
            state: Reg::new(dispute_rank(status), T0, status.into()),
            reason: Some(Reg::new(0, T0, reason.into())),
            evidence_due_by: due.map(|d| Reg::new(0, T0, d)),
            created: Some(T0),
            ..Default::default()
        }
    }

    async fn store_of(d: DisputeFact) -> MemoryStore {
        let store = MemoryStore::new();
        let mut r = OrderRecord::new("acct_A", "pi_1");
        r.facts.pi_created = Some(T0);
        r.facts.disputes.insert("dp_1".into(), d);
        store.put_order(&r, None, &[]).await.unwrap();
        store
    }

    async fn store_with(status: &str) -> MemoryStore {
        store_of(dispute(status, "fraudulent", Some(DUE))).await
    }

    fn draft() -> EvidenceRequest {
        EvidenceRequest {
            submit: false,
            statement: Some("Delivered as promised.".into()),
            fee_acknowledged: false,
        }
    }

    fn submit() -> EvidenceRequest {
        EvidenceRequest {
            submit: true,
            ..EvidenceRequest::default()
        }
    }

    fn seller(now: i64) -> Actor<'static> {
        Actor {
            seller_id: "acct_A",
            order_id: "pi_1",
            dispute_id: "dp_1",
            by: Submitter::Seller,
            now,
        }
    }

    async fn file(
        store: &MemoryStore,
        stripe: Option<&Scripted>,
        actor: Actor<'_>,
        request: &EvidenceRequest,
    ) -> Result<Filed, FileEvidenceError> {
        file_evidence(
            store,
            stripe.map(|s| s as &dyn DisputeFiler),
            &SellerSettings::default(),
            actor,
            request,
        )
        .await
    }

    async fn order(store: &MemoryStore) -> OrderRecord {
        store.get_order("acct_A", "pi_1").await.unwrap().unwrap()
    }

    #[tokio::test]
    async fn given_a_draft_then_a_submit_then_both_recorded_and_a_third_refused() {
        let store = store_with("needs_response").await;
        let stripe = Scripted::new(vec![Ok(()), Ok(())]);
        // WHEN a draft is saved
        let filed = file(&store, Some(&stripe), seller(T0 + 10), &draft())
            .await
            .unwrap();
        assert!(!filed.submitted);
        assert_eq!(filed.fields[&EvidenceField::Receipt], "file_0");
        let r = order(&store).await;
        let e = &r.facts.dispute_evidence["dp_1"];
        assert_eq!(e.saved_at, Some(T0 + 10));
        assert_eq!(e.submitted_at, None);
        assert_eq!(e.statement(), Some("Delivered as promised."));
        // WHEN it is submitted (no statement given: the saved one goes with it)
        file(&store, Some(&stripe), seller(T0 + 20), &submit())
            .await
            .unwrap();
        let r = order(&store).await;
        let e = &r.facts.dispute_evidence["dp_1"];
        assert_eq!(e.submitted_at, Some(T0 + 20));
        assert_eq!(e.submitted_by, Some(Submitter::Seller));
        assert!(!claim_is_live(e, T0 + 21));
        let kinds: Vec<&str> = r.facts.timeline.iter().map(|t| t.kind.as_str()).collect();
        assert_eq!(kinds, ["evidence_saved", "evidence_submitted"]);
        assert!(
            stripe.calls.lock().unwrap()[1].fields[&EvidenceField::UncategorizedText]
                .starts_with("Delivered as promised.")
        );
        // THEN a second submission is refused without calling Stripe
        let again = file(&store, Some(&stripe), seller(T0 + 30), &submit()).await;
        assert_eq!(again, Err(FileEvidenceError::AlreadySubmitted));
        assert_eq!(stripe.calls.lock().unwrap().len(), 2);
        assert!(stripe.calls.lock().unwrap()[1].submit);
    }

    fn down(call: FilingCall) -> Result<(), FilingFailure> {
        Err(FilingFailure {
            call,
            error: FilingError::Unavailable {
                message: "down".into(),
            },
        })
    }

    #[tokio::test]
    async fn given_stripe_fails_then_nothing_recorded_as_sent_and_the_error_in_words() {
        // GIVEN an open dispute, and Stripe down for the update
        let store = store_with("needs_response").await;
        let before = order(&store).await;
        let stripe = Scripted::new(vec![down(FilingCall::Update)]);
        // WHEN evidence is submitted
        let r = file(&store, Some(&stripe), seller(T0), &submit()).await;
        // THEN Stripe's failure; nothing recorded as sent, no timeline entry; the error in
        // words; the update's key generation moved on (the claim ended with it)
        assert!(matches!(
            r,
            Err(FileEvidenceError::Stripe(FilingError::Unavailable { .. }))
        ));
        let after = order(&store).await;
        assert_eq!(after.facts.timeline, before.facts.timeline);
        let e = &after.facts.dispute_evidence["dp_1"];
        assert_eq!(e.saved_at, None);
        assert_eq!(e.submitted_at, None);
        assert_eq!(e.update_generation, 1);
        assert_eq!(e.last_error(), Some("Stripe is unavailable: down"));
        assert!(!claim_is_live(e, T0 + 1));
        let view = crate::OrderView::of(&after);
        assert_eq!(
            view.disputes[0]
                .evidence
                .as_ref()
                .unwrap()
                .last_error
                .as_deref(),
            Some("Stripe is unavailable: down")
        );
        // AND a later success clears it
        let stripe = Scripted::new(vec![Ok(())]);
        file(&store, Some(&stripe), seller(T0 + 60), &submit())
            .await
            .unwrap();
        assert_eq!(
            order(&store).await.facts.dispute_evidence["dp_1"].last_error(),
            None
        );
        assert_eq!(stripe.calls.lock().unwrap()[0].generations.update, 1);
    }

    #[tokio::test]
    async fn given_failures_then_each_calls_generation_moves_on_and_a_new_process_reads_it() {
        // GIVEN an open dispute; the upload fails for good, then (next request) the update
        let store = store_with("needs_response").await;
        let first = Scripted::new(vec![down(FilingCall::Upload), down(FilingCall::Update)]);
        for _ in 0..2 {
            let r = file(&store, Some(&first), seller(T0), &draft()).await;
            assert!(r.is_err());
        }
        // WHEN a new process (another port, nothing in memory) files the same request
        let fresh = Scripted::new(vec![Ok(())]);
        file(&store, Some(&fresh), seller(T0 + 5), &draft())
            .await
            .unwrap();
        // THEN each request carried the generations the order recorded: the failed call's moved
        // on once per failure, the other's stayed (its key, and so its file, is reused)
        let seen: Vec<KeyGenerations> = first
            .calls
            .lock()
            .unwrap()
            .iter()
            .chain(fresh.calls.lock().unwrap().iter())
            .map(|c| c.generations)
            .collect();
        assert_eq!(
            seen,
            [
                KeyGenerations {
                    upload: 0,
                    update: 0
                },
                KeyGenerations {
                    upload: 1,
                    update: 0
                },
                KeyGenerations {
                    upload: 1,
                    update: 1
                },
            ]
        );
        assert_eq!(
            order(&store).await.facts.dispute_evidence["dp_1"].saved_at,
            Some(T0 + 5)
        );
    }

    #[tokio::test]
    async fn given_the_buyer_and_store_the_order_knows_then_stripe_gets_them_by_its_names() {
        // GIVEN an order whose facts hold the purchase IP, the billing name and address, and
        // the storefront's store name
        let store = store_with("needs_response").await;
        let mut r = order(&store).await;
        r.facts.customer_ip = Some(Reg::new(2, T0, "203.0.113.9".into()));
        r.facts.customer_name = Some(Reg::new(2, T0, "Jordan Lee".into()));
        r.facts.billing_address = Some(Reg::new(2, T0, "CA 94107, US".into()));
        r.facts.store_name = Some(Reg::new(2, T0, "Lee Presets".into()));
        r.facts.product_name = Some(Reg::new(2, T0, "Cinematic LUT Pack".into()));
        let v = r.version;
        r.version += 1;
        store.put_order(&r, Some(v), &[]).await.unwrap();
        let stripe = Scripted::new(vec![Ok(())]);
        // WHEN evidence is filed
        file(&store, Some(&stripe), seller(T0 + 10), &draft())
            .await
            .unwrap();
        // THEN the port was asked to send them under Stripe's field names, and the store is
        // named in the product description and on the receipt
        let calls = stripe.calls.lock().unwrap();
        let fields = &calls[0].fields;
        assert_eq!(fields[&EvidenceField::CustomerPurchaseIp], "203.0.113.9");
        assert_eq!(fields[&EvidenceField::CustomerName], "Jordan Lee");
        assert_eq!(fields[&EvidenceField::BillingAddress], "CA 94107, US");
        assert!(fields[&EvidenceField::ProductDescription]
            .starts_with("Cinematic LUT Pack, sold by Lee Presets: "));
        assert!(calls[0].files[&EvidenceField::Receipt]
            .lines
            .iter()
            .any(|(k, v)| k == "Store" && v == "Lee Presets"));
    }

    #[tokio::test]
    async fn given_the_checks_then_in_the_contracts_order_without_calling_stripe() {
        let stripe = Scripted::new(vec![]);
        let long = EvidenceRequest {
            submit: true,
            statement: Some("x".repeat(20_001)),
            fee_acknowledged: false,
        };
        // statement first, even for an unknown order
        let store = store_with("needs_response").await;
        let unknown = Actor {
            order_id: "pi_none",
            ..seller(T0)
        };
        assert_eq!(
            file(&store, Some(&stripe), unknown, &long).await,
            Err(FileEvidenceError::StatementTooLong {
                chars: 20_001,
                max: 20_000
            })
        );
        // another seller's order, an unknown dispute: not found
        for (seller_id, dispute_id) in [("acct_B", "dp_1"), ("acct_A", "dp_2")] {
            let actor = Actor {
                seller_id,
                dispute_id,
                ..seller(T0)
            };
            assert_eq!(
                file(&store, Some(&stripe), actor, &draft()).await,
                Err(FileEvidenceError::NotFound)
            );
        }
        // closed, or under review: conflict, even with no Stripe configured and past due
        for status in ["won", "lost", "prevented", "warning_closed"] {
            let store = store_of(dispute(status, "fraudulent", None)).await;
            let e = file(&store, None, seller(T0), &draft()).await;
            assert!(
                matches!(e, Err(FileEvidenceError::Closed { .. })),
                "{status}"
            );
        }
        for status in ["under_review", "warning_under_review"] {
            let store = store_of(dispute(status, "fraudulent", None)).await;
            let e = file(&store, None, seller(T0), &draft()).await;
            assert_eq!(e, Err(FileEvidenceError::AlreadySubmitted), "{status}");
        }
        // past due: no deadline, a deadline of 0, one that has passed (even with no Stripe)
        for due in [None, Some(0), Some(T0 - 1), Some(T0)] {
            let store = store_of(dispute("needs_response", "fraudulent", due)).await;
            let e = file(&store, None, seller(T0), &draft()).await;
            assert_eq!(e, Err(FileEvidenceError::PastDue), "{due:?}");
        }
        // a compliance case submitted without the fee acknowledged, even with no Stripe
        for (reason, case_type) in [("noncompliant", None), ("general", Some("compliance"))] {
            let mut d = dispute("needs_response", reason, Some(DUE));
            d.case_type = case_type.map(|c| Reg::new(0, T0, c.to_owned()));
            let store = store_of(d).await;
            let e = file(&store, None, seller(T0), &submit()).await;
            assert_eq!(e, Err(FileEvidenceError::FeeNotAcknowledged), "{reason}");
            // a draft needs no acknowledgement: next check, not configured
            let e = file(&store, None, seller(T0), &draft()).await;
            assert_eq!(e, Err(FileEvidenceError::NotConfigured));
        }
        // open, no key: not configured
        let e = file(&store, None, seller(T0), &draft()).await;
        assert_eq!(e, Err(FileEvidenceError::NotConfigured));
        assert!(stripe.calls.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn given_a_compliance_case_with_the_fee_acknowledged_then_the_networks_fee_is_sent() {
        let mut d = dispute("needs_response", "noncompliant", Some(DUE));
        d.card_brand = Some(Reg::new(0, T0, "mastercard".into()));
        let store = store_of(d).await;
        let stripe = Scripted::new(vec![Ok(())]);
        let request = EvidenceRequest {
            fee_acknowledged: true,
            ..submit()
        };
        file(&store, Some(&stripe), seller(T0), &request)
            .await
            .unwrap();
        assert_eq!(
            stripe.calls.lock().unwrap()[0].compliance_fee,
            Some(ComplianceNetwork::Mastercard)
        );
    }

    #[tokio::test]
    async fn given_an_inquiry_submitted_that_escalates_then_the_chargeback_is_open_afresh() {
        // GIVEN an inquiry, answered (submitted) here
        let store = store_of(dispute("warning_needs_response", "general", Some(DUE))).await;
        let stripe = Scripted::new(vec![Ok(()), Ok(())]);
        file(&store, Some(&stripe), seller(T0 + 10), &submit())
            .await
            .unwrap();
        assert_eq!(
            file(&store, Some(&stripe), seller(T0 + 11), &submit()).await,
            Err(FileEvidenceError::AlreadySubmitted)
        );
        // WHEN it escalates to a chargeback on the same dispute id, with a new deadline
        let mut escalated = Facts::default();
        escalated.disputes.insert(
            "dp_1".into(),
            DisputeFact {
                state: Reg::new(
                    dispute_rank("needs_response"),
                    T0 + 100,
                    "needs_response".into(),
                ),
                evidence_due_by: Some(Reg::new(0, T0 + 100, DUE + 86_400)),
                ..Default::default()
            },
        );
        fold_into_order(&store, "acct_A", "pi_1", &escalated, RetryPolicy::default())
            .await
            .unwrap();
        // THEN the order shows the chargeback with no evidence yet, and it can be submitted
        let view = crate::OrderView::of(&order(&store).await);
        assert_eq!(view.disputes[0].evidence, None);
        file(&store, Some(&stripe), seller(T0 + 200), &submit())
            .await
            .unwrap();
        let calls = stripe.calls.lock().unwrap().clone();
        assert_eq!(calls[0].phase, DisputePhase::Inquiry);
        assert_eq!(calls[1].phase, DisputePhase::Chargeback);
        // AND the inquiry's submission stays in the timeline
        let r = order(&store).await;
        let submitted = r
            .facts
            .timeline
            .iter()
            .filter(|t| t.kind == "evidence_submitted")
            .count();
        assert_eq!(submitted, 2);
    }

    #[tokio::test]
    async fn given_a_live_claim_then_nobody_else_submits_and_an_expired_one_is_taken_over_as_it_was(
    ) {
        // GIVEN a submission claimed (by a process that then crashed before recording)
        let store = store_with("needs_response").await;
        let (_, first) = claim(&store, seller(T0), Some("mine")).await.unwrap();
        // WHEN another submitter comes within the lease
        let stripe = Scripted::new(vec![Ok(())]);
        let auto = Actor {
            by: Submitter::Auto,
            ..seller(T0 + 10)
        };
        // THEN refused as in flight, Stripe not called
        assert_eq!(
            file(&store, Some(&stripe), auto, &submit()).await,
            Err(FileEvidenceError::AlreadySubmitted)
        );
        assert!(stripe.calls.lock().unwrap().is_empty());
        // WHEN it comes after the lease
        let later = Actor {
            now: T0 + CLAIM_LEASE_SECS + 1,
            ..auto
        };
        file(&store, Some(&stripe), later, &submit()).await.unwrap();
        // THEN it sent the claimed attempt: same generation, built as of the claim, with the
        // statement the claim saved
        let calls = stripe.calls.lock().unwrap().clone();
        assert_eq!(calls[0].generations.update, first.generation);
        assert!(calls[0].fields[&EvidenceField::UncategorizedText].starts_with("mine"));
        let e = &order(&store).await.facts.dispute_evidence["dp_1"];
        assert_eq!(e.submitted_by, Some(Submitter::Auto));
    }

    #[tokio::test]
    async fn given_an_accept_then_closed_in_stripe_recorded_and_no_submission_after() {
        let store = store_with("needs_response").await;
        let stripe = Scripted::new(vec![Ok(())]);
        // WHEN the seller accepts
        let r = accept(&store, Some(&stripe), seller(T0 + 5)).await.unwrap();
        // THEN Stripe was asked to close it, and the order records when
        assert_eq!(stripe.closes.lock().unwrap().len(), 1);
        let view = crate::OrderView::of(&r);
        assert_eq!(
            view.disputes[0]
                .evidence
                .as_ref()
                .unwrap()
                .accepted_at
                .as_deref(),
            Some("2026-05-08T08:00:05Z")
        );
        assert!(r
            .facts
            .timeline
            .iter()
            .any(|t| t.kind == "dispute_accepted"));
        // AND nothing more can be filed or accepted
        assert!(matches!(
            file(&store, Some(&stripe), seller(T0 + 6), &submit()).await,
            Err(FileEvidenceError::Closed { .. })
        ));
        assert!(matches!(
            accept(&store, Some(&stripe), seller(T0 + 7)).await,
            Err(FileEvidenceError::Closed { .. })
        ));
    }

    #[tokio::test]
    async fn given_stripe_refuses_the_close_then_not_accepted_and_the_error_kept() {
        let store = store_with("needs_response").await;
        let stripe = Scripted::new(vec![Err(FilingFailure {
            call: FilingCall::Update,
            error: FilingError::Refused {
                status: 400,
                message: "nope".into(),
            },
        })]);
        let r = accept(&store, Some(&stripe), seller(T0)).await;
        assert!(matches!(r, Err(FileEvidenceError::Stripe(_))));
        let e = &order(&store).await.facts.dispute_evidence["dp_1"];
        assert_eq!(e.accepted_at, None);
        assert_eq!(e.last_error(), Some("Stripe refused (400): nope"));
    }

    #[test]
    fn given_evidence_facts_when_merged_then_in_any_order_the_same() {
        let a = EvidenceFact {
            saved_at: Some(5),
            upload_generation: 2,
            last_error: Some(Reg::new(0, 5, "down".into())),
            ..EvidenceFact::default()
        };
        let b = EvidenceFact {
            saved_at: Some(9),
            submitted_at: Some(9),
            submitted_by: Some(Submitter::Auto),
            update_generation: 3,
            ..EvidenceFact::default()
        };
        let c = EvidenceFact {
            saved_at: Some(12),
            submitted_at: Some(12),
            submitted_by: Some(Submitter::Seller),
            upload_generation: 1,
            update_generation: 1,
            last_error: Some(Reg::new(0, 12, String::new())),
            ..EvidenceFact::default()
        };
        let fold = |xs: &[&EvidenceFact]| {
            let mut f = Facts::default();
            for x in xs {
                let mut o = Facts::default();
                o.dispute_evidence.insert("dp".into(), (*x).clone());
                f.merge(&o);
            }
            f
        };
        let one = fold(&[&a, &b, &c]);
        assert_eq!(one, fold(&[&c, &a, &b, &b]));
        assert_eq!(one, fold(&[&b, &c, &a]));
        let e = &one.dispute_evidence["dp"];
        assert_eq!(e.saved_at, Some(12));
        assert_eq!(e.submitted_at, Some(9));
        assert_eq!(e.submitted_by, Some(Submitter::Auto));
        assert_eq!((e.upload_generation, e.update_generation), (2, 3));
        assert_eq!(e.last_error(), None);
    }
}
