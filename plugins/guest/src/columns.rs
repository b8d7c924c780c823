//! Builders for columns in Arrow layout: one flat value buffer, a validity bitmap (LSB first,
//! left out when there are no nulls), offsets + bytes for strings.

use crate::types::{Batch, Column, ColumnValues, Utf8Buffer};

/// Validity bits for a column under construction.
#[derive(Debug, Default, Clone)]
struct Validity {
    bits: Vec<u8>,
    len: usize,
    nulls: usize,
}

impl Validity {
    fn push(&mut self, valid: bool) {
        if self.len % 8 == 0 {
            self.bits.push(0);
        }
        if valid {
            *self.bits.last_mut().expect("a byte was pushed above") |= 1 << (self.len % 8);
        } else {
            self.nulls += 1;
        }
        self.len += 1;
    }

    fn finish(self) -> Option<Vec<u8>> {
        (self.nulls > 0).then_some(self.bits)
    }
}

/// Typed values of one column.
#[derive(Debug, Clone)]
enum Values {
    Boolean(Vec<bool>),
    Int64(Vec<i64>),
    Float64(Vec<f64>),
    Utf8 { offsets: Vec<u32>, bytes: Vec<u8> },
}

/// One column being built. Pushing a value of the wrong type is a programming error (panics);
/// parsing and typing decisions belong to the caller.
#[derive(Debug, Clone)]
pub struct ColumnBuilder {
    name: String,
    values: Values,
    validity: Validity,
}

impl ColumnBuilder {
    pub fn new(name: impl Into<String>, kind: crate::Kind) -> Self {
        let values = match kind {
            crate::Kind::Boolean => Values::Boolean(Vec::new()),
            crate::Kind::Int64 => Values::Int64(Vec::new()),
            crate::Kind::Float64 => Values::Float64(Vec::new()),
            crate::Kind::Utf8 => Values::Utf8 {
                offsets: vec![0],
                bytes: Vec::new(),
            },
        };
        ColumnBuilder {
            name: name.into(),
            values,
            validity: Validity::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.validity.len
    }

    pub fn is_empty(&self) -> bool {
        self.validity.len == 0
    }

    pub fn push_null(&mut self) {
        match &mut self.values {
            Values::Boolean(v) => v.push(false),
            Values::Int64(v) => v.push(0),
            Values::Float64(v) => v.push(0.0),
            Values::Utf8 { offsets, bytes } => offsets.push(bytes.len() as u32),
        }
        self.validity.push(false);
    }

    pub fn push_bool(&mut self, value: bool) {
        match &mut self.values {
            Values::Boolean(v) => v.push(value),
            _ => panic!("column {} is not boolean", self.name),
        }
        self.validity.push(true);
    }

    pub fn push_i64(&mut self, value: i64) {
        match &mut self.values {
            Values::Int64(v) => v.push(value),
            _ => panic!("column {} is not int64", self.name),
        }
        self.validity.push(true);
    }

    pub fn push_f64(&mut self, value: f64) {
        match &mut self.values {
            Values::Float64(v) => v.push(value),
            _ => panic!("column {} is not float64", self.name),
        }
        self.validity.push(true);
    }

    pub fn push_str(&mut self, value: &str) {
        match &mut self.values {
            Values::Utf8 { offsets, bytes } => {
                bytes.extend_from_slice(value.as_bytes());
                offsets.push(bytes.len() as u32);
            }
            _ => panic!("column {} is not utf8", self.name),
        }
        self.validity.push(true);
    }

    /// Pushes `text` converted to this column's type; an empty string is null.
    pub fn push_parsed(&mut self, text: Option<&str>) -> Result<(), String> {
        let Some(text) = text.filter(|t| !t.is_empty()) else {
            self.push_null();
            return Ok(());
        };
        match crate::infer::parse(self.kind(), text)? {
            crate::infer::Value::Boolean(b) => self.push_bool(b),
            crate::infer::Value::Int64(i) => self.push_i64(i),
            crate::infer::Value::Float64(f) => self.push_f64(f),
            crate::infer::Value::Utf8 => self.push_str(text),
        }
        Ok(())
    }

    pub fn kind(&self) -> crate::Kind {
        match self.values {
            Values::Boolean(_) => crate::Kind::Boolean,
            Values::Int64(_) => crate::Kind::Int64,
            Values::Float64(_) => crate::Kind::Float64,
            Values::Utf8 { .. } => crate::Kind::Utf8,
        }
    }

    pub fn finish(self) -> Column {
        let values = match self.values {
            Values::Boolean(v) => ColumnValues::Boolean(v),
            Values::Int64(v) => ColumnValues::Int64(v),
            Values::Float64(v) => ColumnValues::Float64(v),
            Values::Utf8 { offsets, bytes } => ColumnValues::Utf8(Utf8Buffer { offsets, bytes }),
        };
        Column {
            name: self.name,
            validity: self.validity.finish(),
            values,
        }
    }
}

/// Assembles a batch from finished columns and the rows' source numbers.
#[derive(Debug, Default)]
pub struct BatchBuilder {
    pub row_numbers: Vec<u64>,
    pub columns: Vec<Column>,
}

impl BatchBuilder {
    pub fn finish(self) -> Batch {
        Batch {
            num_rows: self.row_numbers.len() as u32,
            row_numbers: self.row_numbers,
            columns: self.columns,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Kind;

    #[test]
    fn validity_is_lsb_first_and_absent_without_nulls() {
        let mut c = ColumnBuilder::new("n", Kind::Int64);
        for i in 0..10 {
            if i == 1 || i == 9 {
                c.push_null();
            } else {
                c.push_i64(i);
            }
        }
        let col = c.finish();
        assert_eq!(col.validity, Some(vec![0b1111_1101, 0b0000_0001]));
        let mut d = ColumnBuilder::new("n", Kind::Int64);
        d.push_i64(1);
        assert_eq!(d.finish().validity, None);
    }

    #[test]
    fn strings_get_arrow_offsets() {
        let mut c = ColumnBuilder::new("s", Kind::Utf8);
        c.push_str("ab");
        c.push_null();
        c.push_str("é");
        match c.finish().values {
            ColumnValues::Utf8(Utf8Buffer { offsets, bytes }) => {
                assert_eq!(offsets, vec![0, 2, 2, 4]);
                assert_eq!(bytes, "abé".as_bytes());
            }
            _ => panic!("not utf8"),
        }
    }
}
