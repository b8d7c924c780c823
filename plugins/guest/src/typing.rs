//! One set of rules for giving text values a type, so that every text format (CSV, logfmt, and
//! any plugin built on this crate) types the same value the same way.
//!
//! - An empty string is null, whatever the type.
//! - A run of values is int64 if every non-empty one is an i64, else float64 if every one is an
//!   f64, else boolean if every one is `true` or `false` (any case), else utf8. A run with no
//!   non-empty value is utf8.
//! - Numbers and booleans may be padded with ASCII whitespace (`1, 2` in a CSV); strings are
//!   kept as written.

use std::fmt;

/// The types text values are given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Utf8,
    Int64,
    Float64,
    Boolean,
}

impl Kind {
    /// Type names a workflow may declare (for example in `input_schema`).
    pub const NAMES: &[&str] = &["utf8", "string", "int64", "float64", "boolean"];

    /// Parses a declared type name; `string` is another name for `utf8`.
    pub fn from_name(name: &str) -> Option<Kind> {
        match name {
            "utf8" | "string" => Some(Kind::Utf8),
            "int64" => Some(Kind::Int64),
            "float64" => Some(Kind::Float64),
            "boolean" => Some(Kind::Boolean),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Utf8 => "utf8",
            Kind::Int64 => "int64",
            Kind::Float64 => "float64",
            Kind::Boolean => "boolean",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A text value converted to a [`Kind`]; strings borrow the text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Null,
    Boolean(bool),
    Int64(i64),
    Float64(f64),
    Utf8(&'a str),
}

/// A value that is not of the kind asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertError {
    pub value: String,
    pub kind: Kind,
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not a valid {}", self.value, self.kind)
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
        Kind::Utf8 => Some(Value::Utf8(text)),
        Kind::Int64 => padded.parse().ok().map(Value::Int64),
        Kind::Float64 => padded.parse().ok().map(Value::Float64),
        Kind::Boolean => parse_bool(padded).map(Value::Boolean),
    };
    value.ok_or_else(|| ConvertError {
        value: text.to_owned(),
        kind,
    })
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
            assert!(Kind::from_name(name).is_some(), "{name}");
        }
        assert_eq!(Kind::from_name("string"), Some(Kind::Utf8));
        assert_eq!(Kind::from_name("float"), None);
    }
}
