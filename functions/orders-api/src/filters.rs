//! The list filters of `/orders` and `/orders/export.csv`: parsed from the query string,
//! validated (every bad value is a `400` naming it), normalised, and handed to the domain's
//! listing (`leenkies_domain::listing`) as [`ListFilters`].
//!
//! Unknown parameters are ignored; a known parameter given twice is refused, since which one
//! wins would be a guess.

use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use leenkies_domain::clock::parse_rfc3339_nanos;
use leenkies_domain::listing::ListFilters;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

pub const DEFAULT_LIMIT: usize = 25;
pub const MAX_LIMIT: usize = 100;
/// Shortest email prefix searched.
pub const MIN_EMAIL_PREFIX: usize = 2;

/// The values `status=` accepts, for the OpenAPI document only (the parser below is what
/// decides): a `payment_status`, or `disputed`.
#[derive(utoipa::ToSchema)]
#[schema(as = StatusQuery)]
#[allow(dead_code)] // a schema, never built
#[serde(rename_all = "snake_case")]
pub enum StatusQuery {
    Pending,
    Succeeded,
    Failed,
    Canceled,
    PartiallyRefunded,
    Refunded,
    Disputed,
}
/// Longest email (prefix) accepted, the RFC 5321 path limit.
const MAX_EMAIL_LEN: usize = 254;

/// The raw query string as name → value, refusing a repeated name. Never rejects on its own
/// terms: a malformed query string is a `400` with our error body.
#[derive(Debug, Default)]
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // The decoder would turn invalid UTF-8 into U+FFFD and search for that; say so instead.
        if !percent_decodes_to_utf8(parts.uri.query().unwrap_or("")) {
            return Err(ApiError::bad_request(
                "invalid_query",
                "query string is not valid UTF-8 once percent-decoded",
            ));
        }
        let pairs: Vec<(String, String)> = axum::extract::Query::try_from_uri(&parts.uri)
            .map(|axum::extract::Query(q)| q)
            .map_err(|_| ApiError::bad_request("invalid_query", "unreadable query string"))?;
        let mut map = HashMap::new();
        for (k, v) in pairs {
            if map.insert(k.clone(), v).is_some() {
                return Err(ApiError::bad_request(
                    "duplicate_parameter",
                    format!("query parameter `{k}` given more than once"),
                ));
            }
        }
        Ok(Params(map))
    }
}

/// Whether every name and value of a query string is UTF-8 after percent-decoding (`+` is a
/// space and cannot break it).
fn percent_decodes_to_utf8(query: &str) -> bool {
    let hex = |b: u8| (b as char).to_digit(16);
    query.split('&').all(|pair| {
        let bytes = pair.as_bytes();
        let mut decoded = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match (
                bytes[i],
                bytes.get(i + 1).and_then(|&b| hex(b)),
                bytes.get(i + 2).and_then(|&b| hex(b)),
            ) {
                (b'%', Some(hi), Some(lo)) => {
                    decoded.push((hi * 16 + lo) as u8);
                    i += 3;
                }
                (b, _, _) => {
                    decoded.push(b);
                    i += 1;
                }
            }
        }
        std::str::from_utf8(&decoded).is_ok()
    })
}

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// `status`: a payment status, or `disputed` (at least one dispute): the domain's, shared with
/// the export jobs.
pub use leenkies_domain::listing::StatusFilter;

fn parse_status(s: &str) -> Result<StatusFilter, ApiError> {
    StatusFilter::parse(s).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_status",
            "status must be one of pending, succeeded, failed, canceled, partially_refunded, refunded, disputed",
        )
    })
}

/// The normalised filters shared by the list and the export.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub status: Option<StatusFilter>,
    /// Lower-cased, trimmed: matches an equal email or any email it starts with.
    pub email: Option<String>,
    /// Inclusive bounds on `created_at`, Unix seconds.
    pub from: Option<i64>,
    pub to: Option<i64>,
}

impl Filters {
    pub fn parse(params: &Params) -> Result<Self, ApiError> {
        let status = params.get("status").map(parse_status).transpose()?;
        let email = params
            .get("email")
            .map(|e| {
                let e = e.trim().to_lowercase();
                if e.is_empty() || e.len() > MAX_EMAIL_LEN || e.chars().any(char::is_control) {
                    Err(ApiError::bad_request(
                        "invalid_email",
                        "email must be a non-empty email or prefix of at most 254 characters",
                    ))
                } else if e.chars().count() < MIN_EMAIL_PREFIX {
                    // One letter matches a large share of all customers: refused (contract
                    // section 5) rather than read at a cost that follows the whole table.
                    Err(ApiError::bad_request(
                        "prefix_too_short",
                        "an email search needs at least 2 characters",
                    ))
                } else {
                    Ok(e)
                }
            })
            .transpose()?;
        let from = params
            .get("from")
            .map(|v| timestamp("from", v))
            .transpose()?;
        let to = params.get("to").map(|v| timestamp("to", v)).transpose()?;
        if let (Some(f), Some(t)) = (from, to) {
            // Compared as given; rounded afterwards (a range inside one second is empty, not bad).
            if f > t {
                return Err(ApiError::bad_request(
                    "invalid_range",
                    "`from` must not be after `to`",
                ));
            }
        }
        // `created_at` is whole seconds; both bounds are inclusive to the precision given, so
        // `from=…:20.5Z` starts at :21 and `to=…:20.5Z` ends at :20: no order
        // outside the range given, none inside it dropped.
        const NANOS: i128 = 1_000_000_000;
        let seconds = |ns: i128| i64::try_from(ns.div_euclid(NANOS)).ok();
        let from = from.and_then(|ns| seconds(ns + NANOS - 1));
        let to = to.and_then(seconds);
        Ok(Filters {
            status,
            email,
            from,
            to,
        })
    }

    /// A digest of the normalised filters, bound into cursors so a cursor only continues the
    /// listing it came from.
    pub fn digest(&self) -> [u8; 32] {
        let canonical = serde_json::json!([
            self.status.map(StatusFilter::as_str),
            self.email,
            self.from,
            self.to
        ]);
        Sha256::digest(canonical.to_string().as_bytes()).into()
    }

    /// The same filters as the domain reads them (store query, residual, export jobs).
    pub fn list(&self) -> ListFilters {
        ListFilters {
            status: self.status,
            email: self.email.clone(),
            from: self.from,
            to: self.to,
        }
    }
}

/// An RFC 3339 bound in Unix nanoseconds.
fn timestamp(name: &str, value: &str) -> Result<i128, ApiError> {
    parse_rfc3339_nanos(value).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_timestamp",
            format!("`{name}` must be an RFC 3339 timestamp, e.g. 2026-05-08T08:00:00Z"),
        )
    })
}

/// `limit`: 1–100, default 25.
pub fn parse_limit(params: &Params) -> Result<usize, ApiError> {
    match params.get("limit") {
        None => Ok(DEFAULT_LIMIT),
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request("invalid_limit", "limit must be an integer from 1 to 100")
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(pairs: &[(&str, &str)]) -> Result<Filters, ApiError> {
        let map = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Filters::parse(&Params(map))
    }

    #[test]
    fn given_fractional_bounds_when_parsed_then_whole_seconds_inside_them() {
        // GIVEN `from` and `to` half-way through a second (20 s past the minute is 1778227220)
        let f = parsed(&[
            ("from", "2026-05-08T08:00:20.5Z"),
            ("to", "2026-05-08T08:00:40.25Z"),
        ])
        .unwrap();
        // THEN an order created at :20 is before `from`, one at :40 is not after `to`
        assert_eq!(f.from, Some(1_778_227_221));
        assert_eq!(f.to, Some(1_778_227_240));
    }

    #[test]
    fn given_whole_second_bounds_when_parsed_then_they_are_kept() {
        let f = parsed(&[
            ("from", "2026-05-08T08:00:20Z"),
            ("to", "2026-05-08T08:00:20.000Z"),
        ])
        .unwrap();
        assert_eq!((f.from, f.to), (Some(1_778_227_220), Some(1_778_227_220)));
    }

    #[test]
    fn given_a_range_inside_one_second_when_parsed_then_empty_not_refused() {
        // GIVEN from ≤ to as written, both inside second :20
        let f = parsed(&[
            ("from", "2026-05-08T08:00:20.1Z"),
            ("to", "2026-05-08T08:00:20.9Z"),
        ])
        .unwrap();
        // THEN no whole second lies inside: the store is asked for an empty range
        assert!(f.from > f.to);
        // AND a reversed range is still a 400
        assert!(parsed(&[
            ("from", "2026-05-08T08:00:20.9Z"),
            ("to", "2026-05-08T08:00:20.1Z"),
        ])
        .is_err());
    }
}
