//! The one fake of Stripe's API every test uses: the dispute, file, refund, account and Events
//! APIs our code calls, checking requests the way Stripe does (the contract's sections 9, 10 and
//! 12, and the backfill's and reconcile's reads):
//!
//! - the secret key (`Authorization: Bearer`), else `401`;
//! - the `Stripe-Account` header: objects live on one account; another account's dispute or file
//!   is a `404`/`400` `resource_missing`, an unknown account a `403`;
//! - the form parameters of `POST /v1/disputes/{dispute}` and `…/close`: only those of Stripe's
//!   published request definitions (`tests/fixtures/stripe/official/disputes_params.json`, the
//!   slice of the `stripe` npm package's `DisputeUpdateParams` / `DisputeCloseParams`, with its
//!   API version), nested as Stripe's form encoding nests them (`evidence[enhanced_evidence]
//!   [visa_compliance][fee_acknowledged]`), booleans `true`/`false`, enums by their values;
//!   else `400 parameter_unknown` / `parameter_invalid_…`; `evidence[…]` keys also among
//!   those of Stripe's published dispute object (`shared/fixtures/stripe/official/dispute.json`);
//!   file fields must name a file uploaded on the same account with `purpose=dispute_evidence`;
//! - a dispute whose deadline has passed refuses evidence (`past_due`: see
//!   [`FakeStripe::set_past_due`]), as Stripe refuses a response after `due_by`;
//! - `POST /v1/disputes/{dispute}/close` closes an open dispute as lost (accepted);
//! - Stripe's limits (20,000 characters a text field, 150,000 in all);
//! - `Idempotency-Key`: the first answer of a key is replayed (`Idempotent-Replayed: true`), 5xx
//!   included, and a key reused with other parameters is a `400 idempotency_error`; validation
//!   errors and 429s are not stored, as Stripe does;
//! - a closed or already submitted dispute refuses updates;
//! - errors in Stripe's shape: `{"error": {"type", "code", "message", "param"}}`.
//!
//! `POST /v1/refunds` (an early fraud warning refunded by the seller's rule, contract section
//! 12) checks its form against Stripe's `RefundCreateParams`
//! (`tests/fixtures/stripe/official/refunds_params.json`), wants one of `charge` /
//! `payment_intent` (`400 parameter_missing`), refunds a charge of the account it acts as
//! ([`FakeStripe::add_charge`]; another account's or an unknown one is `404 resource_missing`),
//! and refuses more than is left (`charge_already_refunded`, `amount_too_large`), all through the
//! same envelope (key, account, idempotency, scripted failures); [`FakeStripe::refunds`] lists
//! the refunds it created, replays not counted.
//!
//! `GET /v1/events` (the backfill) lists the account's events with Stripe's list envelope and
//! cursors, and `GET /v1/{disputes,refunds,payment_intents}/{id}` (reconcile) answers an object
//! in its latest state, only as its own account ([`FakeStripe::with_events`],
//! [`FakeStripe::set_object`]). Every call's `Stripe-Version`, when sent, must be the one the
//! fake renders ([`FAKE_STRIPE_VERSION`], the one our clients pin), else `400`.
//!
//! Failures can be scripted (`fail_next`) to play an outage or rate limiting.
//!
//! `GET /v1/account` (the store's name and support address, contract section 10) answers the
//! account the request acts as: the `Stripe-Account` header's, or the platform's own without
//! it; an unknown account is the same `403 account_invalid` as for any other call. Its
//! `business_profile` is what [`FakeStripe::set_business_profile`] gave (all fields `null` by
//! default, as for a new account), every other field as in Stripe's published example. These
//! reads are listed by [`FakeStripe::account_reads`], not by [`FakeStripe::seen`].

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

/// The platform's secret key the fake accepts.
pub const FAKE_STRIPE_KEY: &str = "sk_test_leenkies_fake_platform_key";

/// Evidence fields whose value is a file id.
const FILE_FIELDS: [&str; 9] = [
    "cancellation_policy",
    "customer_communication",
    "customer_signature",
    "duplicate_charge_documentation",
    "receipt",
    "refund_policy",
    "service_documentation",
    "shipping_documentation",
    "uncategorized_file",
];

/// One request as the fake saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    pub path: String,
    /// The `Stripe-Account` header, if any.
    pub account: Option<String>,
    pub idempotency_key: Option<String>,
    /// The `Stripe-Version` header, if any.
    pub version: Option<String>,
    /// The query string's parameters (the list calls' cursors and filters).
    pub query: Vec<(String, String)>,
    pub status: u16,
    pub replayed: bool,
}

impl SeenRequest {
    /// The query parameter `name`, if the request had it.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The API version the fake renders objects in: the one async-stripe 1.0.0-rc.10 sends on every
/// call (our clients pin it). A request naming another version is refused, as Stripe refuses a
/// version it does not know; a request naming none gets the account's default (this one).
pub const FAKE_STRIPE_VERSION: &str = "2026-09-30.endive";

/// A dispute on one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeDispute {
    pub status: String,
    pub evidence: BTreeMap<String, String>,
    pub submission_count: u32,
    /// Accepted updates (drafts and submissions), replays not counted.
    pub updates: u32,
}

/// A charge on one account, as far as refunds care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FakeCharge {
    amount: i64,
    refunded: i64,
}

/// A refund the fake created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeRefund {
    pub id: String,
    pub account: String,
    pub charge: String,
    pub amount: i64,
    pub reason: Option<String>,
    pub idempotency_key: Option<String>,
}

/// An uploaded file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeFile {
    pub id: String,
    pub account: String,
    pub purpose: String,
    pub bytes: Vec<u8>,
}

#[derive(Default)]
struct Inner {
    evidence_keys: BTreeSet<String>,
    /// Stripe's request definitions of the two dispute calls (see the module docs).
    params: Value,
    /// Disputes whose deadline has passed: (account, id).
    past_due: BTreeSet<(String, String)>,
    /// Accepted closes, replays not counted: (account, id).
    closes: Vec<(String, String)>,
    accounts: BTreeSet<String>,
    disputes: BTreeMap<(String, String), FakeDispute>,
    files: Vec<FakeFile>,
    /// (account, key) → (fingerprint, status, body)
    idempotency: BTreeMap<(String, String), (String, u16, Value)>,
    scripted: VecDeque<u16>,
    seen: Vec<SeenRequest>,
    /// account (`platform` for the platform's own) → its `business_profile`
    business_profiles: BTreeMap<String, Value>,
    /// account → its `email` when set by [`FakeStripe::set_account_email`] (`null` allowed).
    account_emails: BTreeMap<String, Value>,
    /// Stripe's `RefundCreateParams` (see the module docs).
    refund_params: Value,
    /// (account, charge id) → the charge's amount and what is refunded of it.
    charges: BTreeMap<(String, String), FakeCharge>,
    refunds: Vec<FakeRefund>,
    /// Events (`GET /v1/events`), with their position in the feed (the tie-break within one
    /// second), and objects' current state by id (`GET /v1/{disputes,refunds,payment_intents}/{id}`)
    /// with their account.
    events: Vec<(usize, Value)>,
    objects: BTreeMap<String, (String, Value)>,
    /// `GET /v1/account` requests, kept apart from `seen` (the dispute and file calls) so that a
    /// test of evidence filing is not disturbed by the delivery email reading the store's name.
    account_reads: Vec<SeenRequest>,
}

/// A running fake: point `STRIPE_API_BASE` and `STRIPE_FILES_BASE` at [`FakeStripe::base`].
#[derive(Clone)]
pub struct FakeStripe {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

type Answer = (u16, Value);

fn error(
    status: u16,
    kind: &str,
    code: Option<&str>,
    message: String,
    param: Option<&str>,
) -> Answer {
    let mut e = json!({"type": kind, "message": message});
    if let Some(c) = code {
        e["code"] = json!(c);
    }
    if let Some(p) = param {
        e["param"] = json!(p);
    }
    (status, json!({"error": e}))
}

fn official_params() -> Value {
    official("disputes_params.json")
}

/// One of the request definitions in `tests/fixtures/stripe/official/`.
fn official(name: &str) -> Value {
    let path = crate::stripe::own_fixtures().join("official").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Checks one form parameter (`a[b][c]`, its value) against Stripe's definition `schema`:
/// `None` when Stripe accepts it, else Stripe's refusal.
pub fn check_param(schema: &Value, name: &str, value: &str) -> Option<Answer> {
    let unknown = || {
        Some(error(
            400,
            "invalid_request_error",
            Some("parameter_unknown"),
            format!("Received unknown parameter: {name}"),
            Some(name),
        ))
    };
    let (head, rest) = match name.find('[') {
        Some(i) => (&name[..i], &name[i..]),
        None => (name, ""),
    };
    let mut segments = vec![head.to_owned()];
    let mut rest = rest;
    while let Some(stripped) = rest.strip_prefix('[') {
        let Some(end) = stripped.find(']') else {
            return unknown();
        };
        segments.push(stripped[..end].to_owned());
        rest = &stripped[end + 1..];
    }
    if !rest.is_empty() {
        return unknown();
    }
    let mut node = schema;
    for segment in &segments {
        if let Some(fields) = node.get("object") {
            match fields.get(segment) {
                Some(next) => node = next,
                None => return unknown(),
            }
        } else if let Some(items) = node.get("array") {
            if !(segment.is_empty() || segment.bytes().all(|b| b.is_ascii_digit())) {
                return unknown();
            }
            node = items;
        } else if node == "metadata" {
            return None;
        } else {
            return unknown();
        }
    }
    let invalid = |what: &str| {
        Some(error(
            400,
            "invalid_request_error",
            Some(what),
            format!("Invalid value for {name}: {value}"),
            Some(name),
        ))
    };
    if node == "boolean" && !matches!(value, "true" | "false") {
        return invalid("parameter_invalid_boolean");
    }
    if node == "integer" && value.parse::<i64>().is_err() {
        return invalid("parameter_invalid_integer");
    }
    if let Some(values) = node.get("enum").and_then(Value::as_array) {
        let open = node.get("open").and_then(Value::as_bool).unwrap_or(false);
        if !open && !values.iter().any(|v| v == value) {
            return invalid("parameter_invalid_string");
        }
    }
    if node.get("object").is_some() || node.get("array").is_some() {
        // An object or a list sent as one value: Stripe wants its fields.
        return invalid("parameter_invalid_object");
    }
    None
}

fn official_evidence_keys() -> BTreeSet<String> {
    let path = crate::stripe::shared_fixtures().join("official/dispute.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let dispute: Value = serde_json::from_str(&text).expect("official dispute.json");
    dispute["evidence"]
        .as_object()
        .expect("evidence object")
        .keys()
        .cloned()
        .collect()
}

impl FakeStripe {
    /// Starts on a free loopback port; `accounts` are the connected accounts that exist.
    pub async fn start(accounts: &[&str]) -> FakeStripe {
        let inner = Arc::new(Mutex::new(Inner {
            evidence_keys: official_evidence_keys(),
            params: official_params(),
            refund_params: official("refunds_params.json"),
            accounts: accounts.iter().map(|a| a.to_string()).collect(),
            ..Default::default()
        }));
        let app = Router::new()
            .route("/v1/files", post(files))
            .route(
                "/v1/disputes/{id}",
                post(update_dispute).get(|s, h, p, q| retrieve(s, h, "disputes", p, q)),
            )
            .route(
                "/v1/refunds/{id}",
                axum::routing::get(|s, h, p, q| retrieve(s, h, "refunds", p, q)),
            )
            .route(
                "/v1/payment_intents/{id}",
                axum::routing::get(|s, h, p, q| retrieve(s, h, "payment_intents", p, q)),
            )
            .route("/v1/events", axum::routing::get(list_events))
            .route("/v1/disputes/{id}/close", post(close_dispute))
            .route("/v1/account", axum::routing::get(retrieve_account))
            .route("/v1/refunds", post(create_refund))
            .fallback(|| async {
                let (s, b) = error(
                    404,
                    "invalid_request_error",
                    None,
                    "Unrecognized request URL.".into(),
                    None,
                );
                (StatusCode::from_u16(s).unwrap(), axum::Json(b))
            })
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeStripe {
            base: format!("http://{addr}"),
            inner,
        }
    }

    /// A fake whose Events API holds `events` (any order; their accounts exist), each event's
    /// object retrievable as its account in its latest state (see [`FakeStripe::set_object`]).
    pub async fn with_events(events: &[Value]) -> FakeStripe {
        let accounts: Vec<String> = events
            .iter()
            .filter_map(|e| e["account"].as_str().map(str::to_owned))
            .collect();
        let refs: Vec<&str> = accounts.iter().map(String::as_str).collect();
        let fake = FakeStripe::start(&refs).await;
        {
            let mut inner = fake.inner.lock().unwrap();
            for (i, e) in events.iter().enumerate() {
                inner.events.push((i, e.clone()));
            }
        }
        for e in events {
            fake.set_object(e["account"].as_str(), e["data"]["object"].clone());
        }
        fake
    }

    /// The current state of an object on `account` (`None`: the platform's): a later state
    /// (by how far its status got) replaces an earlier one, whatever order they are given in.
    pub fn set_object(&self, account: Option<&str>, object: Value) {
        let id = object["id"].as_str().unwrap_or_default().to_owned();
        let account = account.unwrap_or("platform").to_owned();
        let mut inner = self.inner.lock().unwrap();
        let newer = inner
            .objects
            .get(&id)
            .is_none_or(|(_, old)| status_rank(old) <= status_rank(&object));
        if newer {
            inner.objects.insert(id, (account, object));
        }
    }

    /// Forgets the requests seen so far (to count what one step sends).
    pub fn clear_seen(&self) {
        self.inner.lock().unwrap().seen.clear();
    }

    /// A dispute on `account` (`platform`: the platform's own account).
    pub fn add_dispute(&self, account: &str, id: &str, status: &str) {
        self.inner.lock().unwrap().disputes.insert(
            (account.into(), id.into()),
            FakeDispute {
                status: status.into(),
                evidence: BTreeMap::new(),
                submission_count: 0,
                updates: 0,
            },
        );
    }

    /// A charge of `amount` on `account` (`platform`: the platform's own), nothing refunded.
    pub fn add_charge(&self, account: &str, charge_id: &str, amount: i64) {
        self.inner.lock().unwrap().charges.insert(
            (account.into(), charge_id.into()),
            FakeCharge {
                amount,
                refunded: 0,
            },
        );
    }

    /// The refunds created, in order, replays not counted.
    pub fn refunds(&self) -> Vec<FakeRefund> {
        self.inner.lock().unwrap().refunds.clone()
    }

    /// The dispute's deadline has passed: Stripe refuses evidence for it from now on.
    pub fn set_past_due(&self, account: &str, id: &str) {
        self.inner
            .lock()
            .unwrap()
            .past_due
            .insert((account.to_owned(), id.to_owned()));
    }

    /// The closes (accepts) Stripe applied, replays not counted: (account, dispute id).
    pub fn closes(&self) -> Vec<(String, String)> {
        self.inner.lock().unwrap().closes.clone()
    }

    /// The next `n` requests that pass authentication answer `status` (429: before idempotency,
    /// not stored; 5xx: stored under the request's key, as Stripe stores a 500).
    pub fn fail_next(&self, status: u16, n: usize) {
        let mut inner = self.inner.lock().unwrap();
        inner.scripted.extend(std::iter::repeat_n(status, n));
    }

    pub fn seen(&self) -> Vec<SeenRequest> {
        self.inner.lock().unwrap().seen.clone()
    }

    pub fn dispute(&self, account: &str, id: &str) -> Option<FakeDispute> {
        self.inner
            .lock()
            .unwrap()
            .disputes
            .get(&(account.to_owned(), id.to_owned()))
            .cloned()
    }

    pub fn files(&self) -> Vec<FakeFile> {
        self.inner.lock().unwrap().files.clone()
    }

    /// The `business_profile` of `account` (`platform`: the platform's own account); fields
    /// not given are `null`.
    pub fn set_business_profile(&self, account: &str, profile: Value) {
        let mut full = json!({
            "annual_revenue": null, "estimated_worker_count": null, "mcc": null, "name": null,
            "product_description": null, "support_address": null, "support_email": null,
            "support_phone": null, "support_url": null, "url": null
        });
        if let (Some(full), Some(given)) = (full.as_object_mut(), profile.as_object()) {
            full.extend(given.clone());
        }
        self.inner
            .lock()
            .unwrap()
            .business_profiles
            .insert(account.to_owned(), full);
    }

    /// The account's own `email` (`None`: `null`, as Stripe has it for an account without
    /// one); `owner@example.com` when never set.
    pub fn set_account_email(&self, account: &str, email: Option<&str>) {
        self.inner
            .lock()
            .unwrap()
            .account_emails
            .insert(account.to_owned(), email.map_or(Value::Null, |e| json!(e)));
    }

    /// The `GET /v1/account` requests received (answered or refused), in order; they are not
    /// in [`FakeStripe::seen`].
    pub fn account_reads(&self) -> Vec<SeenRequest> {
        self.inner.lock().unwrap().account_reads.clone()
    }
}

/// Authentication and account: the account the request acts on, or Stripe's refusal.
fn authenticate(inner: &Inner, headers: &HeaderMap) -> Result<String, Answer> {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    if auth != Some(&format!("Bearer {FAKE_STRIPE_KEY}")) {
        return Err(error(
            401,
            "invalid_request_error",
            None,
            "Invalid API Key provided: sk_test_****".into(),
            None,
        ));
    }
    match headers.get("stripe-account").and_then(|v| v.to_str().ok()) {
        None => Ok("platform".into()),
        Some(a) if inner.accounts.contains(a) => Ok(a.to_owned()),
        Some(a) => Err(error(
            403,
            "invalid_request_error",
            Some("account_invalid"),
            format!("The provided key 'sk_test_****' does not have access to account '{a}' (or that account does not exist). Application access may have been revoked."),
            None,
        )),
    }
}

/// Runs one request through Stripe's envelope: auth, scripted failures, idempotency.
fn envelope(
    inner: &mut Inner,
    path: String,
    headers: &HeaderMap,
    fingerprint: String,
    execute: impl FnOnce(&mut Inner, &str) -> (Answer, bool),
) -> Response {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let key = header("idempotency-key");
    let version = header("stripe-version");
    let mut seen = SeenRequest {
        path,
        account: header("stripe-account"),
        idempotency_key: key.clone(),
        version: version.clone(),
        query: Vec::new(),
        status: 0,
        replayed: false,
    };
    let answer = (|| {
        let account = match authenticate(inner, headers) {
            Ok(a) => a,
            Err(e) => return e,
        };
        if version.as_deref().is_some_and(|v| v != FAKE_STRIPE_VERSION) {
            return error(
                400,
                "invalid_request_error",
                None,
                format!(
                    "Invalid Stripe API version: {}. This fake renders {FAKE_STRIPE_VERSION}.",
                    version.unwrap_or_default()
                ),
                None,
            );
        }
        if inner.scripted.front() == Some(&429) {
            inner.scripted.pop_front();
            return error(
                429,
                "invalid_request_error",
                Some("rate_limit"),
                "Too many requests hit the API too quickly.".into(),
                None,
            );
        }
        if let Some(k) = &key {
            if let Some((fp, status, body)) = inner.idempotency.get(&(account.clone(), k.clone())) {
                if *fp == fingerprint {
                    seen.replayed = true;
                    return (*status, body.clone());
                }
                return error(400, "idempotency_error", None, format!("Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{k}' if you meant to execute a different request."), None);
            }
        }
        let (answer, store) = match inner.scripted.pop_front() {
            Some(status) => (
                error(
                    status,
                    "api_error",
                    None,
                    "An unknown error occurred".into(),
                    None,
                ),
                true,
            ),
            None => execute(inner, &account),
        };
        if let (Some(k), true) = (&key, store) {
            inner.idempotency.insert(
                (account, k.clone()),
                (fingerprint, answer.0, answer.1.clone()),
            );
        }
        answer
    })();
    seen.status = answer.0;
    let replayed = seen.replayed;
    inner.seen.push(seen);
    let mut response = (
        StatusCode::from_u16(answer.0).unwrap(),
        axum::Json(answer.1),
    )
        .into_response();
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", "true".parse().unwrap());
    }
    response
}

/// The parts of a `multipart/form-data` body: (name, bytes).
fn multipart(headers: &HeaderMap, body: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
    let ct = headers.get("content-type")?.to_str().ok()?;
    let boundary = ct.split("boundary=").nth(1)?.trim_matches('"');
    let delimiter = format!("--{boundary}");
    let text = body;
    let mut parts = Vec::new();
    let mut rest = text;
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let start = find(rest, delimiter.as_bytes())?;
    rest = &rest[start + delimiter.len()..];
    loop {
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let head_end = find(rest, b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&rest[..head_end]).to_string();
        rest = &rest[head_end + 4..];
        let end = find(rest, format!("\r\n{delimiter}").as_bytes())?;
        let content = rest[..end].to_vec();
        rest = &rest[end + 2 + delimiter.len()..];
        let name = head
            .split("name=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or_default()
            .to_owned();
        parts.push((name, content));
    }
}

async fn files(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = inner.lock().unwrap();
    let parts = multipart(&headers, &body);
    let purpose = parts
        .as_ref()
        .and_then(|p| p.iter().find(|(n, _)| n == "purpose"))
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned());
    let file = parts
        .as_ref()
        .and_then(|p| p.iter().find(|(n, _)| n == "file"))
        .map(|(_, v)| v.clone());
    // Stripe compares parameters, not bytes: the multipart boundary differs on every attempt.
    let fingerprint = format!(
        "{purpose:?}:{:?}",
        file.as_ref()
            .map(|f| (f.len(), f.iter().map(|b| *b as u64).sum::<u64>()))
    );
    envelope(
        &mut inner,
        "/v1/files".into(),
        &headers,
        fingerprint,
        move |inner, account| {
            let Some(purpose) = purpose else {
                return (
                    error(
                        400,
                        "invalid_request_error",
                        Some("parameter_missing"),
                        "Missing required param: purpose.".into(),
                        Some("purpose"),
                    ),
                    false,
                );
            };
            let Some(bytes) = file else {
                return (
                    error(
                        400,
                        "invalid_request_error",
                        Some("parameter_missing"),
                        "Missing required param: file.".into(),
                        Some("file"),
                    ),
                    false,
                );
            };
            if bytes.len() > 5 * 1024 * 1024 {
                return (
                    error(
                        400,
                        "invalid_request_error",
                        None,
                        "File size exceeds the 5 MB limit for dispute evidence.".into(),
                        Some("file"),
                    ),
                    false,
                );
            }
            let id = format!("file_fake{}", inner.files.len() + 1);
            let size = bytes.len();
            inner.files.push(FakeFile {
                id: id.clone(),
                account: account.to_owned(),
                purpose: purpose.clone(),
                bytes,
            });
            (
                (
                    200,
                    json!({"id": id, "object": "file", "purpose": purpose, "size": size, "type": "pdf", "filename": "receipt.pdf"}),
                ),
                true,
            )
        },
    )
}

async fn update_dispute(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = inner.lock().unwrap();
    let params: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let mut sorted = params.clone();
    sorted.sort();
    let fingerprint = format!("{id}:{sorted:?}");
    envelope(
        &mut inner,
        format!("/v1/disputes/{id}"),
        &headers,
        fingerprint,
        move |inner, account| {
            let schema = inner.params["update"].clone();
            let mut evidence = BTreeMap::new();
            let mut submit = true; // Stripe's default
            for (name, value) in &params {
                if let Some(refused) = check_param(&schema, name, value) {
                    return (refused, false);
                }
                if name == "submit" {
                    submit = value == "true";
                } else if let Some(field) = name
                    .strip_prefix("evidence[")
                    .and_then(|n| n.strip_suffix(']'))
                    .filter(|f| !f.contains('['))
                {
                    if !inner.evidence_keys.contains(field) {
                        return (
                            error(
                                400,
                                "invalid_request_error",
                                Some("parameter_unknown"),
                                format!("Received unknown parameter: {name}"),
                                Some(name),
                            ),
                            false,
                        );
                    }
                    evidence.insert(field.to_owned(), value.clone());
                } else if let Some(rest) = name.strip_prefix("evidence[enhanced_evidence]") {
                    // Kept under its form name relative to `evidence`
                    // (`enhanced_evidence[visa_compelling_evidence_3][…]`): the tests read the
                    // acknowledgement and the CE 3.0 evidence back.
                    evidence.insert(format!("enhanced_evidence{rest}"), value.clone());
                }
            }
            let mut total = 0;
            for (field, value) in &evidence {
                let chars = value.chars().count();
                total += chars;
                if FILE_FIELDS.contains(&field.as_str()) {
                    let ok = inner.files.iter().any(|f| {
                        f.id == *value && f.account == account && f.purpose == "dispute_evidence"
                    });
                    if !ok {
                        let param = format!("evidence[{field}]");
                        return (
                            error(
                                400,
                                "invalid_request_error",
                                Some("resource_missing"),
                                format!("No such file upload: '{value}'"),
                                Some(&param),
                            ),
                            false,
                        );
                    }
                } else if chars > 20_000 {
                    let param = format!("evidence[{field}]");
                    return (
                        error(
                            400,
                            "invalid_request_error",
                            None,
                            format!("evidence[{field}] is limited to 20000 characters."),
                            Some(&param),
                        ),
                        false,
                    );
                }
            }
            if total > 150_000 {
                return (error(400, "invalid_request_error", None, "The combined character count of all evidence fields is limited to 150,000.".into(), Some("evidence")), false);
            }
            if !inner
                .disputes
                .contains_key(&(account.to_owned(), id.clone()))
            {
                return (
                    error(
                        404,
                        "invalid_request_error",
                        Some("resource_missing"),
                        format!("No such dispute: '{id}'"),
                        Some("dispute"),
                    ),
                    false,
                );
            }
            if inner.past_due.contains(&(account.to_owned(), id.clone())) {
                return (
                    error(
                        400,
                        "invalid_request_error",
                        None,
                        "The dispute's evidence due date has passed: a response can no longer be submitted.".into(),
                        None,
                    ),
                    true,
                );
            }
            let Some(dispute) = inner.disputes.get_mut(&(account.to_owned(), id.clone())) else {
                return ((500, json!({})), false);
            };
            match dispute.status.as_str() {
                "won" | "lost" | "prevented" | "warning_closed" => {
                    return (
                        error(
                            400,
                            "invalid_request_error",
                            None,
                            "This dispute is already closed.".into(),
                            None,
                        ),
                        true,
                    );
                }
                "under_review" | "warning_under_review" => {
                    return (error(400, "invalid_request_error", None, "This dispute's evidence has already been submitted and can no longer be updated.".into(), None), true);
                }
                _ => {}
            }
            dispute.evidence.extend(evidence);
            dispute.updates += 1;
            if submit {
                dispute.submission_count += 1;
                dispute.status = if dispute.status.starts_with("warning_") {
                    "warning_under_review"
                } else {
                    "under_review"
                }
                .into();
            }
            let body = json!({
                "id": id, "object": "dispute", "status": dispute.status,
                "evidence": dispute.evidence,
                "evidence_details": {"submission_count": dispute.submission_count, "has_evidence": true},
            });
            ((200, body), true)
        },
    )
}

/// `POST /v1/disputes/{id}/close`: the seller accepts the dispute (it becomes `lost`, or
/// `warning_closed` for an inquiry); a closed dispute cannot be closed again.
async fn close_dispute(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = inner.lock().unwrap();
    let params: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let mut sorted = params.clone();
    sorted.sort();
    let fingerprint = format!("close:{id}:{sorted:?}");
    envelope(
        &mut inner,
        format!("/v1/disputes/{id}/close"),
        &headers,
        fingerprint,
        move |inner, account| {
            let schema = inner.params["close"].clone();
            for (name, value) in &params {
                if let Some(refused) = check_param(&schema, name, value) {
                    return (refused, false);
                }
            }
            let key = (account.to_owned(), id.clone());
            let Some(dispute) = inner.disputes.get_mut(&key) else {
                return (
                    error(
                        404,
                        "invalid_request_error",
                        Some("resource_missing"),
                        format!("No such dispute: '{id}'"),
                        Some("dispute"),
                    ),
                    false,
                );
            };
            if matches!(
                dispute.status.as_str(),
                "won" | "lost" | "prevented" | "warning_closed"
            ) {
                return (
                    error(
                        400,
                        "invalid_request_error",
                        None,
                        "This dispute is already closed.".into(),
                        None,
                    ),
                    true,
                );
            }
            dispute.status = if dispute.status.starts_with("warning_") {
                "warning_closed"
            } else {
                "lost"
            }
            .into();
            let body = json!({"id": id, "object": "dispute", "status": dispute.status});
            inner.closes.push(key);
            ((200, body), true)
        },
    )
}

/// `GET /v1/account`: the account the request acts as, in Stripe's shape.
async fn retrieve_account(State(inner): State<Arc<Mutex<Inner>>>, headers: HeaderMap) -> Response {
    let mut inner = inner.lock().unwrap();
    let response = envelope(
        &mut inner,
        "/v1/account".into(),
        &headers,
        String::new(),
        |inner, account| {
            let id = if account == "platform" {
                "acct_1Leenkies0Platform"
            } else {
                account
            };
            let profile = inner
                .business_profiles
                .get(account)
                .cloned()
                .unwrap_or_else(|| json!({"name": null, "support_email": null, "url": null}));
            let body = json!({
                "id": id,
                "object": "account",
                "business_profile": profile,
                "business_type": null,
                "capabilities": {},
                "charges_enabled": true,
                "country": "US",
                "created": 1_695_830_751,
                "default_currency": "usd",
                "details_submitted": true,
                "email": inner
                    .account_emails
                    .get(account)
                    .cloned()
                    .unwrap_or_else(|| json!("owner@example.com")),
                "metadata": {},
                "payouts_enabled": true,
                "settings": {"dashboard": {"display_name": null, "timezone": "Etc/UTC"}},
                "type": "standard"
            });
            // Reads are not stored under an idempotency key.
            ((200, body), false)
        },
    );
    if let Some(read) = inner.seen.pop() {
        inner.account_reads.push(read);
    }
    response
}

/// `POST /v1/refunds`: a refund of a charge of the account the request acts as.
async fn create_refund(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = inner.lock().unwrap();
    let params: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let mut sorted = params.clone();
    sorted.sort();
    let fingerprint = format!("refund:{sorted:?}");
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    envelope(
        &mut inner,
        "/v1/refunds".into(),
        &headers,
        fingerprint,
        move |inner, account| {
            let schema = inner.refund_params["create"].clone();
            for (name, value) in &params {
                if let Some(refused) = check_param(&schema, name, value) {
                    return (refused, false);
                }
            }
            let param = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
            let Some(charge_id) = param("charge") else {
                let message = if param("payment_intent").is_some() {
                    "This fake refunds by charge only."
                } else {
                    "One of the following params should be provided for this request: payment_intent or charge."
                };
                return (
                    error(
                        400,
                        "invalid_request_error",
                        Some("parameter_missing"),
                        message.into(),
                        None,
                    ),
                    false,
                );
            };
            let Some(charge) = inner
                .charges
                .get_mut(&(account.to_owned(), charge_id.clone()))
            else {
                return (
                    error(
                        404,
                        "invalid_request_error",
                        Some("resource_missing"),
                        format!("No such charge: '{charge_id}'"),
                        Some("charge"),
                    ),
                    false,
                );
            };
            let left = charge.amount - charge.refunded;
            if left <= 0 {
                return (
                    error(
                        400,
                        "invalid_request_error",
                        Some("charge_already_refunded"),
                        format!("Charge {charge_id} has already been refunded."),
                        None,
                    ),
                    true,
                );
            }
            let amount = match param("amount").map(|a| a.parse::<i64>()) {
                Some(Ok(a)) if a > left || a <= 0 => {
                    return (
                        error(
                            400,
                            "invalid_request_error",
                            Some("amount_too_large"),
                            format!("Refund amount ({a}) is greater than unrefunded amount on charge ({left})"),
                            Some("amount"),
                        ),
                        true,
                    )
                }
                Some(Ok(a)) => a,
                _ => left,
            };
            charge.refunded += amount;
            let id = format!("re_fake{:04}", inner.refunds.len() + 1);
            let reason = param("reason");
            inner.refunds.push(FakeRefund {
                id: id.clone(),
                account: account.to_owned(),
                charge: charge_id.clone(),
                amount,
                reason: reason.clone(),
                idempotency_key: key.clone(),
            });
            let body = json!({
                "id": id, "object": "refund", "amount": amount, "charge": charge_id,
                "currency": "usd", "reason": reason, "status": "succeeded",
                "created": 1_781_524_800, "metadata": {}
            });
            ((200, body), true)
        },
    )
}

/// Later states of one object win: by how far its status got.
fn status_rank(object: &Value) -> i64 {
    match object["status"].as_str().unwrap_or_default() {
        "won" | "lost" | "failed" | "canceled" | "succeeded" => 3,
        "under_review" => 2,
        _ => 1,
    }
}

/// `GET /v1/events`: the account's events, newest first by `(created, position in the feed)`,
/// with Stripe's list envelope and cursors: `starting_after=X` the events just older than X,
/// `ending_before=X` the `limit` events just newer than X (closest to X first in time, still
/// newest first in the page); `types[]` (at most 20), `created[gte]`, `created[lt]`, `limit`
/// (1 to 100, default 10).
async fn list_events(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<Vec<(String, String)>>,
) -> Response {
    let mut inner = inner.lock().unwrap();
    let q = query.clone();
    let response = envelope(
        &mut inner,
        "/v1/events".into(),
        &headers,
        String::new(),
        move |inner, account| (events_page(inner, account, &q), false),
    );
    if let Some(last) = inner.seen.last_mut() {
        last.query = query;
    }
    response
}

fn events_page(inner: &Inner, account: &str, query: &[(String, String)]) -> Answer {
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
        return error(
            400,
            "invalid_request_error",
            Some("parameter_invalid_array"),
            "types: at most 20 values".into(),
            Some("types"),
        );
    }
    let limit = num("limit").unwrap_or(10).clamp(1, 100) as usize;
    let key = |(pos, e): &(usize, Value)| (e["created"].as_i64().unwrap_or(0), *pos);
    let account_of = |e: &Value| e["account"].as_str().unwrap_or("platform").to_owned();
    let mine: Vec<&(usize, Value)> = inner
        .events
        .iter()
        .filter(|(_, e)| account_of(e) == account)
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
    let no_such = |id: &str| {
        error(
            400,
            "invalid_request_error",
            Some("resource_missing"),
            format!("No such event: '{id}'"),
            None,
        )
    };
    let (page, has_more): (Vec<&(usize, Value)>, bool) =
        if let Some(after) = param("starting_after") {
            let Some(k) = cursor_key(after.clone()) else {
                return no_such(&after);
            };
            let older: Vec<_> = list.into_iter().filter(|e| key(e) < k).collect();
            (
                older.iter().take(limit).copied().collect(),
                older.len() > limit,
            )
        } else if let Some(before) = param("ending_before") {
            let Some(k) = cursor_key(before.clone()) else {
                return no_such(&before);
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
    (
        200,
        json!({
            "object": "list",
            "data": page.iter().map(|(_, e)| e.clone()).collect::<Vec<_>>(),
            "has_more": has_more,
            "url": "/v1/events",
        }),
    )
}

/// `GET /v1/{collection}/{id}`: the object in its latest state, only as its own account
/// (another account's object does not exist for this one: `404 resource_missing`).
async fn retrieve(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    collection: &'static str,
    Path(id): Path<String>,
    axum::extract::Query(query): axum::extract::Query<Vec<(String, String)>>,
) -> Response {
    let mut inner = inner.lock().unwrap();
    let expected = match collection {
        "disputes" => "dispute",
        "refunds" => "refund",
        _ => "payment_intent",
    };
    let path = format!("/v1/{collection}/{id}");
    let response = envelope(
        &mut inner,
        path,
        &headers,
        String::new(),
        |inner, account| {
            let answer = match inner.objects.get(&id) {
                Some((owner, o)) if owner == account && o["object"].as_str() == Some(expected) => {
                    (200, o.clone())
                }
                _ => error(
                    404,
                    "invalid_request_error",
                    Some("resource_missing"),
                    format!("No such {expected}: '{id}'"),
                    Some("id"),
                ),
            };
            (answer, false)
        },
    );
    if let Some(last) = inner.seen.last_mut() {
        last.query = query;
    }
    response
}
