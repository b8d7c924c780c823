//! WIT batches read back as JSON rows, for plugins' tests to compare what they decoded with
//! what an independent writer wrote (a fixture's expected values, also JSON).
//!
//! The columns are read as the host reads them, from the layout alone: a nested column says
//! how many children follow and how long they are. Values are JSON in the units their column
//! carries: dates as days, timestamps as counts of their unit, decimals as fixed-point text
//! (`-50.00`), binary as lower-case hex; lists are arrays, structs objects, nulls `null`.

use serde_json::{Map, Value, json};

use crate::types::{Batch, Column, ColumnValues};

/// The rows of `batch`, each a JSON object of its top-level columns.
///
/// # Panics
/// If the batch's layout is inconsistent (a child missing, an offset past its child): that is
/// what the tests are there to catch.
pub fn rows(batch: &Batch) -> Vec<Value> {
    let mut columns = batch.columns.iter();
    let mut top = Vec::new();
    while columns.len() > 0 {
        top.push(Node::read(&mut columns));
    }
    (0..batch.num_rows as usize)
        .map(|row| {
            let fields = top.iter().map(|n| (n.column.name.clone(), n.value(row)));
            Value::Object(fields.collect::<Map<_, _>>())
        })
        .collect()
}

/// A column with its children.
struct Node<'a> {
    column: &'a Column,
    children: Vec<Node<'a>>,
}

impl<'a> Node<'a> {
    fn read(columns: &mut std::slice::Iter<'a, Column>) -> Node<'a> {
        let column = columns.next().expect("a nested column's child follows it");
        let children = match column.values {
            ColumnValues::List(_) | ColumnValues::FixedSizeList(_) => vec![Node::read(columns)],
            ColumnValues::Struct(n) => (0..n).map(|_| Node::read(columns)).collect(),
            _ => Vec::new(),
        };
        Node { column, children }
    }

    fn value(&self, row: usize) -> Value {
        if let Some(bits) = &self.column.validity
            && bits[row / 8] & (1 << (row % 8)) == 0
        {
            return Value::Null;
        }
        match &self.column.values {
            ColumnValues::Boolean(v) => json!(v[row]),
            ColumnValues::Int32(v) | ColumnValues::Date32(v) => json!(v[row]),
            ColumnValues::Int64(v) => json!(v[row]),
            ColumnValues::Float32(v) => json!(f64::from(v[row])),
            ColumnValues::Float64(v) => json!(v[row]),
            ColumnValues::Utf8(b) => {
                let bytes = &b.bytes[b.offsets[row] as usize..b.offsets[row + 1] as usize];
                json!(std::str::from_utf8(bytes).expect("utf8 columns hold UTF-8"))
            }
            ColumnValues::Binary(b) => {
                let bytes = &b.bytes[b.offsets[row] as usize..b.offsets[row + 1] as usize];
                json!(bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
            }
            ColumnValues::Timestamp(t) => json!(t.values[row]),
            ColumnValues::Decimal128(d) => {
                let bytes = d.values[16 * row..16 * row + 16]
                    .try_into()
                    .expect("16 bytes");
                json!(fixed_point(i128::from_le_bytes(bytes), d.scale))
            }
            ColumnValues::List(offsets) => {
                let items = offsets[row] as usize..offsets[row + 1] as usize;
                Value::Array(items.map(|i| self.children[0].value(i)).collect())
            }
            ColumnValues::FixedSizeList(size) => {
                let size = *size as usize;
                let items = row * size..(row + 1) * size;
                Value::Array(items.map(|i| self.children[0].value(i)).collect())
            }
            ColumnValues::Struct(_) => Value::Object(
                self.children
                    .iter()
                    .map(|c| (c.column.name.clone(), c.value(row)))
                    .collect(),
            ),
        }
    }
}

/// `value × 10^-scale` written out in full (`-5000, 2` → `-50.00`).
fn fixed_point(value: i128, scale: i8) -> String {
    let digits = value.unsigned_abs().to_string();
    let sign = if value < 0 { "-" } else { "" };
    let scale = usize::try_from(scale).expect("WIT decimals have a scale of 0 or more");
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let digits = format!("{digits:0>width$}", width = scale + 1);
    let (whole, fraction) = digits.split_at(digits.len() - scale);
    format!("{sign}{whole}.{fraction}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ByteBuffer, DecimalValues};

    #[test]
    fn decimals_are_written_out_at_their_scale() {
        assert_eq!(fixed_point(-5000, 2), "-50.00");
        assert_eq!(fixed_point(7, 3), "0.007");
        assert_eq!(fixed_point(-7, 1), "-0.7");
        assert_eq!(fixed_point(123, 0), "123");
    }

    #[test]
    fn nested_columns_become_arrays_and_objects() {
        let column = |name: &str, validity: Option<Vec<u8>>, values| Column {
            name: name.into(),
            validity,
            values,
        };
        let batch = Batch {
            num_rows: 2,
            row_numbers: vec![1, 2],
            columns: vec![
                column("s", Some(vec![0b01]), ColumnValues::Struct(2)),
                column("l", None, ColumnValues::List(vec![0, 2, 2])),
                column("item", Some(vec![0b10]), ColumnValues::Int32(vec![0, 5])),
                column(
                    "b",
                    None,
                    ColumnValues::Binary(ByteBuffer {
                        offsets: vec![0, 1, 1],
                        bytes: vec![0xab],
                    }),
                ),
                column(
                    "d",
                    None,
                    ColumnValues::Decimal128(DecimalValues {
                        precision: 5,
                        scale: 2,
                        values: [1i128.to_le_bytes(), 2i128.to_le_bytes()].concat(),
                    }),
                ),
            ],
        };
        assert_eq!(
            rows(&batch),
            [
                json!({"s": {"l": [null, 5], "b": "ab"}, "d": "0.01"}),
                json!({"s": null, "d": "0.02"}),
            ]
        );
    }
}
