use super::*;
use ferry_guest::types::ColumnValues;

fn opts() -> Options {
    Options {
        delimiter: b',',
        quote: b'"',
        escape: None,
        header: true,
        batch_size: 3,
        schema: Vec::new(),
    }
}

/// Decodes `input` pushed in pieces of `split` bytes; returns (rows as text, diagnostics).
fn decode(input: &[u8], split: usize, opts: Options) -> Result<(Vec<Vec<String>>, Vec<Diagnostic>), Error> {
    let mut d = Decoder::new(opts);
    let mut out = Out::default();
    for piece in input.chunks(split.max(1)) {
        d.push(piece, &mut out)?;
    }
    d.finish(&mut out)?;
    let mut rows = Vec::new();
    for batch in &out.batches {
        for r in 0..batch.num_rows as usize {
            let mut row = vec![batch.row_numbers[r].to_string()];
            for col in &batch.columns {
                let valid = col.validity.as_ref().is_none_or(|v| v[r / 8] & (1 << (r % 8)) != 0);
                row.push(if !valid {
                    "null".into()
                } else {
                    match &col.values {
                        ColumnValues::Int64(v) => v[r].to_string(),
                        ColumnValues::Float64(v) => v[r].to_string(),
                        ColumnValues::Boolean(v) => v[r].to_string(),
                        ColumnValues::Utf8(u) => String::from_utf8(u.bytes[u.offsets[r] as usize..u.offsets[r + 1] as usize].to_vec()).unwrap(),
                        ColumnValues::TimestampMicros(v) => v[r].to_string(),
                    }
                });
            }
            rows.push(row);
        }
    }
    Ok((rows, out.diagnostics))
}

const TRICKY: &str = "id,name,score\r\n1,\"Smith, J\",0.5\r\n2,\"two\nlines\",1\r\n3,é,\r\n4,\"say \"\"hi\"\"\",2.25\n";

#[test]
fn every_chunk_boundary_gives_the_same_rows() {
    let (expected, diags) = decode(TRICKY.as_bytes(), usize::MAX, opts()).unwrap();
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(expected.len(), 4);
    assert_eq!(expected[0], ["1", "1", "Smith, J", "0.5"]);
    assert_eq!(expected[1], ["2", "2", "two\nlines", "1"]);
    assert_eq!(expected[2], ["3", "3", "é", "null"]);
    assert_eq!(expected[3], ["4", "4", "say \"hi\"", "2.25"]);
    for split in 1..TRICKY.len() {
        let (rows, _) = decode(TRICKY.as_bytes(), split, opts()).unwrap();
        assert_eq!(rows, expected, "split at {split}");
    }
}

#[test]
fn bad_rows_are_skipped_with_row_line_and_field() {
    let input = b"a,b\n1,2\n3\n\"x\"y,4\n5,\xff\n6,\"7\nq\"\n8,9\n";
    let (rows, diags) = decode(input, 5, opts()).unwrap();
    let kept: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(kept, ["1", "6", "8"]);
    let got: Vec<(u64, Option<u64>, &str, Option<&str>)> =
        diags.iter().map(|d| (d.row, d.line, d.code.as_str(), d.column.as_deref())).collect();
    assert_eq!(
        got,
        [(2, Some(3), "ragged_row", None), (3, Some(4), "bad_quote", None), (4, Some(5), "invalid_utf8", Some("b"))]
    );
    assert_eq!(rows[2][0], "6", "row numbers count skipped rows");
}

#[test]
fn an_unterminated_quote_fails_with_its_line() {
    let err = decode(b"a,b\n1,2\n3,\"oops\n4,5\n", 4, opts()).unwrap_err();
    assert_eq!(err.code, "unterminated_quote");
    assert!(err.message.contains("line 3"), "{}", err.message);
    assert_eq!(err.row, Some(2));
}

#[test]
fn declared_types_reject_values_and_others_are_inferred() {
    let mut o = opts();
    o.schema = vec![("score".into(), Kind::Float64)];
    o.batch_size = 100;
    let (rows, diags) = decode(b"id,score,ok\n1,0.5,true\n2,high,false\n3,1,true\n", 7, o).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(diags[0].code, "invalid_value");
    assert_eq!(diags[0].row, 2);
    assert_eq!(diags[0].column.as_deref(), Some("score"));
    assert_eq!(rows[1], ["3", "3", "1", "true"]);
}

#[test]
fn headers_and_empty_input() {
    let (rows, diags) = decode(b"", 1, opts()).unwrap();
    assert!(rows.is_empty() && diags.is_empty());
    assert_eq!(decode(b"a,a\n1,2\n", 3, opts()).unwrap_err().code, "invalid_header");
    let mut o = opts();
    o.header = false;
    o.delimiter = b'\t';
    let (rows, _) = decode(b"x\t1\ny\t2\n", 2, o).unwrap();
    assert_eq!(rows, [["1", "x", "1"], ["2", "y", "2"]]);
}
