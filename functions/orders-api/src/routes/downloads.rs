//! `GET /downloads/{token}`: the customer's link from the delivery email (public, no JWT).
//!
//! Malformed token → `404`; bad signature → `403`; well signed but the order is gone, belongs to
//! another seller, or the product id is no plain file name → `404`; access revoked (full refund,
//! lost dispute) → `410`. A well-signed token serves the product it names, even when later
//! metadata names another: the link that was emailed never dies (contract section 2); but only
//! a product one of its order's emails named (contract section 7), else `404`;
//! otherwise one download-log entry (time, client IP, user agent) and the file. A `HEAD` (link
//! checkers, mail scanners, a browser probing) gets the same status and headers and is never
//! logged nor counted: only a `GET` that serves the file is (contract section 10).
//!
//! The client IP comes from the API Gateway request context in AWS and from the socket
//! (`ConnectInfo`) locally; `X-Forwarded-For` is never trusted, since anyone can set it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use axum::extract::{ConnectInfo, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use lambda_http::request::RequestContext;
use leenkies_domain::ports::DownloadEntry;
use leenkies_domain::tokens::{DownloadClaims, TokenError};

use crate::error::{ApiError, ErrorBody};
use crate::state::{ApiState, ProductFiles};

/// A user agent is stored truncated to this many characters: it is evidence, not a payload.
const MAX_USER_AGENT: usize = 512;

fn client_ip(parts: &Parts) -> Option<String> {
    if let Some(RequestContext::ApiGatewayV2(ctx)) = parts.extensions.get::<RequestContext>() {
        if let Some(ip) = &ctx.http.source_ip {
            return Some(ip.clone());
        }
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
}

fn user_agent(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(MAX_USER_AGENT).collect())
}

/// Ids that can safely be a path segment: no separators, no `..`, no hidden files.
fn safe_segment(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && !s.starts_with('.')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

#[utoipa::path(
    get,
    path = "/downloads/{token}",
    tag = "downloads",
    summary = "Download the purchased product (the link in the delivery email)",
    description = "Public: the signed token is the credential. Each successful call is logged (time, IP, user agent) for dispute evidence.",
    params(("token" = String, Path, description = "The signed download token from the email")),
    responses(
        (status = 200, description = "The file (local runs; a placeholder text when no file is there)", content(
            (Vec<u8> = "application/octet-stream"),
            (String = "text/plain; charset=utf-8")
        )),
        (status = 302, description = "Redirect to a short-lived storage URL (AWS)"),
        (status = 403, description = "The token's signature does not match", body = ErrorBody),
        (status = 404, description = "Malformed token, the order no longer exists, the product is not one its order's emails named, or the product id names no file", body = ErrorBody),
        (status = 410, description = "Access was revoked (full refund or lost dispute)", body = ErrorBody),
        (status = 503, description = "Store unavailable; retry after `Retry-After`", body = ErrorBody),
    )
)]
pub async fn download(
    State(state): State<Arc<ApiState>>,
    token: Result<axum::extract::Path<String>, axum::extract::rejection::PathRejection>,
    parts: Parts,
) -> Result<Response, ApiError> {
    let axum::extract::Path(token) = token.map_err(|_| ApiError::NotFound)?;
    let claims = state.download_key.verify(&token).map_err(|e| match e {
        TokenError::Malformed => ApiError::NotFound,
        TokenError::BadSignature => {
            tracing::info!("download token with a bad signature");
            ApiError::Forbidden
        }
    })?;
    // The product id came from storefront metadata (untrusted text, even once signed into a
    // token): one that is not a plain file name can name no file in S3 or the local folder alike,
    // so it is unknown, and nothing is read or logged.
    if !safe_segment(&claims.product_id) {
        return Err(ApiError::NotFound);
    }
    let record = state
        .store
        .get_order(&claims.seller_id, &claims.order_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let facts = &record.facts;
    // The signed token names the product that was emailed: it keeps serving that product even if
    // later metadata names another (a link that was sent never dies), and only a product one of
    // the order's emails named: a token for another product opens nothing.
    if !record.serves_product(&claims.product_id) {
        tracing::info!(order_id = %claims.order_id, "download token names a product no email of its order named");
        return Err(ApiError::NotFound);
    }
    if facts.access_revoked() {
        return Err(ApiError::Gone);
    }
    // Links only go out for paid orders; a token for an unpaid one is treated as unknown.
    if !facts.paid_and_not_revoked() {
        return Err(ApiError::NotFound);
    }
    if parts.method == Method::HEAD {
        // axum strips the body of a HEAD answer; what matters is that nothing is logged.
        tracing::info!(order_id = %claims.order_id, "download probed (HEAD), not logged");
        return serve(&state.products, &claims).await;
    }
    let entry = DownloadEntry {
        at: state.now(),
        ip: client_ip(&parts),
        user_agent: user_agent(&parts),
    };
    // Logged before serving: every file served has its evidence entry.
    let logged = state
        .store
        .record_download(&claims.seller_id, &claims.order_id, &entry)
        .await?;
    if !logged {
        tracing::info!(order_id = %claims.order_id, "download log full; serving without logging");
    }
    tracing::info!(order_id = %claims.order_id, "download served");
    serve(&state.products, &claims).await
}

async fn serve(products: &ProductFiles, claims: &DownloadClaims) -> Result<Response, ApiError> {
    let mut response = match products {
        ProductFiles::LocalDir(dir) => local_file(dir.as_deref(), claims).await,
        ProductFiles::S3 {
            client,
            bucket,
            expires_secs,
        } => presigned_redirect(client, bucket, *expires_secs, claims).await?,
    };
    // The link (and a presigned URL) must not be cached by browsers or proxies.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn local_file(dir: Option<&Path>, claims: &DownloadClaims) -> Response {
    let candidates: Vec<PathBuf> = match dir {
        Some(dir) if safe_segment(&claims.product_id) => {
            let mut c = Vec::new();
            if safe_segment(&claims.seller_id) {
                c.push(dir.join(&claims.seller_id).join(&claims.product_id));
            }
            c.push(dir.join(&claims.product_id));
            c
        }
        _ => Vec::new(),
    };
    for path in candidates {
        if let Ok(bytes) = tokio::fs::read(&path).await {
            let disposition = format!("attachment; filename=\"{}\"", claims.product_id);
            let mut response = bytes.into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            if let Ok(v) = HeaderValue::from_str(&disposition) {
                headers.insert(header::CONTENT_DISPOSITION, v);
            }
            return response;
        }
    }
    let placeholder = format!(
        "Leenkies local placeholder for product {} (order {}).\nPut the real file at <products dir>/{}/{} to serve it.\n",
        claims.product_id, claims.order_id, claims.seller_id, claims.product_id
    );
    let mut response = placeholder.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

async fn presigned_redirect(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    expires_secs: u64,
    claims: &DownloadClaims,
) -> Result<Response, ApiError> {
    let config = PresigningConfig::expires_in(Duration::from_secs(expires_secs)).map_err(|e| {
        tracing::error!(error = %e, "bad presigning configuration");
        ApiError::Internal
    })?;
    let key = format!("{}/{}", claims.seller_id, claims.product_id);
    let presigned = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .presigned(config)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "presigning failed");
            ApiError::Unavailable
        })?;
    let location = HeaderValue::from_str(presigned.uri()).map_err(|_| ApiError::Internal)?;
    Ok((StatusCode::FOUND, [(header::LOCATION, location)]).into_response())
}
