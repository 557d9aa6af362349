//! Time as the contract shows it: Unix seconds inside, RFC 3339 (UTC, `Z`) outside.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Formats Unix seconds as RFC 3339 in UTC, e.g. `2026-05-08T08:00:00Z`.
pub fn rfc3339(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

/// Parses an RFC 3339 timestamp (any offset) into Unix seconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// An RFC 3339 time in Unix nanoseconds, to the precision it was written with.
pub fn parse_rfc3339_nanos(s: &str) -> Option<i128> {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp_nanos())
}

/// The current time in Unix seconds.
pub fn now_secs() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// Where "now" comes from: the system clock in production, a clock that tests move by hand
/// (no test sleeps to wait for a rule such as "48 hours before the deadline").
pub trait Clock: Send + Sync {
    /// Unix seconds.
    fn now(&self) -> i64;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        now_secs()
    }
}

/// A clock that stands still until moved.
#[derive(Debug, Default)]
pub struct ManualClock(std::sync::atomic::AtomicI64);

impl ManualClock {
    pub fn at(secs: i64) -> Self {
        Self(std::sync::atomic::AtomicI64::new(secs))
    }

    pub fn set(&self, secs: i64) {
        self.0.store(secs, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Unix milliseconds as RFC 3339 in UTC with milliseconds, e.g. `2026-05-08T08:00:52.786Z`.
pub fn rfc3339_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000);
    let base = rfc3339(secs);
    match base.strip_suffix('Z') {
        Some(stem) => format!("{stem}.{milli:03}Z"),
        None => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_unix_seconds_when_formatted_then_rfc3339_utc_and_back() {
        assert_eq!(rfc3339(1778227200), "2026-05-08T08:00:00Z");
        assert_eq!(parse_rfc3339("2026-05-08T08:00:00Z"), Some(1778227200));
        assert_eq!(parse_rfc3339("2026-05-08T10:00:00+02:00"), Some(1778227200));
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn given_a_fractional_time_when_parsed_to_nanos_then_the_fraction_is_kept() {
        assert_eq!(
            parse_rfc3339_nanos("2026-05-08T08:00:20.5Z"),
            Some(1_778_227_220_500_000_000)
        );
        assert_eq!(
            parse_rfc3339_nanos("1969-12-31T23:59:59.5Z"),
            Some(-500_000_000)
        );
    }
}
