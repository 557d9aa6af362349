//! A small fake of Stripe's API, served on 127.0.0.1 for the tests: `GET /v1/events` with Stripe's
//! list envelope and cursor semantics, and `GET /v1/{disputes,refunds,payment_intents}/{id}`.
//!
//! It checks what Stripe checks (a `Bearer sk_…` key; the `Stripe-Version` it renders objects in,
//! the client's `STRIPE_API_VERSION`; the `Stripe-Account` of a connected account it knows, and
//! objects only of that account), answers `429` to the very first call, and logs
//! every request so tests can assert which pages were read.
//!
//! Ordering: events are listed newest first by `(created, position in the feed)`.
//! `starting_after=X` gives the events just older than X; `ending_before=X` the `limit` events
//! just newer than X (closest to X first in time, still newest first in the page), with
//! `has_more` telling whether more remain in that direction.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use reconcile::stripe_api::STRIPE_API_VERSION;
use serde_json::{json, Value};

/// One request as the fake saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub path: String,
    pub account: Option<String>,
    /// The `Stripe-Version` the request asked for.
    pub version: Option<String>,
    pub query: Vec<(String, String)>,
    pub status: u16,
}

impl Logged {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Inner {
    /// Every event, with its position in the feed (the tie-break within one second).
    events: Vec<(usize, Value)>,
    /// Objects' current state by id, with their account.
    objects: BTreeMap<String, Value>,
    log: Vec<Logged>,
    rate_limit_first: bool,
}

#[derive(Clone, Default)]
pub struct FakeStripe {
    inner: Arc<Mutex<Inner>>,
}

pub const API_KEY: &str = "sk_test_fake_4eC39HqLyjWDarjtT1zdp7dc";

impl FakeStripe {
    /// A fake holding `events` (any order), answering 429 to its first call.
    pub fn new(events: &[Value]) -> Self {
        let fake = Self::default();
        {
            let mut inner = fake.lock();
            inner.rate_limit_first = true;
            for (i, e) in events.iter().enumerate() {
                inner.events.push((i, e.clone()));
            }
        }
        for e in events {
            fake.set_object(e["account"].as_str(), e["data"]["object"].clone());
        }
        fake
    }

    /// The current state of an object (the latest set wins).
    pub fn set_object(&self, account: Option<&str>, mut object: Value) {
        object["__account"] = json!(account);
        let id = object["id"].as_str().unwrap_or_default().to_owned();
        let mut inner = self.lock();
        let newer = match inner.objects.get(&id) {
            Some(old) => old["__rank"].as_i64() <= Some(rank_of(&object)),
            None => true,
        };
        if newer {
            object["__rank"] = json!(rank_of(&object));
            inner.objects.insert(id, object);
        }
    }

    pub fn log(&self) -> Vec<Logged> {
        self.lock().log.clone()
    }

    pub fn clear_log(&self) {
        self.lock().log.clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap()
    }

    /// Serves on 127.0.0.1:0; returns the base URL.
    pub async fn serve(&self) -> String {
        let app = Router::new()
            .route("/v1/events", get(list_events))
            .route("/v1/{collection}/{id}", get(retrieve))
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    }
}

/// Later states of one object win: by how far its status got, then by `created` of nothing else.
fn rank_of(object: &Value) -> i64 {
    match object["status"].as_str().unwrap_or_default() {
        "won" | "lost" | "failed" | "canceled" | "succeeded" => 3,
        "under_review" => 2,
        _ => 1,
    }
}

fn stripe_error(status: StatusCode, kind: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"type": kind, "message": message}})),
    )
        .into_response()
}

/// Common checks; records the request. `Err` is the answer to give instead.
fn admit(
    fake: &FakeStripe,
    path: String,
    headers: &HeaderMap,
    query: &[(String, String)],
) -> Result<Option<String>, Box<Response>> {
    let account = headers
        .get("stripe-account")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let auth_ok = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {API_KEY}"));
    let version = headers
        .get("stripe-version")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut inner = fake.lock();
    let known_account = account.as_ref().is_none_or(|a| {
        inner
            .events
            .iter()
            .any(|(_, e)| e["account"].as_str() == Some(a))
    });
    let (status, answer) = if inner.rate_limit_first {
        inner.rate_limit_first = false;
        (
            429,
            Some(stripe_error(
                StatusCode::TOO_MANY_REQUESTS,
                "invalid_request_error",
                "Too many requests",
            )),
        )
    } else if !auth_ok {
        (
            401,
            Some(stripe_error(
                StatusCode::UNAUTHORIZED,
                "invalid_request_error",
                "Invalid API Key",
            )),
        )
    } else if version.as_deref() != Some(STRIPE_API_VERSION) {
        // Stripe renders objects in the version asked for; this fake only knows one.
        (
            400,
            Some(stripe_error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "Invalid Stripe API version: this fake renders only the client's version",
            )),
        )
    } else if !known_account {
        (
            403,
            Some(stripe_error(
                StatusCode::FORBIDDEN,
                "invalid_request_error",
                "No such account",
            )),
        )
    } else {
        (200, None)
    };
    inner.log.push(Logged {
        path,
        account: account.clone(),
        version,
        query: query.to_vec(),
        status,
    });
    match answer {
        Some(r) => Err(Box::new(r)),
        None => Ok(account),
    }
}

async fn list_events(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let account = match admit(&fake, "/v1/events".into(), &headers, &query) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let num = |name: &str| param(name).and_then(|v| v.parse::<i64>().ok());
    let types: Vec<String> = query
        .iter()
        .filter(|(k, _)| k.starts_with("types["))
        .map(|(_, v)| v.clone())
        .collect();
    if types.len() > 20 {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "types: at most 20",
        );
    }
    let limit = num("limit").unwrap_or(10).clamp(1, 100) as usize;
    let inner = fake.lock();
    let key = |(pos, e): &(usize, Value)| (e["created"].as_i64().unwrap_or(0), *pos);
    let mine: Vec<&(usize, Value)> = inner
        .events
        .iter()
        .filter(|(_, e)| e["account"].as_str().map(str::to_owned) == account)
        .collect();
    let cursor_key = |id: String| {
        mine.iter()
            .find(|(_, e)| e["id"].as_str() == Some(&id))
            .map(|entry| key(entry))
    };
    let mut list: Vec<&(usize, Value)> = mine
        .iter()
        .copied()
        .filter(|(_, e)| types.is_empty() || types.iter().any(|t| e["type"].as_str() == Some(t)))
        .filter(|(_, e)| {
            num("created[gte]").is_none_or(|t| e["created"].as_i64().unwrap_or(0) >= t)
        })
        .filter(|(_, e)| num("created[lt]").is_none_or(|t| e["created"].as_i64().unwrap_or(0) < t))
        .collect();
    list.sort_by_key(|entry| std::cmp::Reverse(key(entry)));
    let (page, has_more): (Vec<&(usize, Value)>, bool) =
        if let Some(after) = param("starting_after") {
            let Some(k) = cursor_key(after) else {
                return stripe_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request_error",
                    "No such event",
                );
            };
            let older: Vec<_> = list.into_iter().filter(|e| key(e) < k).collect();
            (
                older.iter().take(limit).copied().collect(),
                older.len() > limit,
            )
        } else if let Some(before) = param("ending_before") {
            let Some(k) = cursor_key(before) else {
                return stripe_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request_error",
                    "No such event",
                );
            };
            let newer: Vec<_> = list.into_iter().filter(|e| key(e) > k).collect();
            let start = newer.len().saturating_sub(limit);
            (newer[start..].to_vec(), start > 0)
        } else {
            (
                list.iter().take(limit).copied().collect(),
                list.len() > limit,
            )
        };
    Json(json!({
        "object": "list",
        "data": page.iter().map(|(_, e)| e.clone()).collect::<Vec<_>>(),
        "has_more": has_more,
        "url": "/v1/events",
    }))
    .into_response()
}

async fn retrieve(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    Path((collection, id)): Path<(String, String)>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let account = match admit(&fake, format!("/v1/{collection}/{id}"), &headers, &query) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let expected = match collection.as_str() {
        "disputes" => "dispute",
        "refunds" => "refund",
        "payment_intents" => "payment_intent",
        _ => {
            return stripe_error(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                "Unrecognized request URL",
            )
        }
    };
    let inner = fake.lock();
    match inner.objects.get(&id) {
        Some(o)
            if o["object"].as_str() == Some(expected)
                && o["__account"].as_str().map(str::to_owned) == account =>
        {
            let mut o = o.clone();
            let map = o.as_object_mut().unwrap();
            map.remove("__account");
            map.remove("__rank");
            Json(o).into_response()
        }
        // Another account's object does not exist for this one.
        _ => stripe_error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "No such object",
        ),
    }
}
