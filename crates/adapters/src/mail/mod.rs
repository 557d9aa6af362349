//! Mailers: the SES v2 adapter used in AWS, and the outbox folder used on one machine.
//! Both implement the domain's `Mailer` port; neither decides anything about orders.

pub mod outbox;
pub mod ses;

pub use outbox::OutboxMailer;
pub use ses::{ses_client, SesMailer};
