//! What a `predict` request must be — `{"rows": [...]}` (or one row object), every row exactly
//! the endpoint's input schema — and a `query` request: `{"parameters": {...}}`, exactly the
//! query's parameters. Nothing is coerced; the first mismatch is a 400 naming the row and the
//! field, or the parameter.

use arrow::datatypes::{DataType, SchemaRef};
use deltalake::datafusion::scalar::ScalarValue;
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
        check_fields(row, input, "field", "the endpoint takes")
            .map_err(|m| invalid(format!("row {n}: {m}")))?;
    }
    Ok(())
}

/// `{"parameters": {name: value, …}}` — every parameter of the endpoint, each a value of its
/// type, nothing else — as typed values to bind into the query.
pub(super) fn request_parameters(
    body: &[u8],
    parameters: &SchemaRef,
) -> Result<Vec<(String, ScalarValue)>, ApiError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        #[serde(default)]
        parameters: Map<String, Value>,
    }
    let body: Body = if body.iter().all(u8::is_ascii_whitespace) {
        Body {
            parameters: Map::new(),
        }
    } else {
        serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(
                "malformed_json",
                format!("expected {{\"parameters\": {{name: value, ...}}}}: {e}"),
            )
        })?
    };
    let invalid = |message: String| ApiError::bad_request("invalid_input", message);
    check_fields(&body.parameters, parameters, "parameter", "the query takes").map_err(invalid)?;
    if parameters.fields().is_empty() {
        return Ok(Vec::new());
    }
    let mut decoder = arrow::json::ReaderBuilder::new(parameters.clone())
        .build_decoder()
        .map_err(ApiError::internal)?;
    decoder
        .serialize(&[&body.parameters])
        .map_err(|e| invalid(e.to_string()))?;
    let row = decoder
        .flush()
        .map_err(|e| invalid(e.to_string()))?
        .ok_or_else(|| invalid("no parameters".into()))?;
    parameters
        .fields()
        .iter()
        .zip(row.columns())
        .map(|(f, column)| {
            ScalarValue::try_from_array(column, 0)
                .map(|v| (f.name().clone(), v))
                .map_err(ApiError::internal)
        })
        .collect()
}

/// One object against a schema: every field present and not null, no other, and a value of
/// its type — an integer (no fraction, no string) for `int64`, any number for `float64`,
/// `true`/`false` for `boolean`, a string for `utf8`, an RFC3339 string for `timestamp`.
/// `what` names a field in the message, `takes` introduces the list of those there are.
fn check_fields(
    object: &Map<String, Value>,
    schema: &SchemaRef,
    what: &str,
    takes: &str,
) -> Result<(), String> {
    if let Some(unknown) = object.keys().find(|k| schema.field_with_name(k).is_err()) {
        let known: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let known = if known.is_empty() {
            "none".to_owned()
        } else {
            known.join(", ")
        };
        return Err(format!("unknown {what} `{unknown}`; {takes} {known}"));
    }
    for field in schema.fields() {
        let name = field.name();
        let value = match object.get(name) {
            None => return Err(format!("{what} `{name}` is missing")),
            Some(Value::Null) => return Err(format!("{what} `{name}` is null")),
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
            return Err(format!("{what} `{name}` must be {expected}, not {value}"));
        }
    }
    Ok(())
}
