//! `test-v01-parser`: a parser built against the frozen `ferry:plugin@0.1.0` (`wit/v0.1`), so
//! the host's tests can run a plugin of the old WIT. Each non-blank line of digits is a row of
//! one int64 column `n`; any other line is a row skipped with a `not_a_number` diagnostic.
//! No settings.

use std::cell::RefCell;

wit_bindgen::generate!({ world: "parser-plugin", path: "../../wit/v0.1" });

use exports::ferry::plugin::parser::{Guest, GuestDecoder, Output};
use ferry::plugin::types::{Batch, Column, ColumnValues, Diagnostic, Error};

struct V01;

impl Guest for V01 {
    type Decoder = Decoder;
}

/// One object: its unfinished last line, and the rows (non-blank lines) counted so far.
#[derive(Default)]
struct Decoder(RefCell<(Vec<u8>, u64)>);

/// The rows and diagnostics of `lines` (complete lines, `\n`-separated), numbered from
/// `row + 1`.
fn decode(lines: &[u8], row: &mut u64) -> Output {
    let (mut row_numbers, mut values, mut diagnostics) = (Vec::new(), Vec::new(), Vec::new());
    for line in lines.split(|b| *b == b'\n') {
        let text = String::from_utf8_lossy(line);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        *row += 1;
        match text.parse::<i64>() {
            Ok(n) => {
                row_numbers.push(*row);
                values.push(n);
            }
            Err(_) => diagnostics.push(Diagnostic {
                row: *row,
                line: None,
                column: Some("n".into()),
                code: "not_a_number".into(),
                message: format!("`{text}` is not a whole number"),
            }),
        }
    }
    let n = ColumnValues::Int64(values);
    let columns = vec![Column {
        name: "n".into(),
        validity: None,
        values: n,
    }];
    let batch = Batch {
        num_rows: row_numbers.len() as u32,
        row_numbers,
        columns,
    };
    let batches = if batch.num_rows > 0 {
        vec![batch]
    } else {
        Vec::new()
    };
    Output {
        batches,
        diagnostics,
    }
}

impl GuestDecoder for Decoder {
    fn new(_object_key: String) -> Self {
        Decoder::default()
    }

    fn push(&self, chunk: Vec<u8>) -> Result<Output, Error> {
        let (partial, row) = &mut *self.0.borrow_mut();
        partial.extend_from_slice(&chunk);
        let complete = partial
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |end| end + 1);
        let rest = partial.split_off(complete);
        Ok(decode(&std::mem::replace(partial, rest), row))
    }

    fn finish(&self) -> Result<Output, Error> {
        let (partial, row) = &mut *self.0.borrow_mut();
        Ok(decode(&std::mem::take(partial), row))
    }
}

export!(V01);

#[test]
fn chunks_split_anywhere_give_the_same_rows() {
    let input = b"1\n\nx\r\n-20\n3";
    for size in 1..=input.len() {
        let d = Decoder::default();
        let mut outs: Vec<Output> = input
            .chunks(size)
            .map(|c| d.push(c.to_vec()).unwrap())
            .collect();
        outs.push(d.finish().unwrap());
        let (mut rows, mut bad) = (Vec::new(), Vec::new());
        for out in outs {
            for b in out.batches {
                let ColumnValues::Int64(values) = &b.columns[0].values else {
                    panic!()
                };
                rows.extend(b.row_numbers.into_iter().zip(values.clone()));
            }
            bad.extend(out.diagnostics.into_iter().map(|d| (d.row, d.code)));
        }
        assert_eq!(rows, [(1, 1), (3, -20), (4, 3)], "chunks of {size}");
        assert_eq!(bad, [(2, "not_a_number".to_owned())], "chunks of {size}");
    }
}
