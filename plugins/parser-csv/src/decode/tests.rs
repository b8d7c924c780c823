use ferry_guest::types::Effect::{RowSkipped, Warning};
use ferry_guest::types::{Batch, ColumnValues, Diagnostic, Effect};

use super::*;

fn options() -> Options {
    Options {
        delimiter: b',',
        quote: b'"',
        escape: None,
        header: true,
        batch_size: 3,
        first_line: None,
        schema: Vec::new(),
    }
}

/// Row number and every value as text (`null` for nulls), row by row across batches.
fn rows(batches: &[Batch]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for batch in batches {
        for r in 0..batch.num_rows as usize {
            let mut row = vec![batch.row_numbers[r].to_string()];
            for col in &batch.columns {
                let valid = col
                    .validity
                    .as_ref()
                    .is_none_or(|v| v[r / 8] & (1 << (r % 8)) != 0);
                row.push(match &col.values {
                    _ if !valid => "null".to_owned(),
                    ColumnValues::Int32(v) | ColumnValues::Date32(v) => v[r].to_string(),
                    ColumnValues::Int64(v) => v[r].to_string(),
                    ColumnValues::Float32(v) => v[r].to_string(),
                    ColumnValues::Float64(v) => v[r].to_string(),
                    ColumnValues::Boolean(v) => v[r].to_string(),
                    ColumnValues::Timestamp(t) => t.values[r].to_string(),
                    ColumnValues::Decimal128(d) => {
                        let bytes: [u8; 16] = d.values[16 * r..16 * r + 16].try_into().unwrap();
                        i128::from_le_bytes(bytes).to_string()
                    }
                    ColumnValues::Utf8(u) => {
                        let (start, end) = (u.offsets[r] as usize, u.offsets[r + 1] as usize);
                        String::from_utf8(u.bytes[start..end].to_vec()).unwrap()
                    }
                    other => panic!("a CSV column of {other:?}"),
                });
            }
            rows.push(row);
        }
    }
    rows
}

/// Decodes `input` pushed in chunks of `size` bytes.
fn decode(
    input: &[u8],
    size: usize,
    options: Options,
) -> Result<(Vec<Batch>, Vec<Diagnostic>), Error> {
    let mut decoder = Decoder::new(options);
    let mut out = Output::default();
    for chunk in input.chunks(size.max(1)) {
        let more = decoder.push(chunk)?;
        out.batches.extend(more.batches);
        out.diagnostics.extend(more.diagnostics);
    }
    decoder.push(&[])?;
    let last = decoder.finish()?;
    out.batches.extend(last.batches);
    out.diagnostics.extend(last.diagnostics);
    Ok((out.batches, out.diagnostics))
}

/// Row, line, code, column and effect of a diagnostic.
type Code<'a> = (u64, Option<u64>, &'a str, Option<&'a str>, Effect);

fn codes(diagnostics: &[Diagnostic]) -> Vec<Code<'_>> {
    diagnostics
        .iter()
        .map(|d| {
            (
                d.row,
                d.line,
                d.code.as_str(),
                d.column.as_deref(),
                d.effect,
            )
        })
        .collect()
}

/// A BOM, CRLF and a bare CR, a blank line, quoted delimiters, quoted CRLF and LF, doubled
/// quotes, multi-byte UTF-8 in and out of quotes, an empty value, no final newline.
const TRICKY: &[u8] =
    "\u{feff}id,name,score\r\n1,\"Smith, J\",0.5\r\n\r\n2,\"two\r\nlines\",1\r3,é€😀,\n\
    4,\"say \"\"hi\"\" ✓\",2.25\n5,\"a\nb\nc\",-1"
        .as_bytes();

#[test]
fn every_chunk_boundary_gives_the_same_rows() {
    let (batches, diagnostics) = decode(TRICKY, TRICKY.len(), options()).unwrap();
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let expected = rows(&batches);
    assert_eq!(
        expected,
        [
            ["1", "1", "Smith, J", "0.5"],
            ["2", "2", "two\r\nlines", "1"],
            ["3", "3", "é€😀", "null"],
            ["4", "4", "say \"hi\" ✓", "2.25"],
            ["5", "5", "a\nb\nc", "-1"],
        ]
    );
    assert_eq!(batches.len(), 2, "batches of 3 rows");
    assert_eq!(
        batches[0].columns[0].name, "id",
        "the BOM is not part of the first name"
    );
    for size in 1..TRICKY.len() {
        let (batches, diagnostics) = decode(TRICKY, size, options()).unwrap();
        assert!(diagnostics.is_empty(), "chunks of {size}: {diagnostics:?}");
        assert_eq!(rows(&batches), expected, "chunks of {size}");
    }
}

#[test]
fn every_chunk_boundary_gives_the_same_diagnostics() {
    let input = b"a,b\n1,2\n3\n\"x\"y,4\n5,\xff\n\n6,\"7\r\nq\"\n\"8\",\"9\"\n10,\xe9t\n11,12\n";
    let expected = [
        (2, Some(3), "ragged_row", None, RowSkipped),
        (3, Some(4), "bad_quote", None, RowSkipped),
        (4, Some(5), "invalid_utf8", Some("b"), RowSkipped),
        (7, Some(10), "invalid_utf8", Some("b"), RowSkipped),
    ];
    for size in 1..=input.len() {
        let (batches, diagnostics) = decode(input, size, options()).unwrap();
        assert_eq!(codes(&diagnostics), expected, "chunks of {size}");
        assert_eq!(
            rows(&batches),
            [
                ["1", "1", "2"],
                ["5", "6", "7\r\nq"],
                ["6", "8", "9"],
                ["8", "11", "12"]
            ],
            "chunks of {size}: row numbers count skipped rows, lines count quoted line breaks"
        );
    }
}

#[test]
fn diagnostics_say_what_is_wrong() {
    let (_, diagnostics) = decode(b"a,b,c\n1,2\n\"x\"y,1,2\n1,\xc3(,3\n", 64, options()).unwrap();
    let messages: Vec<&str> = diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "expected 3 fields, found 2",
            "text after the closing quote of a quoted field",
            "invalid UTF-8 at byte 1 of the field",
        ]
    );
}

#[test]
fn an_unterminated_quote_fails_with_the_line_it_opened_on() {
    for size in [1, 4, 100] {
        let err = decode(b"a,b\n1,2\n3,\"oops\n4,5\n", size, options()).unwrap_err();
        assert_eq!(err.code, "unterminated_quote");
        assert_eq!(
            err.message,
            "the quoted field that starts on line 3 is never closed"
        );
        assert_eq!(err.row, Some(2));
    }
    let err = decode(b"\"a,b\n", 1, options()).unwrap_err();
    assert_eq!(
        (err.code.as_str(), err.row),
        ("unterminated_quote", None),
        "in the header"
    );
    let mut o = options();
    o.header = false;
    let err = decode(b"\"a,b\n", 1, o).unwrap_err();
    assert_eq!(
        (err.code.as_str(), err.row),
        ("unterminated_quote", Some(1)),
        "in row 1"
    );
}

#[test]
fn declared_types_reject_values_and_others_are_inferred() {
    let mut o = options();
    o.schema = vec![
        ("score".into(), Kind::Float64),
        ("absent".into(), Kind::Int64),
    ];
    o.batch_size = 100;
    let input = b"id,score,ok\n1,0.5,true\n2,high,false\n3,1,TRUE\n4,,\n";
    let mut decoder = Decoder::new(o.clone());
    decoder.push(b"id,sc").unwrap();
    assert!(decoder.take_warnings().is_empty());
    decoder.push(b"ore\n").unwrap();
    assert_eq!(
        decoder.take_warnings(),
        ["input_schema declares column `absent`, which is not in this file"]
    );

    let (batches, diagnostics) = decode(input, 7, o).unwrap();
    assert_eq!(
        codes(&diagnostics),
        [(2, Some(3), "invalid_value", Some("score"), RowSkipped)]
    );
    assert_eq!(diagnostics[0].message, "`high` is not a valid float64");
    assert_eq!(
        rows(&batches),
        [
            ["1", "1", "0.5", "true"],
            ["3", "3", "1", "true"],
            ["4", "4", "null", "null"]
        ]
    );
    let kinds: Vec<_> = batches[0]
        .columns
        .iter()
        .map(|c| std::mem::discriminant(&c.values))
        .collect();
    assert_eq!(
        kinds[0],
        std::mem::discriminant(&ColumnValues::Int64(vec![]))
    );
    assert_eq!(
        kinds[1],
        std::mem::discriminant(&ColumnValues::Float64(vec![]))
    );
    assert_eq!(
        kinds[2],
        std::mem::discriminant(&ColumnValues::Boolean(vec![]))
    );
}

#[test]
fn declared_dates_timestamps_decimals_and_narrow_numbers() {
    let mut o = options();
    o.schema = [
        "day:date",
        "at:timestamp",
        "price:decimal(10,2)",
        "n:int32",
        "x:float32",
    ]
    .iter()
    .map(|d| {
        let (name, ty) = d.split_once(':').unwrap();
        (name.to_owned(), Kind::from_name(ty).unwrap())
    })
    .collect();
    let input = b"day,at,price,n,x\n\
        2024-08-19,2024-08-19T10:00:00Z,12.30,7,0.5\n\
        2024-02-30,2024-08-19T10:00:00Z,1,1,1\n\
        1970-01-01,2024-08-19 12:00:00+02:00,123456789.5,1,1\n\
        1970-01-02,1970-01-01T00:00:00.000001Z,-0.05,,\n";
    let (batches, diagnostics) = decode(input, 5, o).unwrap();
    assert_eq!(
        codes(&diagnostics),
        [
            (2, Some(3), "invalid_value", Some("day"), RowSkipped),
            (3, Some(4), "invalid_value", Some("price"), RowSkipped),
        ]
    );
    assert_eq!(
        diagnostics[1].message,
        "`123456789.5` is not a valid decimal(10,2): more than 8 digits before the point"
    );
    assert_eq!(
        rows(&batches),
        [
            ["1", "19954", "1724061600000000", "1230", "7", "0.5"],
            ["4", "1", "1", "-5", "null", "null"],
        ]
    );
    let values = &batches[0].columns;
    assert!(matches!(values[0].values, ColumnValues::Date32(_)));
    assert!(
        matches!(&values[1].values, ColumnValues::Timestamp(t) if t.timezone.as_deref() == Some("UTC"))
    );
    assert!(
        matches!(&values[2].values, ColumnValues::Decimal128(d) if (d.precision, d.scale) == (10, 2))
    );
    assert!(matches!(values[3].values, ColumnValues::Int32(_)));
    assert!(matches!(values[4].values, ColumnValues::Float32(_)));
}

#[test]
fn types_are_inferred_per_batch() {
    let (batches, _) = decode(b"n\n1\n2\n3\nx\n", 5, options()).unwrap();
    assert!(matches!(
        batches[0].columns[0].values,
        ColumnValues::Int64(_)
    ));
    assert!(matches!(
        batches[1].columns[0].values,
        ColumnValues::Utf8(_)
    ));
}

#[test]
fn header_names_must_be_text() {
    for (input, message) in [
        (
            &b"a,\xff\n"[..],
            "header (line 1): name 2 is not valid UTF-8",
        ),
        (
            b"\"a\"x,b\n",
            "header (line 1): text after the closing quote of a name",
        ),
    ] {
        let err = decode(input, 2, options()).unwrap_err();
        assert_eq!(
            (err.code.as_str(), err.message.as_str()),
            ("invalid_header", message)
        );
    }
}

/// What R's `write.csv` writes: quoted names, an empty one for the row names, and here a
/// repeated `x` (R itself would have made it `x.1`; other tools do not).
const FROM_R: &[u8] = b"\"\",\"x\",\"x\"\r\n\"1\",1.5,\"a\"\r\n\"2\",NA,\"b\"\r\n";

#[test]
fn empty_and_repeated_header_names_are_generated_with_a_row_0_warning() {
    for size in 1..=FROM_R.len() {
        let (batches, diagnostics) = decode(FROM_R, size, options()).unwrap();
        let names: Vec<&str> = batches[0].columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["column_1", "x", "x_2"], "chunks of {size}");
        assert_eq!(
            rows(&batches),
            [["1", "1", "1.5", "a"], ["2", "2", "NA", "b"]]
        );
        assert_eq!(
            codes(&diagnostics),
            [
                (0, Some(1), "renamed_column", Some("column_1"), Warning),
                (0, Some(1), "renamed_column", Some("x_2"), Warning),
            ],
            "chunks of {size}"
        );
        assert_eq!(
            diagnostics[1].message,
            "header name 3 repeats `x`; the column is named `x_2`"
        );
    }
}

#[test]
fn generated_header_names_never_take_written_ones() {
    let input = b"\n\nx,,x,column_2,x_2\n1,2,3,4,5\n";
    let (batches, diagnostics) = decode(input, 4, options()).unwrap();
    let names: Vec<&str> = batches[0].columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["x", "column_2_2", "x_3", "column_2", "x_2"]);
    assert_eq!(
        codes(&diagnostics),
        [
            (0, Some(3), "renamed_column", Some("column_2_2"), Warning),
            (0, Some(3), "renamed_column", Some("x_3"), Warning),
        ]
    );
    assert_eq!(rows(&batches), [["1", "1", "2", "3", "4", "5"]]);
}

#[test]
fn a_declared_type_applies_to_a_generated_name() {
    let mut o = options();
    o.schema = vec![("x_2".into(), Kind::Utf8)];
    let (batches, _) = decode(b"x,x\n1,2\n", 3, o).unwrap();
    assert_eq!(batches[0].columns[0].values, ColumnValues::Int64(vec![1]));
    assert!(matches!(&batches[0].columns[1].values, ColumnValues::Utf8(u) if u.bytes == b"2"));
}

#[test]
fn forty_thousand_columns_decode() {
    let width = 40_000;
    let mut header: Vec<String> = (0..width).map(|i| format!("c{i}")).collect();
    header[0] = String::new();
    header[width - 1] = "c1".into();
    let row = |r: usize| -> String {
        (0..width)
            .map(|i| (r * width + i).to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let input = format!("{}\n{}\n{}\n", header.join(","), row(0), row(1));
    let (batches, diagnostics) = decode(input.as_bytes(), 1 << 16, options()).unwrap();
    assert_eq!(
        codes(&diagnostics),
        [
            (0, Some(1), "renamed_column", Some("column_1"), Warning),
            (0, Some(1), "renamed_column", Some("c1_2"), Warning),
        ]
    );
    let columns = &batches[0].columns;
    assert_eq!(columns.len(), width);
    assert_eq!(columns[0].name, "column_1");
    assert_eq!(columns[width - 1].name, "c1_2");
    assert_eq!(
        columns[width - 1].values,
        ColumnValues::Int64(vec![width as i64 - 1, 2 * width as i64 - 1])
    );
}

#[test]
fn empty_input_and_a_header_alone_give_nothing() {
    for input in [&b""[..], b"\xEF\xBB\xBF", b"\n\r\n", b"a,b\n", b"a,b"] {
        let (batches, diagnostics) = decode(input, 1, options()).unwrap();
        assert!(batches.is_empty() && diagnostics.is_empty(), "{input:?}");
    }
}

#[test]
fn without_a_header_columns_are_numbered() {
    let mut o = options();
    o.header = false;
    o.delimiter = b'\t';
    let (batches, diagnostics) = decode(b"x\t1\ny\t2\nz\n", 2, o).unwrap();
    assert_eq!(batches[0].columns[0].name, "column_1");
    assert_eq!(batches[0].columns[1].name, "column_2");
    assert_eq!(rows(&batches), [["1", "x", "1"], ["2", "y", "2"]]);
    assert_eq!(
        codes(&diagnostics),
        [(3, Some(3), "ragged_row", None, RowSkipped)]
    );
}

#[test]
fn an_escape_byte_escapes_inside_quotes() {
    let mut o = options();
    o.escape = Some(b'\\');
    let input = b"a,b\n\"x\\\"y\",\"\"\"z\"\"\"\n";
    for size in 1..=input.len() {
        let (batches, diagnostics) = decode(input, size, o.clone()).unwrap();
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(rows(&batches), [["1", "x\"y", "\"z\""]]);
    }
}

#[test]
fn long_fields_and_wide_records_grow_the_buffers() {
    let names: Vec<String> = (0..200).map(|i| format!("c{i}")).collect();
    let long = "x".repeat(10_000);
    let values: Vec<&str> = (0..200)
        .map(|i| if i == 7 { long.as_str() } else { "1" })
        .collect();
    let input = format!("{}\n{}\n", names.join(","), values.join(","));
    let (batches, diagnostics) = decode(input.as_bytes(), 1000, options()).unwrap();
    assert!(diagnostics.is_empty());
    assert_eq!(batches[0].columns.len(), 200);
    assert_eq!(rows(&batches)[0][8], long);
}

#[test]
fn options_refuse_line_breaks_and_clashes() {
    assert_eq!(options().check(), Ok(()));
    let mut o = options();
    o.escape = Some(b'"');
    assert_eq!(o.check(), Ok(()), "escape = quote is doubled quotes");
    o.delimiter = b'"';
    assert_eq!(
        o.check(),
        Err("settings `delimiter` and `quote` are both `\\\"`".into())
    );
    let mut o = options();
    o.escape = Some(b'\n');
    assert_eq!(
        o.check(),
        Err("setting `escape` cannot be a line break".into())
    );
}

/// Not a test: the decoder's native speed, to tell decoder cost from wasm cost.
/// `cargo test --release -p parser-csv -- --ignored --nocapture native_throughput`
/// (`FERRY_CSV_MB` sets the size, default 50).
#[test]
#[ignore]
fn native_throughput() {
    let mb: usize = std::env::var("FERRY_CSV_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let mut input = String::from(
        "prediction_id,ts,label,score,feature_age,feature_income,feature_state,tag_env\n",
    );
    let mut rows = 0u64;
    while input.len() < mb << 20 {
        let i = rows;
        input.push_str(&format!(
            "p-{i:09},2024-08-19T10:11:12Z,fraud,0.{:04},{},{}.25,\"North, Carolina\",prod\n",
            i % 10_000,
            18 + i % 70,
            i % 100_000
        ));
        rows += 1;
    }
    let mut o = options();
    o.batch_size = 8192;
    let started = std::time::Instant::now();
    let mut decoder = Decoder::new(o);
    let mut decoded = 0u64;
    for chunk in input.as_bytes().chunks(1 << 20) {
        decoded += decoder
            .push(chunk)
            .unwrap()
            .batches
            .iter()
            .map(|b| b.num_rows as u64)
            .sum::<u64>();
    }
    decoded += decoder
        .finish()
        .unwrap()
        .batches
        .iter()
        .map(|b| b.num_rows as u64)
        .sum::<u64>();
    assert_eq!(decoded, rows);
    let secs = started.elapsed().as_secs_f64();
    println!(
        "native decoder: {:.1} MB/s, {:.0} rows/s",
        input.len() as f64 / 1e6 / secs,
        rows as f64 / secs
    );
}

/// A range of a larger object starts with the object's header and numbers its lines from
/// `first_line`, whatever its line breaks.
#[test]
fn a_range_numbers_its_lines_from_first_line() {
    for header in ["a,b\n", "a,b\r\n", "\"a\nx\",b\n"] {
        let mut o = options();
        o.first_line = Some(100);
        let mut d = Decoder::new(o);
        let input = format!("{header}1,2\r\n3\n\"4\n\",5,6\n");
        let mut out = d.push(input.as_bytes()).unwrap();
        out.diagnostics.extend(d.finish().unwrap().diagnostics);
        let lines: Vec<(u64, Option<u64>)> =
            out.diagnostics.iter().map(|d| (d.row, d.line)).collect();
        assert_eq!(lines, [(2, Some(101)), (3, Some(102))], "header {header:?}");
    }
    let mut o = options();
    o.header = false;
    o.first_line = Some(7);
    let mut d = Decoder::new(o);
    let out = d.push(b"1,2\n3\n").unwrap();
    assert_eq!(out.diagnostics[0].line, Some(8));
}
