//! What the SES v2 mailer puts on the wire (contract section 10): moto's `SendEmail` accepts but
//! drops `ConfigurationSetName` and `ReplyToAddresses`, so a test reading moto back could not
//! fail on them. The SDK's own interceptor captures the outgoing request in front of moto, and
//! the test asserts that request. Needs `SES_ENDPOINT` (moto), like `ses_moto.rs`.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_sesv2::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_sesv2::config::{ConfigBag, Intercept, RuntimeComponents};
use leenkies_adapters::mail::{ses_client, SesMailer};
use leenkies_domain::ports::{Mailer, OutgoingEmail};
use serde_json::Value;

#[derive(Debug, Default, Clone)]
struct Capture(Arc<Mutex<Vec<Vec<u8>>>>);

impl Intercept for Capture {
    fn name(&self) -> &'static str {
        "capture-outgoing-request"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_sesv2::error::BoxError> {
        if let Some(bytes) = context.request().body().bytes() {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(bytes.to_vec());
        }
        Ok(())
    }
}

#[tokio::test]
async fn given_a_configuration_set_and_a_reply_to_when_sent_then_the_request_carries_both() {
    let endpoint = std::env::var("SES_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty())
        .expect("SES_ENDPOINT (moto) is required: bash infra/moto.sh start 5055");
    // GIVEN a verified sender and a client whose outgoing requests are captured
    let base = ses_client(Some(&endpoint)).await;
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let sender = format!("orders-{nanos}@leenkies.example");
    base.create_email_identity()
        .email_identity(&sender)
        .send()
        .await
        .expect("identity created");
    let capture = Capture::default();
    let client = aws_sdk_sesv2::Client::from_conf(
        base.config()
            .to_builder()
            .interceptor(capture.clone())
            .build(),
    );
    let mailer = SesMailer::new(client, sender, Some("leenkies-delivery".into()));
    // WHEN an email with a Reply-To is sent
    let email = OutgoingEmail {
        to: "jordan.lee@example.com".into(),
        reply_to: Some("help@lumen.example".into()),
        subject: "Your download: Cinematic LUT Pack".into(),
        text: "link".into(),
        html: "<p>link</p>".into(),
        order_id: "pi_1".into(),
        seller_id: "acct_A".into(),
        about: Default::default(),
    };
    let id = mailer.send(&email).await.expect("moto accepts it");
    assert!(!id.is_empty());
    // THEN the request SES received names the configuration set and the Reply-To address
    let sent = capture.0.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "one SendEmail, no SDK retry");
    let body: Value = serde_json::from_slice(&sent[0]).expect("SendEmail is JSON");
    assert_eq!(body["ConfigurationSetName"], "leenkies-delivery");
    assert_eq!(
        body["ReplyToAddresses"],
        serde_json::json!(["help@lumen.example"])
    );
    assert_eq!(
        body["Destination"]["ToAddresses"],
        serde_json::json!(["jordan.lee@example.com"])
    );
    // AND without a Reply-To, none is sent
    let mut plain = email.clone();
    plain.reply_to = None;
    mailer.send(&plain).await.expect("sent");
    let sent = capture.0.lock().unwrap().clone();
    let body: Value = serde_json::from_slice(&sent[1]).unwrap();
    assert!(body.get("ReplyToAddresses").is_none(), "{body}");
}
