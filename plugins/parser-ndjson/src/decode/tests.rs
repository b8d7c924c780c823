use ferry_guest::types::{ColumnValues, Utf8Buffer};

use super::*;

fn decode(input: &[u8], size: usize, options: Options) -> Output {
    let mut decoder = Decoder::new(options);
    let mut out = Output::default();
    for chunk in input.chunks(size) {
        let more = decoder.push(chunk);
        out.batches.extend(more.batches);
        out.diagnostics.extend(more.diagnostics);
    }
    let last = decoder.finish();
    out.batches.extend(last.batches);
    out.diagnostics.extend(last.diagnostics);
    out
}

fn options() -> Options {
    Options {
        batch_size: 100,
        flatten: true,
    }
}

fn utf8(values: &[&str]) -> ColumnValues {
    let mut offsets = vec![0];
    let mut bytes = Vec::new();
    for v in values {
        bytes.extend_from_slice(v.as_bytes());
        offsets.push(bytes.len() as u32);
    }
    ColumnValues::Utf8(Utf8Buffer { offsets, bytes })
}

#[test]
fn lines_split_anywhere_decode_the_same() {
    let input = "{\"a\":1,\"geo\":{\"city\":\"Zürich\",\"loc\":{\"lat\":47.4}}}\r\n\n\
        {\"a\":2.5,\"t\":[1,\"x\"]}\n   \n{\"a\":null,\"b\":true}\n{\"b\":false,\"m\":1}\n{\"m\":\"x\",\"e\":{}}"
        .as_bytes();
    let whole = decode(input, input.len(), options());
    assert!(whole.diagnostics.is_empty(), "{:?}", whole.diagnostics);
    assert_eq!(whole.batches.len(), 1);
    let b = &whole.batches[0];
    assert_eq!(b.row_numbers, [1, 2, 3, 4, 5]);
    let names: Vec<&str> = b.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["a", "geo.city", "geo.loc.lat", "t", "b", "m"]);
    assert_eq!(
        b.columns[0].values,
        ColumnValues::Float64(vec![1.0, 2.5, 0.0, 0.0, 0.0])
    );
    assert_eq!(b.columns[0].validity, Some(vec![0b00011]));
    assert_eq!(b.columns[1].values, utf8(&["Zürich", "", "", "", ""]));
    assert_eq!(
        b.columns[2].values,
        ColumnValues::Float64(vec![47.4, 0.0, 0.0, 0.0, 0.0])
    );
    assert_eq!(
        b.columns[3].values,
        utf8(&["", "[1,\"x\"]", "", "", ""]),
        "arrays are JSON text"
    );
    assert_eq!(
        b.columns[4].values,
        ColumnValues::Boolean(vec![false, false, true, false, false])
    );
    assert_eq!(b.columns[4].validity, Some(vec![0b01100]));
    assert_eq!(
        b.columns[5].values,
        utf8(&["", "", "", "1", "x"]),
        "mixed columns are text"
    );
    for size in 1..input.len() {
        assert_eq!(decode(input, size, options()), whole, "chunks of {size}");
    }
}

#[test]
fn integers_stay_integers() {
    let out = decode(b"{\"n\":1}\n{\"n\":-2}\n{}\n", 3, options());
    assert_eq!(
        out.batches[0].columns[0].values,
        ColumnValues::Int64(vec![1, -2, 0])
    );
    assert_eq!(out.batches[0].columns[0].validity, Some(vec![0b011]));
}

#[test]
fn without_flatten_objects_are_json_text() {
    let out = decode(
        b"{\"geo\":{\"city\":\"Oslo\"},\"n\":1}\n",
        5,
        Options {
            batch_size: 10,
            flatten: false,
        },
    );
    let b = &out.batches[0];
    assert_eq!(b.columns[0].name, "geo");
    assert_eq!(b.columns[0].values, utf8(&["{\"city\":\"Oslo\"}"]));
}

#[test]
fn each_batch_names_and_types_its_own_columns() {
    let out = decode(
        b"{\"a\":1}\n{\"a\":2}\n{\"b\":\"x\",\"a\":\"y\"}\n",
        4,
        Options {
            batch_size: 2,
            flatten: true,
        },
    );
    assert_eq!(out.batches.len(), 2);
    assert_eq!(out.batches[0].columns.len(), 1);
    assert_eq!(
        out.batches[0].columns[0].values,
        ColumnValues::Int64(vec![1, 2])
    );
    let second: Vec<&str> = out.batches[1]
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(second, ["b", "a"]);
    assert_eq!(out.batches[1].row_numbers, [3]);
}

#[test]
fn bad_lines_are_skipped_with_row_and_line() {
    let input = b"{\"a\":1}\n\n{\"a\":\n[1,2]\n{\"a\":\"\xff\"}\n\"s\"\n{\"a\":1} x\n{\"a\":3}\n";
    for size in 1..=input.len() {
        let out = decode(input, size, options());
        let got: Vec<(u64, Option<u64>, &str, &str)> = out
            .diagnostics
            .iter()
            .map(|d| (d.row, d.line, d.code.as_str(), d.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    2,
                    Some(3),
                    "invalid_json",
                    "EOF while parsing a value at column 5"
                ),
                (
                    3,
                    Some(4),
                    "not_an_object",
                    "expected a JSON object, found an array"
                ),
                (
                    4,
                    Some(5),
                    "invalid_utf8",
                    "invalid UTF-8 at byte 7 of the line"
                ),
                (
                    5,
                    Some(6),
                    "not_an_object",
                    "expected a JSON object, found a string"
                ),
                (
                    6,
                    Some(7),
                    "invalid_json",
                    "trailing characters at column 9"
                ),
            ],
            "chunks of {size}"
        );
        assert_eq!(out.batches[0].row_numbers, [1, 7]);
    }
}

#[test]
fn empty_input_gives_nothing() {
    assert_eq!(decode(b"", 1, options()), Output::default());
    assert_eq!(decode(b"\n \r\n", 1, options()), Output::default());
}
