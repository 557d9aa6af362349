//! The orders table, defined once: this definition creates the local table, and a test checks
//! that `template.yaml` declares exactly the same keys and indexes.

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
}

pub const PARTITION_KEY: &str = "pk";
pub const SORT_KEY: &str = "sk";

/// Seller + created (list, date range).
pub const BY_CREATED: Index = Index {
    name: "gsi1",
    hash: "gsi1pk",
    range: "gsi1sk",
};
/// Seller + lower-cased email + created (search by email or prefix).
pub const BY_EMAIL: Index = Index {
    name: "gsi2",
    hash: "gsi2pk",
    range: "gsi2sk",
};
/// Seller + payment status + created. Sorts on `gsi1sk`: an index may use any attribute as its
/// key, and a copy of the same sort key would be paid for in every write.
pub const BY_STATUS: Index = Index {
    name: "gsi3",
    hash: "gsi3pk",
    range: "gsi1sk",
};
/// The seller's disputed orders (sparse: only disputed orders carry `gsi4pk`), newest first.
pub const DISPUTED: Index = Index {
    name: "gsi4",
    hash: "gsi4pk",
    range: "gsi1sk",
};

pub const INDEXES: [Index; 4] = [BY_CREATED, BY_EMAIL, BY_STATUS, DISPUTED];

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
