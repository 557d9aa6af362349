//! The DynamoDB side: the table definition, the item shapes, and the store adapter, and the
//! operations items (`ops`).

pub mod item;
pub mod ops;
pub mod table;
