//! The use cases: what the functions do, on the model, through the ports (and the ports only
//! they call, kept beside them).

pub mod apply;
pub mod delivery;
pub mod evidence;
pub mod export;
pub mod fulfillment;
pub mod ingest;
pub mod listing;
pub mod notify;
pub mod ops;
pub mod seller_settings;
pub mod sweep;
