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
use chrono::TimeZone;
use deltalake::datafusion::common::{DataFusionError, Result, ScalarValue};
use deltalake::datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::joda::joda_to_chrono;
use super::period::Period;
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn micros(text: &str) -> i64 {
        text.parse::<DateTime<Utc>>().unwrap().timestamp_micros()
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
