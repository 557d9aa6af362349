//! Test support shared by the integration tests and the functions' own tests:
//!
//! - [`runtime_api`]: a small Lambda Runtime API that hands a real binary one event and captures
//!   its reply, so each `main` is proven under the Lambda protocol;
//! - [`stripe`]: signing fixture events as Stripe does;
//! - [`fake_stripe`]: a fake of Stripe's dispute and file APIs that checks what Stripe checks;
//! - [`env`]: the local stand-ins (DynamoDB Local, moto) the test command started.

pub mod env;
pub mod fake_stripe;
pub mod runtime_api;
pub mod stripe;
