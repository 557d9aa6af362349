//! Consumed capacity, added up from every response (`ReturnConsumedCapacity::Total`), so the
//! cost of an event or of a page can be measured rather than guessed.

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::types::ConsumedCapacity;

/// Units consumed so far, and how many requests were made.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Capacity {
    pub read_units: f64,
    pub write_units: f64,
    pub requests: u64,
}

impl Capacity {
    /// What was consumed since `earlier` (a snapshot taken before).
    pub fn since(&self, earlier: &Capacity) -> Capacity {
        Capacity {
            read_units: self.read_units - earlier.read_units,
            write_units: self.write_units - earlier.write_units,
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
        let units: f64 = consumed
            .into_iter()
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
            Access::Write => total.write_units += units,
        }
    }
}

/// An item's size by DynamoDB's rule (what capacity units are charged on): the UTF-8 length of
/// every attribute name plus its value; numbers about 1 byte per 2 significant digits + 1; maps
/// and lists 3 bytes + 1 per element.
pub fn item_size(item: &serde_dynamo::Item) -> usize {
    item.iter().map(|(k, v)| attribute_size(k, v)).sum()
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
