//! The seller dashboard (contract section 8): one page of plain HTML, CSS and JavaScript modules,
//! compiled into this binary, served by the orders API itself.
//!
//! - `GET /dashboard` and every path under `/dashboard/` that is not an asset: the page (deep
//!   links such as `/dashboard/orders/{order_id}` are routed in the browser).
//! - `GET /dashboard/assets/{file}`: the page's CSS, modules and icon; an unknown asset is `404`.
//! - `GET /dashboard/config.json`: the sign-in settings ([`config::DashboardConfig`]).
//!
//! The page holds no data: everything it shows comes from the API with the seller's token, so
//! these routes are public. Every answer carries a Content-Security-Policy without inline
//! scripts or styles, `frame-ancestors 'none'` and `Referrer-Policy: no-referrer`; `connect-src`
//! names only this origin and, with OAuth configured, the issuer's token endpoint.

pub mod config;

use std::sync::{Arc, LazyLock};

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::ApiState;
use config::DashboardConfig;

/// One embedded file.
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
}

const INDEX: &str = include_str!("assets/index.html");

/// Every asset under `/dashboard/assets/`, compiled in.
pub const ASSETS: &[Asset] = &[
    Asset {
        name: "style.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("assets/style.css"),
    },
    Asset {
        name: "icon.svg",
        content_type: "image/svg+xml",
        body: include_str!("assets/icon.svg"),
    },
    js("app.js", include_str!("assets/app.js")),
    js("api.js", include_str!("assets/api.js")),
    js("auth.js", include_str!("assets/auth.js")),
    js("disputes.js", include_str!("assets/disputes.js")),
    js("dom.js", include_str!("assets/dom.js")),
    js("format.js", include_str!("assets/format.js")),
    js("nav.js", include_str!("assets/nav.js")),
    js("status.js", include_str!("assets/status.js")),
    js("stripe.js", include_str!("assets/stripe.js")),
    js("parts.js", include_str!("assets/parts.js")),
    js("list.js", include_str!("assets/list.js")),
    js("list-rows.js", include_str!("assets/list-rows.js")),
    js("notices.js", include_str!("assets/notices.js")),
    js("order.js", include_str!("assets/order.js")),
    js("order-head.js", include_str!("assets/order-head.js")),
    js("order-payment.js", include_str!("assets/order-payment.js")),
    js(
        "order-disputes.js",
        include_str!("assets/order-disputes.js"),
    ),
    js(
        "order-delivery.js",
        include_str!("assets/order-delivery.js"),
    ),
    js(
        "order-evidence.js",
        include_str!("assets/order-evidence.js"),
    ),
    js(
        "order-timeline.js",
        include_str!("assets/order-timeline.js"),
    ),
    js("settings.js", include_str!("assets/settings.js")),
    js("poll.js", include_str!("assets/poll.js")),
];

const fn js(name: &'static str, body: &'static str) -> Asset {
    Asset {
        name,
        content_type: "text/javascript; charset=utf-8",
        body,
    }
}

/// The page's own weight: HTML + every asset, in bytes (reported by the browser test too).
pub fn page_weight() -> usize {
    INDEX.len() + ASSETS.iter().map(|a| a.body.len()).sum::<usize>()
}

/// A strong validator per file, computed once: the files only change with the binary.
fn etag(body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    std::iter::once(INDEX)
        .chain(ASSETS.iter().map(|a| a.body))
        .map(etag)
        .collect()
});

/// The policy for this deployment's page.
pub fn content_security_policy(config: &DashboardConfig) -> String {
    let mut connect = String::from("'self'");
    for origin in config.connect_origins() {
        connect.push(' ');
        connect.push_str(&origin);
    }
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
         connect-src {connect}; font-src 'none'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

fn secured(mut response: Response, state: &ApiState) -> Response {
    let h = response.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&content_security_policy(&state.dashboard)) {
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// A file with its validator: `304` when the browser already holds this version.
fn file(
    state: &ApiState,
    headers: &HeaderMap,
    content_type: &'static str,
    body: &'static str,
    etag: &str,
) -> Response {
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, content_type)], body).into_response()
    };
    let h = response.headers_mut();
    // Revalidate every time (cheap with the ETag), so a new deployment is picked up at once.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    secured(response, state)
}

pub async fn page(State(state): State<Arc<ApiState>>, headers: HeaderMap) -> Response {
    file(
        &state,
        &headers,
        "text/html; charset=utf-8",
        INDEX,
        &ETAGS[0],
    )
}

pub async fn deep_link(
    State(state): State<Arc<ApiState>>,
    Path(rest): Path<String>,
    headers: HeaderMap,
) -> Response {
    if rest.starts_with("assets/") {
        // A missing asset must not turn into the page (a script tag would then get HTML).
        return secured(ApiError::NotFound.into_response(), &state);
    }
    page(State(state), headers).await
}

pub async fn asset(
    State(state): State<Arc<ApiState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    match ASSETS.iter().position(|a| a.name == name) {
        Some(i) => {
            let a = &ASSETS[i];
            file(&state, &headers, a.content_type, a.body, &ETAGS[i + 1])
        }
        None => secured(ApiError::NotFound.into_response(), &state),
    }
}

#[utoipa::path(
    get,
    path = "/dashboard/config.json",
    tag = "dashboard",
    summary = "The dashboard's sign-in settings (public): OAuth 2.0 authorization code with PKCE, or null",
    responses((status = 200, description = "Sign-in settings", body = DashboardConfig)),
)]
pub async fn config_json(State(state): State<Arc<ApiState>>) -> Response {
    let mut response = Json(state.dashboard.clone()).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    secured(response, &state)
}
