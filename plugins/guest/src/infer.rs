//! Choosing a column's type from its text values, and converting text to that type. The same
//! rules for every text format, so a CSV and a logfmt file type the same values the same way.

/// The types a plugin's text values are given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Boolean,
    Int64,
    Float64,
    Utf8,
}

impl Kind {
    /// Parses a declared type name (`utf8`/`string`, `int64`, `float64`, `boolean`).
    pub fn from_name(name: &str) -> Option<Kind> {
        Some(match name.to_ascii_lowercase().as_str() {
            "utf8" | "string" | "str" => Kind::Utf8,
            "int64" | "int" | "integer" | "long" => Kind::Int64,
            "float64" | "float" | "double" => Kind::Float64,
            "boolean" | "bool" => Kind::Boolean,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Boolean => "boolean",
            Kind::Int64 => "int64",
            Kind::Float64 => "float64",
            Kind::Utf8 => "utf8",
        }
    }
}

/// A converted value (strings stay where they are).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Boolean(bool),
    Int64(i64),
    Float64(f64),
    Utf8,
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

/// Converts non-empty `text` to `kind`.
pub fn parse(kind: Kind, text: &str) -> Result<Value, String> {
    let fail = || format!("`{text}` is not a valid {}", kind.name());
    match kind {
        Kind::Utf8 => Ok(Value::Utf8),
        Kind::Int64 => text.trim().parse().map(Value::Int64).map_err(|_| fail()),
        Kind::Float64 => text.trim().parse().map(Value::Float64).map_err(|_| fail()),
        Kind::Boolean => parse_bool(text.trim()).map(Value::Boolean).ok_or_else(fail),
    }
}

/// The narrowest kind every non-empty value fits: int64, then float64, then boolean, else
/// utf8. A column of only empty values is utf8.
pub fn infer<'a>(values: impl IntoIterator<Item = Option<&'a str>>) -> Kind {
    let (mut int, mut float, mut boolean, mut any) = (true, true, true, false);
    for text in values.into_iter().flatten().filter(|t| !t.is_empty()) {
        any = true;
        let t = text.trim();
        int = int && t.parse::<i64>().is_ok();
        float = float && (int || t.parse::<f64>().is_ok_and(f64::is_finite));
        boolean = boolean && parse_bool(t).is_some();
        if !int && !float && !boolean {
            return Kind::Utf8;
        }
    }
    match (any, int, float, boolean) {
        (false, ..) => Kind::Utf8,
        (true, true, ..) => Kind::Int64,
        (true, false, true, _) => Kind::Float64,
        (true, false, false, true) => Kind::Boolean,
        _ => Kind::Utf8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_the_narrowest_kind() {
        assert_eq!(infer([Some("1"), Some(""), Some("-3")]), Kind::Int64);
        assert_eq!(infer([Some("1"), Some("2.5")]), Kind::Float64);
        assert_eq!(infer([Some("true"), Some("FALSE")]), Kind::Boolean);
        assert_eq!(infer([Some("1"), Some("x")]), Kind::Utf8);
        assert_eq!(infer([Some(""), None]), Kind::Utf8);
        assert_eq!(infer([Some("NaN")]), Kind::Utf8);
    }

    #[test]
    fn conversion_errors_name_value_and_type() {
        assert_eq!(parse(Kind::Float64, "0.5"), Ok(Value::Float64(0.5)));
        assert_eq!(parse(Kind::Int64, "x1").unwrap_err(), "`x1` is not a valid int64");
    }
}
