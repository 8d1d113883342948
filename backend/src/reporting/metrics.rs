//! Metric definitions — one meaning everywhere (see ../shared/docs/product.md, "Metric
//! definitions"). Pure functions over numbers the queries gather, so each rule is pinned by
//! hand-computed tests. A ratio with a zero denominator is `None`, shown as "—".

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

/// `num / den`, or `None` when `den` is 0.
pub fn ratio(num: f64, den: f64) -> Option<f64> {
    (den != 0.0).then(|| num / den)
}

pub fn days_in_month(year: i32, month: u32) -> u32 {
    let first = NaiveDate::from_ymd_opt(year, month, 1).expect("valid month");
    let next = if month == 12 { NaiveDate::from_ymd_opt(year + 1, 1, 1) } else { NaiveDate::from_ymd_opt(year, month + 1, 1) };
    (next.expect("valid month") - first).num_days() as u32
}

/// Where "today" sits in its month: d = days elapsed including today, D = days in the month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthClock {
    pub today: NaiveDate,
    pub month_start: NaiveDate,
    pub month_end: NaiveDate,
    pub elapsed_days: u32,
    pub days_in_month: u32,
}

impl MonthClock {
    pub fn at(today: NaiveDate) -> MonthClock {
        let days = days_in_month(today.year(), today.month());
        let month_start = today.with_day(1).expect("day 1 exists");
        MonthClock {
            today,
            month_start,
            month_end: month_start + Duration::days(days as i64 - 1),
            elapsed_days: today.day(),
            days_in_month: days,
        }
    }

    /// A closed month, seen from its last day (d = D).
    pub fn closed(year: i32, month: u32) -> MonthClock {
        let days = days_in_month(year, month);
        MonthClock::at(NaiveDate::from_ymd_opt(year, month, days).expect("valid month"))
    }

    /// The 7 complete days before today (first, last).
    pub fn last_7_complete_days(&self) -> (NaiveDate, NaiveDate) {
        (self.today - Duration::days(7), self.today - Duration::days(1))
    }

    /// Share of the month elapsed, d/D.
    pub fn elapsed_share(&self) -> f64 {
        self.elapsed_days as f64 / self.days_in_month as f64
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PacingStatus {
    OnTrack,
    AtRisk,
    Behind,
    /// No monthly target set: nothing to pace against.
    NoTarget,
}

impl PacingStatus {
    pub fn label(self) -> &'static str {
        match self {
            PacingStatus::OnTrack => "on track",
            PacingStatus::AtRisk => "at risk",
            PacingStatus::Behind => "behind",
            PacingStatus::NoTarget => "no target",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pacing {
    pub target: i64,
    pub mtd: i64,
    /// T·d/D.
    pub expected_by_today: f64,
    /// MTD / expected; `None` when nothing is expected yet (no target).
    pub pacing: Option<f64>,
    /// MTD + (mean daily interested over the last 7 complete days)·(D − d).
    pub projection: f64,
    /// MTD / T.
    pub percent_of_target: Option<f64>,
    pub status: PacingStatus,
}

/// Pacing of interested leads against the monthly target `target`, given the month-to-date count
/// and the interested count of the last 7 complete days.
pub fn pacing(target: i64, mtd: i64, interested_last_7_days: i64, clock: &MonthClock) -> Pacing {
    let t = target as f64;
    let expected = t * clock.elapsed_share();
    let remaining_days = (clock.days_in_month - clock.elapsed_days) as f64;
    let projection = mtd as f64 + (interested_last_7_days as f64 / 7.0) * remaining_days;
    let status = if target <= 0 {
        PacingStatus::NoTarget
    } else if projection >= t {
        PacingStatus::OnTrack
    } else if projection >= 0.8 * t {
        PacingStatus::AtRisk
    } else {
        PacingStatus::Behind
    };
    Pacing {
        target,
        mtd,
        expected_by_today: expected,
        pacing: ratio(mtd as f64, expected),
        projection,
        percent_of_target: ratio(mtd as f64, t),
        status,
    }
}

/// Sender health by bounce rate: < 2 % healthy, 2–5 % warning, > 5 % critical.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthBand {
    Healthy,
    Warning,
    Critical,
    /// Nothing sent yet.
    NoData,
}

pub fn health_band(bounced: i64, sent: i64) -> HealthBand {
    match ratio(bounced as f64, sent as f64) {
        None => HealthBand::NoData,
        Some(r) if r < 0.02 => HealthBand::Healthy,
        Some(r) if r <= 0.05 => HealthBand::Warning,
        Some(_) => HealthBand::Critical,
    }
}

/// Reply and positive-reply rates, with both labelled denominators.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplyRates {
    /// replies / contacted
    pub reply_rate: Option<f64>,
    /// interested / replies
    pub positive_of_replies: Option<f64>,
    /// interested / contacted
    pub positive_of_contacted: Option<f64>,
}

pub fn reply_rates(contacted: i64, replies: i64, interested: i64) -> ReplyRates {
    ReplyRates {
        reply_rate: ratio(replies as f64, contacted as f64),
        positive_of_replies: ratio(interested as f64, replies as f64),
        positive_of_contacted: ratio(interested as f64, contacted as f64),
    }
}

/// `amount_cents · d / D`, rounded half away from zero to the cent (retainers and recurring
/// costs month to date; a closed month has d = D, i.e. the whole amount).
pub fn prorate_cents(amount_cents: i64, clock: &MonthClock) -> i64 {
    let num = amount_cents as i128 * clock.elapsed_days as i128;
    let den = clock.days_in_month as i128;
    let q = num / den;
    let r = num % den;
    (if 2 * r.abs() >= den { q + num.signum() } else { q }) as i64
}

/// Money for one workspace over one month (to date).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Money {
    pub revenue_cents: i64,
    pub costs_cents: i64,
    pub profit_cents: i64,
    /// profit / revenue
    pub margin: Option<f64>,
    /// profit / costs (agency ROI)
    pub roi: Option<f64>,
}

pub fn money(revenue_cents: i64, costs_cents: i64) -> Money {
    let profit = revenue_cents - costs_cents;
    Money {
        revenue_cents,
        costs_cents,
        profit_cents: profit,
        margin: ratio(profit as f64, revenue_cents as f64),
        roi: ratio(profit as f64, costs_cents as f64),
    }
}

/// Client ROI: the value of the client's won deals over the fees billed to them.
pub fn client_roi(won_value_cents: i64, fees_billed_cents: i64) -> Option<f64> {
    ratio(won_value_cents as f64, fees_billed_cents as f64)
}

/// Days of leads left: uncontacted leads in active campaigns / new leads per day capacity.
pub fn lead_runway_days(uncontacted_leads: i64, new_leads_per_day: i64) -> Option<f64> {
    ratio(uncontacted_leads as f64, new_leads_per_day as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn month_lengths_including_leap_years() {
        assert_eq!(days_in_month(2026, 2), 28);
        assert_eq!(days_in_month(2028, 2), 29);
        assert_eq!(days_in_month(2100, 2), 28);
        assert_eq!(days_in_month(2026, 4), 30);
        assert_eq!(days_in_month(2026, 12), 31);
        let c = MonthClock::at(day(2028, 2, 29));
        assert_eq!((c.elapsed_days, c.days_in_month, c.month_start, c.month_end), (29, 29, day(2028, 2, 1), day(2028, 2, 29)));
        assert_eq!(MonthClock::at(day(2026, 11, 21)).last_7_complete_days(), (day(2026, 11, 14), day(2026, 11, 20)));
    }

    #[test]
    fn pacing_mid_month_at_risk() {
        // T = 40, 21 Nov 2026 (d = 21, D = 30), MTD 25, 7 interested in the last 7 complete days.
        // expected = 40·21/30 = 28; pacing = 25/28; projection = 25 + 1·9 = 34; 32 ≤ 34 < 40 → at risk.
        let p = pacing(40, 25, 7, &MonthClock::at(day(2026, 11, 21)));
        assert!(close(p.expected_by_today, 28.0));
        assert!(close(p.pacing.unwrap(), 25.0 / 28.0));
        assert!(close(p.projection, 34.0));
        assert!(close(p.percent_of_target.unwrap(), 0.625));
        assert_eq!(p.status, PacingStatus::AtRisk);
    }

    #[test]
    fn pacing_on_the_first_day_uses_last_month_s_pace() {
        // 1 Dec 2026: d = 1, D = 31, T = 31 → expected 1; 14 in the last 7 days (2/day):
        // projection = 0 + 2·30 = 60 ≥ 31 → on track, though pacing is 0.
        let p = pacing(31, 0, 14, &MonthClock::at(day(2026, 12, 1)));
        assert!(close(p.expected_by_today, 1.0));
        assert_eq!(p.pacing, Some(0.0));
        assert!(close(p.projection, 60.0));
        assert_eq!(p.status, PacingStatus::OnTrack);
    }

    #[test]
    fn pacing_on_the_last_day_is_just_the_count() {
        // 28 Feb 2027: d = D = 28, nothing left to project. T = 20, MTD 15 < 16 (80 %) → behind.
        let p = pacing(20, 15, 70, &MonthClock::at(day(2027, 2, 28)));
        assert!(close(p.projection, 15.0));
        assert!(close(p.expected_by_today, 20.0));
        assert_eq!(p.status, PacingStatus::Behind);
        // Exactly 80 % is at risk; exactly the target is on track.
        assert_eq!(pacing(20, 16, 0, &MonthClock::at(day(2027, 2, 28))).status, PacingStatus::AtRisk);
        assert_eq!(pacing(20, 20, 0, &MonthClock::at(day(2027, 2, 28))).status, PacingStatus::OnTrack);
        // Leap February: 29 Feb 2028, T = 29, MTD 29 → expected 29, pacing 1.
        let p = pacing(29, 29, 0, &MonthClock::at(day(2028, 2, 29)));
        assert_eq!(p.pacing, Some(1.0));
    }

    #[test]
    fn no_target_means_no_pacing() {
        let p = pacing(0, 5, 7, &MonthClock::at(day(2026, 11, 21)));
        assert_eq!((p.pacing, p.percent_of_target, p.status), (None, None, PacingStatus::NoTarget));
    }

    #[test]
    fn retainers_and_recurring_costs_prorate_by_elapsed_days() {
        // $4,500/month on 21 Nov (21/30): 450000·21/30 = 315000 exactly.
        assert_eq!(prorate_cents(450_000, &MonthClock::at(day(2026, 11, 21))), 315_000);
        // $1,000/month on 10 Jan (10/31): 100000·10/31 = 32258.06… → 32258.
        assert_eq!(prorate_cents(100_000, &MonthClock::at(day(2027, 1, 10))), 32_258);
        // 20/31 → 64516.129… → 64516; 1/3-style half cent: 50·1/... rounding half up: 15·1/2 = 7.5 → 8.
        assert_eq!(prorate_cents(100_000, &MonthClock::at(day(2027, 1, 20))), 64_516);
        assert_eq!(prorate_cents(15, &MonthClock::at(day(2027, 2, 14))), 8);
        // A closed month is whole.
        assert_eq!(prorate_cents(450_000, &MonthClock::closed(2026, 2)), 450_000);
    }

    #[test]
    fn money_ratios_never_divide_by_zero() {
        let m = money(0, 12_000);
        assert_eq!((m.profit_cents, m.margin), (-12_000, None));
        assert!(close(m.roi.unwrap(), -1.0));
        let m = money(300_000, 0);
        assert_eq!((m.profit_cents, m.margin, m.roi), (300_000, Some(1.0), None));
        // 30 leads × $150 = $4,500 revenue, $1,200 costs → profit 3,300, margin 73.3 %, ROI 275 %.
        let m = money(30 * 15_000, 120_000);
        assert_eq!(m.profit_cents, 330_000);
        assert!(close(m.margin.unwrap(), 330_000.0 / 450_000.0));
        assert!(close(m.roi.unwrap(), 2.75));
        assert_eq!(client_roi(1_000_000, 0), None);
        assert_eq!(client_roi(1_000_000, 250_000), Some(4.0));
    }

    #[test]
    fn health_bands_at_their_edges() {
        assert_eq!(health_band(0, 0), HealthBand::NoData);
        assert_eq!(health_band(19, 1000), HealthBand::Healthy); // 1.9 %
        assert_eq!(health_band(20, 1000), HealthBand::Warning); // 2.0 %
        assert_eq!(health_band(50, 1000), HealthBand::Warning); // 5.0 %
        assert_eq!(health_band(51, 1000), HealthBand::Critical); // 5.1 %
    }

    #[test]
    fn reply_rates_carry_both_denominators() {
        // 1000 contacted, 40 replies, 10 interested.
        let r = reply_rates(1000, 40, 10);
        assert_eq!(r.reply_rate, Some(0.04));
        assert_eq!(r.positive_of_replies, Some(0.25));
        assert_eq!(r.positive_of_contacted, Some(0.01));
        assert_eq!(reply_rates(0, 0, 0), ReplyRates { reply_rate: None, positive_of_replies: None, positive_of_contacted: None });
        assert_eq!(lead_runway_days(3000, 200), Some(15.0));
        assert_eq!(lead_runway_days(3000, 0), None);
    }
}
