//! Periods times are floored to: `TIME_FLOOR`'s ISO 8601 ones and granularities by name.

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeZone};

/// A span of time times are floored to: ISO 8601 (`PT15M`, `P1D`, `P1M`) or a granularity's
/// name (`minute`, `hour`, `day`, `week`, `month`, `quarter`, `year`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    count: i64,
    unit: Unit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Unit {
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
}

const SECOND: i64 = 1_000_000;
const DAY: i64 = 86_400 * SECOND;

impl Period {
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let named = |count, unit| Ok(Period { count, unit });
        match text.to_ascii_lowercase().as_str() {
            "second" => return named(1, Unit::Second),
            "minute" => return named(1, Unit::Minute),
            "fifteen_minute" => return named(15, Unit::Minute),
            "thirty_minute" => return named(30, Unit::Minute),
            "hour" => return named(1, Unit::Hour),
            "day" => return named(1, Unit::Day),
            "week" => return named(1, Unit::Week),
            "month" => return named(1, Unit::Month),
            "quarter" => return named(3, Unit::Month),
            "year" => return named(12, Unit::Month),
            _ => {}
        }
        let bad = || {
            format!(
                "`{text}` is not a period: use one ISO 8601 unit such as PT1S, PT15M, PT1H, \
                 P1D, P1W, P1M, P3M or P1Y, or second, minute, hour, day, week, month, \
                 quarter, year"
            )
        };
        let upper = text.to_ascii_uppercase();
        let rest = upper.strip_prefix('P').ok_or_else(bad)?;
        let (time, rest) = match rest.strip_prefix('T') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let split = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (digits, letter) = rest.split_at(split);
        let count: i64 = digits.parse().map_err(|_| bad())?;
        if count < 1 {
            return Err(bad());
        }
        let (count, unit) = match (time, letter) {
            (true, "S") => (count, Unit::Second),
            (true, "M") => (count, Unit::Minute),
            (true, "H") => (count, Unit::Hour),
            (false, "D") => (count, Unit::Day),
            (false, "W") => (count, Unit::Week),
            (false, "M") => (count, Unit::Month),
            (false, "Y") => (count.checked_mul(12).ok_or_else(bad)?, Unit::Month),
            _ => return Err(bad()),
        };
        Ok(Period { count, unit })
    }

    /// The start of the period `t` falls in, counted from `origin` (the epoch, or for weeks
    /// the Monday before it) on the wall clock of `zone`.
    pub fn floor(&self, t: i64, origin: Option<i64>, zone: chrono_tz::Tz) -> Option<i64> {
        let local = |micros: i64| -> Option<NaiveDateTime> {
            Some(zone.timestamp_micros(micros).single()?.naive_local())
        };
        let wall = local(t)?;
        let floored = match self.unit {
            Unit::Month => {
                let months = |d: NaiveDateTime| d.year() as i64 * 12 + d.month0() as i64;
                let base = match origin {
                    Some(o) => months(local(o)?),
                    None => 1970 * 12,
                };
                let since = months(wall) - base;
                let start = base + since.div_euclid(self.count) * self.count;
                NaiveDate::from_ymd_opt(
                    start.div_euclid(12) as i32,
                    start.rem_euclid(12) as u32 + 1,
                    1,
                )?
                .and_time(chrono::NaiveTime::MIN)
            }
            unit => {
                let step = self.count
                    * match unit {
                        Unit::Second => SECOND,
                        Unit::Minute => 60 * SECOND,
                        Unit::Hour => 3600 * SECOND,
                        Unit::Day => DAY,
                        Unit::Week => 7 * DAY,
                        Unit::Month => unreachable!("handled above"),
                    };
                let micros = |d: NaiveDateTime| d.and_utc().timestamp_micros();
                let base = match (origin, unit) {
                    (Some(o), _) => micros(local(o)?),
                    // 1969-12-29 was a Monday.
                    (None, Unit::Week) => -3 * DAY,
                    (None, _) => 0,
                };
                let start = base + (micros(wall) - base).div_euclid(step) * step;
                chrono::DateTime::from_timestamp_micros(start)?.naive_utc()
            }
        };
        Some(
            zone.from_local_datetime(&floored)
                .earliest()?
                .timestamp_micros(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn micros(text: &str) -> i64 {
        text.parse::<DateTime<Utc>>().unwrap().timestamp_micros()
    }

    fn floor(period: &str, at: &str, zone: chrono_tz::Tz) -> String {
        let p = Period::parse(period).unwrap();
        let t = p.floor(micros(at), None, zone).unwrap();
        DateTime::from_timestamp_micros(t).unwrap().to_rfc3339()
    }

    #[test]
    fn periods_floor_on_the_wall_clock_of_their_zone() {
        let utc = chrono_tz::UTC;
        let at = "2019-08-21T13:47:31Z"; // a Wednesday
        assert_eq!(floor("PT15M", at, utc), "2019-08-21T13:45:00+00:00");
        assert_eq!(floor("PT1H", at, utc), "2019-08-21T13:00:00+00:00");
        assert_eq!(floor("hour", at, utc), "2019-08-21T13:00:00+00:00");
        assert_eq!(floor("P1D", at, utc), "2019-08-21T00:00:00+00:00");
        assert_eq!(
            floor("P1W", at, utc),
            "2019-08-19T00:00:00+00:00",
            "weeks start on Monday"
        );
        assert_eq!(floor("P1M", at, utc), "2019-08-01T00:00:00+00:00");
        assert_eq!(floor("quarter", at, utc), "2019-07-01T00:00:00+00:00");
        assert_eq!(floor("P1Y", at, utc), "2019-01-01T00:00:00+00:00");
        // 00:30 in Paris (UTC+2) is the 21st there: its day starts at 22:00 UTC the day before.
        let paris = chrono_tz::Europe::Paris;
        assert_eq!(
            floor("P1D", "2019-08-20T22:30:00Z", paris),
            "2019-08-20T22:00:00+00:00"
        );
        assert_eq!(
            floor("P1D", "1969-12-31T23:59:59Z", utc),
            "1969-12-31T00:00:00+00:00"
        );
        let origin = Some(micros("2019-08-21T13:10:00Z"));
        let p = Period::parse("PT1H").unwrap();
        assert_eq!(
            p.floor(micros(at), origin, utc),
            Some(micros("2019-08-21T13:10:00Z"))
        );
        for bad in ["PT1Q", "P0D", "1H", "PT", "P1DT1H"] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
    }
}
