//! The register every fact is kept in: a value with the rank of its source and the time it was
//! said, merged by keeping the greater, so folding is commutative, associative and idempotent.
//! A leaf of the model: it names nothing else of ours.

use serde::{Deserialize, Serialize};

/// A register whose winner is the greatest `(rank, at, value)`: higher-priority source first, then
/// the newest fact, then (only to break exact ties deterministically) the value itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Reg<T> {
    /// Priority of the source that said it (higher wins); 0 where all sources are equal.
    #[serde(rename = "r", default, skip_serializing_if = "is_zero")]
    pub rank: u8,
    #[serde(rename = "t")]
    pub at: i64,
    #[serde(rename = "v")]
    pub value: T,
}

fn is_zero(r: &u8) -> bool {
    *r == 0
}

impl<T: Ord + Clone> Reg<T> {
    pub fn new(rank: u8, at: i64, value: T) -> Self {
        Self { rank, at, value }
    }
}

/// Merges two optional registers: the greater wins.
pub fn merge_reg<T: Ord + Clone>(mine: &mut Option<Reg<T>>, other: &Option<Reg<T>>) {
    if let Some(o) = other {
        match mine {
            Some(m) if *m >= *o => {}
            _ => *mine = Some(o.clone()),
        }
    }
}

pub(crate) fn merge_min(mine: &mut Option<i64>, other: Option<i64>) {
    if let Some(o) = other {
        *mine = Some(mine.map_or(o, |m| m.min(o)));
    }
}

pub(crate) fn merge_max(mine: &mut Option<i64>, other: Option<i64>) {
    if let Some(o) = other {
        *mine = Some(mine.map_or(o, |m| m.max(o)));
    }
}

/// The order of two status registers: the event's `created` first, then the step, then the
/// value. A total order, so "keep the greater" stays commutative, associative and idempotent.
pub(crate) fn latest_first(r: &Reg<String>) -> (i64, u8, &str) {
    (r.at, r.rank, r.value.as_str())
}
