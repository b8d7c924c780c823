//! Line splitting across chunks, JSON per line, and typing columns from JSON values.

use ferry_guest::types::{Batch, Diagnostic};
use ferry_guest::{BatchBuilder, ColumnBuilder, Kind, diagnostic};
use serde_json::{Map, Value};

pub struct Options {
    pub batch_size: usize,
    pub flatten: bool,
}

pub struct Decoder {
    opts: Options,
    /// Bytes of a line not yet ended by `\n`.
    partial: Vec<u8>,
    line: u64,
    row: u64,
    rows: Vec<u64>,
    records: Vec<Vec<(String, Value)>>,
}

impl Decoder {
    pub fn new(opts: Options) -> Self {
        Decoder {
            opts,
            partial: Vec::new(),
            line: 0,
            row: 0,
            rows: Vec::new(),
            records: Vec::new(),
        }
    }

    pub fn push(&mut self, chunk: &[u8], batches: &mut Vec<Batch>, diags: &mut Vec<Diagnostic>) {
        let mut rest = chunk;
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            let line = if self.partial.is_empty() {
                rest[..nl].to_vec()
            } else {
                let mut l = std::mem::take(&mut self.partial);
                l.extend_from_slice(&rest[..nl]);
                l
            };
            self.line(&line, batches, diags);
            rest = &rest[nl + 1..];
        }
        self.partial.extend_from_slice(rest);
    }

    pub fn finish(&mut self, batches: &mut Vec<Batch>, diags: &mut Vec<Diagnostic>) {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.line(&line, batches, diags);
        }
        self.flush(batches);
    }

    fn line(&mut self, bytes: &[u8], batches: &mut Vec<Batch>, diags: &mut Vec<Diagnostic>) {
        self.line += 1;
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        self.row += 1;
        let (row, line) = (self.row, Some(self.line));
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                diags.push(diagnostic(row, line, None, "invalid_utf8", format!("invalid UTF-8 at byte {}", e.valid_up_to())));
                return;
            }
        };
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => {
                let mut fields = Vec::with_capacity(map.len());
                flatten(String::new(), map, self.opts.flatten, &mut fields);
                self.records.push(fields);
                self.rows.push(row);
                if self.rows.len() >= self.opts.batch_size {
                    self.flush(batches);
                }
            }
            Ok(other) => {
                let what = match other {
                    Value::Array(_) => "an array",
                    Value::String(_) => "a string",
                    Value::Number(_) => "a number",
                    Value::Bool(_) => "a boolean",
                    _ => "null",
                };
                diags.push(diagnostic(row, line, None, "not_an_object", format!("expected a JSON object, found {what}")));
            }
            Err(e) => diags.push(diagnostic(row, line, None, "invalid_json", format!("{e}"))),
        }
    }

    fn flush(&mut self, batches: &mut Vec<Batch>) {
        if self.rows.is_empty() {
            return;
        }
        // Columns in order of first appearance in this batch.
        let mut names: Vec<String> = Vec::new();
        for record in &self.records {
            for (k, _) in record {
                if !names.contains(k) {
                    names.push(k.clone());
                }
            }
        }
        let mut batch = BatchBuilder {
            row_numbers: std::mem::take(&mut self.rows),
            columns: Vec::with_capacity(names.len()),
        };
        let records = std::mem::take(&mut self.records);
        for name in names {
            let values: Vec<Option<&Value>> = records
                .iter()
                .map(|r| r.iter().find(|(k, _)| *k == name).map(|(_, v)| v).filter(|v| !v.is_null()))
                .collect();
            let kind = kind_of(&values);
            let mut col = ColumnBuilder::new(name, kind);
            for value in values {
                match (value, kind) {
                    (None, _) => col.push_null(),
                    (Some(Value::Bool(b)), Kind::Boolean) => col.push_bool(*b),
                    (Some(Value::Number(n)), Kind::Int64) => col.push_i64(n.as_i64().expect("kind checked")),
                    (Some(Value::Number(n)), Kind::Float64) => col.push_f64(n.as_f64().unwrap_or(f64::NAN)),
                    (Some(Value::String(s)), _) => col.push_str(s),
                    (Some(other), _) => col.push_str(&other.to_string()),
                }
            }
            batch.columns.push(col.finish());
        }
        batches.push(batch.finish());
    }
}

fn kind_of(values: &[Option<&Value>]) -> Kind {
    let present: Vec<&Value> = values.iter().flatten().copied().collect();
    if present.is_empty() {
        Kind::Utf8
    } else if present.iter().all(|v| v.is_i64()) {
        Kind::Int64
    } else if present.iter().all(|v| v.is_number()) {
        Kind::Float64
    } else if present.iter().all(|v| v.is_boolean()) {
        Kind::Boolean
    } else {
        Kind::Utf8
    }
}

fn flatten(prefix: String, map: Map<String, Value>, deep: bool, out: &mut Vec<(String, Value)>) {
    for (k, v) in map {
        let name = if prefix.is_empty() { k } else { format!("{prefix}.{k}") };
        match v {
            Value::Object(inner) if deep => flatten(name, inner, deep, out),
            Value::Array(_) | Value::Object(_) => out.push((name, Value::String(v.to_string()))),
            other => out.push((name, other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_guest::types::ColumnValues;

    fn run(input: &[u8], split: usize) -> (Vec<Batch>, Vec<Diagnostic>) {
        let mut d = Decoder::new(Options { batch_size: 100, flatten: true });
        let (mut b, mut diags) = (Vec::new(), Vec::new());
        for piece in input.chunks(split) {
            d.push(piece, &mut b, &mut diags);
        }
        d.finish(&mut b, &mut diags);
        (b, diags)
    }

    #[test]
    fn lines_split_anywhere_decode_the_same() {
        let input = "{\"a\":1,\"g\":{\"c\":\"é\"}}\r\n\n{\"a\":2.5,\"t\":[1]}\n{\"a\":null,\"b\":true}";
        for split in 1..input.len() {
            let (batches, diags) = run(input.as_bytes(), split);
            assert!(diags.is_empty());
            let b = &batches[0];
            assert_eq!(b.row_numbers, vec![1, 2, 3]);
            let names: Vec<&str> = b.columns.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(names, ["a", "g.c", "t", "b"]);
            assert!(matches!(&b.columns[0].values, ColumnValues::Float64(v) if v[..2] == [1.0, 2.5]));
            assert!(matches!(&b.columns[2].values, ColumnValues::Utf8(_)));
            assert!(matches!(&b.columns[3].values, ColumnValues::Boolean(_)));
        }
    }

    #[test]
    fn bad_lines_are_named() {
        let (batches, diags) = run(b"{\"a\":1}\n{\"a\":\n[1,2]\n\xff\n{\"a\":3}\n", 4);
        let codes: Vec<(u64, Option<u64>, &str)> = diags.iter().map(|d| (d.row, d.line, d.code.as_str())).collect();
        assert_eq!(codes, [(2, Some(2), "invalid_json"), (3, Some(3), "not_an_object"), (4, Some(4), "invalid_utf8")]);
        assert_eq!(batches[0].row_numbers, vec![1, 5]);
    }
}
