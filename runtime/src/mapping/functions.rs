//! Imply Polaris' (Druid's) time functions, as DataFusion scalar functions, so that a mapping
//! written for Polaris runs here unchanged: `TIME_PARSE`, `TIME_FLOOR`, `TIME_FORMAT`,
//! `MILLIS_TO_TIMESTAMP` and `TIMESTAMP_TO_MILLIS`. Everything else (`CAST`, `CASE`,
//! `COALESCE`, string and math functions) is DataFusion's own.
//!
//! Times are microseconds since the epoch in UTC, as tables store them. Patterns are Joda's
//! (`yyyy-MM-dd HH:mm:ss`), as in Polaris, translated to chrono's; periods are ISO 8601
//! (`PT1H`, `P1D`). Like Druid, a value that does not parse is null rather than an error.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array, StringArray, TimestampMicrosecondArray};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, Int64Type, TimeUnit, TimestampMicrosecondType};
use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeZone};
use deltalake::datafusion::common::{DataFusionError, Result, ScalarValue};
use deltalake::datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::timestamp::{TimestampFormat, parse_in_zone};

/// Every function of this module, to register on a session.
pub fn all() -> Vec<ScalarUDF> {
    [
        Function::TimeParse,
        Function::TimeFloor,
        Function::TimeFormat,
        Function::MillisToTimestamp,
        Function::TimestampToMillis,
    ]
    .into_iter()
    .map(|f| {
        ScalarUDF::new_from_impl(Polaris {
            function: f,
            signature: Signature::variadic_any(Volatility::Immutable),
        })
    })
    .collect()
}

/// The type every time function takes and gives.
pub fn time_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Function {
    TimeParse,
    TimeFloor,
    TimeFormat,
    MillisToTimestamp,
    TimestampToMillis,
}

impl Function {
    fn name(self) -> &'static str {
        match self {
            Function::TimeParse => "time_parse",
            Function::TimeFloor => "time_floor",
            Function::TimeFormat => "time_format",
            Function::MillisToTimestamp => "millis_to_timestamp",
            Function::TimestampToMillis => "timestamp_to_millis",
        }
    }

    /// The call's shape, for errors.
    fn usage(self) -> &'static str {
        match self {
            Function::TimeParse => "TIME_PARSE(string[, pattern[, timezone]])",
            Function::TimeFloor => "TIME_FLOOR(timestamp, period[, origin[, timezone]])",
            Function::TimeFormat => "TIME_FORMAT(timestamp[, pattern[, timezone]])",
            Function::MillisToTimestamp => "MILLIS_TO_TIMESTAMP(milliseconds)",
            Function::TimestampToMillis => "TIMESTAMP_TO_MILLIS(timestamp)",
        }
    }

    fn arity(self) -> std::ops::RangeInclusive<usize> {
        match self {
            Function::TimeParse | Function::TimeFormat => 1..=3,
            Function::TimeFloor => 2..=4,
            Function::MillisToTimestamp | Function::TimestampToMillis => 1..=1,
        }
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Polaris {
    function: Function,
    signature: Signature,
}

fn is_text(ty: &DataType) -> bool {
    matches!(
        ty,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null
    )
}

fn is_time(ty: &DataType) -> bool {
    matches!(ty, DataType::Timestamp(..) | DataType::Null)
}

fn plan_error(message: String) -> DataFusionError {
    DataFusionError::Plan(message)
}

impl ScalarUDFImpl for Polaris {
    fn name(&self) -> &str {
        self.function.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        let f = self.function;
        if !f.arity().contains(&args.len()) {
            return Err(plan_error(format!(
                "{} takes {} arguments, not {}",
                f.usage(),
                match (f.arity().start(), f.arity().end()) {
                    (a, b) if a == b => a.to_string(),
                    (a, b) => format!("{a} to {b}"),
                },
                args.len()
            )));
        }
        let wrong = |what: &str, expected: &str, ty: &DataType| {
            Err(plan_error(format!(
                "{}: the {what} must be {expected}, not {ty}",
                f.usage()
            )))
        };
        const TIME: &str = "a timestamp (TIME_PARSE makes one from a string)";
        let first = &args[0];
        match f {
            Function::TimeParse if !(is_text(first) || is_time(first)) => {
                return wrong("first argument", "a string", first);
            }
            Function::TimeFloor | Function::TimeFormat | Function::TimestampToMillis
                if !is_time(first) =>
            {
                return wrong("first argument", TIME, first);
            }
            Function::MillisToTimestamp if !(first.is_integer() || first.is_null()) => {
                return wrong("argument", "an integer", first);
            }
            _ => {}
        }
        for (i, ty) in args.iter().enumerate().skip(1) {
            let what = match (f, i) {
                (Function::TimeFloor, 1) => "period",
                (Function::TimeFloor, 2) => "origin",
                (_, 1) => "pattern",
                _ => "timezone",
            };
            if what == "origin" && !(is_time(ty) || is_text(ty)) {
                return wrong(what, TIME, ty);
            }
            if what != "origin" && !is_text(ty) {
                return wrong(what, "a string", ty);
            }
        }
        Ok(match f {
            Function::TimeFormat => DataType::Utf8,
            Function::TimestampToMillis => DataType::Int64,
            _ => time_type(),
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let f = self.function;
        let n = args.number_rows;
        let input = args.args[0].to_array(n)?;
        let text_at = |i: usize, what: &str| literal_text(&args.args, i, f, what);
        let out: ArrayRef = match f {
            Function::TimeParse => {
                let zone = zone(text_at(2, "timezone")?.as_deref(), f)?;
                match text_at(1, "pattern")? {
                    _ if is_time(input.data_type()) => to_utc_micros(&input)?,
                    None => parse_iso(&input, zone)?,
                    Some(pattern) => {
                        let pattern = joda_to_chrono(&pattern).map_err(|e| usage(f, e))?;
                        Arc::new(parse_in_zone(&input, &pattern, zone))
                    }
                }
            }
            Function::TimeFloor => {
                let period = text_at(1, "period")?.unwrap_or_default();
                let period = Period::parse(&period).map_err(|e| usage(f, e))?;
                let origin = match args.args.get(2) {
                    None => None,
                    Some(ColumnarValue::Scalar(s)) if s.is_null() => None,
                    Some(ColumnarValue::Scalar(s)) => {
                        let one = to_utc_micros(&s.to_array()?)?;
                        let one = one.as_primitive::<TimestampMicrosecondType>();
                        Some(one.value(0))
                    }
                    Some(ColumnarValue::Array(_)) => {
                        return Err(usage(f, "the origin must be a constant".into()));
                    }
                };
                let zone = zone(text_at(3, "timezone")?.as_deref(), f)?;
                let times = to_utc_micros(&input)?;
                let times = times.as_primitive::<TimestampMicrosecondType>();
                let floored: TimestampMicrosecondArray =
                    times.unary_opt(|t| period.floor(t, origin, zone));
                Arc::new(floored.with_timezone("UTC"))
            }
            Function::TimeFormat => {
                let zone = zone(text_at(2, "timezone")?.as_deref(), f)?;
                let pattern = match text_at(1, "pattern")? {
                    Some(p) => joda_to_chrono(&p).map_err(|e| usage(f, e))?,
                    None if zone == chrono_tz::UTC => "%Y-%m-%dT%H:%M:%S%.3fZ".to_owned(),
                    None => "%Y-%m-%dT%H:%M:%S%.3f%:z".to_owned(),
                };
                let items: Vec<_> = chrono::format::StrftimeItems::new(&pattern).collect();
                let times = to_utc_micros(&input)?;
                let times = times.as_primitive::<TimestampMicrosecondType>();
                let text: StringArray = times
                    .iter()
                    .map(|t| {
                        let t = zone.timestamp_micros(t?).single()?;
                        Some(t.format_with_items(items.iter()).to_string())
                    })
                    .collect();
                Arc::new(text)
            }
            Function::MillisToTimestamp => {
                let millis = cast(&input, &DataType::Int64)?;
                let micros: TimestampMicrosecondArray = millis
                    .as_primitive::<Int64Type>()
                    .unary_opt(|m| m.checked_mul(1000));
                Arc::new(micros.with_timezone("UTC"))
            }
            Function::TimestampToMillis => {
                let times = to_utc_micros(&input)?;
                let millis: Int64Array = times
                    .as_primitive::<TimestampMicrosecondType>()
                    .unary(|t| t.div_euclid(1000));
                Arc::new(millis)
            }
        };
        Ok(ColumnarValue::Array(out))
    }
}

fn usage(f: Function, message: String) -> DataFusionError {
    DataFusionError::Execution(format!("{}: {message}", f.usage()))
}

/// Argument `i` when it is a constant string (patterns, periods and zones must be).
fn literal_text(
    args: &[ColumnarValue],
    i: usize,
    f: Function,
    what: &str,
) -> Result<Option<String>> {
    match args.get(i) {
        None => Ok(None),
        Some(ColumnarValue::Scalar(
            ScalarValue::Utf8(v) | ScalarValue::LargeUtf8(v) | ScalarValue::Utf8View(v),
        )) => Ok(v.clone()),
        Some(ColumnarValue::Scalar(ScalarValue::Null)) => Ok(None),
        Some(_) => Err(usage(f, format!("the {what} must be a constant string"))),
    }
}

fn zone(name: Option<&str>, f: Function) -> Result<chrono_tz::Tz> {
    match name {
        None => Ok(chrono_tz::UTC),
        Some(name) => name.parse().map_err(|_| {
            usage(
                f,
                format!("unknown timezone `{name}` (use an IANA name such as `Europe/Paris`)"),
            )
        }),
    }
}

fn cast(array: &ArrayRef, to: &DataType) -> Result<ArrayRef> {
    let safe = CastOptions {
        safe: true,
        ..Default::default()
    };
    Ok(cast_with_options(array, to, &safe)?)
}

fn to_utc_micros(array: &ArrayRef) -> Result<ArrayRef> {
    cast(array, &time_type())
}

/// ISO 8601 text; one without an offset is a wall-clock time in `zone`.
fn parse_iso(array: &ArrayRef, zone: chrono_tz::Tz) -> Result<ArrayRef> {
    if zone == chrono_tz::UTC {
        return Ok(TimestampFormat::Rfc3339.convert(&cast(array, &DataType::Utf8)?));
    }
    // Arrow reads text without an offset in the target's zone; the values are UTC instants.
    let local = DataType::Timestamp(TimeUnit::Microsecond, Some(zone.name().into()));
    let parsed = cast(&cast(array, &DataType::Utf8)?, &local)?;
    Ok(Arc::new(
        parsed
            .as_primitive::<TimestampMicrosecondType>()
            .clone()
            .with_timezone("UTC"),
    ))
}

/// Translates a Joda pattern (`yyyy-MM-dd'T'HH:mm:ss.SSSZ`) into chrono's strftime items.
pub fn joda_to_chrono(pattern: &str) -> std::result::Result<String, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let literal = |out: &mut String, c: char| {
        if c == '%' {
            out.push_str("%%");
        } else {
            out.push(c);
        }
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // '' is a quote; 'text' is text.
            if chars.get(i + 1) == Some(&'\'') {
                out.push('\'');
                i += 2;
                continue;
            }
            i += 1;
            loop {
                match (chars.get(i), chars.get(i + 1)) {
                    (None, _) => return Err(format!("pattern `{pattern}` has an unclosed quote")),
                    (Some('\''), Some('\'')) => {
                        out.push('\'');
                        i += 2;
                    }
                    (Some('\''), _) => {
                        i += 1;
                        break;
                    }
                    (Some(&c), _) => {
                        literal(&mut out, c);
                        i += 1;
                    }
                }
            }
            continue;
        }
        if !c.is_ascii_alphabetic() {
            literal(&mut out, c);
            i += 1;
            continue;
        }
        let mut run = 1;
        while chars.get(i + run) == Some(&c) {
            run += 1;
        }
        let item = match (c, run) {
            ('y' | 'Y' | 'u', 2) => "%y",
            ('y' | 'Y' | 'u', _) => "%Y",
            ('M', 1) => "%-m",
            ('M', 2) => "%m",
            ('M', 3) => "%b",
            ('M', _) => "%B",
            ('d', 1) => "%-d",
            ('d', _) => "%d",
            ('D', _) => "%j",
            ('H' | 'k', 1) => "%-H",
            ('H' | 'k', _) => "%H",
            ('h' | 'K', 1) => "%-I",
            ('h' | 'K', _) => "%I",
            ('m', 1) => "%-M",
            ('m', _) => "%M",
            ('s', 1) => "%-S",
            ('s', _) => "%S",
            ('S', 1..=3) => "%3f",
            ('S', 4..=6) => "%6f",
            ('S', _) => "%9f",
            ('a', _) => "%p",
            ('E', 1..=3) => "%a",
            ('E', _) => "%A",
            ('Z', 1) => "%z",
            ('Z', _) => "%:z",
            ('z', _) => "%Z",
            _ => {
                return Err(format!(
                    "pattern `{pattern}`: `{c}` at {} is not a pattern letter ferry knows \
                     (y M d D H k h K m s S a E Z z; quote text as 'T')",
                    i + 1
                ));
            }
        };
        out.push_str(item);
        i += run;
    }
    Ok(out)
}

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

    #[test]
    fn joda_patterns_become_chrono_ones() {
        let cases = [
            ("yyyy-MM-dd'T'HH:mm:ss.SSSZ", "%Y-%m-%dT%H:%M:%S.%3f%z"),
            ("dd/MM/yy h:mm a", "%d/%m/%y %-I:%M %p"),
            ("EEE, d MMM yyyy", "%a, %-d %b %Y"),
            ("'at' HH 'o''clock' 100%", "at %H o'clock 100%%"),
        ];
        for (joda, chrono) in cases {
            assert_eq!(joda_to_chrono(joda).unwrap(), chrono, "{joda}");
        }
        assert!(joda_to_chrono("yyyy-qq").unwrap_err().contains("`q` at 6"));
        assert!(
            joda_to_chrono("'open")
                .unwrap_err()
                .contains("unclosed quote")
        );
    }

    fn call(sql: &str, input: ArrayRef) -> ArrayRef {
        use deltalake::datafusion::common::DFSchema;
        use deltalake::datafusion::prelude::SessionContext;
        let schema = arrow::datatypes::Schema::new(vec![arrow::datatypes::Field::new(
            "x",
            input.data_type().clone(),
            true,
        )]);
        let ctx = SessionContext::new();
        for f in all() {
            ctx.register_udf(f);
        }
        let df = DFSchema::try_from(schema.clone()).unwrap();
        let expr = ctx.parse_sql_expr(sql, &df).unwrap();
        let physical = ctx.create_physical_expr(expr, &df).unwrap();
        let batch = arrow::array::RecordBatch::try_new(Arc::new(schema), vec![input]).unwrap();
        physical
            .evaluate(&batch)
            .unwrap()
            .into_array(batch.num_rows())
            .unwrap()
    }

    #[test]
    fn time_parse_and_format_read_and_write_patterns_in_zones() {
        let text: ArrayRef = Arc::new(StringArray::from(vec![
            Some("2019-08-19 10:15"),
            Some("garbage"),
            None,
        ]));
        let parsed = call(
            "TIME_PARSE(x, 'yyyy-MM-dd HH:mm', 'Europe/Paris')",
            text.clone(),
        );
        let parsed = parsed.as_primitive::<TimestampMicrosecondType>();
        assert_eq!(parsed.value(0), micros("2019-08-19T08:15:00Z"));
        assert!(
            parsed.is_null(1) && parsed.is_null(2),
            "no time is null, as in Druid"
        );

        let iso: ArrayRef = Arc::new(StringArray::from(vec!["2019-08-19T10:15:00"]));
        let in_paris = call("TIME_PARSE(x, NULL, 'Europe/Paris')", iso);
        assert_eq!(
            in_paris.as_primitive::<TimestampMicrosecondType>().value(0),
            micros("2019-08-19T08:15:00Z")
        );

        let shown = call(
            "TIME_FORMAT(TIME_PARSE(x, 'yyyy-MM-dd HH:mm'), 'dd MMM yyyy HH:mm', 'Asia/Tokyo')",
            text.clone(),
        );
        assert_eq!(shown.as_string::<i32>().value(0), "19 Aug 2019 19:15");
        let iso = call(
            "TIME_FORMAT(TIME_PARSE(x, 'yyyy-MM-dd HH:mm'))",
            text.clone(),
        );
        assert_eq!(iso.as_string::<i32>().value(0), "2019-08-19T10:15:00.000Z");

        let millis = call(
            "TIMESTAMP_TO_MILLIS(MILLIS_TO_TIMESTAMP(TIMESTAMP_TO_MILLIS(TIME_PARSE(x, 'yyyy-MM-dd HH:mm'))))",
            text,
        );
        assert_eq!(
            millis.as_primitive::<Int64Type>().value(0),
            micros("2019-08-19T10:15:00Z") / 1000
        );
    }
}
