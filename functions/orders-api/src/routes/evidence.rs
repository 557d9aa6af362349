//! `GET /orders/{order_id}/evidence`: what a seller submits to Stripe in a dispute, gathered in
//! one place: the purchase, the confirmation email, the delivery receipt, every download, the
//! refunds and disputes, and one timeline. JSON by default; `Accept: text/plain` gives a rendering
//! a seller can paste into Stripe's evidence form.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use leenkies_domain::clock::rfc3339;
use leenkies_domain::order::view::{DisputeView, FulfillmentView, RefundView, TimelineView};
use leenkies_domain::ports::DownloadEntry;
use leenkies_domain::{OrderRecord, OrderView, PaymentStatus};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Seller;
use crate::error::{ApiError, ErrorBody};
use crate::routes::orders::{load_order, OrderId};
use crate::state::ApiState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Evidence {
    pub order_id: String,
    pub reference: Option<String>,
    pub customer_email: Option<String>,
    pub product_id: Option<String>,
    pub product_name: Option<String>,
    /// In the currency's minor unit.
    pub amount: Option<i64>,
    pub currency: Option<String>,
    pub payment_status: PaymentStatus,
    /// The order's `created_at` (RFC 3339).
    pub purchase_date: String,
    /// The delivery email as sent, or `null` if none went out.
    pub confirmation_email: Option<ConfirmationEmail>,
    /// Where delivery stands (`pending` | `sent` | `skipped` | `failed`) and the provider's id.
    pub delivery_receipt: FulfillmentView,
    /// Every logged download, oldest first.
    pub downloads: Vec<DownloadView>,
    pub refunds: Vec<RefundView>,
    pub disputes: Vec<DisputeView>,
    /// The order's timeline with the downloads added, oldest first.
    pub timeline: Vec<TimelineView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConfirmationEmail {
    pub recipient: Option<String>,
    pub subject: Option<String>,
    pub sent_at: Option<String>,
    pub message_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DownloadView {
    pub at: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Evidence {
    /// `view` is the order's view with every refund (`OrderView::load`).
    pub fn of(record: &OrderRecord, view: OrderView, downloads: &[DownloadEntry]) -> Self {
        let f = &record.fulfillment;
        let confirmation_email =
            (f.sent_at.is_some() || f.message_id.is_some()).then(|| ConfirmationEmail {
                recipient: f.recipient.clone(),
                subject: f.subject.clone(),
                sent_at: f.sent_at.map(rfc3339),
                message_id: f.message_id.clone(),
            });
        let downloads: Vec<DownloadView> = downloads
            .iter()
            .map(|d| DownloadView {
                at: rfc3339(d.at),
                ip: d.ip.clone(),
                user_agent: d.user_agent.clone(),
            })
            .collect();
        let mut timeline = view.timeline;
        timeline.extend(downloads.iter().map(|d| TimelineView {
            at: d.at.clone(),
            kind: "download".into(),
            detail: format!(
                "product downloaded from {} ({})",
                d.ip.as_deref().unwrap_or("unknown address"),
                d.user_agent.as_deref().unwrap_or("unknown browser")
            ),
        }));
        // RFC 3339 in UTC with `Z` sorts as text in time order.
        timeline.sort();
        Evidence {
            order_id: view.order_id,
            reference: view.reference,
            customer_email: view.customer_email,
            product_id: view.product_id,
            product_name: view.product_name,
            amount: view.amount,
            currency: view.currency,
            payment_status: view.payment_status,
            purchase_date: view.created_at,
            confirmation_email,
            delivery_receipt: view.fulfillment,
            downloads,
            refunds: view.refunds,
            disputes: view.disputes,
            timeline,
        }
    }

    /// Plain text for Stripe's evidence form: labelled lines, no markup.
    pub fn to_text(&self) -> String {
        let na = |o: &Option<String>| o.clone().unwrap_or_else(|| "not recorded".into());
        let mut s = String::new();
        let _ = writeln!(s, "ORDER {}", self.order_id);
        if let Some(r) = &self.reference {
            let _ = writeln!(s, "Store reference: {r}");
        }
        let _ = writeln!(s, "Customer email: {}", na(&self.customer_email));
        let _ = writeln!(
            s,
            "Product: {} ({})",
            na(&self.product_name),
            na(&self.product_id)
        );
        let amount = match (self.amount, &self.currency) {
            (Some(a), Some(c)) => format!("{a} {} (minor units)", c.to_uppercase()),
            (Some(a), None) => format!("{a} (minor units)"),
            _ => "not recorded".into(),
        };
        let _ = writeln!(s, "Amount: {amount}");
        let _ = writeln!(s, "Payment status: {}", self.payment_status.as_str());
        let _ = writeln!(s, "Purchase date: {}", self.purchase_date);

        let _ = writeln!(s, "\nORDER CONFIRMATION EMAIL");
        match &self.confirmation_email {
            Some(e) => {
                let _ = writeln!(s, "Sent to: {}", na(&e.recipient));
                let _ = writeln!(s, "Subject: {}", na(&e.subject));
                let _ = writeln!(s, "Sent at: {}", na(&e.sent_at));
                let _ = writeln!(s, "Message id: {}", na(&e.message_id));
            }
            None => {
                let _ = writeln!(s, "No confirmation email was sent.");
            }
        }

        let _ = writeln!(s, "\nDELIVERY RECEIPT");
        let _ = writeln!(s, "Status: {}", self.delivery_receipt.status);
        let _ = writeln!(s, "Sent at: {}", na(&self.delivery_receipt.sent_at));
        let _ = writeln!(s, "Message id: {}", na(&self.delivery_receipt.message_id));

        let _ = writeln!(s, "\nDOWNLOADS ({})", self.downloads.len());
        if self.downloads.is_empty() {
            let _ = writeln!(s, "No downloads recorded.");
        }
        for d in &self.downloads {
            let _ = writeln!(
                s,
                "{}  IP {}  {}",
                d.at,
                d.ip.as_deref().unwrap_or("unknown"),
                d.user_agent.as_deref().unwrap_or("unknown user agent")
            );
        }

        if !self.refunds.is_empty() {
            let _ = writeln!(s, "\nREFUNDS");
            for r in &self.refunds {
                let _ = writeln!(
                    s,
                    "{} {} {} {}",
                    r.id,
                    r.amount,
                    r.status,
                    r.created_at.as_deref().unwrap_or("")
                );
            }
        }
        if !self.disputes.is_empty() {
            let _ = writeln!(s, "\nDISPUTES");
            for d in &self.disputes {
                let _ = writeln!(
                    s,
                    "{} {} reason {} evidence due {}",
                    d.id,
                    d.status,
                    d.reason.as_deref().unwrap_or("unknown"),
                    d.evidence_due_by.as_deref().unwrap_or("n/a")
                );
            }
        }

        let _ = writeln!(s, "\nTIMELINE");
        for t in &self.timeline {
            let _ = writeln!(s, "{}  {}  {}", t.at, t.kind, t.detail);
        }
        s
    }
}

/// Whether the client asked for plain text rather than JSON.
fn wants_text(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/plain") && !accept.contains("application/json"))
}

#[utoipa::path(
    get,
    path = "/orders/{order_id}/evidence",
    tag = "orders",
    summary = "Dispute evidence for one order",
    description = "JSON by default; with `Accept: text/plain`, a plain-text rendering to paste into Stripe's evidence form.",
    params(("order_id" = String, Path, description = "The order id: the Stripe PaymentIntent id (`pi_…`), or the Checkout Session id (`cs_…`) of an order that needed no payment")),
    responses(
        (status = 200, description = "The evidence", content(
            (Evidence = "application/json"),
            (String = "text/plain"),
        )),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
        (status = 404, description = "No such order for this seller", body = ErrorBody),
        (status = 503, description = "Store unavailable; retry after `Retry-After`", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
pub async fn evidence(
    Seller(seller): Seller,
    State(state): State<Arc<ApiState>>,
    OrderId(order_id): OrderId,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let record = load_order(&state, &seller, &order_id).await?;
    let downloads = state.store.list_downloads(&seller, &order_id).await?;
    let view = leenkies_domain::listing::order_view(state.store.as_ref(), &record).await?;
    let evidence = Evidence::of(&record, view, &downloads);
    if wants_text(&headers) {
        let mut response = evidence.to_text().into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        Ok(response)
    } else {
        Ok(Json(evidence).into_response())
    }
}
