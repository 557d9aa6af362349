//! Reading and changing a seller's settings (contract section 11) through the store that keeps
//! them: the port ([`SettingsStore`], both stores implement it; the conformance suite checks
//! them) and the use cases ([`settings_of`], [`update_settings`]: validated whole, written
//! conditionally, retried on a concurrent change).

use async_trait::async_trait;
use serde_json::Value;

use crate::ports::StoreError;
use crate::settings::{InvalidSettings, SellerSettings};

/// The stored record: the settings and a version for conditional writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSettings {
    pub settings: SellerSettings,
    pub version: u64,
}

/// Where each seller's settings record lives.
#[async_trait]
pub trait SettingsStore: Send + Sync {
    /// The seller's record, or `None` when nothing was ever saved (defaults apply).
    async fn get_settings(&self, seller_id: &str) -> Result<Option<StoredSettings>, StoreError>;

    /// Writes `settings` as version `expected + 1` if the record is still at `expected`
    /// (`None`: must not exist yet); [`StoreError::Conflict`] otherwise.
    async fn put_settings(
        &self,
        seller_id: &str,
        settings: &SellerSettings,
        expected: Option<u64>,
    ) -> Result<(), StoreError>;
}

/// The seller's settings in force (defaults when nothing was saved).
pub async fn settings_of(
    store: &dyn SettingsStore,
    seller_id: &str,
) -> Result<SellerSettings, StoreError> {
    Ok(store
        .get_settings(seller_id)
        .await?
        .map(|s| s.settings)
        .unwrap_or_default())
}

/// Why a change was not saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateSettingsError {
    #[error(transparent)]
    Invalid(#[from] InvalidSettings),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Applies `change` to the seller's settings (read, validate, write conditionally, retry on a
/// concurrent change) and answers the settings now in force.
pub async fn update_settings(
    store: &dyn SettingsStore,
    seller_id: &str,
    change: &Value,
) -> Result<SellerSettings, UpdateSettingsError> {
    // Validate against the defaults first: a bad change is refused without reading anything.
    SellerSettings::default().apply(change)?;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let current = store.get_settings(seller_id).await?;
        let (base, version) = match &current {
            Some(s) => (s.settings.clone(), Some(s.version)),
            None => (SellerSettings::default(), None),
        };
        let next = base.apply(change)?;
        if current.is_some() && next == base {
            return Ok(next);
        }
        match store.put_settings(seller_id, &next, version).await {
            Ok(()) => return Ok(next),
            Err(StoreError::Conflict) if attempts < 5 => continue,
            Err(StoreError::Conflict) => return Err(StoreError::Contention.into()),
            Err(e) => return Err(e.into()),
        }
    }
}
