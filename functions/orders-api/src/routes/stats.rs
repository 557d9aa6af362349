//! `GET /stats/disputes`: the disputes waiting for the seller's evidence, most urgent first
//! (read from the sparse disputed-orders index, so its cost follows the disputed orders only),
//! and the seller's dispute rates of this UTC month and the previous one per card brand
//! (`leenkies_domain::rates`: one read of three small counter items, whatever the volume).
//!
//! `GET /stats/failures?days=N`: failed payments among the orders created in the last N days, by
//! category, and whether the pattern points at the seller's configuration rather than at
//! individual customers' cards.
//!
//! It reads the seller's orders of the window page by page (a date-bounded query: the cost grows
//! with the window, never with the table).
//!
//! The configuration rule is the domain's (`leenkies_domain::order::failure_tally`), shared with
//! the seller's `failure_pattern` notification.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use leenkies_domain::clock::rfc3339;
use leenkies_domain::order::failure::FailureCategory;
use leenkies_domain::order::failure_tally::{FailureTally, ADVICE_CLEAR, ADVICE_SUSPECTED};
pub use leenkies_domain::order::failure_tally::{
    DEFAULT_DAYS, MIN_DISTINCT_CUSTOMERS, MIN_SAME_DAY_CUSTOMERS, RULE,
};
use leenkies_domain::ports::{OrderFilter, OrderQuery};
use leenkies_domain::rates::{self, Rates};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Seller;
use crate::error::{ApiError, ErrorBody};
use crate::filters::Params;
use crate::state::ApiState;

pub const MAX_DAYS: i64 = 365;
/// Orders per store page while counting.
const STATS_PAGE: usize = 100;
const DAY: i64 = 86_400;

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct CategoryCount {
    /// Orders whose latest failed attempt is in this category.
    pub failed_payments: u64,
    /// Of those, how many are `failed` right now (not paid since).
    pub currently_failed: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FailureStats {
    pub days: i64,
    pub from: String,
    pub to: String,
    /// Orders created in the window.
    pub total_orders: u64,
    /// Orders in the window with at least one failed attempt (`failure` not null).
    pub failed_payments: u64,
    /// Orders in the window whose `payment_status` is `failed` now.
    pub currently_failed: u64,
    /// `failed_payments / total_orders`, 0 when there are no orders.
    pub failure_rate: f64,
    /// Every category, zero counts included.
    #[schema(value_type = BTreeMap<String, CategoryCount>)]
    pub by_category: BTreeMap<&'static str, CategoryCount>,
    /// Distinct lower-cased customer emails among the failed payments.
    pub distinct_customers: u64,
    pub suspected_configuration_issue: bool,
    /// The rule behind `suspected_configuration_issue`.
    pub rule: String,
    pub advice: String,
}

fn parse_days(params: &Params) -> Result<i64, ApiError> {
    match params.get("days") {
        None => Ok(DEFAULT_DAYS),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=MAX_DAYS).contains(d))
            .ok_or_else(|| {
                ApiError::bad_request("invalid_days", "days must be an integer from 1 to 365")
            }),
    }
}

#[utoipa::path(
    get,
    path = "/stats/failures",
    tag = "stats",
    summary = "Failed payments in the last N days, and whether they suggest a configuration problem",
    params(("days" = Option<u32>, Query, minimum = 1, maximum = 365, description = "Window in days, default 30")),
    responses(
        (status = 200, description = "Failure statistics", body = FailureStats),
        (status = 400, description = "invalid_days", body = ErrorBody),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
        (status = 503, description = "Store unavailable; retry after `Retry-After`", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
pub async fn failures(
    Seller(seller): Seller,
    State(state): State<Arc<ApiState>>,
    params: Params,
) -> Result<Json<FailureStats>, ApiError> {
    let days = parse_days(&params)?;
    let to = state.now();
    let from = to - days * DAY;

    let mut tally = FailureTally::default();
    let mut after = None;
    loop {
        let query = OrderQuery {
            filter: OrderFilter::All,
            from: Some(from),
            to: Some(to),
            limit: STATS_PAGE,
            after,
        };
        let page = state.store.list_orders(&seller, &query).await?;
        for record in &page.orders {
            tally.add(record);
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }

    let distinct_customers = tally.distinct_customers();
    let suspected = tally.suspected();
    if suspected {
        tracing::info!(seller = %seller, distinct_customers, "failure pattern suggests a configuration issue");
    }
    let by_category = FailureCategory::ALL
        .iter()
        .map(|c| {
            let t = tally.by_category.get(c).copied().unwrap_or_default();
            (
                c.as_str(),
                CategoryCount {
                    failed_payments: t.failed_payments,
                    currently_failed: t.currently_failed,
                },
            )
        })
        .collect();
    Ok(Json(FailureStats {
        days,
        from: rfc3339(from),
        to: rfc3339(to),
        total_orders: tally.total_orders,
        failed_payments: tally.failed_payments,
        currently_failed: tally.currently_failed,
        failure_rate: tally.failure_rate(),
        by_category,
        distinct_customers: distinct_customers as u64,
        suspected_configuration_issue: suspected,
        rule: RULE.to_owned(),
        advice: if suspected {
            ADVICE_SUSPECTED
        } else {
            ADVICE_CLEAR
        }
        .to_owned(),
    }))
}

/// Dispute statuses that wait for the seller's evidence (`GET /stats/disputes`).
const NEEDS_RESPONSE: [&str; 2] = ["needs_response", "warning_needs_response"];

#[derive(Debug, Serialize, ToSchema)]
pub struct DisputeNeedingResponse {
    pub order_id: String,
    pub dispute_id: String,
    /// `needs_response` or `warning_needs_response` (an inquiry).
    pub status: String,
    pub reason: Option<String>,
    /// In the currency's minor unit.
    pub amount: Option<i64>,
    pub currency: Option<String>,
    /// RFC 3339; `null` when Stripe has not said (sorted last).
    pub evidence_due_by: Option<String>,
    /// When the backend plans to submit unless the seller acts (RFC 3339), or null.
    pub auto_submit_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DisputeStats {
    /// Most urgent first (`evidence_due_by` ascending).
    pub needs_response: Vec<DisputeNeedingResponse>,
    /// This UTC calendar month's and the previous one's dispute rates, per card brand
    /// (`visa`, `mastercard`, `all`), each against its network program's published ratio.
    pub rates: Rates,
}

#[utoipa::path(
    get,
    path = "/stats/disputes",
    tag = "stats",
    summary = "The disputes that need the seller's response, most urgent first",
    responses(
        (status = 200, description = "Disputes with status needs_response or warning_needs_response, by evidence_due_by; and the dispute rates of this month and the previous one", body = DisputeStats),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
        (status = 503, description = "Store unavailable; retry after `Retry-After`", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
pub async fn disputes(
    Seller(seller): Seller,
    State(state): State<Arc<ApiState>>,
) -> Result<Json<DisputeStats>, ApiError> {
    // The sparse disputed index: the cost grows with the seller's disputed orders only.
    let mut found: Vec<(Option<i64>, DisputeNeedingResponse)> = Vec::new();
    let mut after = None;
    loop {
        let query = OrderQuery {
            filter: OrderFilter::Disputed,
            from: None,
            to: None,
            limit: STATS_PAGE,
            after,
        };
        let page = state.store.list_orders(&seller, &query).await?;
        for record in &page.orders {
            let facts = &record.facts;
            for (id, d) in &facts.disputes {
                if !NEEDS_RESPONSE.contains(&d.status()) {
                    continue;
                }
                // Submitted or accepted here: off the list at once, before Stripe's update.
                let evidence = leenkies_domain::order::view::current_evidence(facts, id, d);
                let answered = evidence.is_some_and(|e| e.submitted_at.is_some())
                    || [
                        leenkies_domain::order::facts::DisputePhase::Inquiry,
                        leenkies_domain::order::facts::DisputePhase::Chargeback,
                    ]
                    .iter()
                    .filter_map(|p| facts.dispute_evidence.get(&p.evidence_key(id)))
                    .any(|e| e.accepted_at.is_some());
                if answered {
                    continue;
                }
                let due = d.due_by();
                found.push((
                    due,
                    DisputeNeedingResponse {
                        order_id: record.order_id.clone(),
                        dispute_id: id.clone(),
                        status: d.status().to_owned(),
                        reason: d.reason.as_ref().map(|r| r.value.clone()),
                        amount: d.amount.as_ref().map(|r| r.value),
                        currency: facts.currency().map(str::to_owned),
                        evidence_due_by: due.map(rfc3339),
                        auto_submit_at: evidence.and_then(|e| e.auto_submit_at()).map(rfc3339),
                    },
                ));
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    // Unknown due dates last; ties by order and dispute id so the answer is stable.
    found.sort_by(|(a, x), (b, y)| {
        (a.is_none(), a, &x.order_id, &x.dispute_id).cmp(&(
            b.is_none(),
            b,
            &y.order_id,
            &y.dispute_id,
        ))
    });
    // The rates: the seller's counters of this month and the two before (Mastercard divides by
    // the previous month's sales), one small read whatever the seller's volume.
    let now = state.now();
    let counts = state
        .store
        .get_rates(&seller, &rates::months_read(now))
        .await?;
    Ok(Json(DisputeStats {
        needs_response: found.into_iter().map(|(_, d)| d).collect(),
        rates: rates::rates(now, &counts),
    }))
}
