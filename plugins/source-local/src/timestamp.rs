//! Modification times as the `object-info` record carries them: nanoseconds for the etag,
//! RFC 3339 (UTC, whole seconds) for `last-modified`, its date from ferry-guest's calendar.

use std::time::{SystemTime, UNIX_EPOCH};

use ferry_guest::calendar::{SECONDS_PER_DAY, civil_from_days};

const NANOS_PER_SECOND: i128 = 1_000_000_000;

/// Nanoseconds since the Unix epoch, negative before it.
pub fn epoch_nanos(time: SystemTime) -> i128 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i128::try_from(after.as_nanos()).unwrap_or(i128::MAX),
        Err(before) => -i128::try_from(before.duration().as_nanos()).unwrap_or(i128::MAX),
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a time given as nanoseconds since the epoch.
pub fn rfc3339(nanos: i128) -> String {
    let seconds = i64::try_from(nanos.div_euclid(NANOS_PER_SECOND)).unwrap_or(i64::MAX);
    let (days, second_of_day) = (
        seconds.div_euclid(SECONDS_PER_DAY),
        seconds.rem_euclid(SECONDS_PER_DAY),
    );
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60,
    );
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(seconds: i128) -> String {
        rfc3339(seconds * NANOS_PER_SECOND)
    }

    #[test]
    fn formats_utc_dates() {
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(at(1_724_061_600), "2024-08-19T10:00:00Z");
        assert_eq!(at(4_107_542_400), "2100-03-01T00:00:00Z");
        assert_eq!(at(-1), "1969-12-31T23:59:59Z");
        assert_eq!(
            rfc3339(-1),
            "1969-12-31T23:59:59Z",
            "a nanosecond before the epoch"
        );
    }

    #[test]
    fn nanos_keep_their_sign() {
        assert_eq!(epoch_nanos(UNIX_EPOCH + Duration::new(2, 5)), 2_000_000_005);
        assert_eq!(epoch_nanos(UNIX_EPOCH - Duration::from_nanos(7)), -7);
    }
}
