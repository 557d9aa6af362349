//! The handlers, one file per resource, and [`table`]: the one list of every route the orders
//! API serves.
//!
//! Each entry names its handler, who may call it ([`Access`]) and, for an API route, the handler's
//! `#[utoipa::path]` operation, from which its method and path are taken. The router
//! ([`crate::router`]), the OpenAPI document ([`openapi::document`]) and the deployment test (which
//! compares `template.yaml`'s `HttpApi` events with this list, both ways) all read it, so a route
//! is added in one place: its handler module and one line here (and its event in the template,
//! which the test then demands).

pub mod dispute_evidence;
pub mod downloads;
pub mod export_csv;
pub mod exports;
pub mod fallback;
pub mod openapi;
pub mod order_evidence;
pub mod orders;
pub mod resend;
pub mod settings;
pub mod stats;

use std::sync::Arc;

use axum::handler::Handler;
use axum::routing::{on, MethodFilter, MethodRouter};
use http::Method;
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::security::SecurityRequirement;

use crate::state::ApiState;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: the page and its assets, the OpenAPI document, the customers' download links
    /// (the signed token is the credential). API Gateway's `Authorizer: NONE`.
    Public,
    /// A seller's JWT (API Gateway's JWT authorizer in AWS, HS256 locally); the handler reads
    /// the seller from the verified claims.
    Seller,
    /// A JWT that also carries the operator claim (`OPERATOR_CLAIM`).
    Operator,
}

/// One route: method, path (axum's syntax, `{order_id}`, `{*rest}`), access, handler, and the
/// OpenAPI operation for an API route (`None` for the page's own HTML and assets).
pub struct Route {
    pub method: Method,
    pub path: String,
    pub access: Access,
    pub operation: Option<(HttpMethod, Operation)>,
    handler: MethodRouter<Arc<ApiState>>,
}

impl Route {
    /// An API route documented by `P`, the struct `#[utoipa::path]` generates beside the
    /// handler (`__path_<handler>`): its one method and its path come from there, so the
    /// document cannot name another route than the one served.
    fn api<P, H, T>(access: Access, handler: H) -> Self
    where
        P: utoipa::Path,
        H: Handler<T, Arc<ApiState>>,
        T: 'static,
    {
        let methods = P::methods();
        let [method] = methods.as_slice() else {
            panic!("{}: one method per operation", P::path());
        };
        let documented = method.clone();
        let method = http_method(method);
        let mut operation = P::operation();
        // The access decides the security requirement, so the two cannot disagree.
        operation.security = match access {
            Access::Public => None,
            Access::Seller | Access::Operator => Some(vec![SecurityRequirement::new(
                "bearer_auth",
                Vec::<String>::new(),
            )]),
        };
        Self {
            path: P::path(),
            handler: on(method_filter(&method), handler),
            method,
            access,
            operation: Some((documented, operation)),
        }
    }

    /// A public `GET` of the page itself (HTML, assets, deep links): served, deployed, not API.
    fn page<H, T>(path: &str, handler: H) -> Self
    where
        H: Handler<T, Arc<ApiState>>,
        T: 'static,
    {
        Self {
            method: Method::GET,
            path: path.to_owned(),
            access: Access::Public,
            operation: None,
            handler: on(MethodFilter::GET, handler),
        }
    }

    pub(crate) fn into_parts(self) -> (String, MethodRouter<Arc<ApiState>>) {
        (self.path, self.handler)
    }
}

/// Every route of the orders API, in the order a reader looks for them.
pub fn table() -> Vec<Route> {
    use crate::dashboard;
    use Access::{Operator, Public, Seller};
    vec![
        Route::api::<orders::__path_list, _, _>(Seller, orders::list),
        // Static segments (`export.csv`, `exports`) win over `{order_id}` in axum's matcher.
        Route::api::<export_csv::__path_export, _, _>(Seller, export_csv::export),
        Route::api::<exports::__path_create, _, _>(Seller, exports::create),
        Route::api::<exports::__path_get, _, _>(Seller, exports::get),
        Route::api::<orders::__path_get, _, _>(Seller, orders::get),
        Route::api::<order_evidence::__path_evidence, _, _>(Seller, order_evidence::evidence),
        Route::api::<dispute_evidence::__path_file, _, _>(Seller, dispute_evidence::file),
        Route::api::<dispute_evidence::__path_preview, _, _>(Seller, dispute_evidence::preview),
        Route::api::<dispute_evidence::__path_accept, _, _>(Seller, dispute_evidence::accept),
        Route::api::<resend::__path_resend, _, _>(Seller, resend::resend),
        Route::api::<stats::__path_failures, _, _>(Seller, stats::failures),
        Route::api::<stats::__path_disputes, _, _>(Seller, stats::disputes),
        Route::api::<settings::__path_get, _, _>(Seller, settings::get),
        Route::api::<settings::__path_put, _, _>(Seller, settings::put),
        Route::api::<crate::health::__path_webhook_health, _, _>(
            Operator,
            crate::health::webhook_health,
        ),
        Route::api::<downloads::__path_download, _, _>(Public, downloads::download),
        Route::api::<openapi::__path_openapi_json, _, _>(Public, openapi::openapi_json),
        Route::api::<dashboard::__path_config_json, _, _>(Public, dashboard::config_json),
        // The seller dashboard (contract section 8): the page, its assets and its deep links.
        Route::page("/dashboard", dashboard::page),
        Route::page("/dashboard/", dashboard::page),
        Route::page("/dashboard/assets/{name}", dashboard::asset),
        Route::page("/dashboard/{*rest}", dashboard::deep_link),
    ]
}

fn http_method(method: &HttpMethod) -> Method {
    match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Trace => Method::TRACE,
    }
}

fn method_filter(method: &Method) -> MethodFilter {
    match *method {
        Method::POST => MethodFilter::POST,
        Method::PUT => MethodFilter::PUT,
        Method::DELETE => MethodFilter::DELETE,
        Method::PATCH => MethodFilter::PATCH,
        Method::OPTIONS => MethodFilter::OPTIONS,
        Method::HEAD => MethodFilter::HEAD,
        Method::TRACE => MethodFilter::TRACE,
        _ => MethodFilter::GET,
    }
}
