//! `GET /openapi.json`: the OpenAPI 3 document, generated from the route table (each API route's
//! `#[utoipa::path]` annotation) and the view types themselves, so the document cannot drift from
//! what is served. Public.

use std::sync::OnceLock;

use axum::Json;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::dashboard::config::{BearerToken, DashboardConfig, OAuthConfig};
use crate::error::{ErrorBody, ErrorDetail};
use crate::routes::dispute_evidence::{EvidenceBody, EvidenceFiled};
use crate::routes::order_evidence::{ConfirmationEmail, DownloadView, Evidence};
use crate::routes::orders::OrderList;
use crate::routes::stats::{CategoryCount, DisputeNeedingResponse, DisputeStats, FailureStats};
use leenkies_domain::order::view::{
    DisputeEvidenceView, DisputeView, FailureView, FulfillmentView, RefundView, TimelineView,
};
use leenkies_domain::{OrderView, PaymentStatus};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Leenkies orders API",
        description = "The seller dashboard's view of Stripe Connect orders, and the customers' download links. Dashboard routes need `Authorization: Bearer <JWT>`; the seller is the token's `sub` claim (configurable). Every error is `{\"error\": {\"code\", \"message\"}}`.",
        version = "1"
    ),
    components(schemas(
        OrderList, OrderView, PaymentStatus, FailureView, DisputeView, RefundView,
        FulfillmentView, TimelineView, Evidence, ConfirmationEmail, DownloadView,
        FailureStats, CategoryCount, ErrorBody, ErrorDetail, EvidenceBody, EvidenceFiled,
        DisputeEvidenceView,
        leenkies_domain::order::view::Ce3View,
        crate::routes::dispute_evidence::EvidencePreview,
        crate::routes::dispute_evidence::EvidenceFile,
        leenkies_domain::settings::SellerSettings,
        leenkies_domain::settings::AutoSubmit,
        leenkies_domain::settings::EfwAutoRefund,
        leenkies_domain::settings::Notify,
        FailureStats, CategoryCount, ErrorBody, ErrorDetail,
        crate::routes::resend::ResendAccepted, crate::routes::resend::ResendRequest, leenkies_domain::order::view::DeliveryView,
        leenkies_domain::order::view::ResendView, leenkies_domain::delivery::DeliveryStatus,
        DisputeStats, DisputeNeedingResponse, DashboardConfig, OAuthConfig, BearerToken,
        leenkies_domain::rates::Rates, leenkies_domain::rates::MonthRates,
        leenkies_domain::rates::BrandRate, leenkies_domain::rates::Level,
        crate::filters::StatusQuery,
        crate::routes::exports::ExportJobView, crate::routes::exports::ExportFiltersView,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "orders", description = "The seller's orders"),
        (name = "stats", description = "Aggregates over the seller's orders"),
        (name = "settings", description = "The seller's settings"),
        (name = "downloads", description = "Customers' download links (public)"),
        (name = "dashboard", description = "The seller dashboard's sign-in settings (public)"),
        (name = "meta", description = "This document (public)"),
        (name = "operations", description = "Operator routes (a JWT with the operator claim)"),
    )
)]
pub struct ApiDoc;

/// Declares the `bearer_auth` scheme the dashboard routes reference.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".into());
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer_auth", SecurityScheme::Http(scheme));
    }
}

#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    summary = "This OpenAPI document",
    responses((status = 200, description = "The OpenAPI 3 document", content_type = "application/json", body = Object))
)]
pub async fn openapi_json() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(document())
}

/// The document: [`ApiDoc`]'s info, schemas and tags, with one operation per API route of
/// [`super::table`] (built once).
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut doc = ApiDoc::openapi();
        for route in super::table() {
            if let Some((method, operation)) = route.operation {
                doc.paths
                    .add_path_operation(&route.path, vec![method], operation);
            }
        }
        doc
    })
}
