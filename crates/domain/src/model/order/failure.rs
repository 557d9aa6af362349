//! The seller-facing category of a failed payment (contract section 4, in this order):
//! a Radar block or a fraud decline code is `fraud_blocked`; otherwise the deciding key is
//! `decline_code`, else `code`, else (for an issuer decline with neither) the outcome's reason,
//! else the charge's `failure_code`; the key maps to a category, unknown keys to `card_declined`.

use serde::Serialize;

use super::facts::FailedAttempt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureCategory {
    InsufficientFunds,
    CardDeclined,
    ExpiredCard,
    IncorrectCardDetails,
    FraudBlocked,
}

impl FailureCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureCategory::InsufficientFunds => "insufficient_funds",
            FailureCategory::CardDeclined => "card_declined",
            FailureCategory::ExpiredCard => "expired_card",
            FailureCategory::IncorrectCardDetails => "incorrect_card_details",
            FailureCategory::FraudBlocked => "fraud_blocked",
        }
    }

    pub const ALL: [FailureCategory; 5] = [
        FailureCategory::InsufficientFunds,
        FailureCategory::CardDeclined,
        FailureCategory::ExpiredCard,
        FailureCategory::IncorrectCardDetails,
        FailureCategory::FraudBlocked,
    ];
}

/// A failed attempt as the seller sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    pub category: FailureCategory,
    /// The key that decided it; `None` for a failure that carried no code at all.
    pub code: Option<String>,
    pub message: Option<String>,
}

/// Maps a deciding key to its category.
pub fn category_of(key: &str) -> FailureCategory {
    match key {
        "insufficient_funds" | "withdrawal_count_limit_exceeded" | "card_velocity_exceeded" => {
            FailureCategory::InsufficientFunds
        }
        "expired_card" => FailureCategory::ExpiredCard,
        "incorrect_number"
        | "invalid_number"
        | "incorrect_cvc"
        | "invalid_cvc"
        | "invalid_expiry_month"
        | "invalid_expiry_year"
        | "incorrect_zip" => FailureCategory::IncorrectCardDetails,
        _ => FailureCategory::CardDeclined,
    }
}

/// Applies the contract's rule to one attempt's combined facts.
pub fn classify(attempt: &FailedAttempt) -> Classified {
    let val = |r: &Option<super::facts::Reg<String>>| r.as_ref().map(|r| r.value.clone());
    let decline_code = val(&attempt.decline_code);
    let code = val(&attempt.code);
    let failure_code = val(&attempt.failure_code);
    let outcome_type = val(&attempt.outcome_type);
    let message = val(&attempt.message).or_else(|| val(&attempt.failure_message));

    let blocked = outcome_type.as_deref() == Some("blocked")
        || matches!(
            decline_code.as_deref(),
            Some("fraudulent") | Some("merchant_blacklist")
        );
    if blocked {
        let code = decline_code.or(code).or(failure_code);
        return Classified {
            category: FailureCategory::FraudBlocked,
            code,
            message,
        };
    }
    let issuer_reason = if outcome_type.as_deref() == Some("issuer_declined") {
        val(&attempt.outcome_reason)
    } else {
        None
    };
    let key = decline_code.or(code).or(issuer_reason).or(failure_code);
    Classified {
        category: key
            .as_deref()
            .map_or(FailureCategory::CardDeclined, category_of),
        code: key,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::facts::Reg;

    fn r(v: &str) -> Option<Reg<String>> {
        Some(Reg::new(0, 1, v.to_owned()))
    }

    #[test]
    fn given_each_documented_key_when_categorised_then_the_contract_category() {
        for (key, want) in [
            ("insufficient_funds", "insufficient_funds"),
            ("withdrawal_count_limit_exceeded", "insufficient_funds"),
            ("card_velocity_exceeded", "insufficient_funds"),
            ("expired_card", "expired_card"),
            ("incorrect_number", "incorrect_card_details"),
            ("invalid_number", "incorrect_card_details"),
            ("incorrect_cvc", "incorrect_card_details"),
            ("invalid_cvc", "incorrect_card_details"),
            ("invalid_expiry_month", "incorrect_card_details"),
            ("invalid_expiry_year", "incorrect_card_details"),
            ("incorrect_zip", "incorrect_card_details"),
            ("do_not_honor", "card_declined"),
            ("a_code_stripe_adds_in_2030", "card_declined"),
        ] {
            assert_eq!(category_of(key).as_str(), want, "{key}");
        }
    }

    #[test]
    fn given_a_radar_block_when_classified_then_fraud_blocked_with_the_decline_code() {
        let a = FailedAttempt {
            outcome_type: r("blocked"),
            failure_code: r("card_declined"),
            decline_code: r("fraudulent"),
            ..Default::default()
        };
        let c = classify(&a);
        assert_eq!(c.category, FailureCategory::FraudBlocked);
        assert_eq!(c.code.as_deref(), Some("fraudulent"));
    }

    #[test]
    fn given_a_block_without_decline_code_when_classified_then_code_falls_back() {
        let a = FailedAttempt {
            outcome_type: r("blocked"),
            failure_code: r("card_declined"),
            ..Default::default()
        };
        assert_eq!(classify(&a).code.as_deref(), Some("card_declined"));
    }

    #[test]
    fn given_merchant_blacklist_without_block_when_classified_then_fraud_blocked() {
        let a = FailedAttempt {
            decline_code: r("merchant_blacklist"),
            code: r("card_declined"),
            ..Default::default()
        };
        assert_eq!(classify(&a).category, FailureCategory::FraudBlocked);
    }

    #[test]
    fn given_only_a_charge_with_an_issuer_decline_when_classified_then_outcome_reason_decides() {
        let a = FailedAttempt {
            outcome_type: r("issuer_declined"),
            outcome_reason: r("insufficient_funds"),
            failure_code: r("card_declined"),
            ..Default::default()
        };
        let c = classify(&a);
        assert_eq!(c.category, FailureCategory::InsufficientFunds);
        assert_eq!(c.code.as_deref(), Some("insufficient_funds"));
    }

    #[test]
    fn given_decline_code_and_code_when_classified_then_decline_code_wins() {
        let a = FailedAttempt {
            decline_code: r("insufficient_funds"),
            code: r("card_declined"),
            outcome_type: r("issuer_declined"),
            outcome_reason: r("generic_decline"),
            ..Default::default()
        };
        assert_eq!(classify(&a).code.as_deref(), Some("insufficient_funds"));
    }

    #[test]
    fn given_no_code_at_all_when_classified_then_card_declined_with_null_code() {
        let c = classify(&FailedAttempt::default());
        assert_eq!(c.category, FailureCategory::CardDeclined);
        assert_eq!(c.code, None);
    }
}
