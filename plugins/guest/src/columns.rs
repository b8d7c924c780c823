//! Columns in Arrow layout, as the `types` interface carries them: one flat value buffer per
//! column, a validity bitmap (LSB first, left out when nothing is null) and, for strings,
//! `n + 1` offsets into one byte buffer. The host turns these into Arrow arrays without
//! copying, so the layout is built right here, once.
//!
//! [`ColumnBuilder`] builds the scalar columns a text value can become (every [`Kind`]);
//! nested columns (lists, structs) are a parent column followed by its children, see
//! [`crate::nested`].

use crate::types::{
    Batch, ByteBuffer, Column, ColumnValues, DecimalValues, TimeUnit, TimestampValues,
};
use crate::typing::{DecimalType, Kind, Value};

/// The zone of every `timestamp` column built here: the values are UTC instants.
pub const UTC: &str = "UTC";

/// Validity bits of a column under construction, one per row.
#[derive(Debug, Default, Clone)]
pub struct Validity {
    bits: Vec<u8>,
    len: usize,
    nulls: usize,
}

impl Validity {
    pub fn with_capacity(rows: usize) -> Self {
        Validity {
            bits: Vec::with_capacity(rows.div_ceil(8)),
            ..Validity::default()
        }
    }

    pub fn push(&mut self, valid: bool) {
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

    /// Rows so far.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bitmap, or `None` when every value is valid (what the WIT asks for).
    pub fn finish(self) -> Option<Vec<u8>> {
        (self.nulls > 0).then_some(self.bits)
    }
}

/// Whether row `i` is valid in `column`'s bitmap.
pub fn is_valid(column: &Column, i: usize) -> bool {
    column
        .validity
        .as_ref()
        .is_none_or(|bits| bits.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0))
}

#[derive(Debug, Clone)]
enum Values {
    Boolean(Vec<bool>),
    Int32(Vec<i32>),
    Int64(Vec<i64>),
    Float32(Vec<f32>),
    Float64(Vec<f64>),
    Utf8 {
        offsets: Vec<u32>,
        bytes: Vec<u8>,
    },
    Date32(Vec<i32>),
    Timestamp(Vec<i64>),
    /// 16 bytes per value, little-endian.
    Decimal(DecimalType, Vec<u8>),
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
            Kind::Int32 => Values::Int32(Vec::with_capacity(rows)),
            Kind::Int64 => Values::Int64(Vec::with_capacity(rows)),
            Kind::Float32 => Values::Float32(Vec::with_capacity(rows)),
            Kind::Float64 => Values::Float64(Vec::with_capacity(rows)),
            Kind::Utf8 => {
                let mut offsets = Vec::with_capacity(rows + 1);
                offsets.push(0);
                Values::Utf8 {
                    offsets,
                    bytes: Vec::new(),
                }
            }
            Kind::Date32 => Values::Date32(Vec::with_capacity(rows)),
            Kind::Timestamp => Values::Timestamp(Vec::with_capacity(rows)),
            Kind::Decimal(ty) => Values::Decimal(ty, Vec::with_capacity(rows * 16)),
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
            Values::Int32(_) => Kind::Int32,
            Values::Int64(_) => Kind::Int64,
            Values::Float32(_) => Kind::Float32,
            Values::Float64(_) => Kind::Float64,
            Values::Utf8 { .. } => Kind::Utf8,
            Values::Date32(_) => Kind::Date32,
            Values::Timestamp(_) => Kind::Timestamp,
            Values::Decimal(ty, _) => Kind::Decimal(ty),
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
            Values::Int32(v) | Values::Date32(v) => v.push(0),
            Values::Int64(v) | Values::Timestamp(v) => v.push(0),
            Values::Float32(v) => v.push(0.0),
            Values::Float64(v) => v.push(0.0),
            Values::Utf8 { offsets, bytes } => offsets.push(offset(bytes)),
            Values::Decimal(_, v) => v.extend_from_slice(&[0; 16]),
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

    pub fn push_i32(&mut self, value: i32) {
        match &mut self.values {
            Values::Int32(v) => v.push(value),
            _ => self.mismatch(Kind::Int32),
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

    pub fn push_f32(&mut self, value: f32) {
        match &mut self.values {
            Values::Float32(v) => v.push(value),
            _ => self.mismatch(Kind::Float32),
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

    /// A date, as days since the Unix epoch.
    pub fn push_date32(&mut self, days: i32) {
        match &mut self.values {
            Values::Date32(v) => v.push(days),
            _ => self.mismatch(Kind::Date32),
        }
        self.validity.push(true);
    }

    /// An instant, as microseconds since the Unix epoch.
    pub fn push_timestamp(&mut self, micros: i64) {
        match &mut self.values {
            Values::Timestamp(v) => v.push(micros),
            _ => self.mismatch(Kind::Timestamp),
        }
        self.validity.push(true);
    }

    /// A decimal, in units of 10^-scale of the column's type; it must have no more digits
    /// than the type's precision ([`DecimalType::parse`] sees to that).
    pub fn push_decimal(&mut self, units: i128) {
        match &mut self.values {
            Values::Decimal(_, v) => v.extend_from_slice(&units.to_le_bytes()),
            _ => self.mismatch_name("decimal"),
        }
        self.validity.push(true);
    }

    /// Pushes a converted value ([`crate::typing::convert`]).
    pub fn push(&mut self, value: Value<'_>) {
        match value {
            Value::Null => self.push_null(),
            Value::Boolean(b) => self.push_bool(b),
            Value::Int32(i) => self.push_i32(i),
            Value::Int64(i) => self.push_i64(i),
            Value::Float32(f) => self.push_f32(f),
            Value::Float64(f) => self.push_f64(f),
            Value::Utf8(s) => self.push_str(s),
            Value::Date32(days) => self.push_date32(days),
            Value::Timestamp(micros) => self.push_timestamp(micros),
            Value::Decimal(units) => self.push_decimal(units),
        }
    }

    pub fn finish(self) -> Column {
        let values = match self.values {
            Values::Boolean(v) => ColumnValues::Boolean(v),
            Values::Int32(v) => ColumnValues::Int32(v),
            Values::Int64(v) => ColumnValues::Int64(v),
            Values::Float32(v) => ColumnValues::Float32(v),
            Values::Float64(v) => ColumnValues::Float64(v),
            Values::Utf8 { offsets, bytes } => ColumnValues::Utf8(ByteBuffer { offsets, bytes }),
            Values::Date32(v) => ColumnValues::Date32(v),
            Values::Timestamp(values) => ColumnValues::Timestamp(TimestampValues {
                unit: TimeUnit::Microsecond,
                timezone: Some(UTC.to_owned()),
                values,
            }),
            Values::Decimal(ty, values) => ColumnValues::Decimal128(DecimalValues {
                precision: ty.precision(),
                // At most 38, so it fits.
                scale: ty.scale() as i8,
                values,
            }),
        };
        Column {
            name: self.name,
            validity: self.validity.finish(),
            values,
        }
    }

    fn mismatch(&self, pushed: Kind) -> ! {
        self.mismatch_name(&pushed.to_string())
    }

    fn mismatch_name(&self, pushed: &str) -> ! {
        panic!(
            "pushed a {pushed} value into {} column `{}`",
            self.kind(),
            self.name
        )
    }
}

/// Arrow's 32-bit string offsets. A batch is far below 4 GiB (the host's memory limit is), so
/// running past it is a bug, not bad input.
pub fn offset(bytes: &[u8]) -> u32 {
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
            ColumnValues::Utf8(ByteBuffer {
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
            ColumnValues::Utf8(ByteBuffer {
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
    fn dates_timestamps_and_decimals_get_their_arrow_types() {
        let mut date = ColumnBuilder::new("d", Kind::Date32);
        date.push(Value::Date32(19_782));
        date.push_null();
        let col = date.finish();
        assert_eq!(col.values, ColumnValues::Date32(vec![19_782, 0]));
        assert_eq!(col.validity, Some(vec![0b01]));

        let mut ts = ColumnBuilder::new("t", Kind::Timestamp);
        ts.push(Value::Timestamp(-1));
        assert_eq!(
            ts.finish().values,
            ColumnValues::Timestamp(TimestampValues {
                unit: TimeUnit::Microsecond,
                timezone: Some("UTC".into()),
                values: vec![-1],
            })
        );

        let money = Kind::Decimal(DecimalType::new(10, 2).unwrap());
        let mut d = ColumnBuilder::new("price", money);
        d.push(Value::Decimal(1230));
        d.push_null();
        d.push(Value::Decimal(-1));
        assert_eq!(d.kind(), money);
        let ColumnValues::Decimal128(values) = d.finish().values else {
            panic!("not a decimal column")
        };
        assert_eq!((values.precision, values.scale), (10, 2));
        let mut expected = 1230i128.to_le_bytes().to_vec();
        expected.extend([0; 16]);
        expected.extend([0xff; 16]);
        assert_eq!(
            values.values, expected,
            "16 bytes LE two's complement per value"
        );
    }

    #[test]
    fn narrow_numbers_keep_their_width() {
        let mut i = ColumnBuilder::new("i", Kind::Int32);
        i.push(Value::Int32(-5));
        i.push_null();
        assert_eq!(i.finish().values, ColumnValues::Int32(vec![-5, 0]));
        let mut f = ColumnBuilder::new("f", Kind::Float32);
        f.push(Value::Float32(0.5));
        assert_eq!(f.finish().values, ColumnValues::Float32(vec![0.5]));
    }

    #[test]
    #[should_panic(expected = "pushed a decimal value into date32 column `d`")]
    fn a_decimal_into_another_kind_is_a_bug() {
        ColumnBuilder::new("d", Kind::Date32).push_decimal(1);
    }

    #[test]
    fn validity_reads_back() {
        let mut c = ColumnBuilder::new("n", Kind::Int64);
        c.push_i64(1);
        c.push_null();
        let col = c.finish();
        assert!(is_valid(&col, 0));
        assert!(!is_valid(&col, 1));
        let all = ColumnBuilder::new("n", Kind::Int64).finish();
        assert!(is_valid(&all, 5), "no bitmap: every row is valid");
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
