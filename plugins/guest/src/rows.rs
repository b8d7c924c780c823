//! Rows gathered column by column until a batch is full.
//!
//! Columns are named as they are first seen, in that order. A row that does not set a column
//! holds `V::default()` there (the parser's null), as do the rows before a column first
//! appeared. What a value is, and how a column is typed, is the parser's business.

use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct RowBuffer<V> {
    batch_size: usize,
    names: Vec<String>,
    index: HashMap<String, usize>,
    columns: Vec<Vec<V>>,
    row_numbers: Vec<u64>,
}

/// The rows of one batch, column by column.
#[derive(Debug, Clone, PartialEq)]
pub struct Rows<V> {
    pub row_numbers: Vec<u64>,
    pub columns: Vec<(String, Vec<V>)>,
}

impl<V: Default> RowBuffer<V> {
    /// A buffer that is full at `batch_size` rows (at least one).
    pub fn new(batch_size: usize) -> Self {
        RowBuffer {
            batch_size: batch_size.max(1),
            names: Vec::new(),
            index: HashMap::new(),
            columns: Vec::new(),
            row_numbers: Vec::new(),
        }
    }

    /// The index of column `name`, added after the others if it is new.
    pub fn column(&mut self, name: &str) -> usize {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.names.len();
        self.names.push(name.to_owned());
        self.index.insert(name.to_owned(), i);
        self.columns.push(
            std::iter::repeat_with(V::default)
                .take(self.row_numbers.len())
                .collect(),
        );
        i
    }

    /// Column names, in order of first appearance.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Adds source row `row` with `values` given by column index (from [`Self::column`]).
    /// Columns left out are null; when a column is given twice, the last value counts.
    pub fn push_row(&mut self, row: u64, values: impl IntoIterator<Item = (usize, V)>) {
        let n = self.row_numbers.len();
        for (i, value) in values {
            let column = &mut self.columns[i];
            column.truncate(n);
            column.push(value);
        }
        for column in &mut self.columns {
            if column.len() == n {
                column.push(V::default());
            }
        }
        self.row_numbers.push(row);
    }

    pub fn len(&self) -> usize {
        self.row_numbers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.row_numbers.is_empty()
    }

    /// Whether the batch has reached its size and should be taken.
    pub fn is_full(&self) -> bool {
        self.row_numbers.len() >= self.batch_size
    }

    /// The rows gathered so far, if any. Columns stay registered (a CSV keeps its header), now
    /// with no rows; [`Self::clear_columns`] forgets them.
    pub fn take(&mut self) -> Option<Rows<V>> {
        if self.row_numbers.is_empty() {
            return None;
        }
        // The next batch is likely as long as this one: give it the room up front rather than
        // growing every column from empty again.
        let rows = self.row_numbers.len();
        let fresh = |column: &mut Vec<V>| std::mem::replace(column, Vec::with_capacity(rows));
        let columns = self
            .names
            .iter()
            .cloned()
            .zip(self.columns.iter_mut().map(fresh))
            .collect();
        Some(Rows {
            row_numbers: std::mem::replace(&mut self.row_numbers, Vec::with_capacity(rows)),
            columns,
        })
    }

    /// Forgets every column, so the next batch names its own. Only between batches: rows
    /// gathered and not taken are dropped.
    pub fn clear_columns(&mut self) {
        self.names.clear();
        self.index.clear();
        self.columns.clear();
        self.row_numbers.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_and_missing_columns_are_null() {
        let mut rows: RowBuffer<Option<u8>> = RowBuffer::new(10);
        let a = rows.column("a");
        rows.push_row(1, [(a, Some(1))]);
        let b = rows.column("b");
        assert_eq!(rows.column("a"), a);
        rows.push_row(2, [(b, Some(2))]);
        rows.push_row(4, [(b, Some(3)), (a, Some(4)), (b, Some(5))]);
        let taken = rows.take().unwrap();
        assert_eq!(taken.row_numbers, [1, 2, 4]);
        assert_eq!(
            taken.columns,
            [
                ("a".to_owned(), vec![Some(1), None, Some(4)]),
                ("b".to_owned(), vec![None, Some(2), Some(5)])
            ]
        );
    }

    #[test]
    fn take_keeps_columns_and_clear_forgets_them() {
        let mut rows: RowBuffer<u8> = RowBuffer::new(2);
        let a = rows.column("a");
        rows.push_row(1, [(a, 7)]);
        assert!(!rows.is_full());
        rows.push_row(2, [(a, 8)]);
        assert!(rows.is_full());
        assert_eq!(rows.take().unwrap().columns[0].1, [7, 8]);
        assert!(rows.take().is_none());
        rows.push_row(3, []);
        assert_eq!(rows.take().unwrap().columns, [("a".to_owned(), vec![0])]);
        rows.clear_columns();
        assert!(rows.names().is_empty());
        assert_eq!(rows.column("z"), 0);
    }
}
