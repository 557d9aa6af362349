//! The seller's own address for notifications (contract section 12): the Stripe account's
//! `email`, read with the store identity from `GET /v1/account` as the seller, cached with it,
//! and dropped when it is not one plain address.

use leenkies_adapters::stripe::{ProfileSettings, StripeConfig, StripeProfiles};
use leenkies_domain::ports::StoreProfiles;
use leenkies_integration_tests::fake_stripe::{FakeStripe, FAKE_STRIPE_KEY};

const SELLER: &str = "acct_1QHx4R8cKdV3nWpT";

fn profiles(fake: &FakeStripe) -> StripeProfiles {
    let config = StripeConfig {
        api_key: FAKE_STRIPE_KEY.into(),
        api_base: fake.base.clone(),
        files_base: fake.base.clone(),
    };
    StripeProfiles::with_settings(&config, ProfileSettings::default()).unwrap()
}

#[tokio::test]
async fn given_an_account_with_an_email_when_asked_then_it_and_the_identity_from_one_call() {
    // GIVEN a connected account whose own email is set
    let fake = FakeStripe::start(&[SELLER]).await;
    fake.set_account_email(SELLER, Some("owner@northwind.example"));
    let stripe = profiles(&fake);
    // WHEN its email and its identity are asked for
    let email = stripe.account_email(SELLER).await;
    let _identity = stripe.identity(SELLER).await;
    // THEN the account's email, from one call as the seller (cached for both)
    assert_eq!(email.as_deref(), Some("owner@northwind.example"));
    let reads = fake.account_reads();
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].account.as_deref(), Some(SELLER));
}

#[tokio::test]
async fn given_no_or_a_hostile_email_when_asked_then_none() {
    let fake = FakeStripe::start(&[SELLER, "acct_2Other"]).await;
    // GIVEN an account without an email, and one whose email would add a header
    fake.set_account_email(SELLER, None);
    fake.set_account_email("acct_2Other", Some("a@x.example\r\nBcc: evil@x.example"));
    let stripe = profiles(&fake);
    // THEN no address for either
    assert_eq!(stripe.account_email(SELLER).await, None);
    assert_eq!(stripe.account_email("acct_2Other").await, None);
}
