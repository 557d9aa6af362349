//! A seller's settings (contract section 11): one record per seller, validated by one type that
//! the route, the sweep and the evidence builder share. Part of the model: it names nothing else
//! of ours (the store that keeps it and the use case that changes it are `seller_settings`).
//!
//! A change is a JSON object with any of the keys; it is checked whole (an unknown key, a wrong
//! type or a value out of range names the field) before anything is saved.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `dispute_auto_submit_hours`: the lead time before `evidence_due_by`, in hours.
pub const MIN_AUTO_SUBMIT_HOURS: u32 = 24;
pub const MAX_AUTO_SUBMIT_HOURS: u32 = 168;
pub const DEFAULT_AUTO_SUBMIT_HOURS: u32 = 48;
pub const MAX_REFUND_POLICY_CHARS: usize = 5_000;
pub const MAX_REFUND_POLICY_DISCLOSURE_CHARS: usize = 2_000;
/// An email address longer than this is not a plain address (RFC 5321's path limit).
const MAX_EMAIL_CHARS: usize = 254;

/// When the backend submits dispute evidence by itself (contract section 9.3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AutoSubmit {
    Off,
    #[default]
    StrongEvidence,
    Always,
}

/// When an early fraud warning is refunded by itself (contract section 12).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EfwAutoRefund {
    #[default]
    Off,
    NotDownloaded,
    Always,
}

/// Which notifications of section 12 the seller gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notify {
    pub dispute: bool,
    pub delivery_failed: bool,
    pub failure_pattern: bool,
    pub early_fraud_warning: bool,
}

impl Default for Notify {
    fn default() -> Self {
        Self {
            dispute: true,
            delivery_failed: true,
            failure_pattern: true,
            early_fraud_warning: true,
        }
    }
}

/// The seller's settings, defaults filled in (what `GET /settings` answers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SellerSettings {
    pub dispute_auto_submit: AutoSubmit,
    /// 24 to 168.
    pub dispute_auto_submit_hours: u32,
    /// The refund policy's text (at most 5,000 characters), sent to Stripe as a PDF.
    pub refund_policy: Option<String>,
    /// How the customer saw the policy (at most 2,000 characters), sent as text.
    pub refund_policy_disclosure: Option<String>,
    pub efw_auto_refund: EfwAutoRefund,
    /// One plain address, or null for the Stripe account's own `email`.
    pub notify_email: Option<String>,
    pub notify: Notify,
}

impl Default for SellerSettings {
    fn default() -> Self {
        Self {
            dispute_auto_submit: AutoSubmit::default(),
            dispute_auto_submit_hours: DEFAULT_AUTO_SUBMIT_HOURS,
            refund_policy: None,
            refund_policy_disclosure: None,
            efw_auto_refund: EfwAutoRefund::default(),
            notify_email: None,
            notify: Notify::default(),
        }
    }
}

/// A change refused: the field it names and why. Nothing is saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidSettings {
    pub field: String,
    pub message: String,
}

fn invalid(field: &str, message: impl Into<String>) -> InvalidSettings {
    InvalidSettings {
        field: field.to_owned(),
        message: message.into(),
    }
}

fn one_of<T: Copy>(
    field: &str,
    value: &Value,
    options: &[(&str, T)],
) -> Result<T, InvalidSettings> {
    let words: Vec<&str> = options.iter().map(|(w, _)| *w).collect();
    let Some(s) = value.as_str() else {
        return Err(invalid(
            field,
            format!("must be one of {}", words.join(", ")),
        ));
    };
    options
        .iter()
        .find(|(w, _)| *w == s)
        .map(|(_, v)| *v)
        .ok_or_else(|| invalid(field, format!("must be one of {}", words.join(", "))))
}

fn bool_of(field: &str, value: &Value) -> Result<bool, InvalidSettings> {
    value
        .as_bool()
        .ok_or_else(|| invalid(field, "must be true or false"))
}

/// Text or null; blank text is null; longer than `max` characters is refused.
fn text_of(field: &str, value: &Value, max: usize) -> Result<Option<String>, InvalidSettings> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => {
            let s = s.trim();
            let chars = s.chars().count();
            if chars > max {
                return Err(invalid(
                    field,
                    format!("has {chars} characters; at most {max} are accepted"),
                ));
            }
            Ok((!s.is_empty()).then(|| s.to_owned()))
        }
        _ => Err(invalid(field, "must be text or null")),
    }
}

/// One plain address: `local@domain`, no spaces, no display name, no control characters.
pub fn plain_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    s.chars().count() <= MAX_EMAIL_CHARS
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && s.chars().all(|c| {
            !c.is_whitespace() && !c.is_control() && !matches!(c, '<' | '>' | ',' | ';' | '"')
        })
}

impl SellerSettings {
    /// These settings with `change` applied: every key checked, the first invalid one named.
    pub fn apply(&self, change: &Value) -> Result<SellerSettings, InvalidSettings> {
        let Some(change) = change.as_object() else {
            return Err(invalid("settings", "must be a JSON object"));
        };
        let mut next = self.clone();
        for (key, value) in change {
            next.apply_one(key, value)?;
        }
        Ok(next)
    }

    fn apply_one(&mut self, key: &str, value: &Value) -> Result<(), InvalidSettings> {
        match key {
            "dispute_auto_submit" => {
                self.dispute_auto_submit = one_of(
                    key,
                    value,
                    &[
                        ("off", AutoSubmit::Off),
                        ("strong_evidence", AutoSubmit::StrongEvidence),
                        ("always", AutoSubmit::Always),
                    ],
                )?;
            }
            "dispute_auto_submit_hours" => {
                let hours = value
                    .as_u64()
                    .filter(|h| {
                        (u64::from(MIN_AUTO_SUBMIT_HOURS)..=u64::from(MAX_AUTO_SUBMIT_HOURS))
                            .contains(h)
                    })
                    .ok_or_else(|| {
                        invalid(
                            key,
                            format!(
                                "must be a whole number of hours from {MIN_AUTO_SUBMIT_HOURS} to {MAX_AUTO_SUBMIT_HOURS}"
                            ),
                        )
                    })?;
                self.dispute_auto_submit_hours = hours as u32;
            }
            "refund_policy" => {
                self.refund_policy = text_of(key, value, MAX_REFUND_POLICY_CHARS)?;
            }
            "refund_policy_disclosure" => {
                self.refund_policy_disclosure =
                    text_of(key, value, MAX_REFUND_POLICY_DISCLOSURE_CHARS)?;
            }
            "efw_auto_refund" => {
                self.efw_auto_refund = one_of(
                    key,
                    value,
                    &[
                        ("off", EfwAutoRefund::Off),
                        ("not_downloaded", EfwAutoRefund::NotDownloaded),
                        ("always", EfwAutoRefund::Always),
                    ],
                )?;
            }
            "notify_email" => {
                self.notify_email = match value {
                    Value::Null => None,
                    Value::String(s) if plain_email(s.trim()) => Some(s.trim().to_owned()),
                    _ => return Err(invalid(key, "must be one plain email address or null")),
                };
            }
            "notify" => {
                let Some(kinds) = value.as_object() else {
                    return Err(invalid(key, "must be an object of true/false by kind"));
                };
                for (kind, on) in kinds {
                    let field = format!("notify.{kind}");
                    let on = bool_of(&field, on)?;
                    match kind.as_str() {
                        "dispute" => self.notify.dispute = on,
                        "delivery_failed" => self.notify.delivery_failed = on,
                        "failure_pattern" => self.notify.failure_pattern = on,
                        "early_fraud_warning" => self.notify.early_fraud_warning = on,
                        _ => return Err(invalid(&field, "is not a setting")),
                    }
                }
            }
            other => return Err(invalid(other, "is not a setting")),
        }
        Ok(())
    }

    /// The lead time before the deadline at which the backend submits, in seconds.
    pub fn auto_submit_lead_secs(&self) -> i64 {
        i64::from(self.dispute_auto_submit_hours) * 3600
    }
}

/// The settings as a JSON object with every key (for stores that keep it as one document).
pub fn to_document(settings: &SellerSettings) -> Map<String, Value> {
    match serde_json::to_value(settings) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn given_nothing_saved_then_the_contracts_defaults() {
        assert_eq!(
            serde_json::to_value(SellerSettings::default()).unwrap(),
            json!({
                "dispute_auto_submit": "strong_evidence",
                "dispute_auto_submit_hours": 48,
                "refund_policy": null,
                "refund_policy_disclosure": null,
                "efw_auto_refund": "off",
                "notify_email": null,
                "notify": {"dispute": true, "delivery_failed": true, "failure_pattern": true, "early_fraud_warning": true}
            })
        );
    }

    #[test]
    fn given_a_partial_change_then_only_those_keys_move() {
        let s = SellerSettings::default()
            .apply(&json!({"dispute_auto_submit": "always", "notify": {"dispute": false}}))
            .unwrap();
        assert_eq!(s.dispute_auto_submit, AutoSubmit::Always);
        assert!(!s.notify.dispute);
        assert!(s.notify.delivery_failed);
        assert_eq!(s.dispute_auto_submit_hours, 48);
    }

    #[test]
    fn given_bad_changes_then_the_field_is_named() {
        let cases = [
            (json!({"colour": "red"}), "colour"),
            (
                json!({"dispute_auto_submit": "sometimes"}),
                "dispute_auto_submit",
            ),
            (json!({"dispute_auto_submit": 1}), "dispute_auto_submit"),
            (
                json!({"dispute_auto_submit_hours": 23}),
                "dispute_auto_submit_hours",
            ),
            (
                json!({"dispute_auto_submit_hours": 169}),
                "dispute_auto_submit_hours",
            ),
            (
                json!({"dispute_auto_submit_hours": 48.5}),
                "dispute_auto_submit_hours",
            ),
            (
                json!({"dispute_auto_submit_hours": "48"}),
                "dispute_auto_submit_hours",
            ),
            (json!({"refund_policy": "x".repeat(5001)}), "refund_policy"),
            (
                json!({"refund_policy_disclosure": "x".repeat(2001)}),
                "refund_policy_disclosure",
            ),
            (json!({"refund_policy": 5}), "refund_policy"),
            (json!({"efw_auto_refund": true}), "efw_auto_refund"),
            (
                json!({"notify_email": "Jo <jo@example.com>"}),
                "notify_email",
            ),
            (json!({"notify_email": "a@b.com, c@d.com"}), "notify_email"),
            (json!({"notify": {"dispute": "yes"}}), "notify.dispute"),
            (json!({"notify": {"sms": true}}), "notify.sms"),
            (json!({"notify": true}), "notify"),
            (json!([1]), "settings"),
        ];
        for (change, field) in cases {
            let e = SellerSettings::default().apply(&change).unwrap_err();
            assert_eq!(e.field, field, "{change}");
        }
    }

    #[test]
    fn given_the_bounds_then_accepted() {
        let s = SellerSettings::default()
            .apply(&json!({
                "dispute_auto_submit_hours": 24,
                "refund_policy": "x".repeat(5000),
                "refund_policy_disclosure": "  ",
                "notify_email": "ops@example.com"
            }))
            .unwrap();
        assert_eq!(s.dispute_auto_submit_hours, 24);
        assert_eq!(s.refund_policy_disclosure, None);
        assert_eq!(s.notify_email.as_deref(), Some("ops@example.com"));
        assert!(SellerSettings::default()
            .apply(&json!({"dispute_auto_submit_hours": 168}))
            .is_ok());
    }
}
