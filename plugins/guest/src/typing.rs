//! One set of rules for giving text values a type, so that every text format (CSV, logfmt, and
//! any plugin built on this crate) types the same value the same way.
//!
//! - An empty string is null, whatever the type.
//! - A run of values is int64 if every non-empty one is an i64, else float64 if every one is an
//!   f64, else boolean if every one is `true` or `false` (any case), else utf8. A run with no
//!   non-empty value is utf8. The other kinds are never inferred, only declared.
//! - Numbers, booleans, dates, timestamps and decimals may be padded with ASCII whitespace
//!   (`1, 2` in a CSV); strings are kept as written.
//! - A declared kind reads its values strictly: `int32` and `int64` whole numbers in range,
//!   `float32` and `float64` as Rust parses them (`NaN`, `inf` and `1e3` included; a float32
//!   past its range is refused rather than made infinite), `date` an ISO `YYYY-MM-DD`,
//!   `timestamp` an RFC 3339 date-time with its offset ([`time`]), `decimal(p,s)` the exact
//!   digits ([`decimal`]).

pub mod decimal;
pub mod time;

use std::fmt;

pub use decimal::DecimalType;

/// The types text values are given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Utf8,
    Boolean,
    Int32,
    Int64,
    Float32,
    Float64,
    /// Days since the Unix epoch.
    Date32,
    /// Microseconds since the Unix epoch, UTC.
    Timestamp,
    Decimal(DecimalType),
}

impl Kind {
    /// Type names a workflow may declare (for example in `input_schema`), besides
    /// `decimal(p,s)`.
    pub const NAMES: &[&str] = &[
        "utf8",
        "string",
        "boolean",
        "int32",
        "int64",
        "float32",
        "float64",
        "date",
        "date32",
        "timestamp",
    ];

    /// Every declarable name, for messages.
    pub const DECLARABLE: &str = "utf8, string, boolean, int32, int64, float32, float64, date, \
        date32, timestamp, decimal(p,s) (p 1 to 38, s 0 to p)";

    /// Parses a declared type name: one of [`Self::NAMES`] (`string` is another name for
    /// `utf8`, `date` for `date32`) or `decimal(p,s)`.
    pub fn from_name(name: &str) -> Option<Kind> {
        Some(match name {
            "utf8" | "string" => Kind::Utf8,
            "boolean" => Kind::Boolean,
            "int32" => Kind::Int32,
            "int64" => Kind::Int64,
            "float32" => Kind::Float32,
            "float64" => Kind::Float64,
            "date" | "date32" => Kind::Date32,
            "timestamp" => Kind::Timestamp,
            other => Kind::Decimal(DecimalType::from_name(other)?),
        })
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Kind::Utf8 => "utf8",
            Kind::Boolean => "boolean",
            Kind::Int32 => "int32",
            Kind::Int64 => "int64",
            Kind::Float32 => "float32",
            Kind::Float64 => "float64",
            Kind::Date32 => "date32",
            Kind::Timestamp => "timestamp",
            Kind::Decimal(ty) => return ty.fmt(f),
        };
        f.write_str(name)
    }
}

/// A text value converted to a [`Kind`]; strings borrow the text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Null,
    Boolean(bool),
    Int32(i32),
    Int64(i64),
    Float32(f32),
    Float64(f64),
    Utf8(&'a str),
    /// Days since the Unix epoch.
    Date32(i32),
    /// Microseconds since the Unix epoch, UTC.
    Timestamp(i64),
    /// In units of 10^-scale of its column's type.
    Decimal(i128),
}

/// A value that is not of the kind asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertError {
    pub value: String,
    pub kind: Kind,
    /// Why, when the kind alone does not say (`more than 2 digits after the point`).
    pub reason: Option<String>,
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not a valid {}", self.value, self.kind)?;
        match &self.reason {
            Some(reason) => write!(f, ": {reason}"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for ConvertError {}

/// Converts `text` to `kind`; the empty string is null.
pub fn convert(kind: Kind, text: &str) -> Result<Value<'_>, ConvertError> {
    if text.is_empty() {
        return Ok(Value::Null);
    }
    let padded = text.trim_ascii();
    let value = match kind {
        Kind::Utf8 => Ok(Value::Utf8(text)),
        Kind::Boolean => parse_bool(padded).map(Value::Boolean).ok_or(None),
        Kind::Int32 => padded.parse().map(Value::Int32).map_err(|_| None),
        Kind::Int64 => padded.parse().map(Value::Int64).map_err(|_| None),
        Kind::Float32 => parse_f32(padded).map(Value::Float32),
        Kind::Float64 => padded.parse().map(Value::Float64).map_err(|_| None),
        Kind::Date32 => time::parse_date(padded)
            .map(Value::Date32)
            .ok_or(Some("expected a date such as 2024-08-19")),
        Kind::Timestamp => time::parse_timestamp(padded)
            .map(Value::Timestamp)
            .ok_or(Some(
                "expected an RFC 3339 date-time such as 2024-08-19T10:11:12Z",
            )),
        Kind::Decimal(ty) => {
            return ty
                .parse(padded)
                .map(Value::Decimal)
                .map_err(|reason| ConvertError {
                    value: text.to_owned(),
                    kind,
                    reason: Some(reason),
                });
        }
    };
    value.map_err(|reason: Option<&str>| ConvertError {
        value: text.to_owned(),
        kind,
        reason: reason.map(str::to_owned),
    })
}

/// An f32 as Rust parses it, except a finite number past f32's range, which Rust would make
/// infinite.
fn parse_f32(text: &str) -> Result<f32, Option<&'static str>> {
    let value: f32 = text.parse().map_err(|_| None)?;
    let spelt_infinite = text
        .trim_start_matches(['+', '-'])
        .to_ascii_lowercase()
        .starts_with("inf");
    if value.is_infinite() && !spelt_infinite {
        return Err(Some("out of float32's range"));
    }
    Ok(value)
}

/// The kinds a run of values may get, narrowest first: a run gets the first one every value
/// converts to (utf8 takes anything).
pub const NARROWEST_FIRST: [Kind; 4] = [Kind::Int64, Kind::Float64, Kind::Boolean, Kind::Utf8];

/// The narrowest kind every value of the run converts to (see the module rules).
pub fn infer<'a, I>(values: I) -> Kind
where
    I: IntoIterator<Item = &'a str>,
    I::IntoIter: Clone,
{
    let values = values.into_iter();
    if values.clone().all(str::is_empty) {
        return Kind::Utf8;
    }
    NARROWEST_FIRST
        .into_iter()
        .find(|&kind| values.clone().all(|text| convert(kind, text).is_ok()))
        .unwrap_or(Kind::Utf8)
}

fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_the_narrowest_kind() {
        assert_eq!(infer(["1", "", "-3", " 4 "]), Kind::Int64);
        assert_eq!(infer(["1", "2.5", "1e3"]), Kind::Float64);
        assert_eq!(
            infer(["9223372036854775808"]),
            Kind::Float64,
            "past i64::MAX"
        );
        assert_eq!(infer(["true", "FALSE", "", "True"]), Kind::Boolean);
        assert_eq!(infer(["1", "x"]), Kind::Utf8);
        assert_eq!(infer(["true", "1"]), Kind::Utf8);
        assert_eq!(infer(["", ""]), Kind::Utf8);
        assert_eq!(infer([]), Kind::Utf8);
        assert_eq!(
            infer([" "]),
            Kind::Utf8,
            "whitespace is a string, not a null"
        );
    }

    #[test]
    fn every_inferred_value_converts() {
        let runs: [&[&str]; 4] = [
            &["1", "", " 2"],
            &["1", "0.5", "NaN"],
            &["TRUE", "false"],
            &["a", "1", ""],
        ];
        for run in runs {
            let kind = infer(run.iter().copied());
            for text in run {
                assert!(convert(kind, text).is_ok(), "{text:?} as {kind}");
            }
        }
    }

    #[test]
    fn converts_with_nulls_and_keeps_strings_as_written() {
        assert_eq!(convert(Kind::Float64, "0.5"), Ok(Value::Float64(0.5)));
        assert_eq!(convert(Kind::Int64, " 42 "), Ok(Value::Int64(42)));
        assert_eq!(convert(Kind::Boolean, "False"), Ok(Value::Boolean(false)));
        assert_eq!(convert(Kind::Int64, ""), Ok(Value::Null));
        assert_eq!(convert(Kind::Utf8, ""), Ok(Value::Null));
        assert_eq!(convert(Kind::Utf8, " a "), Ok(Value::Utf8(" a ")));
    }

    #[test]
    fn conversion_errors_name_value_and_type() {
        let err = convert(Kind::Int64, "1.5").unwrap_err();
        assert_eq!(err.to_string(), "`1.5` is not a valid int64");
        assert_eq!(
            convert(Kind::Boolean, "yes").unwrap_err().to_string(),
            "`yes` is not a valid boolean"
        );
    }

    #[test]
    fn declared_names() {
        for name in Kind::NAMES {
            let kind = Kind::from_name(name).unwrap_or_else(|| panic!("{name}"));
            assert!(Kind::DECLARABLE.contains(name), "{name}");
            assert_eq!(Kind::from_name(&kind.to_string()), Some(kind), "{kind}");
        }
        assert_eq!(Kind::from_name("string"), Some(Kind::Utf8));
        assert_eq!(Kind::from_name("date"), Some(Kind::Date32));
        let money = Kind::from_name("decimal(10,2)").unwrap();
        assert_eq!(money, Kind::Decimal(DecimalType::new(10, 2).unwrap()));
        assert_eq!(money.to_string(), "decimal(10,2)");
        assert_eq!(Kind::from_name("float"), None);
        assert_eq!(Kind::from_name("decimal(40,2)"), None);
    }

    #[test]
    fn declared_kinds_read_their_values_strictly() {
        assert_eq!(convert(Kind::Int32, " -7 "), Ok(Value::Int32(-7)));
        assert!(convert(Kind::Int32, "2147483648").is_err(), "past i32::MAX");
        assert_eq!(convert(Kind::Float32, "0.5"), Ok(Value::Float32(0.5)));
        assert_eq!(
            convert(Kind::Float32, "-inf"),
            Ok(Value::Float32(f32::NEG_INFINITY))
        );
        assert_eq!(
            convert(Kind::Float32, "1e39").unwrap_err().to_string(),
            "`1e39` is not a valid float32: out of float32's range"
        );
        assert_eq!(convert(Kind::Date32, "1970-01-02"), Ok(Value::Date32(1)));
        assert_eq!(
            convert(Kind::Date32, "02/01/1970").unwrap_err().to_string(),
            "`02/01/1970` is not a valid date32: expected a date such as 2024-08-19"
        );
        assert_eq!(
            convert(Kind::Timestamp, "1970-01-01T00:00:01+00:00"),
            Ok(Value::Timestamp(1_000_000))
        );
        assert!(convert(Kind::Timestamp, "1970-01-01 00:00:01").is_err());
        let money = Kind::from_name("decimal(10,2)").unwrap();
        assert_eq!(convert(money, " 12.5 "), Ok(Value::Decimal(1250)));
        assert_eq!(convert(money, ""), Ok(Value::Null));
        assert_eq!(
            convert(money, "123456789").unwrap_err().to_string(),
            "`123456789` is not a valid decimal(10,2): more than 8 digits before the point"
        );
    }

    #[test]
    fn only_the_original_kinds_are_inferred() {
        assert_eq!(infer(["2024-08-19", "2024-08-20"]), Kind::Utf8);
        assert_eq!(infer(["2024-08-19T10:11:12Z"]), Kind::Utf8);
        assert_eq!(infer(["1", "2"]), Kind::Int64, "never int32");
        assert_eq!(infer(["1.25"]), Kind::Float64, "never decimal or float32");
    }
}
