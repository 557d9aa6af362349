//! The Stripe adapter against the fake Stripe API: the receipt uploaded and the dispute updated
//! on the seller's account, by Stripe's field names, idempotent across retries, and every
//! failure Stripe can answer. The receipt PDF read back with `pdftotext` (poppler-utils).

use std::collections::BTreeMap;
use std::time::Duration;

use leenkies_adapters::stripe::receipt_pdf;
use leenkies_adapters::stripe::{StripeConfig, StripeDisputes, StripeRetry};
use leenkies_domain::evidence::build::ReceiptDocument;
use leenkies_domain::evidence::filing::{
    DisputeFiler, FilingCall, FilingError, FilingFailure, FilingRequest, KeyGenerations,
};
use leenkies_domain::evidence::EvidenceField;
use leenkies_domain::order::facts::DisputePhase;
use leenkies_integration_tests::fake_stripe::{FakeStripe, FAKE_STRIPE_KEY};

const SELLER: &str = "acct_1QHx4R8cKdV3nWpT";

fn filer(fake: &FakeStripe, key: &str) -> StripeDisputes {
    StripeDisputes::new(StripeConfig {
        api_key: key.into(),
        api_base: fake.base.clone(),
        files_base: fake.base.clone(),
    })
    .unwrap()
    .with_retry(StripeRetry {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    })
}

fn receipt() -> ReceiptDocument {
    ReceiptDocument {
        title: "Order confirmation".into(),
        lines: vec![
            ("Order id".into(), "pi_3QMpFn8cKdV3nWpT2DksRg19".into()),
            ("Store".into(), "Lee Presets (Café)".into()),
            ("Product".into(), "Cinematic LUT Pack".into()),
            ("Amount".into(), "25.00 USD".into()),
            ("Purchase date".into(), "2026-05-08T08:00:00Z".into()),
            ("Recipient".into(), "jordan.lee@example.com".into()),
            ("Subject".into(), "Your download: Cinematic LUT Pack".into()),
            ("Time sent".into(), "2026-05-08T08:00:05Z".into()),
            (
                "Message id".into(),
                "0100018f-msg-0001@email.amazonses.com".into(),
            ),
        ],
    }
}

fn request(seller: &str, submit: bool) -> FilingRequest {
    let mut fields = BTreeMap::new();
    fields.insert(
        EvidenceField::CustomerEmailAddress,
        "jordan.lee@example.com".to_owned(),
    );
    fields.insert(EvidenceField::ServiceDate, "2026-05-08".to_owned());
    fields.insert(
        EvidenceField::UncategorizedText,
        "Order pi_3QMp…".to_owned(),
    );
    FilingRequest {
        seller_id: seller.into(),
        dispute_id: "du_1".into(),
        phase: DisputePhase::Chargeback,
        fields,
        files: BTreeMap::from([(EvidenceField::Receipt, receipt())]),
        compliance_fee: None,
        ce3: None,
        submit,
        generations: KeyGenerations::default(),
    }
}

#[tokio::test]
async fn given_a_draft_then_a_submit_then_one_file_and_one_submission_on_the_sellers_account() {
    // GIVEN a dispute on the seller's connected account
    let fake = FakeStripe::start(&[SELLER]).await;
    fake.add_dispute(SELLER, "du_1", "needs_response");
    let stripe = filer(&fake, FAKE_STRIPE_KEY);
    // WHEN a draft is saved, then submitted
    let sent = stripe.file(&request(SELLER, false)).await.unwrap();
    let dispute = fake.dispute(SELLER, "du_1").unwrap();
    assert_eq!(dispute.status, "needs_response");
    assert_eq!(dispute.submission_count, 0);
    stripe.file(&request(SELLER, true)).await.unwrap();
    // THEN every field arrived under Stripe's name, the receipt names the file uploaded there
    let dispute = fake.dispute(SELLER, "du_1").unwrap();
    assert_eq!(dispute.status, "under_review");
    assert_eq!(dispute.submission_count, 1);
    assert_eq!(
        dispute.evidence["customer_email_address"],
        "jordan.lee@example.com"
    );
    assert_eq!(dispute.evidence["receipt"], sent[&EvidenceField::Receipt]);
    // one file (the same receipt both times: its key replayed it), on the seller's account
    let files = fake.files();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].account, SELLER);
    assert_eq!(files[0].purpose, "dispute_evidence");
    assert!(files[0].bytes.starts_with(b"%PDF-"));
    // every request carried the seller's account and a key
    for r in fake.seen() {
        assert_eq!(r.account.as_deref(), Some(SELLER), "{r:?}");
        assert!(r.idempotency_key.is_some(), "{r:?}");
    }
}

#[tokio::test]
async fn given_the_platform_seller_then_no_stripe_account_header() {
    let fake = FakeStripe::start(&[]).await;
    fake.add_dispute("platform", "du_1", "warning_needs_response");
    let stripe = filer(&fake, FAKE_STRIPE_KEY);
    stripe.file(&request("platform", true)).await.unwrap();
    assert_eq!(
        fake.dispute("platform", "du_1").unwrap().status,
        "warning_under_review"
    );
    assert!(fake.seen().iter().all(|r| r.account.is_none()));
}

#[tokio::test]
async fn given_rate_limiting_then_retried_with_the_same_key_and_filed_once() {
    // GIVEN Stripe answers 429 twice
    let fake = FakeStripe::start(&[SELLER]).await;
    fake.add_dispute(SELLER, "du_1", "needs_response");
    fake.fail_next(429, 2);
    let stripe = filer(&fake, FAKE_STRIPE_KEY);
    // WHEN filed
    stripe.file(&request(SELLER, true)).await.unwrap();
    // THEN the upload was tried three times with one key, then the update once
    let seen = fake.seen();
    let statuses: Vec<u16> = seen.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 429, 200, 200]);
    assert_eq!(seen[0].idempotency_key, seen[2].idempotency_key);
    assert_ne!(seen[2].idempotency_key, seen[3].idempotency_key);
    assert_eq!(fake.files().len(), 1);
    assert_eq!(fake.dispute(SELLER, "du_1").unwrap().submission_count, 1);
}

#[tokio::test]
async fn given_stripe_down_then_unavailable_and_the_same_request_later_files_once() {
    // GIVEN the dispute update fails with 500s (Stripe stores a 500 under its key)
    let fake = FakeStripe::start(&[SELLER]).await;
    fake.add_dispute(SELLER, "du_1", "needs_response");
    let stripe = filer(&fake, FAKE_STRIPE_KEY);
    // a draft first: the receipt is uploaded and the dispute staged
    stripe.file(&request(SELLER, false)).await.unwrap();
    fake.fail_next(500, 1);
    // WHEN submitted during the outage
    let err = stripe.file(&request(SELLER, true)).await.unwrap_err();
    // THEN unavailable with Stripe's message, the update named as the call that failed,
    // nothing submitted
    assert_eq!(
        err,
        FilingFailure {
            call: FilingCall::Update,
            error: FilingError::Unavailable {
                message: "An unknown error occurred".into()
            }
        }
    );
    assert_eq!(fake.dispute(SELLER, "du_1").unwrap().submission_count, 0);
    let seen = fake.seen();
    let failed: Vec<_> = seen.iter().filter(|r| r.status == 500).collect();
    assert_eq!(failed.len(), 3, "{seen:?}");
    assert!(
        failed[1].replayed && failed[2].replayed,
        "Stripe replays the stored 500"
    );
    // WHEN the same request comes again after the outage, with the update's generation moved on
    // (as the use case records it on the order)
    let again = FilingRequest {
        generations: KeyGenerations {
            upload: 0,
            update: 1,
        },
        ..request(SELLER, true)
    };
    stripe.file(&again).await.unwrap();
    // THEN it is filed once, under a new key, with no second file
    let dispute = fake.dispute(SELLER, "du_1").unwrap();
    assert_eq!(dispute.submission_count, 1);
    assert_eq!(fake.files().len(), 1);
    let last = fake.seen().last().cloned().unwrap();
    assert_eq!(last.status, 200);
    assert_ne!(last.idempotency_key, failed[0].idempotency_key);
}

#[tokio::test]
async fn given_a_failure_then_a_new_process_derives_the_same_keys_from_the_orders_generations() {
    // GIVEN a process whose upload failed for good (a stored 500, replayed to every retry)
    let fake = FakeStripe::start(&[SELLER]).await;
    fake.add_dispute(SELLER, "du_1", "needs_response");
    fake.fail_next(500, 1);
    let err = filer(&fake, FAKE_STRIPE_KEY)
        .file(&request(SELLER, false))
        .await
        .unwrap_err();
    assert_eq!(err.call, FilingCall::Upload);
    let failed_key = fake.seen()[0].idempotency_key.clone();
    // WHEN a new process (a fresh adapter: nothing in memory) sends the same request with the
    // generations the order recorded after that failure
    let cold = filer(&fake, FAKE_STRIPE_KEY);
    let next = FilingRequest {
        generations: KeyGenerations {
            upload: 1,
            update: 0,
        },
        ..request(SELLER, false)
    };
    cold.file(&next).await.unwrap();
    // THEN its first attempt already uses a new key: no replay of the stored failure, one file
    let seen = fake.seen();
    let retried = &seen[3];
    assert_eq!((retried.status, retried.replayed), (200, false), "{seen:?}");
    assert_ne!(retried.idempotency_key, failed_key);
    assert_eq!(fake.files().len(), 1);
    // and yet another process with the same generations derives the same keys: a replay
    filer(&fake, FAKE_STRIPE_KEY).file(&next).await.unwrap();
    let seen = fake.seen();
    let (upload, update) = (&seen[seen.len() - 2], &seen[seen.len() - 1]);
    assert!(upload.replayed && update.replayed, "{seen:?}");
    assert_eq!(upload.idempotency_key, retried.idempotency_key);
    assert_eq!(fake.files().len(), 1);
    assert_eq!(fake.dispute(SELLER, "du_1").unwrap().updates, 1);
}

#[tokio::test]
async fn given_stripe_refuses_then_refused_with_stripes_message() {
    // GIVEN a closed dispute, an unknown dispute, another account's dispute and a bad key
    let fake = FakeStripe::start(&[SELLER, "acct_other"]).await;
    fake.add_dispute(SELLER, "du_1", "lost");
    fake.add_dispute("acct_other", "du_2", "needs_response");
    let stripe = filer(&fake, FAKE_STRIPE_KEY);
    let closed = stripe.file(&request(SELLER, true)).await.unwrap_err();
    assert_eq!(closed.call, FilingCall::Update);
    assert_eq!(
        closed.error,
        FilingError::Refused {
            status: 400,
            message: "This dispute is already closed.".into()
        }
    );
    let other = stripe
        .file(&FilingRequest {
            dispute_id: "du_2".into(),
            ..request(SELLER, true)
        })
        .await
        .unwrap_err();
    assert_eq!(
        other.error,
        FilingError::Refused {
            status: 404,
            message: "No such dispute: 'du_2'".into()
        }
    );
    let bad_key = filer(&fake, "sk_test_wrong")
        .file(&request(SELLER, true))
        .await
        .unwrap_err();
    assert!(
        matches!(
            bad_key,
            FilingFailure {
                call: FilingCall::Upload,
                error: FilingError::Refused { status: 401, .. }
            }
        ),
        "{bad_key:?}"
    );
    assert_eq!(fake.dispute("acct_other", "du_2").unwrap().updates, 0);
}

#[test]
fn given_a_receipt_when_rendered_then_deterministic_small_and_pdftotext_reads_it() {
    // GIVEN the order confirmation
    let doc = receipt();
    // WHEN rendered twice
    let pdf = receipt_pdf::render(&doc);
    assert_eq!(pdf, receipt_pdf::render(&doc), "same order, same bytes");
    assert!(
        pdf.len() < 20_000,
        "{} bytes; Stripe takes up to 5 MB",
        pdf.len()
    );
    // THEN pdftotext reads every line back
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("receipt.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", path.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (apt-get install -y poppler-utils)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Order confirmation"), "{text}");
    for (label, value) in &doc.lines {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{label}:")))
            .unwrap_or_else(|| panic!("{label} missing: {text}"));
        assert!(line.contains(value.as_str()), "{label}: {line}");
    }
}

#[test]
fn given_a_receipt_longer_than_a_page_then_every_line_is_there() {
    let mut doc = receipt();
    for i in 0..120 {
        doc.lines.push((
            format!("Line {i}"),
            format!("value {i} {}", "w ".repeat(60)),
        ));
    }
    let pdf = receipt_pdf::render(&doc);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args([path.to_str().unwrap(), "-"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Line 0:") && text.contains("Line 119:"),
        "{text}"
    );
    assert!(text.matches('\u{c}').count() >= 2, "several pages");
}
