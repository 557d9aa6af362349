//! The orders table, defined once: this definition creates the local table, and a test checks
//! that `template.yaml` declares exactly the same keys and indexes.
//!
//! Every index projects only its keys (`KEYS_ONLY`). DynamoDB writes an index entry only when
//! that index's key or projected attributes change, so a fold that moves no key (most of them:
//! a charge, a refund, a claim, `sent`) costs the table's own write and nothing on the indexes;
//! with `ALL` every fold paid once more per index the order is in. A list page reads the keys
//! of the page from its index and the orders with one eventually consistent `BatchGetItem`
//! (docs/performance.md, section 3).
//!
//! A deployed table changes an index's projection only by adding another index under a new
//! name, so each index names the one it replaces ([`Index::previous`]): while a migration runs
//! (docs/deploy.md), a read the table cannot answer on the new name is asked on the old one,
//! whose entries carry the same keys.

/// A key attribute: name and whether it is the hash (partition) key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyAttr {
    pub name: &'static str,
    pub hash: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Index {
    pub name: &'static str,
    pub hash: &'static str,
    pub range: &'static str,
    /// The index (projecting `ALL`, same keys) this one replaces: read while it is not there.
    pub previous: &'static str,
}

pub const PARTITION_KEY: &str = "pk";
pub const SORT_KEY: &str = "sk";

/// Seller + created (list, date range).
pub const BY_CREATED: Index = Index {
    name: "by_created",
    hash: "gsi1pk",
    range: "gsi1sk",
    previous: "gsi1",
};
/// Seller + lower-cased email + created (search by email or prefix).
pub const BY_EMAIL: Index = Index {
    name: "by_email",
    hash: "gsi2pk",
    range: "gsi2sk",
    previous: "gsi2",
};
/// Seller + payment status + created. Sorts on `gsi1sk`: an index may use any attribute as its
/// key, and a copy of the same sort key would be paid for in every write.
pub const BY_STATUS: Index = Index {
    name: "by_status",
    hash: "gsi3pk",
    range: "gsi1sk",
    previous: "gsi3",
};
/// The seller's disputed orders (sparse: only disputed orders carry `gsi4pk`), newest first.
pub const DISPUTED: Index = Index {
    name: "disputed",
    hash: "gsi4pk",
    range: "gsi1sk",
    previous: "gsi4",
};

/// A seller's paid orders by card brand and month (sparse: only a settled paid order whose card
/// has a Stripe fingerprint carries `gsi5pk` = `SELLER#<acct>#CARD#<brand>#<YYYY-MM>`), sorted
/// by the card's fingerprint (`gsi5sk`): Visa CE 3.0's candidates are one `Query` per month of
/// its window on one fingerprint, and a month's sales per brand one keys-only count. New, so it
/// replaces nothing: while it is being created (docs/deploy.md) a read answers "unavailable".
pub const BY_CARD: Index = Index {
    name: "by_card",
    hash: "gsi5pk",
    range: "gsi5sk",
    previous: "by_card",
};

pub const INDEXES: [Index; 5] = [BY_CREATED, BY_EMAIL, BY_STATUS, DISPUTED, BY_CARD];

/// Every key attribute of the table and its indexes (all strings), each once.
pub fn key_attributes() -> Vec<&'static str> {
    let mut out = vec![PARTITION_KEY, SORT_KEY];
    for i in INDEXES {
        for name in [i.hash, i.range] {
            if !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out
}
