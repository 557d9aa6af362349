//! Reading one page of a seller's orders for the given filters, newest first: the domain's
//! listing (`leenkies_domain::listing`, shared with the export jobs' worker), with the store's
//! errors mapped to the API's.

use leenkies_domain::ports::{OrderStore, PagePosition};

use crate::error::ApiError;
use crate::filters::Filters;

pub use leenkies_domain::listing::{Page, MAX_STORE_PAGES};

pub async fn page(
    store: &dyn OrderStore,
    seller: &str,
    filters: &Filters,
    limit: usize,
    after: Option<PagePosition>,
) -> Result<Page, ApiError> {
    Ok(leenkies_domain::listing::page(store, seller, &filters.list(), limit, after).await?)
}
