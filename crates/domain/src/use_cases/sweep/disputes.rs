//! The sweep's dispute job (contract section 9.3): the evidence drafted as soon as a dispute is
//! open, and submitted at `evidence_due_by` minus the seller's lead time when their setting
//! allows it, never after the deadline, never for a compliance case, at most once.
//!
//! - **Due when**: an open dispute (status `needs_response` / `warning_needs_response`, a
//!   deadline, not accepted, this phase not submitted, not a compliance case) is due at once
//!   until its draft is saved, then from [`MAX_LEAD_SECS`] before its deadline (no setting can
//!   submit earlier), every sweep until it is submitted, accepted, closed or past its deadline.
//!   A dispute found past its deadline is marked so (`past_due`) and leaves the index.
//! - **The plan** ([`plan`]): `auto_submit_at` = deadline − `dispute_auto_submit_hours` (at once
//!   if that has passed) when the setting is `always`, or `strong_evidence` and the evidence is
//!   strong ([`strong_evidence`]); else no time and the reason why ([`NoAutoSubmit`]). Planned
//!   each time the sweep looks, so it follows a settings change or a first download within one
//!   sweep period, and stored on the dispute only when it changed.
//! - **At most once**: the submission goes through the same use case as the seller's click
//!   ([`crate::evidence::filing::file_evidence`]): claimed on the order before Stripe is called,
//!   with the claim's key generation; a live claim of anyone else is left alone.

use async_trait::async_trait;

use super::{SweepContext, SweepJob, SweepReport};
use crate::apply::{fold_into_order, RetryPolicy};
use crate::evidence::filing::{
    answerable, file_evidence, Actor, DisputeFiler, EvidenceRequest, FileEvidenceError,
};
use crate::order::facts::{
    AutoPlan, DisputeFact, DisputePhase, EvidenceFact, Facts, Reg, Submitter,
};
use crate::order::OrderRecord;
use crate::ports::{DownloadEntry, StoreError};
use crate::settings::{AutoSubmit, SellerSettings, MAX_AUTO_SUBMIT_HOURS};

/// No setting submits earlier than this before the deadline.
pub const MAX_LEAD_SECS: i64 = MAX_AUTO_SUBMIT_HOURS as i64 * 3600;

/// Why there is no automatic submission planned (`auto_submit_skipped` in the order's JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoAutoSubmit {
    /// The seller's `dispute_auto_submit` is `off`.
    SettingOff,
    /// `strong_evidence`, and the customer never downloaded after the email (nor CE 3.0).
    NoStrongEvidence,
    /// The deadline passed before a submission.
    PastDue,
}

impl NoAutoSubmit {
    pub fn as_str(self) -> &'static str {
        match self {
            NoAutoSubmit::SettingOff => "setting_off",
            NoAutoSubmit::NoStrongEvidence => "no_strong_evidence",
            NoAutoSubmit::PastDue => "past_due",
        }
    }
}

/// Whether the dispute (in its current phase) is one the backend may answer by itself: open in
/// every respect but time, and not a compliance case.
fn eligible(record: &OrderRecord, id: &str, d: &DisputeFact) -> bool {
    if !d.needs_response() || d.is_compliance() || d.due_by().is_none() {
        return false;
    }
    let accepted = [DisputePhase::Inquiry, DisputePhase::Chargeback]
        .into_iter()
        .filter_map(|p| record.facts.dispute_evidence.get(&p.evidence_key(id)))
        .any(|e| e.accepted_at.is_some());
    let evidence = current(record, id, d);
    !accepted && evidence.is_none_or(|e| e.submitted_at.is_none())
}

fn current<'a>(record: &'a OrderRecord, id: &str, d: &DisputeFact) -> Option<&'a EvidenceFact> {
    crate::order::view::current_evidence(&record.facts, id, d)
}

/// Whether the sweep already marked the dispute past its (current) deadline.
fn retired(evidence: Option<&EvidenceFact>, due: i64) -> bool {
    evidence.and_then(|e| e.plan.as_ref()).is_some_and(|p| {
        p.value.why.as_deref() == Some(NoAutoSubmit::PastDue.as_str()) && p.at >= due
    })
}

/// When the dispute job next needs to look at the order (see the module's docs).
pub fn next_look(record: &OrderRecord) -> Option<i64> {
    record
        .facts
        .disputes
        .iter()
        .filter(|(id, d)| eligible(record, id, d))
        .filter_map(|(id, d)| {
            let due = d.due_by()?;
            let evidence = current(record, id, d);
            if retired(evidence, due) {
                return None;
            }
            let drafted = evidence.is_some_and(|e| e.saved_at.is_some());
            if drafted {
                Some(due - MAX_LEAD_SECS)
            } else {
                // At once: the dispute's newest fact's time (any time in the past will do).
                Some(d.state.at.max(0))
            }
        })
        .min()
}

/// `strong_evidence`: the customer downloaded the product at least once after the delivery
/// email was sent, or the order qualifies for Visa CE 3.0 (`ce3_qualifies`: two of the seller's
/// earlier orders qualify, [`ce3_qualifies`]).
pub fn strong_evidence(
    record: &OrderRecord,
    downloads: &[DownloadEntry],
    ce3_qualifies: bool,
) -> bool {
    let downloaded_after_email = record
        .fulfillment
        .sent_at
        .is_some_and(|sent| downloads.iter().any(|d| d.at >= sent));
    downloaded_after_email || ce3_qualifies
}

/// Whether the order qualifies for Visa Compelling Evidence 3.0 (contract section 9.5) in the
/// dispute: the CE 3.0 rule found two qualifying earlier orders (the evidence the filing sends).
pub async fn ce3_qualifies(
    store: &dyn crate::ports::OrderStore,
    record: &OrderRecord,
    dispute: &DisputeFact,
) -> Result<bool, StoreError> {
    let found = crate::evidence::ce3::lookup(
        store,
        record,
        dispute
            .network_reason_code
            .as_ref()
            .map(|r| r.value.as_str()),
        dispute.reason.as_ref().map(|r| r.value.as_str()),
    )
    .await?;
    Ok(found.is_some_and(|l| l.evidence.is_some()))
}

/// The automatic submission for the dispute under the seller's settings: when, or why not.
pub fn plan(settings: &SellerSettings, due: i64, strong: bool) -> AutoPlan {
    let why = match settings.dispute_auto_submit {
        AutoSubmit::Off => Some(NoAutoSubmit::SettingOff),
        AutoSubmit::StrongEvidence if !strong => Some(NoAutoSubmit::NoStrongEvidence),
        AutoSubmit::StrongEvidence | AutoSubmit::Always => None,
    };
    match why {
        Some(why) => AutoPlan {
            at: None,
            why: Some(why.as_str().to_owned()),
        },
        None => AutoPlan {
            at: Some(due - settings.auto_submit_lead_secs()),
            why: None,
        },
    }
}

/// The dispute job: drafts, plans and submits through Stripe's dispute API as the seller.
pub struct DisputeJob<'a> {
    pub filer: &'a dyn DisputeFiler,
}

#[async_trait]
impl SweepJob for DisputeJob<'_> {
    fn name(&self) -> &'static str {
        "disputes"
    }

    async fn run(
        &self,
        ctx: &SweepContext<'_>,
        record: &OrderRecord,
        report: &mut SweepReport,
    ) -> Result<(), StoreError> {
        let ids: Vec<String> = record
            .facts
            .disputes
            .iter()
            .filter(|(id, d)| eligible(record, id, d))
            .map(|(id, _)| id.clone())
            .collect();
        for id in ids {
            self.one(ctx, record, &id, report).await?;
        }
        Ok(())
    }
}

impl DisputeJob<'_> {
    async fn one(
        &self,
        ctx: &SweepContext<'_>,
        record: &OrderRecord,
        id: &str,
        report: &mut SweepReport,
    ) -> Result<(), StoreError> {
        let Some(d) = record.facts.disputes.get(id) else {
            return Ok(());
        };
        let Some(due) = d.due_by() else {
            return Ok(());
        };
        let key = d.phase().evidence_key(id);
        let evidence = current(record, id, d);
        if retired(evidence, due) {
            return Ok(());
        }
        let actor = Actor {
            seller_id: &record.seller_id,
            order_id: &record.order_id,
            dispute_id: id,
            by: Submitter::Auto,
            now: ctx.now,
        };
        if due <= ctx.now {
            // Never after the deadline: say so once, and stop looking.
            record_plan(
                ctx,
                record,
                &key,
                AutoPlan {
                    at: None,
                    why: Some(NoAutoSubmit::PastDue.as_str().to_owned()),
                },
            )
            .await?;
            report.count("disputes.past_due");
            return Ok(());
        }
        // A claim of someone else in flight (the seller's click, another sweep): theirs.
        if evidence.is_some_and(|e| crate::evidence::filing::claim_is_live(e, ctx.now)) {
            report.count("disputes.in_flight");
            return Ok(());
        }
        if evidence.is_none_or(|e| e.saved_at.is_none()) {
            let draft = EvidenceRequest::default();
            match file_evidence(ctx.store, Some(self.filer), ctx.settings, actor, &draft).await {
                Ok(_) => report.count("disputes.drafted"),
                Err(FileEvidenceError::Store(e)) => return Err(e),
                Err(e) => {
                    report.count("disputes.draft_failed");
                    tracing::warn!(job = "disputes", order_id = %record.order_id, dispute_id = %id, error = %e, "draft not saved");
                }
            }
        }
        let downloads = ctx
            .store
            .list_downloads(&record.seller_id, &record.order_id)
            .await?;
        let ce3 = ce3_qualifies(ctx.store, record, d).await?;
        let planned = plan(ctx.settings, due, strong_evidence(record, &downloads, ce3));
        if evidence.and_then(|e| e.plan.as_ref()).map(|p| &p.value) != Some(&planned) {
            record_plan(ctx, record, &key, planned.clone()).await?;
        }
        let Some(at) = planned.at else {
            return Ok(());
        };
        if at > ctx.now {
            return Ok(());
        }
        // Re-read: the draft above moved the order on.
        let Some(now_record) = ctx
            .store
            .get_order(&record.seller_id, &record.order_id)
            .await?
        else {
            return Ok(());
        };
        if answerable(&now_record, id, ctx.now, true).is_err() {
            return Ok(());
        }
        let submit = EvidenceRequest {
            submit: true,
            ..EvidenceRequest::default()
        };
        match file_evidence(ctx.store, Some(self.filer), ctx.settings, actor, &submit).await {
            Ok(_) => {
                report.count("disputes.submitted");
                tracing::info!(job = "disputes", order_id = %record.order_id, dispute_id = %id, "evidence submitted automatically");
            }
            Err(FileEvidenceError::Store(e)) => return Err(e),
            Err(FileEvidenceError::AlreadySubmitted) => report.count("disputes.in_flight"),
            Err(e) => {
                // Recorded as `last_error` by the use case; the next sweep tries again.
                report.count("disputes.submit_failed");
                tracing::warn!(job = "disputes", order_id = %record.order_id, dispute_id = %id, error = %e, "automatic submission failed");
            }
        }
        Ok(())
    }
}

async fn record_plan(
    ctx: &SweepContext<'_>,
    record: &OrderRecord,
    key: &str,
    plan: AutoPlan,
) -> Result<(), StoreError> {
    let mut facts = Facts::default();
    facts.dispute_evidence.insert(
        key.to_owned(),
        EvidenceFact {
            plan: Some(Reg::new(0, ctx.now, plan)),
            ..EvidenceFact::default()
        },
    );
    fold_into_order(
        ctx.store,
        &record.seller_id,
        &record.order_id,
        &facts,
        RetryPolicy::default(),
    )
    .await?;
    Ok(())
}
