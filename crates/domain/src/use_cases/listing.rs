//! Reading the seller's orders for the list filters (`status`, `email`, `from`, `to`), newest
//! first, one bounded page at a time: the one path `/orders`, `/orders/export.csv` and the export
//! jobs' worker share, so a job's rows are exactly the streamed export's.
//!
//! The store applies what its indexes can; the residual filter (status when searching by email)
//! is applied here. To keep a page's cost bounded, at most [`MAX_STORE_PAGES`] store pages are
//! read per page: a page may then hold fewer than `limit` orders while `next` is still set,
//! which a caller following positions handles as usual.

use serde::{Deserialize, Serialize};

use crate::order::view::OrderView;
use crate::order::{OrderRecord, PaymentStatus};
use crate::ports::{OrderFilter, OrderQuery, OrderStore, PagePosition, StoreError};

/// Store pages read at most for one page when a residual filter drops orders.
pub const MAX_STORE_PAGES: usize = 10;

/// `status`: a payment status, or `disputed` (at least one dispute).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusFilter {
    Payment(PaymentStatus),
    Disputed,
}

impl StatusFilter {
    /// A `payment_status` word or `disputed`.
    pub fn parse(s: &str) -> Option<Self> {
        if s == "disputed" {
            return Some(StatusFilter::Disputed);
        }
        PaymentStatus::parse(s).map(StatusFilter::Payment)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StatusFilter::Payment(p) => p.as_str(),
            StatusFilter::Disputed => "disputed",
        }
    }

    pub fn matches(self, record: &OrderRecord) -> bool {
        match self {
            StatusFilter::Payment(p) => record.facts.payment_status() == p,
            StatusFilter::Disputed => !record.facts.disputes.is_empty(),
        }
    }

    fn store_filter(self) -> OrderFilter {
        match self {
            StatusFilter::Payment(p) => OrderFilter::Status(p),
            StatusFilter::Disputed => OrderFilter::Disputed,
        }
    }
}

/// The normalised list filters (validated by whoever parsed them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListFilters {
    pub status: Option<StatusFilter>,
    /// Lower-cased, trimmed: matches an equal email or any email it starts with.
    pub email: Option<String>,
    /// Inclusive bounds on `created_at`, Unix seconds.
    pub from: Option<i64>,
    pub to: Option<i64>,
}

impl ListFilters {
    /// The store query for one page. With both `email` and `status`, the store is asked by email
    /// (the more selective index: one customer's orders) and the status is checked in memory by
    /// [`ListFilters::residual`].
    pub fn store_query(&self, limit: usize, after: Option<PagePosition>) -> OrderQuery {
        let filter = match (&self.email, self.status) {
            (Some(email), _) => OrderFilter::EmailPrefix(email.clone()),
            (None, Some(status)) => status.store_filter(),
            (None, None) => OrderFilter::All,
        };
        OrderQuery {
            filter,
            from: self.from,
            to: self.to,
            limit,
            after,
        }
    }

    /// The part of the filters the store query does not apply.
    pub fn residual(&self, record: &OrderRecord) -> bool {
        match (&self.email, self.status) {
            (Some(_), Some(status)) => status.matches(record),
            _ => true,
        }
    }
}

#[derive(Debug, Default)]
pub struct Page {
    pub orders: Vec<OrderRecord>,
    /// Where the next page starts, `None` when the listing is complete.
    pub next: Option<PagePosition>,
}

/// One page of at most `limit` matching orders after `after`, newest first.
pub async fn page(
    store: &dyn OrderStore,
    seller: &str,
    filters: &ListFilters,
    limit: usize,
    mut after: Option<PagePosition>,
) -> Result<Page, StoreError> {
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

/// The order as the API shows it, with every refund listed, reading the store only for an order that keeps some
/// refunds in items of their own (past 24 refunds: almost never), and each Visa fraud
/// dispute's CE 3.0 qualifying orders (one read of the card index per such dispute).
pub async fn order_view(
    store: &dyn OrderStore,
    record: &OrderRecord,
) -> Result<OrderView, StoreError> {
    let mut view = if record.facts.spilled_refunds.is_empty() {
        OrderView::of(record)
    } else {
        let spilled = store
            .list_spilled_refunds(&record.seller_id, &record.order_id)
            .await?;
        OrderView::with_spilled_refunds(record, &spilled)
    };
    for d in &mut view.disputes {
        let (Some(ce3), Some(fact)) = (d.ce3.as_mut(), record.facts.disputes.get(&d.id)) else {
            continue;
        };
        let found = crate::evidence::ce3::lookup(
            store,
            record,
            fact.network_reason_code.as_ref().map(|r| r.value.as_str()),
            fact.reason.as_ref().map(|r| r.value.as_str()),
        )
        .await?;
        if let Some(found) = found {
            ce3.qualifying_orders = found.qualifying_orders;
        }
    }
    Ok(view)
}
