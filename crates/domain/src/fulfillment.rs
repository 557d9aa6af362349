//! Placeholder: filled by the fulfillment work.
