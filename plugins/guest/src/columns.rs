//! Columns in Arrow layout, as the `types` interface carries them: one flat value buffer per
//! column, a validity bitmap (LSB first, left out when nothing is null) and, for strings,
//! `n + 1` offsets into one byte buffer. The host turns these into Arrow arrays without
//! copying, so the layout is built right here, once.

use crate::types::{Batch, Column, ColumnValues, Utf8Buffer};
use crate::typing::{Kind, Value};

/// Validity bits of a column under construction.
#[derive(Debug, Default, Clone)]
struct Validity {
    bits: Vec<u8>,
    len: usize,
    nulls: usize,
}

impl Validity {
    fn with_capacity(rows: usize) -> Self {
        Validity {
            bits: Vec::with_capacity(rows.div_ceil(8)),
            ..Validity::default()
        }
    }

    fn push(&mut self, valid: bool) {
        let bit = self.len % 8;
        if bit == 0 {
            self.bits.push(0);
        }
        if valid {
            let last = self.bits.len() - 1;
            self.bits[last] |= 1 << bit;
        } else {
            self.nulls += 1;
        }
        self.len += 1;
    }

    /// The bitmap, or `None` when every value is valid (what the WIT asks for).
    fn finish(self) -> Option<Vec<u8>> {
        (self.nulls > 0).then_some(self.bits)
    }
}

#[derive(Debug, Clone)]
enum Values {
    Boolean(Vec<bool>),
    Int64(Vec<i64>),
    Float64(Vec<f64>),
    Utf8 { offsets: Vec<u32>, bytes: Vec<u8> },
}

/// One column being built, of a kind fixed up front.
///
/// Typing is the caller's decision (see [`crate::typing`]); pushing a value of another kind is
/// a bug in the plugin and panics rather than emitting a column the host would reject.
#[derive(Debug, Clone)]
pub struct ColumnBuilder {
    name: String,
    values: Values,
    validity: Validity,
}

impl ColumnBuilder {
    pub fn new(name: impl Into<String>, kind: Kind) -> Self {
        Self::with_capacity(name, kind, 0)
    }

    pub fn with_capacity(name: impl Into<String>, kind: Kind, rows: usize) -> Self {
        let values = match kind {
            Kind::Boolean => Values::Boolean(Vec::with_capacity(rows)),
            Kind::Int64 => Values::Int64(Vec::with_capacity(rows)),
            Kind::Float64 => Values::Float64(Vec::with_capacity(rows)),
            Kind::Utf8 => {
                let mut offsets = Vec::with_capacity(rows + 1);
                offsets.push(0);
                Values::Utf8 {
                    offsets,
                    bytes: Vec::new(),
                }
            }
        };
        ColumnBuilder {
            name: name.into(),
            values,
            validity: Validity::with_capacity(rows),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn kind(&self) -> Kind {
        match self.values {
            Values::Boolean(_) => Kind::Boolean,
            Values::Int64(_) => Kind::Int64,
            Values::Float64(_) => Kind::Float64,
            Values::Utf8 { .. } => Kind::Utf8,
        }
    }

    pub fn len(&self) -> usize {
        self.validity.len
    }

    pub fn is_empty(&self) -> bool {
        self.validity.len == 0
    }

    /// A null slot; its value buffer holds a zero (or an empty string) there.
    pub fn push_null(&mut self) {
        match &mut self.values {
            Values::Boolean(v) => v.push(false),
            Values::Int64(v) => v.push(0),
            Values::Float64(v) => v.push(0.0),
            Values::Utf8 { offsets, bytes } => offsets.push(offset(bytes)),
        }
        self.validity.push(false);
    }

    pub fn push_bool(&mut self, value: bool) {
        match &mut self.values {
            Values::Boolean(v) => v.push(value),
            _ => self.mismatch(Kind::Boolean),
        }
        self.validity.push(true);
    }

    pub fn push_i64(&mut self, value: i64) {
        match &mut self.values {
            Values::Int64(v) => v.push(value),
            _ => self.mismatch(Kind::Int64),
        }
        self.validity.push(true);
    }

    pub fn push_f64(&mut self, value: f64) {
        match &mut self.values {
            Values::Float64(v) => v.push(value),
            _ => self.mismatch(Kind::Float64),
        }
        self.validity.push(true);
    }

    pub fn push_str(&mut self, value: &str) {
        match &mut self.values {
            Values::Utf8 { offsets, bytes } => {
                bytes.extend_from_slice(value.as_bytes());
                offsets.push(offset(bytes));
            }
            _ => self.mismatch(Kind::Utf8),
        }
        self.validity.push(true);
    }

    /// Pushes a converted value ([`crate::typing::convert`]).
    pub fn push(&mut self, value: Value<'_>) {
        match value {
            Value::Null => self.push_null(),
            Value::Boolean(b) => self.push_bool(b),
            Value::Int64(i) => self.push_i64(i),
            Value::Float64(f) => self.push_f64(f),
            Value::Utf8(s) => self.push_str(s),
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

    fn mismatch(&self, pushed: Kind) -> ! {
        panic!(
            "pushed a {pushed} value into {} column `{}`",
            self.kind(),
            self.name
        )
    }
}

/// Arrow's 32-bit string offsets. A batch is far below 4 GiB (the host's memory limit is), so
/// running past it is a bug, not bad input.
fn offset(bytes: &[u8]) -> u32 {
    u32::try_from(bytes.len()).expect("a batch's strings stay under 4 GiB")
}

/// A batch of `row_numbers.len()` rows.
pub fn batch(row_numbers: Vec<u64>, columns: Vec<Column>) -> Batch {
    Batch {
        num_rows: u32::try_from(row_numbers.len()).expect("batch sizes fit in u32"),
        row_numbers,
        columns,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(
            col.values,
            ColumnValues::Int64(vec![0, 0, 2, 3, 4, 5, 6, 7, 8, 0])
        );

        let mut all_valid = ColumnBuilder::new("n", Kind::Float64);
        for i in 0..9 {
            all_valid.push_f64(f64::from(i));
        }
        assert_eq!(all_valid.finish().validity, None);
        assert_eq!(
            ColumnBuilder::new("e", Kind::Boolean).finish().validity,
            None
        );
    }

    #[test]
    fn a_full_byte_of_nulls_then_a_value() {
        let mut c = ColumnBuilder::new("b", Kind::Boolean);
        for _ in 0..8 {
            c.push_null();
        }
        c.push_bool(true);
        let col = c.finish();
        assert_eq!(col.validity, Some(vec![0, 1]));
        assert_eq!(
            col.values,
            ColumnValues::Boolean(vec![false; 8].into_iter().chain([true]).collect())
        );
    }

    #[test]
    fn strings_get_arrow_offsets() {
        let mut c = ColumnBuilder::with_capacity("s", Kind::Utf8, 4);
        c.push_str("ab");
        c.push_null();
        c.push_str("é");
        c.push_str("");
        assert_eq!(c.len(), 4);
        let col = c.finish();
        assert_eq!(col.validity, Some(vec![0b1101]));
        assert_eq!(
            col.values,
            ColumnValues::Utf8(Utf8Buffer {
                offsets: vec![0, 2, 2, 4, 4],
                bytes: "abé".as_bytes().to_vec(),
            })
        );
    }

    #[test]
    fn an_empty_string_column_has_one_offset() {
        let col = ColumnBuilder::new("s", Kind::Utf8).finish();
        assert_eq!(
            col.values,
            ColumnValues::Utf8(Utf8Buffer {
                offsets: vec![0],
                bytes: vec![]
            })
        );
    }

    #[test]
    #[should_panic(expected = "pushed a utf8 value into int64 column `n`")]
    fn a_value_of_the_wrong_kind_is_a_bug() {
        ColumnBuilder::new("n", Kind::Int64).push_str("x");
    }

    #[test]
    fn batches_count_their_rows() {
        let mut c = ColumnBuilder::new("n", Kind::Int64);
        c.push(Value::Int64(7));
        let b = batch(vec![3], vec![c.finish()]);
        assert_eq!(b.num_rows, 1);
        assert_eq!(b.row_numbers, [3]);
    }
}
