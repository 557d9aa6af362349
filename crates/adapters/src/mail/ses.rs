//! The SES v2 mailer: one `SendEmail` with a simple (text + HTML) message per delivery.
//!
//! SES v2 has no idempotency key, so a request that reached SES must never be repeated blindly:
//! the SDK's own retries are switched off for `SendEmail` (a retried timeout could be a second
//! email). Only answers in which SES says it did not take the message (throttling) are retried
//! here; everything else goes back to the fulfillment handler as `Transient` (release the claim,
//! let the stream retry) or `Rejected` (give up on this order).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sesv2::config::retry::RetryConfig;
use aws_sdk_sesv2::config::timeout::TimeoutConfig;
use aws_sdk_sesv2::config::{Credentials, Region};
use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use leenkies_domain::ports::{MailError, Mailer, OutgoingEmail};

/// Upper bound of one `SendEmail` call. Must stay well below the fulfillment claim's lease, so a
/// slow call can never outlive the claim and race a takeover.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(8);
/// Attempts when SES answers "too many requests" (it did not take the message: safe to repeat).
const THROTTLE_ATTEMPTS: u32 = 3;
const THROTTLE_PAUSE: Duration = Duration::from_millis(250);

#[derive(Debug, Clone)]
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    sender: String,
    configuration_set: Option<String>,
}

impl SesMailer {
    /// `sender`: a verified identity, e.g. `Leenkies <orders@leenkies.example>`.
    pub fn new(
        client: aws_sdk_sesv2::Client,
        sender: String,
        configuration_set: Option<String>,
    ) -> Self {
        Self {
            client,
            sender,
            configuration_set,
        }
    }

    async fn send_once(&self, email: &OutgoingEmail) -> Result<String, SendFailure> {
        let utf8 = |data: &str| {
            Content::builder()
                .data(data)
                .charset("UTF-8")
                .build()
                .map_err(|e| SendFailure::Mail(MailError::Rejected(format!("invalid email: {e}"))))
        };
        let message = Message::builder()
            .subject(utf8(&email.subject)?)
            .body(
                Body::builder()
                    .text(utf8(&email.text)?)
                    .html(utf8(&email.html)?)
                    .build(),
            )
            .build();
        let output = self
            .client
            .send_email()
            .from_email_address(&self.sender)
            .destination(Destination::builder().to_addresses(&email.to).build())
            .set_reply_to_addresses(email.reply_to.clone().map(|r| vec![r]))
            .content(EmailContent::builder().simple(message).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .customize()
            .config_override(
                aws_sdk_sesv2::config::Builder::default()
                    .retry_config(RetryConfig::disabled())
                    .timeout_config(
                        TimeoutConfig::builder()
                            .operation_timeout(SEND_TIMEOUT)
                            .build(),
                    ),
            )
            .send()
            .await
            .map_err(classify)?;
        // A 2xx without an id still means SES took the message: record it sent, never resend.
        output.message_id.ok_or(SendFailure::Accepted)
    }
}

/// What a failed attempt means for the caller.
enum SendFailure {
    /// SES said "slow down": it did not take the message.
    Throttled(String),
    Mail(MailError),
    /// A 2xx without a message id.
    Accepted,
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError> {
        let mut attempt = 1;
        loop {
            match self.send_once(email).await {
                Ok(id) => return Ok(id),
                Err(SendFailure::Accepted) => return Ok("unknown".to_owned()),
                Err(SendFailure::Mail(e)) => return Err(e),
                Err(SendFailure::Throttled(msg)) if attempt >= THROTTLE_ATTEMPTS => {
                    return Err(MailError::Transient(msg))
                }
                Err(SendFailure::Throttled(msg)) => {
                    tracing::warn!(order_id = %email.order_id, attempt, error = %msg, "SES throttled; retrying");
                    tokio::time::sleep(THROTTLE_PAUSE * attempt).await;
                    attempt += 1;
                }
            }
        }
    }
}

/// Which SES answers are worth retrying later, and which mean this email will never go out as is.
///
/// - Throttling (`TooManyRequestsException`) is retried here; the daily quota
///   (`LimitExceededException`) and a paused account or configuration set
///   (`SendingPausedException`) clear by themselves or by an operator: `Transient`, bounded by the
///   handler's attempt limit.
/// - `MessageRejected` (content or, in the sandbox, an unverified address), `BadRequestException`,
///   `NotFoundException` (no such configuration set), `MailFromDomainNotVerifiedException` and
///   `AccountSuspendedException` do not change by retrying within minutes: `Rejected`, the seller
///   sees `failed` and the operator re-drives after fixing the cause.
/// - Timeouts, dispatch failures, unreadable answers, 5xx and unknown errors: `Transient`.
fn classify(err: SdkError<SendEmailError>) -> SendFailure {
    let code = err.code().unwrap_or("").to_owned();
    let detail = err.message().unwrap_or("").to_owned();
    let describe = |what: &str| {
        if detail.is_empty() {
            what.to_owned()
        } else {
            format!("{what}: {detail}")
        }
    };
    match &err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            match service.err() {
                SendEmailError::TooManyRequestsException(_) => {
                    SendFailure::Throttled(describe("TooManyRequestsException"))
                }
                SendEmailError::LimitExceededException(_)
                | SendEmailError::SendingPausedException(_) => {
                    SendFailure::Mail(MailError::Transient(describe(&code)))
                }
                SendEmailError::MessageRejected(_)
                | SendEmailError::BadRequestException(_)
                | SendEmailError::NotFoundException(_)
                | SendEmailError::MailFromDomainNotVerifiedException(_)
                | SendEmailError::AccountSuspendedException(_) => {
                    SendFailure::Mail(MailError::Rejected(describe(&code)))
                }
                _ if code == "Throttling" || code == "ThrottlingException" => {
                    SendFailure::Throttled(describe(&code))
                }
                _ => SendFailure::Mail(MailError::Transient(describe(&format!(
                    "SES error {status} {code}"
                )))),
            }
        }
        SdkError::TimeoutError(_) => {
            SendFailure::Mail(MailError::Transient("SES call timed out".to_owned()))
        }
        SdkError::DispatchFailure(failure) => SendFailure::Mail(MailError::Transient(format!(
            "SES unreachable ({})",
            if failure.is_timeout() {
                "timeout"
            } else if failure.is_io() {
                "io"
            } else {
                "dispatch"
            }
        ))),
        SdkError::ResponseError(_) => {
            SendFailure::Mail(MailError::Transient("unreadable SES answer".to_owned()))
        }
        // Building the request failed, e.g. no credentials could be resolved: configuration that
        // may be fixed without touching the order.
        _ => SendFailure::Mail(MailError::Transient(format!("SES request not sent: {err}"))),
    }
}

/// An SES v2 client. With `endpoint` (moto, a local stand-in), dummy credentials and `us-east-1`
/// are used unless the environment provides its own.
pub async fn ses_client(endpoint: Option<&str>) -> aws_sdk_sesv2::Client {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
        let has_credentials = crate::config::Env::process()
            .optional("AWS_ACCESS_KEY_ID")
            .is_some()
            || crate::config::Env::process()
                .optional("AWS_PROFILE")
                .is_some();
        if !has_credentials {
            loader = loader.credentials_provider(Credentials::new(
                "test",
                "test",
                None,
                None,
                "leenkies-local",
            ));
        }
        let has_region = crate::config::Env::process()
            .optional("AWS_REGION")
            .is_some()
            || crate::config::Env::process()
                .optional("AWS_DEFAULT_REGION")
                .is_some();
        if !has_region {
            loader = loader.region(Region::new("us-east-1"));
        }
    }
    let shared = loader.load().await;
    aws_sdk_sesv2::Client::new(&shared)
}
