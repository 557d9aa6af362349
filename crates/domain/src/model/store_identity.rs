//! Who a seller's emails speak for: the store's name and where a customer's reply goes, from the
//! connected account's `business_profile` (contract section 10). Part of the model: the
//! fulfillment and resend use cases and the `StoreProfiles` port all name it.

/// Who the delivery email speaks for (contract section 10): the seller's store, and where a
/// customer's reply goes. Read from the connected account's `business_profile` (cached).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreIdentity {
    /// `business_profile.name`; the storefront's `store_name` metadata wins over it.
    pub name: Option<String>,
    /// `business_profile.support_email`: the email's `Reply-To`.
    pub support_email: Option<String>,
}

/// Longest store name kept, in characters.
pub const STORE_NAME_MAX: usize = 100;

impl StoreIdentity {
    /// The identity from a connected account's `business_profile` as Stripe sent it (untrusted
    /// text: the account holder types both): the name on one line, without control characters
    /// and bounded; the support address only when it is one plain address with no control
    /// character at all (a CR/LF there is an injection attempt, not a typo to repair) and a
    /// dotted domain. Anything else is dropped, so the email falls back to the neutral sentence
    /// or goes without `Reply-To`.
    pub fn from_profile(name: Option<&str>, support_email: Option<&str>) -> Self {
        let name = name.and_then(clean_store_name);
        let support_email = support_email
            .filter(|e| !e.chars().any(char::is_control))
            .and_then(crate::text::recipient)
            .filter(|e| {
                e.rsplit_once('@').is_some_and(|(_, domain)| {
                    domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
                })
            });
        Self {
            name,
            support_email,
        }
    }

    /// The name an email speaks for: the storefront's `store_name` (the order's metadata) wins
    /// over the account's, and either is cleaned as [`clean_store_name`] says. `None`: no name,
    /// and the email says so in neutral words.
    pub fn name_for(&self, storefront: Option<&str>) -> Option<String> {
        storefront
            .or(self.name.as_deref())
            .and_then(clean_store_name)
    }
}

/// A store name as an email shows it (untrusted text: the seller types it): one line without
/// control characters, at most [`STORE_NAME_MAX`] characters, trimmed; `None` when nothing is
/// left.
pub fn clean_store_name(name: &str) -> Option<String> {
    let name = crate::text::one_line(name)
        .chars()
        .take(STORE_NAME_MAX)
        .collect::<String>();
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}
