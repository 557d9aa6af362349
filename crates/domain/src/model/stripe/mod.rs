//! What Stripe sends us: the webhook signature scheme, the event types we handle
//! ([`event_type::EventType`], the one list) and the event shapes we read.
//!
//! Both are pure: no HTTP and no clock. The caller passes the raw body, the header and `now`.

mod envelope;
pub mod event;
pub mod event_type;
pub mod objects;
pub mod signature;
