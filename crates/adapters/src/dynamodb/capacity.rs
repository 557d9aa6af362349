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
