//! Filing evidence to a dispute: the port to Stripe and the use case behind
//! `POST /orders/{order_id}/disputes/{dispute_id}/evidence` (contract section 9).
//!
//! The use case checks in the contract's order (statement, then ownership, then the dispute's
//! state, then whether Stripe is configured), builds the evidence, has the port file it, and only
//! then records `saved_at` / `submitted_at` and a timeline entry on the order. A refusal or an
//! outage of Stripe records nothing; the port's idempotency keys make a repeated request safe.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::build::{build, BuildError, EvidenceInput, ReceiptDocument};
use super::{CustomerDetails, DeliveryReceipt, EvidenceField, MAX_STATEMENT_CHARS};
use crate::apply::{fold_into_order, RetryPolicy};
use crate::order::facts::{EvidenceFact, Facts, TimelineEntry};
use crate::ports::{OrderStore, StoreError};
use crate::OrderRecord;

/// What the port sends to Stripe for one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilingRequest {
    /// The connected account the dispute lives on (`platform`: the platform's own).
    pub seller_id: String,
    pub dispute_id: String,
    /// Text fields by Stripe's names; the port adds `receipt` after uploading the document.
    pub fields: BTreeMap<EvidenceField, String>,
    pub receipt: ReceiptDocument,
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

/// The two calls of a filing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilingCall {
    /// The receipt's upload (`POST /v1/files`).
    Upload,
    /// The dispute's update (`POST /v1/disputes/{id}`).
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
    #[error("Stripe refused the evidence ({status}): {message}")]
    Refused { status: u16, message: String },
    /// Still 429, 5xx or unreachable after every retry.
    #[error("Stripe is unavailable: {message}")]
    Unavailable { message: String },
}

/// Stripe's dispute API, as the seller.
#[async_trait]
pub trait DisputeFiler: Send + Sync {
    /// Uploads the receipt and updates the dispute; returns every field sent, `receipt` (the file
    /// id) included, or the call that failed for good.
    async fn file(
        &self,
        request: &FilingRequest,
    ) -> Result<BTreeMap<EvidenceField, String>, FilingFailure>;
}

/// The seller's request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceRequest {
    pub submit: bool,
    pub statement: Option<String>,
}

/// What was accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filed {
    pub dispute_id: String,
    pub submitted: bool,
    pub fields: BTreeMap<EvidenceField, String>,
}

/// Every way the use case can refuse, in the contract's order of checks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileEvidenceError {
    #[error("the statement has {chars} characters; at most {max} are accepted")]
    StatementTooLong { chars: usize, max: usize },
    /// The order or the dispute is not this seller's (or does not exist).
    #[error("not found")]
    NotFound,
    /// `won`, `lost`, `prevented`, `warning_closed`.
    #[error("the dispute is closed ({status})")]
    Closed { status: String },
    /// Submitted here, or in Stripe's dashboard (`under_review`, `warning_under_review`).
    #[error("evidence for this dispute was already submitted")]
    AlreadySubmitted,
    #[error("no Stripe API key is configured")]
    NotConfigured,
    #[error(transparent)]
    Stripe(#[from] FilingError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the order says about whether the dispute can still take evidence.
fn check_open(record: &OrderRecord, dispute_id: &str) -> Result<(), FileEvidenceError> {
    let dispute = record
        .facts
        .disputes
        .get(dispute_id)
        .ok_or(FileEvidenceError::NotFound)?;
    let status = dispute.status();
    if matches!(status, "won" | "lost" | "prevented" | "warning_closed") {
        return Err(FileEvidenceError::Closed {
            status: status.to_owned(),
        });
    }
    let submitted_here = record
        .facts
        .dispute_evidence
        .get(dispute_id)
        .is_some_and(|e| e.submitted_at.is_some());
    if submitted_here || matches!(status, "under_review" | "warning_under_review") {
        return Err(FileEvidenceError::AlreadySubmitted);
    }
    Ok(())
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

/// Builds and files evidence for `dispute_id` of the seller's `order_id`, then records it.
pub async fn file_evidence(
    store: &dyn OrderStore,
    filer: Option<&dyn DisputeFiler>,
    seller_id: &str,
    order_id: &str,
    dispute_id: &str,
    request: &EvidenceRequest,
    now: i64,
) -> Result<Filed, FileEvidenceError> {
    if let Some(s) = request.statement.as_deref() {
        let chars = s.trim().chars().count();
        if chars > MAX_STATEMENT_CHARS {
            return Err(FileEvidenceError::StatementTooLong {
                chars,
                max: MAX_STATEMENT_CHARS,
            });
        }
    }
    let record = store
        .get_order(seller_id, order_id)
        .await?
        .ok_or(FileEvidenceError::NotFound)?;
    check_open(&record, dispute_id)?;
    let filer = filer.ok_or(FileEvidenceError::NotConfigured)?;
    let downloads = store.list_downloads(seller_id, order_id).await?;
    let delivery = delivery_receipt(&record);
    let customer = customer_details(&record);
    let built = build(&EvidenceInput {
        record: &record,
        dispute_id,
        downloads: &downloads,
        delivery: delivery.as_ref(),
        customer: &customer,
        store_name: record.facts.store_name(),
        statement: request.statement.as_deref(),
    })
    .map_err(|e| match e {
        BuildError::StatementTooLong { chars, max } => {
            FileEvidenceError::StatementTooLong { chars, max }
        }
    })?;
    let known = record.facts.dispute_evidence.get(dispute_id);
    let generations = KeyGenerations {
        upload: known.map_or(0, |e| e.upload_generation),
        update: known.map_or(0, |e| e.update_generation),
    };
    let filed = filer
        .file(&FilingRequest {
            seller_id: seller_id.to_owned(),
            dispute_id: dispute_id.to_owned(),
            fields: built.fields,
            receipt: built.receipt,
            submit: request.submit,
            generations,
        })
        .await;
    let fields = match filed {
        Ok(fields) => fields,
        Err(failure) => {
            // Best effort: if the store fails too, the next request replays the stored failure
            // once more and moves the generation then; Stripe's answer is the one to give.
            if let Err(e) = record_failure(
                store,
                seller_id,
                order_id,
                dispute_id,
                failure.call,
                generations,
            )
            .await
            {
                tracing::warn!(
                    use_case = "file_evidence",
                    error = %e,
                    "could not record the idempotency generation"
                );
            }
            return Err(FileEvidenceError::Stripe(failure.error));
        }
    };
    record_filed(store, seller_id, order_id, dispute_id, request.submit, now).await?;
    Ok(Filed {
        dispute_id: dispute_id.to_owned(),
        submitted: request.submit,
        fields,
    })
}

/// Moves the failed call's key generation on (the greatest wins: two failures at once move it
/// once, and both next requests share the new key). No timestamp, no timeline entry: nothing was
/// filed.
async fn record_failure(
    store: &dyn OrderStore,
    seller_id: &str,
    order_id: &str,
    dispute_id: &str,
    call: FilingCall,
    current: KeyGenerations,
) -> Result<(), StoreError> {
    let mut fact = EvidenceFact::default();
    match call {
        FilingCall::Upload => fact.upload_generation = current.upload + 1,
        FilingCall::Update => fact.update_generation = current.update + 1,
    }
    let mut facts = Facts::default();
    facts.dispute_evidence.insert(dispute_id.to_owned(), fact);
    fold_into_order(store, seller_id, order_id, &facts, RetryPolicy::default()).await?;
    Ok(())
}

/// Records an accepted call on the order, merged like every other fact.
async fn record_filed(
    store: &dyn OrderStore,
    seller_id: &str,
    order_id: &str,
    dispute_id: &str,
    submitted: bool,
    now: i64,
) -> Result<(), StoreError> {
    let mut facts = Facts::default();
    facts.dispute_evidence.insert(
        dispute_id.to_owned(),
        EvidenceFact {
            saved_at: Some(now),
            submitted_at: submitted.then_some(now),
            ..EvidenceFact::default()
        },
    );
    let (kind, detail) = if submitted {
        (
            "evidence_submitted",
            format!("evidence for dispute {dispute_id} submitted to Stripe"),
        )
    } else {
        (
            "evidence_saved",
            format!("evidence draft for dispute {dispute_id} saved to Stripe"),
        )
    };
    facts.timeline.insert(TimelineEntry {
        at: now,
        kind: kind.into(),
        detail,
    });
    fold_into_order(store, seller_id, order_id, &facts, RetryPolicy::default()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory_store::MemoryStore;
    use crate::order::facts::{dispute_rank, DisputeFact, Reg};
    use std::sync::Mutex;

    const T0: i64 = 1_778_227_200;

    /// A port that answers what it is told and remembers what it was asked.
    struct Scripted {
        answers: Mutex<Vec<Result<(), FilingFailure>>>,
        calls: Mutex<Vec<FilingRequest>>,
    }

    impl Scripted {
        fn new(answers: Vec<Result<(), FilingFailure>>) -> Self {
            Self {
                answers: Mutex::new(answers),
                calls: Mutex::new(Vec::new()),
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
            fields.insert(EvidenceField::Receipt, "file_1".into());
            Ok(fields)
        }
    }

    async fn store_with(status: &str) -> MemoryStore {
        let store = MemoryStore::new();
        let mut r = OrderRecord::new("acct_A", "pi_1");
        r.facts.pi_created = Some(T0);
        r.facts.disputes.insert(
            "dp_1".into(),
            DisputeFact {
                history: Default::default(),
                state: Reg::new(dispute_rank(status), T0, status.into()),
                reason: Some(Reg::new(0, T0, "fraudulent".into())),
                amount: None,
                evidence_due_by: None,
                created: Some(T0),
                funds_withdrawn: false,
                funds_reinstated: false,
            },
        );
        store.put_order(&r, None, &[]).await.unwrap();
        store
    }

    fn draft() -> EvidenceRequest {
        EvidenceRequest {
            submit: false,
            statement: Some("Delivered as promised.".into()),
        }
    }

    #[tokio::test]
    async fn given_a_draft_then_a_submit_then_both_recorded_and_a_third_refused() {
        let store = store_with("needs_response").await;
        let stripe = Scripted::new(vec![Ok(()), Ok(())]);
        // WHEN a draft is saved
        let filed = file_evidence(
            &store,
            Some(&stripe),
            "acct_A",
            "pi_1",
            "dp_1",
            &draft(),
            T0 + 10,
        )
        .await
        .unwrap();
        assert!(!filed.submitted);
        assert_eq!(filed.fields[&EvidenceField::Receipt], "file_1");
        let r = store.get_order("acct_A", "pi_1").await.unwrap().unwrap();
        assert_eq!(
            r.facts.dispute_evidence["dp_1"],
            EvidenceFact {
                saved_at: Some(T0 + 10),
                submitted_at: None,
                ..EvidenceFact::default()
            }
        );
        // WHEN it is submitted
        let submit = EvidenceRequest {
            submit: true,
            statement: None,
        };
        file_evidence(
            &store,
            Some(&stripe),
            "acct_A",
            "pi_1",
            "dp_1",
            &submit,
            T0 + 20,
        )
        .await
        .unwrap();
        let r = store.get_order("acct_A", "pi_1").await.unwrap().unwrap();
        assert_eq!(
            r.facts.dispute_evidence["dp_1"],
            EvidenceFact {
                saved_at: Some(T0 + 20),
                submitted_at: Some(T0 + 20),
                ..EvidenceFact::default()
            }
        );
        let kinds: Vec<&str> = r.facts.timeline.iter().map(|t| t.kind.as_str()).collect();
        assert_eq!(kinds, ["evidence_saved", "evidence_submitted"]);
        // THEN a second submission is refused without calling Stripe
        let again = file_evidence(
            &store,
            Some(&stripe),
            "acct_A",
            "pi_1",
            "dp_1",
            &submit,
            T0 + 30,
        )
        .await;
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
    async fn given_stripe_refuses_then_nothing_recorded() {
        // GIVEN an open dispute, and Stripe down for the update
        let store = store_with("needs_response").await;
        let before = store.get_order("acct_A", "pi_1").await.unwrap().unwrap();
        let stripe = Scripted::new(vec![down(FilingCall::Update)]);
        // WHEN evidence is filed
        let r = file_evidence(
            &store,
            Some(&stripe),
            "acct_A",
            "pi_1",
            "dp_1",
            &draft(),
            T0,
        )
        .await;
        // THEN Stripe's failure, and nothing recorded as sent: the order shows what it showed,
        // no timeline entry; only the update's key generation moved on
        assert!(matches!(
            r,
            Err(FileEvidenceError::Stripe(FilingError::Unavailable { .. }))
        ));
        let after = store.get_order("acct_A", "pi_1").await.unwrap().unwrap();
        assert_eq!(
            serde_json::to_value(crate::OrderView::of(&after)).unwrap(),
            serde_json::to_value(crate::OrderView::of(&before)).unwrap()
        );
        assert_eq!(after.facts.timeline, before.facts.timeline);
        assert_eq!(
            after.facts.dispute_evidence["dp_1"],
            EvidenceFact {
                update_generation: 1,
                ..EvidenceFact::default()
            }
        );
    }

    #[tokio::test]
    async fn given_failures_then_each_calls_generation_moves_on_and_a_new_process_reads_it() {
        // GIVEN an open dispute; the upload fails for good, then (next request) the update
        let store = store_with("needs_response").await;
        let first = Scripted::new(vec![down(FilingCall::Upload), down(FilingCall::Update)]);
        for _ in 0..2 {
            let r =
                file_evidence(&store, Some(&first), "acct_A", "pi_1", "dp_1", &draft(), T0).await;
            assert!(r.is_err());
        }
        // WHEN a new process (another port, nothing in memory) files the same request
        let fresh = Scripted::new(vec![Ok(())]);
        file_evidence(
            &store,
            Some(&fresh),
            "acct_A",
            "pi_1",
            "dp_1",
            &draft(),
            T0 + 5,
        )
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
        let r = store.get_order("acct_A", "pi_1").await.unwrap().unwrap();
        assert_eq!(r.facts.dispute_evidence["dp_1"].saved_at, Some(T0 + 5));
    }

    #[tokio::test]
    async fn given_the_buyer_and_store_the_order_knows_then_stripe_gets_them_by_its_names() {
        // GIVEN an order whose facts hold the purchase IP, the billing name and address, and
        // the storefront's store name
        let store = MemoryStore::new();
        let mut r = store_with("needs_response")
            .await
            .get_order("acct_A", "pi_1")
            .await
            .unwrap()
            .unwrap();
        r.facts.customer_ip = Some(Reg::new(2, T0, "203.0.113.9".into()));
        r.facts.customer_name = Some(Reg::new(2, T0, "Jordan Lee".into()));
        r.facts.billing_address = Some(Reg::new(2, T0, "CA 94107, US".into()));
        r.facts.store_name = Some(Reg::new(2, T0, "Lee Presets".into()));
        r.facts.product_name = Some(Reg::new(2, T0, "Cinematic LUT Pack".into()));
        store.put_order(&r, None, &[]).await.unwrap();
        let stripe = Scripted::new(vec![Ok(())]);
        // WHEN evidence is filed
        file_evidence(
            &store,
            Some(&stripe),
            "acct_A",
            "pi_1",
            "dp_1",
            &draft(),
            T0 + 10,
        )
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
        assert!(calls[0]
            .receipt
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
        };
        // statement first, even for an unknown order
        let store = store_with("needs_response").await;
        let e = file_evidence(
            &store,
            Some(&stripe),
            "acct_A",
            "pi_none",
            "dp_1",
            &long,
            T0,
        )
        .await;
        assert_eq!(
            e,
            Err(FileEvidenceError::StatementTooLong {
                chars: 20_001,
                max: 20_000
            })
        );
        // another seller's order, an unknown dispute: not found
        for (seller, order, dispute) in [("acct_B", "pi_1", "dp_1"), ("acct_A", "pi_1", "dp_2")] {
            let e =
                file_evidence(&store, Some(&stripe), seller, order, dispute, &draft(), T0).await;
            assert_eq!(e, Err(FileEvidenceError::NotFound));
        }
        // closed, or under review: conflict, even with no Stripe configured
        for status in ["won", "lost", "prevented", "warning_closed"] {
            let store = store_with(status).await;
            let e = file_evidence(&store, None, "acct_A", "pi_1", "dp_1", &draft(), T0).await;
            assert!(
                matches!(e, Err(FileEvidenceError::Closed { .. })),
                "{status}"
            );
        }
        for status in ["under_review", "warning_under_review"] {
            let store = store_with(status).await;
            let e = file_evidence(&store, None, "acct_A", "pi_1", "dp_1", &draft(), T0).await;
            assert_eq!(e, Err(FileEvidenceError::AlreadySubmitted), "{status}");
        }
        // open, no key: not configured
        let e = file_evidence(&store, None, "acct_A", "pi_1", "dp_1", &draft(), T0).await;
        assert_eq!(e, Err(FileEvidenceError::NotConfigured));
        assert!(stripe.calls.lock().unwrap().is_empty());
    }

    #[test]
    fn given_evidence_facts_when_merged_then_in_any_order_the_same() {
        let a = EvidenceFact {
            saved_at: Some(5),
            submitted_at: None,
            upload_generation: 2,
            update_generation: 0,
        };
        let b = EvidenceFact {
            saved_at: Some(9),
            submitted_at: Some(9),
            upload_generation: 0,
            update_generation: 3,
        };
        let c = EvidenceFact {
            saved_at: Some(12),
            submitted_at: Some(12),
            upload_generation: 1,
            update_generation: 1,
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
        assert_eq!(
            one.dispute_evidence["dp"],
            EvidenceFact {
                saved_at: Some(12),
                submitted_at: Some(9),
                upload_generation: 2,
                update_generation: 3,
            }
        );
    }
}
