//! The DynamoDB side: the table definition, the item shapes, the store adapter, the operations
//! items (`ops`), the SES message links (`messages`), setup for local runs, and the stream reader that feeds fulfillment on one
//! machine.

pub mod capacity;
pub mod errors;
pub mod exports;
pub mod item;
pub mod messages;
pub mod names;
pub mod ops;
pub mod seller_notices;
pub mod settings;
pub mod setup;
pub mod store;
pub mod stream;
pub mod stream_filter;
pub mod table;
mod versioned_doc;

pub use capacity::{Capacity, CapacityMeter};
pub use setup::{
    client, ensure_table, sdk_config, store_client, streams_client, timeouts, SetupError,
};
pub use store::DynamoStore;
pub use stream::StreamReader;
