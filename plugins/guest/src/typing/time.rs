//! Dates and instants from text, in the two ISO 8601 forms that say what they mean without a
//! pattern: a date `YYYY-MM-DD`, and an RFC 3339 date-time with its offset
//! (`2024-08-19T10:11:12.5+02:00`). A wall-clock time without an offset is no instant and is
//! refused rather than guessed to be UTC.

use crate::calendar::{SECONDS_PER_DAY, days_from_civil, days_in_month};

const MICROS_PER_SECOND: i64 = 1_000_000;

/// Days since 1970-01-01 of a date `YYYY-MM-DD` (years 0000 to 9999).
pub fn parse_date(text: &str) -> Option<i32> {
    let days = date(text.as_bytes())?;
    // Four-digit years stay within ±3 million days.
    i32::try_from(days).ok()
}

/// Microseconds since the Unix epoch (UTC) of an RFC 3339 date-time: `YYYY-MM-DD`, `T` (or
/// `t` or a space, as RFC 3339 allows), `HH:MM:SS`, an optional fraction of up to nine digits
/// (what is finer than a microsecond is dropped, toward the past), then `Z` or `±HH:MM`.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() < 20 || !matches!(bytes[10], b'T' | b't' | b' ') {
        return None;
    }
    let days = date(&bytes[..10])?;
    let (hour, minute, second) = (
        number(&bytes[11..13])?,
        number(&bytes[14..16])?,
        number(&bytes[17..19])?,
    );
    if bytes[13] != b':' || bytes[16] != b':' || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = &bytes[19..];
    let mut micros = 0;
    if let Some(fraction) = rest.strip_prefix(b".") {
        let digits = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if !(1..=9).contains(&digits) {
            return None;
        }
        let kept = &fraction[..digits.min(6)];
        micros = number(kept)? * 10_i64.pow(6 - kept.len() as u32);
        rest = &fraction[digits..];
    }
    let offset_seconds = match rest {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (hours, minutes) = (number(&[*h1, *h2])?, number(&[*m1, *m2])?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = hours * 3600 + minutes * 60;
            if *sign == b'-' { -offset } else { offset }
        }
        _ => return None,
    };
    let seconds = days * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second - offset_seconds;
    Some(seconds * MICROS_PER_SECOND + micros)
}

/// Days since 1970-01-01 of exactly `YYYY-MM-DD`.
fn date(bytes: &[u8]) -> Option<i64> {
    let [y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2] = *bytes else {
        return None;
    };
    let year = number(&[y1, y2, y3, y4])?;
    let month = u32::try_from(number(&[m1, m2])?).ok()?;
    let day = u32::try_from(number(&[d1, d2])?).ok()?;
    if day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// A run of ASCII digits (no sign) as a number.
fn number(digits: &[u8]) -> Option<i64> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        digits
            .iter()
            .fold(0, |n, digit| n * 10 + i64::from(digit - b'0')),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2024-02-29"), Some(19_782));
        assert_eq!(parse_date("1969-12-31"), Some(-1));
        assert_eq!(parse_date("0000-01-01"), Some(-719_528));
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-04-31",
            "2024-1-05",
            "24-01-05",
            "2024/01/05",
            "2024-01-05T00:00:00Z",
            "+2024-01-05",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn instants_are_utc_microseconds() {
        let noon = 1_724_061_600 * MICROS_PER_SECOND; // 2024-08-19T10:00:00Z
        for (text, micros) in [
            ("2024-08-19T10:00:00Z", noon),
            ("2024-08-19t10:00:00z", noon),
            ("2024-08-19 10:00:00Z", noon),
            ("2024-08-19T12:00:00+02:00", noon),
            ("2024-08-19T05:30:00-04:30", noon),
            ("2024-08-19T10:00:00.5Z", noon + 500_000),
            ("2024-08-19T10:00:00.000001Z", noon + 1),
            ("2024-08-19T10:00:00.123456789Z", noon + 123_456),
            ("1970-01-01T00:00:00Z", 0),
            ("1969-12-31T23:59:59.999999Z", -1),
        ] {
            assert_eq!(parse_timestamp(text), Some(micros), "{text}");
        }
    }

    #[test]
    fn what_is_no_instant_is_refused() {
        for bad in [
            "2024-08-19T10:00:00",
            "2024-08-19",
            "2024-08-19T10:00Z",
            "2024-08-19T24:00:00Z",
            "2024-08-19T10:60:00Z",
            "2024-08-19T10:00:60Z",
            "2024-02-30T10:00:00Z",
            "2024-08-19T10:00:00.Z",
            "2024-08-19T10:00:00.1234567890Z",
            "2024-08-19T10:00:00+0200",
            "2024-08-19T10:00:00+24:00",
            "2024-08-19T10:00:00Z ",
            "2024-08-19X10:00:00Z",
            "1724061600",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }
}
