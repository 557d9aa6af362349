//! Consumed capacity, added up from every response (`ReturnConsumedCapacity::Indexes`), so the
//! cost of an event or of a page can be measured rather than guessed: in all, and the share of
//! the global secondary indexes. A conditional write whose condition fails is billed too but
//! its error carries no capacity: it is counted by the size of the item it tried to write.

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::types::ConsumedCapacity;

/// Units consumed so far, and how many requests were made.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Capacity {
    pub read_units: f64,
    pub write_units: f64,
    /// The part of `write_units` spent on global secondary indexes.
    pub index_write_units: f64,
    /// Conditional writes refused (their estimated units are in `write_units`).
    pub failed_writes: u64,
    pub requests: u64,
}

impl Capacity {
    /// What was consumed since `earlier` (a snapshot taken before).
    pub fn since(&self, earlier: &Capacity) -> Capacity {
        Capacity {
            read_units: self.read_units - earlier.read_units,
            write_units: self.write_units - earlier.write_units,
            index_write_units: self.index_write_units - earlier.index_write_units,
            failed_writes: self.failed_writes - earlier.failed_writes,
            requests: self.requests - earlier.requests,
        }
    }
}

/// Whether a request reads or writes: DynamoDB's `Total` answer carries only `CapacityUnits`
/// (DynamoDB Local never splits it), so the request kind decides where the units go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// Shared by clones of a store, so one meter covers everything a handler did.
#[derive(Debug, Clone, Default)]
pub struct CapacityMeter {
    inner: Arc<Mutex<Capacity>>,
}

impl CapacityMeter {
    pub fn snapshot(&self) -> Capacity {
        *self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn record<'a>(
        &self,
        access: Access,
        consumed: impl IntoIterator<Item = &'a ConsumedCapacity>,
    ) {
        let consumed: Vec<&ConsumedCapacity> = consumed.into_iter().collect();
        let index_units: f64 = consumed
            .iter()
            .flat_map(|c| {
                c.global_secondary_indexes()
                    .into_iter()
                    .flat_map(|m| m.values())
            })
            .map(|c| {
                match access {
                    Access::Read => c.read_capacity_units().or(c.capacity_units()),
                    Access::Write => c.write_capacity_units().or(c.capacity_units()),
                }
                .unwrap_or(0.0)
            })
            .sum();
        let units: f64 = consumed
            .iter()
            .map(|c| {
                // Prefer the split when the service gives it; otherwise the total.
                match access {
                    Access::Read => c.read_capacity_units().or(c.capacity_units()),
                    Access::Write => c.write_capacity_units().or(c.capacity_units()),
                }
                .unwrap_or(0.0)
            })
            .sum();
        let mut total = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        total.requests += 1;
        match access {
            Access::Read => total.read_units += units,
            Access::Write => {
                total.write_units += units;
                total.index_write_units += index_units;
            }
        }
    }

    /// A conditional write DynamoDB refused: billed as a write of the item's size (whole
    /// kilobytes, at least one unit), `factor` 2 inside a transaction.
    pub fn record_failed_write(&self, item_bytes: usize, factor: f64) {
        let units = item_bytes.div_ceil(1024).max(1) as f64 * factor;
        let mut total = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        total.requests += 1;
        total.failed_writes += 1;
        total.write_units += units;
    }
}

/// An item's size by DynamoDB's rule (what capacity units are charged on): the UTF-8 length of
/// every attribute name plus its value; numbers about 1 byte per 2 significant digits + 1; maps
/// and lists 3 bytes + 1 per element.
pub fn item_size(item: &serde_dynamo::Item) -> usize {
    item.iter().map(|(k, v)| attribute_size(k, v)).sum()
}

/// [`item_size`] of an item as the SDK holds it.
pub fn sdk_item_size(
    item: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
) -> usize {
    item.iter()
        .map(|(k, v)| attribute_size(k, &serde_dynamo::AttributeValue::from(v.clone())))
        .sum()
}

/// One attribute's share of [`item_size`]: its name plus its value.
pub fn attribute_size(name: &str, v: &serde_dynamo::AttributeValue) -> usize {
    name.len() + value_size(v)
}

fn value_size(v: &serde_dynamo::AttributeValue) -> usize {
    use serde_dynamo::AttributeValue as A;
    match v {
        A::S(s) => s.len(),
        A::N(n) => n.trim_start_matches('-').len().div_ceil(2) + 1,
        A::B(b) => b.len(),
        A::Bool(_) | A::Null(_) => 1,
        A::M(m) => {
            3 + m
                .iter()
                .map(|(k, v)| k.len() + value_size(v) + 1)
                .sum::<usize>()
        }
        A::L(l) => 3 + l.iter().map(|v| value_size(v) + 1).sum::<usize>(),
        A::Ss(ss) => ss.iter().map(String::len).sum(),
        A::Ns(ns) => ns.iter().map(|n| n.len().div_ceil(2) + 1).sum(),
        A::Bs(bs) => bs.iter().map(Vec::len).sum(),
    }
}
