//! Batches of text fields (CSV, logfmt), typed when taken: a declared column is converted to
//! its declared kind, every other column gets the kind [`typing::infer`] picks from the batch's
//! own values. A value that does not convert to its declared kind rejects its row on push, so
//! the parser can report that row with its line.

use std::collections::HashMap;
use std::ops::Range;

use crate::columns::{ColumnBuilder, batch};
use crate::rows::RowBuffer;
use crate::types::{Batch, Column, Diagnostic, Effect};
use crate::typing::{self, ConvertError, Kind};

/// Where one value lies in the batch's text.
type Span = Range<usize>;

#[derive(Debug, Clone)]
pub struct TextBatch {
    rows: RowBuffer<Span>,
    /// Every value of the batch, back to back; rows refer to it by span (an empty span is an
    /// empty string, that is null).
    text: String,
    /// Declared kinds by column name, looked up once per new column (a header may have tens of
    /// thousands).
    declared: HashMap<String, Kind>,
    /// The declared kind of each registered column, by column index.
    kinds: Vec<Option<Kind>>,
    /// Spans of the row being pushed, kept to reuse the allocation.
    scratch: Vec<(usize, Span)>,
}

/// A value that does not convert to its column's declared kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidValue {
    pub column: String,
    pub error: ConvertError,
}

impl InvalidValue {
    /// The `invalid_value` diagnostic that skips the row.
    pub fn diagnostic(&self, row: u64, line: Option<u64>) -> Diagnostic {
        // The diagnostic names the column; the message says what is wrong with the value.
        crate::diagnostic(
            Effect::RowSkipped,
            row,
            line,
            Some(&self.column),
            "invalid_value",
            self.error.to_string(),
        )
    }
}

impl TextBatch {
    /// A batch that is full at `batch_size` rows, with the kinds of `declared` columns fixed.
    pub fn new(batch_size: usize, declared: Vec<(String, Kind)>) -> Self {
        TextBatch {
            rows: RowBuffer::new(batch_size),
            text: String::new(),
            declared: declared.into_iter().collect(),
            kinds: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// The index of column `name`, added after the others if it is new.
    pub fn column(&mut self, name: &str) -> usize {
        let i = self.rows.column(name);
        if i == self.kinds.len() {
            self.kinds.push(self.declared.get(name).copied());
        }
        i
    }

    /// Column names, in order of first appearance.
    pub fn names(&self) -> &[String] {
        self.rows.names()
    }

    /// Adds source row `row` with `values` by column index; columns left out are null. A
    /// value of a declared column that does not convert leaves the batch as it was.
    pub fn push_row<'a>(
        &mut self,
        row: u64,
        values: impl IntoIterator<Item = (usize, &'a str)>,
    ) -> Result<(), InvalidValue> {
        let start = self.text.len();
        self.scratch.clear();
        for (i, value) in values {
            if let Some(kind) = self.kinds[i]
                && let Err(error) = typing::convert(kind, value)
            {
                self.text.truncate(start);
                let column = self.rows.names()[i].clone();
                return Err(InvalidValue { column, error });
            }
            let from = self.text.len();
            self.text.push_str(value);
            self.scratch.push((i, from..self.text.len()));
        }
        self.rows.push_row(row, self.scratch.drain(..));
        Ok(())
    }

    /// [`Self::push_row`] for a record whose fields lie back to back in `text`, field `i`
    /// ending at byte `ends[i]` (the layout csv-core writes): the record is copied in one go
    /// rather than field by field. Every end must be a character boundary of `text` (slicing
    /// panics otherwise), and there must be no more fields than columns.
    pub fn push_fields(
        &mut self,
        row: u64,
        text: &str,
        ends: &[usize],
    ) -> Result<(), InvalidValue> {
        let spans = || {
            let starts = std::iter::once(0).chain(ends.iter().copied());
            starts.zip(ends).map(|(start, &end)| start..end).enumerate()
        };
        for (i, span) in spans() {
            if let Some(kind) = self.kinds[i]
                && let Err(error) = typing::convert(kind, &text[span])
            {
                let column = self.rows.names()[i].clone();
                return Err(InvalidValue { column, error });
            }
        }
        let base = self.text.len();
        self.text.push_str(text);
        let shifted = spans().map(|(i, span)| (i, base + span.start..base + span.end));
        self.rows.push_row(row, shifted);
        Ok(())
    }

    /// [`Self::push_row`] with values by column name, adding columns seen for the first time.
    pub fn push_named<'a>(
        &mut self,
        row: u64,
        values: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<(), InvalidValue> {
        let values: Vec<(usize, &str)> = values
            .into_iter()
            .map(|(name, value)| (self.column(name), value))
            .collect();
        self.push_row(row, values)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Whether the batch has reached its size and should be taken.
    pub fn is_full(&self) -> bool {
        self.rows.is_full()
    }

    /// The rows gathered so far as a typed batch, if there are any. Columns stay registered.
    pub fn take(&mut self) -> Option<Batch> {
        let rows = self.rows.take()?;
        let text = &self.text;
        let columns = rows
            .columns
            .into_iter()
            .zip(&self.kinds)
            .map(|((name, spans), declared)| {
                let values = spans.iter().map(|s| &text[s.clone()]);
                typed_column(name, *declared, values, spans.len())
            })
            .collect();
        self.text.clear();
        Some(batch(rows.row_numbers, columns))
    }
}

/// The column for a run of values: of the declared kind (its values were checked on push), or
/// of the narrowest kind that fits them all (the [`typing`] rules). Each value is converted
/// once per kind tried rather than inferred and then converted again, which halves the number
/// parsing in float columns (costly in wasm32, where the 128-bit multiplies of float parsing
/// are emulated).
fn typed_column<'a>(
    name: String,
    declared: Option<Kind>,
    values: impl Iterator<Item = &'a str> + Clone,
    rows: usize,
) -> Column {
    let all_null = values.clone().all(str::is_empty);
    let candidates: &[Kind] = match declared {
        Some(kind) => &[kind],
        None if all_null => &[Kind::Utf8],
        None => &typing::NARROWEST_FIRST,
    };
    for &kind in candidates {
        let mut column = ColumnBuilder::with_capacity(name.clone(), kind, rows);
        let fits = values
            .clone()
            .all(|text| match typing::convert(kind, text) {
                Ok(value) => {
                    column.push(value);
                    true
                }
                Err(_) => false,
            });
        if fits {
            return column.finish();
        }
    }
    unreachable!("declared values are checked on push, and utf8 takes every value")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ByteBuffer, ColumnValues};

    #[test]
    fn columns_are_typed_per_batch() {
        let mut b = TextBatch::new(2, vec![]);
        let (n, s) = (b.column("n"), b.column("s"));
        b.push_row(1, [(n, "1"), (s, "x")]).unwrap();
        b.push_row(3, [(n, ""), (s, "")]).unwrap();
        assert!(b.is_full());
        let first = b.take().unwrap();
        assert_eq!(first.row_numbers, [1, 3]);
        assert_eq!(first.columns[0].values, ColumnValues::Int64(vec![1, 0]));
        assert_eq!(first.columns[0].validity, Some(vec![0b01]));
        assert_eq!(
            first.columns[1].values,
            ColumnValues::Utf8(ByteBuffer {
                offsets: vec![0, 1, 1],
                bytes: b"x".to_vec()
            })
        );
        b.push_row(4, [(n, "2.5"), (s, "TRUE")]).unwrap();
        let second = b.take().unwrap();
        assert_eq!(second.columns[0].values, ColumnValues::Float64(vec![2.5]));
        assert_eq!(second.columns[1].values, ColumnValues::Boolean(vec![true]));
        assert!(b.take().is_none());
    }

    #[test]
    fn declared_columns_reject_rows_that_do_not_convert() {
        let mut b = TextBatch::new(
            10,
            vec![("score".into(), Kind::Float64), ("id".into(), Kind::Utf8)],
        );
        let (id, score) = (b.column("id"), b.column("score"));
        b.push_row(1, [(id, "7"), (score, "0.5")]).unwrap();
        let err = b.push_row(2, [(id, "8"), (score, "high")]).unwrap_err();
        assert_eq!(err.column, "score");
        let d = err.diagnostic(2, Some(3));
        assert_eq!(
            (d.row, d.line, d.code.as_str(), d.effect),
            (2, Some(3), "invalid_value", Effect::RowSkipped)
        );
        assert_eq!(d.column.as_deref(), Some("score"));
        assert_eq!(d.message, "`high` is not a valid float64");
        b.push_row(3, [(id, "9"), (score, "")]).unwrap();
        let batch = b.take().unwrap();
        assert_eq!(batch.row_numbers, [1, 3]);
        assert!(matches!(&batch.columns[0].values, ColumnValues::Utf8(u) if u.bytes == b"79"));
        assert_eq!(
            batch.columns[1].values,
            ColumnValues::Float64(vec![0.5, 0.0])
        );
        assert_eq!(batch.columns[1].validity, Some(vec![0b01]));
    }

    #[test]
    fn declared_dates_and_decimals_are_typed_exactly() {
        let money = Kind::from_name("decimal(5,2)").unwrap();
        let mut b = TextBatch::new(
            10,
            vec![("price".into(), money), ("day".into(), Kind::Date32)],
        );
        let (price, day) = (b.column("price"), b.column("day"));
        b.push_row(1, [(price, "123.45"), (day, "2024-08-19")])
            .unwrap();
        let err = b
            .push_row(2, [(price, "1234.5"), (day, "2024-08-19")])
            .unwrap_err();
        let d = err.diagnostic(2, Some(3));
        assert_eq!(
            (d.row, d.column.as_deref(), d.code.as_str()),
            (2, Some("price"), "invalid_value")
        );
        assert_eq!(
            d.message,
            "`1234.5` is not a valid decimal(5,2): more than 3 digits before the point"
        );
        b.push_row(3, [(price, ""), (day, "1970-01-01")]).unwrap();
        let batch = b.take().unwrap();
        assert_eq!(batch.row_numbers, [1, 3]);
        let ColumnValues::Decimal128(prices) = &batch.columns[0].values else {
            panic!("{:?}", batch.columns[0].values)
        };
        assert_eq!(prices.values[..16], 12345i128.to_le_bytes());
        assert_eq!(batch.columns[0].validity, Some(vec![0b01]));
        assert_eq!(
            batch.columns[1].values,
            ColumnValues::Date32(vec![19_954, 0])
        );
    }

    #[test]
    fn named_values_add_columns_as_they_come() {
        let mut b = TextBatch::new(10, vec![]);
        b.push_named(1, [("a", "1")]).unwrap();
        b.push_named(2, [("b", "x"), ("a", "2")]).unwrap();
        assert_eq!(b.names(), ["a", "b"]);
        let batch = b.take().unwrap();
        assert_eq!(batch.columns[0].values, ColumnValues::Int64(vec![1, 2]));
        assert_eq!(batch.columns[1].validity, Some(vec![0b10]));
    }
}
