//! A seller's dispute rates (contract section 12): per UTC calendar month, the succeeded orders
//! created in it (`sales`), the chargebacks created in it (`disputes`: inquiries, `warning_*`
//! and `prevented` ones not counted) and the early fraud warnings created in it
//! (`fraud_warnings`), in `all` and per card brand (`visa`, `mastercard`); and each network
//! program's ratio, threshold and level.
//!
//! Counting never scans the table: each order *contributes* to the counters of the months its
//! facts name ([`contribution`], a pure function of the order), and every write of an order's
//! facts adds the difference between the old and the new contribution ([`increments`]) to
//! per-seller per-month counter items. A duplicate event writes nothing and so adds nothing; any
//! arrival order telescopes to the final order's contribution; a fact that moves (an inquiry
//! escalating to a chargeback, a brand learnt after the dispute, a `created_at` that settles
//! across a month's end) moves its count. The counters hold `sales` in `all`, and `disputes` and
//! `fraud_warnings` in `all` and per brand. `sales` per brand are read from the card index
//! instead (a keys-only count of the brand's partition of the month: every settled paid order
//! with a card is listed there for Visa CE 3.0 anyway), so that an order whose card arrives
//! after its payment (the checkout first, Stripe's usual order for a Checkout Session) writes
//! no second counter. Reading a month: one small counter item, and per brand one `Query` whose
//! cost follows that month's card sales (`OrderStore::get_rates`).
//!
//! Thresholds, from each program's published rules (and `docs/disputes.md`):
//! - **Visa**: the Visa Acquirer Monitoring Program (VAMP, from April 2025) ratio is (fraud
//!   reported (TC40) + disputes) / settled transactions of the month; a merchant is "excessive"
//!   at 1.5 % from 1 April 2026 (2.2 % before), with at least 1,500 fraud reports plus disputes
//!   (Visa, VAMP fact sheet; as published by acquirers, e.g.
//!   <https://support.checkout.com/hc/en-us/articles/23330844282514>). We show the ratio whatever
//!   the count: a small seller should see the trend before Visa does.
//! - **Mastercard**: the Excessive Chargeback Program's chargeback-to-transaction ratio is the
//!   month's chargebacks / the previous month's sales transactions; "Excessive Chargeback
//!   Merchant" at 1.5 % (150 basis points) with at least 100 chargebacks (Mastercard Security
//!   Rules and Procedures, section 8.3 "Excessive Chargeback Program";
//!   <https://developer.paypal.com/braintree/articles/risk-and-security/card-brand-monitoring-programs/mastercard-programs/excessive-chargeback-program>).
//! - **all**: the month's chargebacks / the month's sales, held against 1 %: Mastercard's
//!   "Chargeback-Monitored Merchant" early-warning ratio (100 basis points, same rules), the
//!   lowest published network ratio on chargebacks over sales.
//!
//! `level` is `watch` from half the threshold and `over` at it. A month without sales counts as
//! one sale, so a dispute with no sales reads as a rate, never as a division by zero.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::order::facts::{source, Facts};

/// A UTC calendar month, as months since year 0 (`year * 12 + month - 1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(pub i32);

impl Month {
    /// The month of a Unix time (seconds), in UTC.
    pub fn of(secs: i64) -> Month {
        let date = time::OffsetDateTime::from_unix_timestamp(secs)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        Month(date.year() * 12 + i32::from(u8::from(date.month())) - 1)
    }

    /// Its first second (UTC).
    pub fn start(self) -> i64 {
        let month =
            time::Month::try_from(self.0.rem_euclid(12) as u8 + 1).unwrap_or(time::Month::January);
        time::Date::from_calendar_date(self.0.div_euclid(12), month, 1)
            .map(|d| d.midnight().assume_utc().unix_timestamp())
            .unwrap_or(0)
    }

    pub fn previous(self) -> Month {
        Month(self.0 - 1)
    }

    /// `2026-05`.
    pub fn label(self) -> String {
        format!(
            "{:04}-{:02}",
            self.0.div_euclid(12),
            self.0.rem_euclid(12) + 1
        )
    }
}

/// The card brands with a network program of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Brand {
    Visa,
    Mastercard,
}

impl Brand {
    /// Stripe's `payment_method_details.card.brand`, when it is one of ours.
    pub fn parse(brand: &str) -> Option<Brand> {
        match brand {
            "visa" => Some(Brand::Visa),
            "mastercard" => Some(Brand::Mastercard),
            _ => None,
        }
    }
}

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Measure {
    Sales,
    Disputes,
    FraudWarnings,
}

/// One counter of a month: a measure, in `all` (`brand: None`) or for one brand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Counter {
    pub measure: Measure,
    pub brand: Option<Brand>,
}

impl Counter {
    pub const ALL: [Counter; 9] = {
        const fn c(measure: Measure, brand: Option<Brand>) -> Counter {
            Counter { measure, brand }
        }
        [
            c(Measure::Sales, None),
            c(Measure::Sales, Some(Brand::Visa)),
            c(Measure::Sales, Some(Brand::Mastercard)),
            c(Measure::Disputes, None),
            c(Measure::Disputes, Some(Brand::Visa)),
            c(Measure::Disputes, Some(Brand::Mastercard)),
            c(Measure::FraudWarnings, None),
            c(Measure::FraudWarnings, Some(Brand::Visa)),
            c(Measure::FraudWarnings, Some(Brand::Mastercard)),
        ]
    };
}

/// One month's counts (missing ones are 0): the counters, and the store's count of sales per
/// brand.
pub type MonthCounts = BTreeMap<Counter, i64>;

/// What one order adds to its seller's counters, by month.
pub type Contribution = BTreeMap<Month, MonthCounts>;

/// A change to one month's counters (never zero entries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthIncrement {
    pub month: Month,
    pub deltas: Vec<(Counter, i64)>,
}

/// The brand of the card that paid: only the succeeded charge's (a declined attempt may have
/// used another card).
pub fn paid_brand(facts: &Facts) -> Option<Brand> {
    facts
        .card
        .as_ref()
        .filter(|c| c.rank == source::billing::SUCCEEDED_CHARGE)
        .and_then(|c| c.value.brand.as_deref())
        .and_then(Brand::parse)
}

/// Whether a dispute status is a chargeback's: not an inquiry (`warning_*`), not `prevented`.
pub fn is_chargeback(status: &str) -> bool {
    !status.starts_with("warning_") && status != "prevented"
}

fn add(into: &mut Contribution, month: Month, measure: Measure, brand: Option<Brand>) {
    let counts = into.entry(month).or_default();
    *counts
        .entry(Counter {
            measure,
            brand: None,
        })
        .or_default() += 1;
    if let Some(brand) = brand {
        *counts
            .entry(Counter {
                measure,
                brand: Some(brand),
            })
            .or_default() += 1;
    }
}

/// What an order contributes to its seller's counters: a pure function of its facts.
pub fn contribution(facts: &Facts) -> Contribution {
    let mut out = Contribution::new();
    let brand = paid_brand(facts);
    // Sales per brand are not counters: the store counts them on the card index, which lists
    // every settled paid order by brand and month anyway (`OrderStore::get_rates`), so a sale
    // whose card arrives after its payment costs no second counter write.
    if facts.succeeded() {
        add(
            &mut out,
            Month::of(facts.created_at()),
            Measure::Sales,
            None,
        );
    }
    for dispute in facts.disputes.values() {
        if !is_chargeback(dispute.status()) {
            continue;
        }
        // Stripe's object names its `created`; an event without it dates it by the earliest
        // event known of it.
        let created = dispute
            .created
            .or_else(|| dispute.history.first().map(|e| e.0))
            .unwrap_or(dispute.state.at);
        add(&mut out, Month::of(created), Measure::Disputes, brand);
    }
    for warning in facts.fraud_warnings.values() {
        let created = warning.created.unwrap_or(warning.actionable.at);
        add(&mut out, Month::of(created), Measure::FraudWarnings, brand);
    }
    out
}

/// What a write from `old` to `new` facts adds to the counters (`old`: `None` for a new order).
pub fn increments(old: Option<&Facts>, new: &Facts) -> Vec<MonthIncrement> {
    let before = old.map(contribution).unwrap_or_default();
    let after = contribution(new);
    let mut months: Vec<Month> = before.keys().chain(after.keys()).copied().collect();
    months.sort();
    months.dedup();
    months
        .into_iter()
        .filter_map(|month| {
            let deltas: Vec<(Counter, i64)> = Counter::ALL
                .iter()
                .filter_map(|c| {
                    let get = |m: &Contribution| {
                        m.get(&month).and_then(|n| n.get(c)).copied().unwrap_or(0)
                    };
                    let delta = get(&after) - get(&before);
                    (delta != 0).then_some((*c, delta))
                })
                .collect();
            (!deltas.is_empty()).then_some(MonthIncrement { month, deltas })
        })
        .collect()
}

/// Visa VAMP's merchant "excessive" ratio since 1 April 2026 (module docs).
pub const VISA_THRESHOLD: f64 = 0.015;
/// Mastercard's Excessive Chargeback Merchant ratio (module docs).
pub const MASTERCARD_THRESHOLD: f64 = 0.015;
/// Mastercard's Chargeback-Monitored Merchant ratio, held against all brands (module docs).
pub const ALL_THRESHOLD: f64 = 0.01;

/// `ok`, `watch` (from half the threshold) or `over` (at it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Level {
    Ok,
    Watch,
    Over,
}

impl Level {
    pub fn of(rate: f64, threshold: f64) -> Level {
        if rate >= threshold {
            Level::Over
        } else if rate * 2.0 >= threshold {
            Level::Watch
        } else {
            Level::Ok
        }
    }
}

/// One brand's line of one month (contract section 12).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BrandRate {
    /// Succeeded orders created in the month.
    pub sales: i64,
    /// Chargebacks created in the month.
    pub disputes: i64,
    /// Early fraud warnings created in the month.
    pub fraud_warnings: i64,
    /// The program's ratio (a fraction: 0.015 is 1.5 %).
    pub dispute_rate: f64,
    /// The program's published ratio, a fraction.
    pub threshold: f64,
    pub level: Level,
}

/// One month: its label and each brand's line.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MonthRates {
    /// `YYYY-MM`, UTC.
    pub month: String,
    pub visa: BrandRate,
    pub mastercard: BrandRate,
    pub all: BrandRate,
}

/// `rates` of `GET /stats/disputes`: this UTC month and the previous one.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rates {
    pub current: MonthRates,
    pub previous: MonthRates,
}

/// The months [`rates`] reads: this one, the previous one, and the one before it (Mastercard's
/// ratio for the previous month divides by that month's sales).
pub fn months_read(now: i64) -> [Month; 3] {
    let current = Month::of(now);
    [current, current.previous(), current.previous().previous()]
}

fn ratio(numerator: i64, denominator: i64) -> f64 {
    numerator.max(0) as f64 / denominator.max(1) as f64
}

fn month_rates(month: Month, counts: &BTreeMap<Month, MonthCounts>) -> MonthRates {
    let get = |m: Month, measure: Measure, brand: Option<Brand>| {
        counts
            .get(&m)
            .and_then(|c| c.get(&Counter { measure, brand }))
            .copied()
            .unwrap_or(0)
            .max(0)
    };
    let line = |brand: Option<Brand>, rate: f64, threshold: f64| BrandRate {
        sales: get(month, Measure::Sales, brand),
        disputes: get(month, Measure::Disputes, brand),
        fraud_warnings: get(month, Measure::FraudWarnings, brand),
        dispute_rate: rate,
        threshold,
        level: Level::of(rate, threshold),
    };
    let visa = Some(Brand::Visa);
    let mastercard = Some(Brand::Mastercard);
    // Visa VAMP: (fraud reports + disputes) / the month's sales.
    let visa_rate = ratio(
        get(month, Measure::FraudWarnings, visa) + get(month, Measure::Disputes, visa),
        get(month, Measure::Sales, visa),
    );
    // Mastercard ECP: the month's chargebacks / the previous month's sales.
    let mastercard_rate = ratio(
        get(month, Measure::Disputes, mastercard),
        get(month.previous(), Measure::Sales, mastercard),
    );
    let all_rate = ratio(
        get(month, Measure::Disputes, None),
        get(month, Measure::Sales, None),
    );
    MonthRates {
        month: month.label(),
        visa: line(visa, visa_rate, VISA_THRESHOLD),
        mastercard: line(mastercard, mastercard_rate, MASTERCARD_THRESHOLD),
        all: line(None, all_rate, ALL_THRESHOLD),
    }
}

/// The rates at `now` from the counters of [`months_read`] (a month not in `counts` is zero).
pub fn rates(now: i64, counts: &BTreeMap<Month, MonthCounts>) -> Rates {
    let [current, previous, _] = months_read(now);
    Rates {
        current: month_rates(current, counts),
        previous: month_rates(previous, counts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::facts::{CardFact, DisputeFact, FraudWarningFact, Reg};

    /// 2026-11-30T23:59:59Z and the second after.
    const NOV_END: i64 = 1_796_083_199;
    const DEC_START: i64 = NOV_END + 1;

    fn sold(created: i64, brand: Option<&str>) -> Facts {
        let mut f = Facts {
            pi_created: Some(created),
            succeeded_at: Some(created + 2),
            ..Facts::default()
        };
        if let Some(brand) = brand {
            f.card = Some(Reg::new(
                source::billing::SUCCEEDED_CHARGE,
                created + 1,
                CardFact {
                    fingerprint: Some("fp".into()),
                    brand: Some(brand.into()),
                },
            ));
        }
        f
    }

    fn dispute(status: &str, created: i64) -> DisputeFact {
        DisputeFact {
            state: Reg::new(2, created, status.into()),
            history: Default::default(),
            reason: None,
            amount: None,
            evidence_due_by: None,
            created: Some(created),
            funds_withdrawn: false,
            funds_reinstated: false,
            ..Default::default()
        }
    }

    fn total(incs: &[Vec<MonthIncrement>]) -> BTreeMap<Month, MonthCounts> {
        let mut out: BTreeMap<Month, MonthCounts> = BTreeMap::new();
        for inc in incs.iter().flatten() {
            for (c, d) in &inc.deltas {
                *out.entry(inc.month).or_default().entry(*c).or_default() += d;
            }
        }
        for counts in out.values_mut() {
            counts.retain(|_, v| *v != 0);
        }
        out.retain(|_, c| !c.is_empty());
        out
    }

    #[test]
    fn given_instants_at_a_month_s_end_when_their_month_is_taken_then_utc_decides() {
        assert_eq!(Month::of(NOV_END).label(), "2026-11");
        assert_eq!(Month::of(DEC_START).label(), "2026-12");
        assert_eq!(Month::of(DEC_START).previous().label(), "2026-11");
        assert_eq!(Month::of(DEC_START).start(), DEC_START);
        assert_eq!(Month::of(NOV_END).start(), DEC_START - 30 * 86_400);
        assert_eq!(Month::of(1_767_225_600).label(), "2026-01");
        assert_eq!(Month::of(1_767_225_600).previous().label(), "2025-12");
    }

    #[test]
    fn given_a_paid_visa_order_disputed_and_warned_when_counted_then_each_lands_in_its_own_month() {
        // GIVEN a Visa sale on the last second of November, a fraud warning and a chargeback
        // created in December, an inquiry and a prevented dispute (not counted)
        let mut f = sold(NOV_END, Some("visa"));
        f.disputes
            .insert("du_1".into(), dispute("needs_response", DEC_START + 10));
        f.disputes
            .insert("du_2".into(), dispute("warning_needs_response", DEC_START));
        f.disputes
            .insert("du_3".into(), dispute("prevented", DEC_START));
        f.fraud_warnings.insert(
            "issfr_1".into(),
            FraudWarningFact {
                actionable: Reg::new(0, DEC_START, true),
                fraud_type: None,
                created: Some(DEC_START + 5),
            },
        );
        // WHEN its contribution is taken
        let c = contribution(&f);
        // THEN the sale is November's, the chargeback and the warning December's, all and Visa
        let n = |m: i64, measure, brand| {
            c.get(&Month::of(m))
                .and_then(|x| x.get(&Counter { measure, brand }))
                .copied()
        };
        assert_eq!(n(NOV_END, Measure::Sales, None), Some(1));
        // (sales per brand are the store's count of the card index, not a contribution)
        assert_eq!(n(NOV_END, Measure::Sales, Some(Brand::Visa)), None);
        assert_eq!(n(DEC_START, Measure::Sales, None), None);
        assert_eq!(n(DEC_START, Measure::Disputes, None), Some(1));
        assert_eq!(n(DEC_START, Measure::Disputes, Some(Brand::Visa)), Some(1));
        assert_eq!(
            n(DEC_START, Measure::FraudWarnings, Some(Brand::Visa)),
            Some(1)
        );
        assert_eq!(
            n(DEC_START, Measure::Disputes, Some(Brand::Mastercard)),
            None
        );
    }

    #[test]
    fn given_facts_arriving_in_any_order_when_increments_are_summed_then_they_equal_the_final_contribution(
    ) {
        // GIVEN the states an order passes through in two arrival orders: the sale without a
        // brand, then its card; or the card (a failed attempt's first), then the sale
        let unpaid = Facts::default();
        let sale_only = sold(NOV_END, None);
        let complete = sold(NOV_END, Some("mastercard"));
        let mut inquiry = complete.clone();
        inquiry
            .disputes
            .insert("du_1".into(), dispute("warning_needs_response", DEC_START));
        let mut escalated = complete.clone();
        escalated
            .disputes
            .insert("du_1".into(), dispute("needs_response", DEC_START + 60));
        escalated.disputes.get_mut("du_1").unwrap().created = Some(DEC_START);
        // WHEN each write adds its increments (a duplicate write adds none)
        let first = [
            increments(None, &sale_only),
            increments(Some(&sale_only), &sale_only),
            increments(Some(&sale_only), &complete),
            increments(Some(&complete), &inquiry),
            increments(Some(&inquiry), &escalated),
        ];
        let second = [
            increments(Some(&unpaid), &complete),
            increments(Some(&complete), &escalated),
            increments(Some(&escalated), &escalated),
        ];
        // THEN both sum to the final contribution: the sale once, and the chargeback once, in
        // all and on Mastercard (the inquiry counted nothing until it escalated)
        let expected = contribution(&escalated);
        assert_eq!(total(&first), expected);
        assert_eq!(total(&second), expected);
        assert_eq!(expected[&Month::of(NOV_END)].len(), 1);
        // AND the card arriving after the sale adds nothing to the counters
        assert!(increments(Some(&sale_only), &complete).is_empty());
        assert_eq!(
            expected[&Month::of(DEC_START)][&Counter {
                measure: Measure::Disputes,
                brand: Some(Brand::Mastercard)
            }],
            1
        );
        // AND an order whose created_at settles into the next month moves its sale there
        let moved = sold(DEC_START, Some("mastercard"));
        let inc = increments(Some(&complete), &moved);
        assert_eq!(inc.len(), 2);
        assert_eq!(inc[0].deltas.len(), 1);
        assert_eq!(inc[0].deltas.len(), 1);
        assert!(inc[0].deltas.iter().all(|(_, d)| *d == -1));
        assert!(inc[1].deltas.iter().all(|(_, d)| *d == 1));
        // AND a declined attempt's card never decides the brand
        let mut declined = sold(NOV_END, Some("visa"));
        declined.card.as_mut().unwrap().rank = source::billing::OTHER_CHARGE;
        assert_eq!(paid_brand(&declined), None);
    }

    fn counts(entries: &[(i64, Measure, Option<Brand>, i64)]) -> BTreeMap<Month, MonthCounts> {
        let mut out: BTreeMap<Month, MonthCounts> = BTreeMap::new();
        for (at, measure, brand, n) in entries {
            out.entry(Month::of(*at)).or_default().insert(
                Counter {
                    measure: *measure,
                    brand: *brand,
                },
                *n,
            );
        }
        out
    }

    #[test]
    fn given_counters_either_side_of_a_month_s_end_when_rated_then_each_program_s_ratio_holds() {
        use Measure::*;
        let visa = Some(Brand::Visa);
        let mc = Some(Brand::Mastercard);
        const OCT: i64 = NOV_END - 40 * 86_400;
        // GIVEN October: 300 Mastercard sales; November: 1,000 sales (600 Visa, 200
        // Mastercard), 4 Visa chargebacks and 2 Visa fraud warnings, 3 Mastercard chargebacks;
        // December so far: 100 sales (50 Visa, 40 Mastercard), 1 Visa chargeback, 1 Mastercard
        let c = counts(&[
            (OCT, Sales, None, 300),
            (OCT, Sales, mc, 300),
            (NOV_END, Sales, None, 1_000),
            (NOV_END, Sales, visa, 600),
            (NOV_END, Sales, mc, 200),
            (NOV_END, Disputes, None, 7),
            (NOV_END, Disputes, visa, 4),
            (NOV_END, FraudWarnings, None, 2),
            (NOV_END, FraudWarnings, visa, 2),
            (NOV_END, Disputes, mc, 3),
            (DEC_START, Sales, None, 100),
            (DEC_START, Sales, visa, 50),
            (DEC_START, Sales, mc, 40),
            (DEC_START, Disputes, None, 2),
            (DEC_START, Disputes, visa, 1),
            (DEC_START, Disputes, mc, 1),
        ]);
        // WHEN rated on the first second of December
        let r = rates(DEC_START, &c);
        // THEN December is current and November previous
        assert_eq!(r.current.month, "2026-12");
        assert_eq!(r.previous.month, "2026-11");
        // AND Visa's ratio is (fraud reports + disputes) over the month's Visa sales
        assert_eq!(r.previous.visa.dispute_rate, 6.0 / 600.0);
        assert_eq!(r.previous.visa.level, Level::Watch);
        assert_eq!(r.current.visa.dispute_rate, 1.0 / 50.0);
        assert_eq!(r.current.visa.level, Level::Over);
        // AND Mastercard's is the month's chargebacks over the previous month's sales
        assert_eq!(r.previous.mastercard.dispute_rate, 3.0 / 300.0);
        assert_eq!(r.previous.mastercard.level, Level::Watch);
        assert_eq!(r.current.mastercard.dispute_rate, 1.0 / 200.0);
        assert_eq!(r.current.mastercard.level, Level::Ok);
        assert_eq!(r.current.mastercard.sales, 40);
        // AND all is the month's chargebacks over the month's sales, brandless sales included
        assert_eq!(r.previous.all.dispute_rate, 7.0 / 1_000.0);
        assert_eq!(r.previous.all.level, Level::Watch);
        assert_eq!(r.current.all.dispute_rate, 0.02);
        assert_eq!(r.current.all.level, Level::Over);
        assert_eq!(r.current.all.fraud_warnings, 0);
        assert_eq!(r.previous.all.fraud_warnings, 2);
        // AND on the last second of November, November is current
        let r = rates(NOV_END, &c);
        assert_eq!(r.current.month, "2026-11");
        assert_eq!(r.previous.month, "2026-10");
        assert_eq!(r.previous.sales_of_all(), 300);
        assert_eq!(r.previous.mastercard.dispute_rate, 0.0);
        // AND a month with a dispute and no sales reads as over, not as a division by zero
        let none = counts(&[(DEC_START, Disputes, None, 1)]);
        assert_eq!(rates(DEC_START, &none).current.all.level, Level::Over);
        assert_eq!(
            rates(DEC_START, &BTreeMap::new()).current.all.level,
            Level::Ok
        );
    }

    #[test]
    fn given_rates_at_and_around_the_thresholds_when_levelled_then_half_is_watch_and_the_threshold_over(
    ) {
        assert_eq!(Level::of(0.0, 0.015), Level::Ok);
        assert_eq!(Level::of(0.0074, 0.015), Level::Ok);
        assert_eq!(Level::of(0.0075, 0.015), Level::Watch);
        assert_eq!(Level::of(0.0149, 0.015), Level::Watch);
        assert_eq!(Level::of(0.015, 0.015), Level::Over);
        assert_eq!(Level::of(0.5, 0.01), Level::Over);
    }

    impl MonthRates {
        fn sales_of_all(&self) -> i64 {
            self.all.sales
        }
    }
}
