//! NDJSON bytes in, batches out: one JSON object per line, lines split anywhere across chunks.
//! Each batch names its own columns (the keys its rows hold, in order of first appearance,
//! nested objects flattened to `outer.inner` unless `flatten` is off) and types each column
//! from the JSON values themselves ([`crate::shape`]).
//!
//! Free of WIT calls, so it is tested natively.

use ferry_guest::lines::{Line, Lines};
use ferry_guest::rows::RowBuffer;
use ferry_guest::types::{Batch, Diagnostic, Error};
use ferry_guest::{Decode, Output, batch};
use serde_json::{Map, Value};

use crate::shape::{self, Shape};

#[derive(Debug, Clone)]
pub struct Options {
    pub batch_size: usize,
    /// The number of the first line (1, unless the bytes are a range of a larger object).
    pub first_line: u64,
    /// Nested objects become columns `outer.inner`; otherwise struct columns.
    pub flatten: bool,
}

pub struct Decoder {
    lines: Lines,
    rows: JsonRows,
}

/// The rows of the batch being gathered.
struct JsonRows {
    flatten: bool,
    buffer: RowBuffer<Value>,
}

impl Decoder {
    pub fn new(options: Options) -> Self {
        Decoder {
            lines: Lines::starting_at(options.first_line),
            rows: JsonRows {
                flatten: options.flatten,
                buffer: RowBuffer::new(options.batch_size),
            },
        }
    }
}

/// Nothing in NDJSON fails a whole object: every bad line is its own row's problem.
impl Decode for Decoder {
    fn push(&mut self, chunk: &[u8]) -> Result<Output, Error> {
        let mut out = Output::default();
        self.lines
            .push(chunk, |line| self.rows.line(line, &mut out));
        Ok(out)
    }

    fn finish(&mut self) -> Result<Output, Error> {
        let mut out = Output::default();
        self.lines.finish(|line| self.rows.line(line, &mut out));
        out.batches.extend(self.rows.take());
        Ok(out)
    }
}

impl JsonRows {
    fn line(&mut self, line: Line<'_>, out: &mut Output) {
        match self.add(line) {
            Ok(()) if self.buffer.is_full() => out.batches.extend(self.take()),
            Ok(()) => {}
            Err(diagnostic) => out.diagnostics.push(diagnostic),
        }
    }

    fn add(&mut self, line: Line<'_>) -> Result<(), Diagnostic> {
        let object = match serde_json::from_str(line.text()?) {
            Ok(Value::Object(object)) => object,
            Ok(other) => {
                let message = format!("expected a JSON object, found {}", describe(&other));
                return Err(line.skip("not_an_object", message));
            }
            Err(e) => return Err(line.skip("invalid_json", json_error(&e))),
        };
        let mut fields = Vec::with_capacity(object.len());
        flatten(None, object, self.flatten, &mut fields);
        let values: Vec<(usize, Value)> = fields
            .into_iter()
            .map(|(name, value)| (self.buffer.column(&name), value))
            .collect();
        self.buffer.push_row(line.row, values);
        Ok(())
    }

    /// The gathered rows as a batch; the next batch names its own columns.
    fn take(&mut self) -> Option<Batch> {
        let rows = self.buffer.take()?;
        self.buffer.clear_columns();
        let mut columns = Vec::with_capacity(rows.columns.len());
        for (name, values) in rows.columns {
            let values: Vec<&Value> = values.iter().collect();
            let shape = Shape::of(&values);
            let values: Vec<Option<&Value>> = values.into_iter().map(Some).collect();
            columns.extend(shape::columns(name, &shape, &values));
        }
        Some(batch(rows.row_numbers, columns))
    }
}

/// The `(name, value)` leaves of `object`, nested objects flattened to `outer.inner` names if
/// `deep`. A later duplicate name replaces the earlier value (as `{"a":1,"a":2}` does).
fn flatten(
    prefix: Option<&str>,
    object: Map<String, Value>,
    deep: bool,
    out: &mut Vec<(String, Value)>,
) {
    for (key, value) in object {
        let name = match prefix {
            Some(prefix) => format!("{prefix}.{key}"),
            None => key,
        };
        match value {
            Value::Object(inner) if deep => flatten(Some(&name), inner, deep, out),
            value => out.push((name, value)),
        }
    }
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Array(_) => "an array",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Null => "null",
        Value::Object(_) => "an object",
    }
}

/// serde_json's message with its position as a column: every line is parsed on its own, so its
/// "line 1" would only contradict the diagnostic's line.
fn json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    let reason = text.strip_suffix(&position).unwrap_or(&text);
    format!("{reason} at column {}", e.column())
}

#[cfg(test)]
mod tests;
