//! The DynamoDB side: the table definition, the item shapes, and the store adapter.

pub mod item;
pub mod table;
