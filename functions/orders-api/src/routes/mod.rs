//! The handlers, one file per resource.

pub mod dispute_evidence;
pub mod downloads;
pub mod evidence;
pub mod export;
pub mod exports;
pub mod fallback;
pub mod openapi;
pub mod orders;
pub mod resend;
pub mod settings;
pub mod stats;
