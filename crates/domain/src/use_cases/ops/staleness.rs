//! When "no event for a while" is alarming: only during business hours, when Stripe traffic is
//! expected. One rule shared by the operator route and the scheduled metric, so both agree.

use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, Weekday};

/// Business hours in UTC: `[start_hour, end_hour)` on Monday to Friday, and how old the last
/// event may be before it counts as stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StalePolicy {
    pub start_hour: u8,
    pub end_hour: u8,
    pub max_age_secs: i64,
}

impl Default for StalePolicy {
    fn default() -> Self {
        Self {
            start_hour: 8,
            end_hour: 20,
            max_age_secs: 2 * 3600,
        }
    }
}

impl StalePolicy {
    /// The policy from its two settings as written (`BUSINESS_HOURS_UTC` like `8-20`,
    /// `WEBHOOK_STALE_AFTER_SECONDS`); an absent or bad value keeps its default (and a bad one is
    /// logged) rather than stop a function from starting. The environment is read by the
    /// adapters' config module, never here.
    pub fn from_settings(business_hours: Option<&str>, stale_after_secs: Option<&str>) -> Self {
        let mut policy = Self::default();
        if let Some(hours) = business_hours {
            match hours
                .split_once('-')
                .map(|(a, b)| (a.trim().parse(), b.trim().parse()))
            {
                Some((Ok(start), Ok(end))) if start < end && end <= 24 => {
                    policy.start_hour = start;
                    policy.end_hour = end;
                }
                _ => {
                    tracing::warn!(value = %hours, "BUSINESS_HOURS_UTC is not like 8-20; using the default")
                }
            }
        }
        if let Some(age) = stale_after_secs {
            match age.trim().parse::<i64>() {
                Ok(secs) if secs > 0 => policy.max_age_secs = secs,
                _ => {
                    tracing::warn!(value = %age, "WEBHOOK_STALE_AFTER_SECONDS is not a positive number; using the default")
                }
            }
        }
        policy
    }

    pub fn in_business_hours(&self, now: i64) -> bool {
        let Ok(t) = OffsetDateTime::from_unix_timestamp(now) else {
            return false;
        };
        let weekday = !matches!(t.weekday(), Weekday::Saturday | Weekday::Sunday);
        weekday && t.hour() >= self.start_hour && t.hour() < self.end_hour
    }

    /// Stale: during business hours, the last event is older than allowed, or there never was
    /// one. Outside business hours nothing is stale (quiet nights are normal).
    pub fn is_stale(&self, last_event_at: Option<i64>, now: i64) -> bool {
        self.in_business_hours(now) && last_event_at.is_none_or(|at| now - at > self.max_age_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-05-08 is a Friday.
    const FRIDAY_NOON: i64 = 1_778_241_600;

    #[test]
    fn given_business_hours_when_the_last_event_is_old_then_stale() {
        let p = StalePolicy::default();
        assert!(p.is_stale(Some(FRIDAY_NOON - 3 * 3600), FRIDAY_NOON));
        assert!(!p.is_stale(Some(FRIDAY_NOON - 600), FRIDAY_NOON));
        assert!(p.is_stale(None, FRIDAY_NOON));
    }

    #[test]
    fn given_a_night_or_a_weekend_when_the_last_event_is_old_then_not_stale() {
        let p = StalePolicy::default();
        let friday_23h = FRIDAY_NOON + 11 * 3600;
        let saturday_noon = FRIDAY_NOON + 24 * 3600;
        assert!(!p.is_stale(Some(0), friday_23h));
        assert!(!p.is_stale(Some(0), saturday_noon));
    }
}
