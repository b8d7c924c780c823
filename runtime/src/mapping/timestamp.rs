//! Timestamp columns: RFC3339 text, Unix epochs in several units, or a strftime pattern, all
//! stored as microseconds since the epoch in UTC.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, TimestampMicrosecondArray};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, Float64Type, Int64Type, TimeUnit};

pub use crate::workflow::TimestampFormat;

impl TimestampFormat {
    /// Converts `array` to UTC microseconds; a value that does not parse becomes null (the
    /// caller compares validity before and after to find the rows that failed).
    pub fn convert(&self, array: &ArrayRef) -> ArrayRef {
        let safe = CastOptions {
            safe: true,
            ..Default::default()
        };
        let target = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let scale = match self {
            TimestampFormat::UnixSeconds => 1_000_000,
            TimestampFormat::UnixMillis => 1_000,
            TimestampFormat::UnixMicros => 1,
            TimestampFormat::Rfc3339 => {
                return match array.data_type() {
                    DataType::Timestamp(_, _) | DataType::Utf8 => {
                        cast_with_options(array, &target, &safe)
                            .unwrap_or_else(|_| arrow::array::new_null_array(&target, array.len()))
                    }
                    _ => arrow::array::new_null_array(&target, array.len()),
                };
            }
            TimestampFormat::Pattern(p) => return Arc::new(parse_pattern(array, p)),
        };
        let micros: TimestampMicrosecondArray = match array.data_type() {
            DataType::Float64 => array.as_primitive::<Float64Type>().unary_opt(|v| {
                let m = v * scale as f64;
                (m.is_finite() && m.abs() < i64::MAX as f64).then_some(m as i64)
            }),
            _ => match cast_with_options(array, &DataType::Int64, &safe) {
                Ok(ints) => ints
                    .as_primitive::<Int64Type>()
                    .unary_opt(|v| v.checked_mul(scale)),
                Err(_) => return arrow::array::new_null_array(&target, array.len()),
            },
        };
        Arc::new(micros.with_timezone("UTC"))
    }
}

fn parse_pattern(array: &ArrayRef, pattern: &str) -> TimestampMicrosecondArray {
    parse_in_zone(array, pattern, chrono_tz::UTC)
}

/// Parses text by a chrono pattern. A pattern with an offset (`%z`) gives the instant it
/// names; otherwise the text is a wall-clock time in `zone` (an hour a change of clocks skips
/// is null, a repeated one its first instant). A value that does not parse becomes null.
pub(super) fn parse_in_zone(
    array: &ArrayRef,
    pattern: &str,
    zone: chrono_tz::Tz,
) -> TimestampMicrosecondArray {
    use chrono::TimeZone;
    let safe = CastOptions {
        safe: true,
        ..Default::default()
    };
    let Ok(text) = cast_with_options(array, &DataType::Utf8, &safe) else {
        return TimestampMicrosecondArray::new_null(array.len()).with_timezone("UTC");
    };
    let with_offset = pattern.contains("%z") || pattern.contains("%:z");
    let text = text.as_string::<i32>();
    let values: TimestampMicrosecondArray = text
        .iter()
        .map(|v| {
            let v = v?;
            if with_offset {
                return chrono::DateTime::parse_from_str(v, pattern)
                    .ok()
                    .map(|dt| dt.timestamp_micros());
            }
            let local = chrono::NaiveDateTime::parse_from_str(v, pattern)
                .or_else(|_| {
                    chrono::NaiveDate::parse_from_str(v, pattern)
                        .map(|d| d.and_time(chrono::NaiveTime::MIN))
                })
                .ok()?;
            zone.from_local_datetime(&local)
                .earliest()
                .map(|dt| dt.timestamp_micros())
        })
        .collect();
    values.with_timezone("UTC")
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};

    #[test]
    fn converts_each_format_to_utc_micros() {
        let text: ArrayRef = Arc::new(StringArray::from(vec![
            Some("2024-08-19T10:00:00Z"),
            Some("nope"),
            None,
        ]));
        let out = TimestampFormat::Rfc3339.convert(&text);
        let out = out.as_primitive::<arrow::datatypes::TimestampMicrosecondType>();
        assert_eq!(out.value(0), 1_724_061_600_000_000);
        assert!(out.is_null(1) && out.is_null(2));

        let millis: ArrayRef = Arc::new(Int64Array::from(vec![1_724_061_600_000]));
        let out = TimestampFormat::UnixMillis.convert(&millis);
        assert_eq!(
            out.as_primitive::<arrow::datatypes::TimestampMicrosecondType>()
                .value(0),
            1_724_061_600_000_000
        );

        let custom: ArrayRef = Arc::new(StringArray::from(vec!["19/08/2024 10:00"]));
        let out = TimestampFormat::parse("%d/%m/%Y %H:%M")
            .unwrap()
            .convert(&custom);
        assert_eq!(
            out.as_primitive::<arrow::datatypes::TimestampMicrosecondType>()
                .value(0),
            1_724_061_600_000_000
        );
    }

    #[test]
    fn unknown_formats_are_refused_with_the_options() {
        assert!(
            TimestampFormat::parse("epoch")
                .unwrap_err()
                .contains("unix_seconds")
        );
    }
}
