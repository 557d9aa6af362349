//! Reading one page of a seller's orders for the given filters, newest first.
//!
//! The store applies what its indexes can; the residual filter (status when searching by email)
//! is applied here. To keep a page's cost bounded, at most [`MAX_STORE_PAGES`] store pages are
//! read per API page: a page may then hold fewer than `limit` orders while `next` is still set,
//! which a client following cursors handles as usual.

use leenkies_domain::ports::{OrderStore, PagePosition};
use leenkies_domain::OrderRecord;

use crate::error::ApiError;
use crate::filters::Filters;

/// Store pages read at most for one API page when a residual filter drops orders.
pub const MAX_STORE_PAGES: usize = 10;

#[derive(Debug, Default)]
pub struct Page {
    pub orders: Vec<OrderRecord>,
    /// Where the next page starts, `None` when the listing is complete.
    pub next: Option<PagePosition>,
}

pub async fn page(
    store: &dyn OrderStore,
    seller: &str,
    filters: &Filters,
    limit: usize,
    mut after: Option<PagePosition>,
) -> Result<Page, ApiError> {
    let mut orders = Vec::with_capacity(limit);
    for _ in 0..MAX_STORE_PAGES {
        let want = limit - orders.len();
        let batch = store
            .list_orders(seller, &filters.store_query(want, after.clone()))
            .await?;
        let mut examined_all = true;
        for record in batch.orders {
            if orders.len() == limit {
                // More orders remain in this batch: resume right after the last one returned.
                examined_all = false;
                break;
            }
            after = Some(PagePosition::of(&record));
            if filters.residual(&record) {
                orders.push(record);
            }
        }
        if !examined_all {
            return Ok(Page {
                orders,
                next: after,
            });
        }
        match batch.next {
            None => return Ok(Page { orders, next: None }),
            // The store may have more; the last examined order is where it resumes.
            Some(_) if orders.len() == limit => {
                return Ok(Page {
                    orders,
                    next: after,
                })
            }
            Some(next) => after = Some(next),
        }
    }
    Ok(Page {
        orders,
        next: after,
    })
}
