//! Adapters at the edge, each next to its own conversions:
//!
//! - [`dynamodb`]: the orders table (definition, item shapes, the `OrderStore` adapter, the
//!   operations items);
//! - [`metrics`]: CloudWatch Embedded Metric Format lines;
//!
//! The embedded store lives beside its port in `leenkies-domain` (`memory_store`): it has no
//! AWS types.

pub mod dynamodb;
pub mod metrics;
pub mod secrets;
pub mod telemetry;
