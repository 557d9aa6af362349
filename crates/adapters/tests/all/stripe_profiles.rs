//! The store identity adapter against the fake Stripe API (contract section
//! 10): `GET /v1/account` as the seller (`Stripe-Account`), as the platform without it, cached,
//! one call for concurrent lookups, and every failure giving the default (or last known)
//! identity instead of an error.

use std::time::{Duration, Instant};

use leenkies_adapters::stripe::{ProfileSettings, StripeConfig, StripeProfiles};
use leenkies_domain::fulfillment::StoreIdentity;
use leenkies_domain::ports::StoreProfiles;
use leenkies_integration_tests::fake_stripe::{FakeStripe, FAKE_STRIPE_KEY};
use serde_json::json;

const SELLER: &str = "acct_1QHx4R8cKdV3nWpT";

fn config(base: &str, key: &str) -> StripeConfig {
    StripeConfig {
        api_key: key.into(),
        api_base: base.into(),
        files_base: base.into(),
    }
}

fn profiles(fake: &FakeStripe, settings: ProfileSettings) -> StripeProfiles {
    StripeProfiles::with_settings(&config(&fake.base, FAKE_STRIPE_KEY), settings).unwrap()
}

fn lumen() -> StoreIdentity {
    StoreIdentity {
        name: Some("Lumen Presets".into()),
        support_email: Some("help@lumen.example".into()),
    }
}

#[tokio::test]
async fn given_a_connected_account_when_read_then_its_name_and_support_email_as_that_account() {
    // GIVEN a seller whose business profile names the store and a support address
    let fake = FakeStripe::start(&[SELLER]).await;
    fake.set_business_profile(
        SELLER,
        json!({"name": "Lumen Presets", "support_email": "help@lumen.example"}),
    );
    fake.set_business_profile("platform", json!({"name": "Leenkies"}));
    let stripe = profiles(&fake, ProfileSettings::default());
    // WHEN its identity is asked for
    let identity = stripe.identity(SELLER).await;
    // THEN it is the seller's, read with the platform key as the seller
    assert_eq!(identity, lumen());
    let reads = fake.account_reads();
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].account.as_deref(), Some(SELLER));
    assert_eq!(reads[0].status, 200);
}

#[tokio::test]
async fn given_the_platform_seller_when_read_then_the_platforms_own_account_without_the_header() {
    // GIVEN the platform's own account with a name and no support address
    let fake = FakeStripe::start(&[SELLER]).await;
    fake.set_business_profile("platform", json!({"name": "Leenkies Demo Store"}));
    fake.set_business_profile(SELLER, json!({"name": "Not this one"}));
    let stripe = profiles(&fake, ProfileSettings::default());
    // WHEN the seller `platform` is asked for
    let identity = stripe.identity("platform").await;
    // THEN the platform's profile, asked for with no Stripe-Account header
    assert_eq!(identity.name.as_deref(), Some("Leenkies Demo Store"));
    assert_eq!(identity.support_email, None);
    let reads = fake.account_reads();
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].account, None);
}

#[tokio::test]
async fn given_a_read_identity_when_asked_again_then_no_second_call_and_concurrent_asks_share_one()
{
    // GIVEN a seller with a profile
    let fake = FakeStripe::start(&[SELLER, "acct_2Other"]).await;
    fake.set_business_profile(
        SELLER,
        json!({"name": "Lumen Presets", "support_email": "help@lumen.example"}),
    );
    let stripe = std::sync::Arc::new(profiles(&fake, ProfileSettings::default()));
    // WHEN ten emails ask at once, then three more later
    let mut asks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let stripe = stripe.clone();
        asks.spawn(async move { stripe.identity(SELLER).await });
    }
    let answers = asks.join_all().await;
    for _ in 0..3 {
        assert_eq!(stripe.identity(SELLER).await, lumen());
    }
    // THEN every answer is the profile, from a single call
    assert!(answers.iter().all(|a| *a == lumen()));
    assert_eq!(fake.account_reads().len(), 1);
    // AND another seller is its own entry (one more call, its own answer)
    assert_eq!(
        stripe.identity("acct_2Other").await,
        StoreIdentity::default()
    );
    assert_eq!(fake.account_reads().len(), 2);
}

#[tokio::test]
async fn given_an_expired_entry_when_asked_then_stripe_is_read_again() {
    // GIVEN answers that are never fresh, and a seller who renames the store
    let fake = FakeStripe::start(&[SELLER]).await;
    fake.set_business_profile(SELLER, json!({"name": "Old Name"}));
    let stripe = profiles(
        &fake,
        ProfileSettings {
            fresh_for: Duration::ZERO,
            ..ProfileSettings::default()
        },
    );
    assert_eq!(
        stripe.identity(SELLER).await.name.as_deref(),
        Some("Old Name")
    );
    fake.set_business_profile(SELLER, json!({"name": "New Name"}));
    // WHEN asked again THEN the new name, from a second call
    assert_eq!(
        stripe.identity(SELLER).await.name.as_deref(),
        Some("New Name")
    );
    assert_eq!(fake.account_reads().len(), 2);
}

#[tokio::test]
async fn given_stripe_failing_when_asked_then_the_default_identity_and_the_failure_is_remembered() {
    // GIVEN Stripe answering 500, then an unknown account, then a wrong key
    let fake = FakeStripe::start(&[SELLER]).await;
    fake.set_business_profile(SELLER, json!({"name": "Lumen Presets"}));
    fake.fail_next(500, 1);
    let stripe = profiles(&fake, ProfileSettings::default());
    // WHEN asked twice
    let first = stripe.identity(SELLER).await;
    let second = stripe.identity(SELLER).await;
    // THEN the default both times, and only one call: the failure is cached for a while
    assert_eq!(first, StoreIdentity::default());
    assert_eq!(second, StoreIdentity::default());
    let reads = fake.account_reads();
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].status, 500);

    // GIVEN an account the platform cannot act as (Stripe's 403 account_invalid)
    let identity = stripe.identity("acct_9Unknown").await;
    // THEN the default, no error
    assert_eq!(identity, StoreIdentity::default());
    assert_eq!(fake.account_reads().last().map(|r| r.status), Some(403));

    // GIVEN a wrong key (401) THEN the default as well
    let wrong = StripeProfiles::new(&config(&fake.base, "sk_test_wrong")).unwrap();
    assert_eq!(wrong.identity(SELLER).await, StoreIdentity::default());
    assert_eq!(fake.account_reads().last().map(|r| r.status), Some(401));
}

#[tokio::test]
async fn given_a_known_identity_when_a_later_read_fails_then_the_last_known_one_is_kept() {
    // GIVEN an identity read once, answers never fresh, failures never remembered
    let fake = FakeStripe::start(&[SELLER]).await;
    fake.set_business_profile(
        SELLER,
        json!({"name": "Lumen Presets", "support_email": "help@lumen.example"}),
    );
    let stripe = profiles(
        &fake,
        ProfileSettings {
            fresh_for: Duration::ZERO,
            failed_for: Duration::ZERO,
            ..ProfileSettings::default()
        },
    );
    assert_eq!(stripe.identity(SELLER).await, lumen());
    // WHEN Stripe is rate limiting
    fake.fail_next(429, 1);
    // THEN the last known identity, not the default
    assert_eq!(stripe.identity(SELLER).await, lumen());
    // AND once Stripe answers again it is read again
    assert_eq!(stripe.identity(SELLER).await, lumen());
    let statuses: Vec<u16> = fake.account_reads().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![200, 429, 200]);
}

#[tokio::test]
async fn given_stripe_unreachable_or_silent_when_asked_then_the_default_within_the_timeout() {
    // GIVEN a port nobody listens on, and a server that accepts and never answers
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        format!("http://{addr}")
    };
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_base = format!("http://{}", silent.local_addr().unwrap());
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let settings = ProfileSettings {
        timeout: Duration::from_millis(300),
        ..ProfileSettings::default()
    };
    for base in [closed, silent_base] {
        let stripe =
            StripeProfiles::with_settings(&config(&base, FAKE_STRIPE_KEY), settings).unwrap();
        // WHEN asked
        let started = Instant::now();
        let identity = stripe.identity(SELLER).await;
        // THEN the default, and the lookup gave up instead of holding the email (a bound far
        // above the 300 ms timeout: this is not a speed target, only "it does time out")
        assert_eq!(identity, StoreIdentity::default(), "{base}");
        assert!(started.elapsed() < Duration::from_secs(10), "{base}");
    }
    hold.abort();
}

#[tokio::test]
async fn given_hostile_profile_values_when_read_then_the_name_is_one_line_and_no_reply_to() {
    // GIVEN a profile whose name injects a header and whose support address adds a recipient
    let fake = FakeStripe::start(&[SELLER, "acct_2Crlf", "acct_3Junk"]).await;
    fake.set_business_profile(
        SELLER,
        json!({
            "name": "Zoë's \"Café\"\r\nBcc: victim@evil.example",
            "support_email": "help@lumen.example, victim@evil.example"
        }),
    );
    fake.set_business_profile(
        "acct_2Crlf",
        json!({"name": "\r\n", "support_email": "help@lumen.example\r\nBcc: victim@evil.example"}),
    );
    fake.set_business_profile("acct_3Junk", json!({"name": 42, "support_email": ["x"]}));
    let stripe = profiles(&fake, ProfileSettings::default());
    // WHEN read
    let hostile = stripe.identity(SELLER).await;
    let crlf = stripe.identity("acct_2Crlf").await;
    let junk = stripe.identity("acct_3Junk").await;
    // THEN the name keeps its quotes and accents on one line, and no address is used
    assert_eq!(
        hostile.name.as_deref(),
        Some("Zoë's \"Café\"Bcc: victim@evil.example")
    );
    assert_eq!(hostile.support_email, None);
    assert_eq!(crlf, StoreIdentity::default());
    assert_eq!(junk, StoreIdentity::default());
    // AND a seller id that is no account id never reaches Stripe
    let before = fake.account_reads().len();
    assert_eq!(
        stripe.identity("acct_1\r\nX-Evil: 1").await,
        StoreIdentity::default()
    );
    assert_eq!(fake.account_reads().len(), before);
}
