//! The order's fold as GIVEN / WHEN / THEN cases over realistic event sequences, each checked in
//! every delivery order with duplicates (the merge stays commutative, associative, idempotent):
//! test code only, kept beside the fold because it reaches its private parts.

mod fold_cases;
mod fold_cases_buyer;
mod fold_cases_ce3;
