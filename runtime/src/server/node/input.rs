//! What a `predict` request must be: `{"rows": [...]}` (or one row object), every row exactly
//! the endpoint's input schema. Nothing is coerced; the first mismatch is a 400 naming the row
//! and the field.

use arrow::datatypes::{DataType, SchemaRef};
use serde_json::{Map, Value};

use crate::server::http::ApiError;

pub(super) fn request_rows(body: &[u8]) -> Result<Vec<Map<String, Value>>, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("malformed_json", format!("request body: {e}")))?;
    let rows = match value {
        Value::Object(mut o) if o.contains_key("rows") => {
            if let Some(other) = o.keys().find(|k| *k != "rows") {
                return Err(ApiError::bad_request(
                    "invalid_input",
                    format!("unknown field `{other}`: the body is {{\"rows\": [{{...}}, ...]}}"),
                ));
            }
            o.remove("rows").unwrap_or_default()
        }
        Value::Object(o) => Value::Array(vec![Value::Object(o)]),
        other => other,
    };
    match rows {
        Value::Array(items) => items
            .into_iter()
            .map(|r| match r {
                Value::Object(o) => Ok(o),
                _ => Err(ApiError::bad_request(
                    "invalid_input",
                    "each row must be an object",
                )),
            })
            .collect(),
        _ => Err(ApiError::bad_request(
            "invalid_input",
            "expected {\"rows\": [{...}, ...]}",
        )),
    }
}

/// Every row must match the endpoint's input schema exactly: each input column present and
/// not null, no other field, and a value of the column's type — an integer (no fraction, no
/// string) for `int64`, any number for `float64`, `true`/`false` for `boolean`, a string for
/// `utf8`, an RFC3339 string for `timestamp`. Nothing is coerced; the first mismatch is a 400
/// naming the row (1-based) and the field.
pub(super) fn check_rows(rows: &[Map<String, Value>], input: &SchemaRef) -> Result<(), ApiError> {
    let invalid = |message: String| ApiError::bad_request("invalid_input", message);
    if rows.is_empty() {
        return Err(invalid(
            "no rows to score: send {\"rows\": [{...}, ...]}".into(),
        ));
    }
    for (i, row) in rows.iter().enumerate() {
        let n = i + 1;
        if let Some(unknown) = row.keys().find(|k| input.field_with_name(k).is_err()) {
            let known: Vec<&str> = input.fields().iter().map(|f| f.name().as_str()).collect();
            return Err(invalid(format!(
                "row {n}: unknown field `{unknown}`; the endpoint takes {}",
                known.join(", ")
            )));
        }
        for field in input.fields() {
            let name = field.name();
            let value = match row.get(name) {
                None => return Err(invalid(format!("row {n}: field `{name}` is missing"))),
                Some(Value::Null) => {
                    return Err(invalid(format!("row {n}: field `{name}` is null")));
                }
                Some(v) => v,
            };
            let fits = match field.data_type() {
                DataType::Int64 => value.as_i64().is_some(),
                DataType::Float64 => value.is_number(),
                DataType::Boolean => value.is_boolean(),
                DataType::Utf8 => value.is_string(),
                DataType::Timestamp(..) => value
                    .as_str()
                    .is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok()),
                _ => true,
            };
            if !fits {
                let expected = match field.data_type() {
                    DataType::Int64 => "an integer (int64)",
                    DataType::Float64 => "a number (float64)",
                    DataType::Boolean => "true or false (boolean)",
                    DataType::Utf8 => "a string (utf8)",
                    DataType::Timestamp(..) => "an RFC3339 time string (timestamp)",
                    _ => "a value of its type",
                };
                return Err(invalid(format!(
                    "row {n}: field `{name}` must be {expected}, not {value}"
                )));
            }
        }
    }
    Ok(())
}
