use ferry_guest::types::{ByteBuffer, Column, ColumnValues, Effect};

use super::*;

fn decode(input: &[u8], size: usize, options: Options) -> Output {
    let mut decoder = Decoder::new(options);
    let mut out = Output::default();
    for chunk in input.chunks(size) {
        let more = decoder.push(chunk).unwrap();
        out.batches.extend(more.batches);
        out.diagnostics.extend(more.diagnostics);
    }
    let last = decoder.finish().unwrap();
    out.batches.extend(last.batches);
    out.diagnostics.extend(last.diagnostics);
    out
}

fn options() -> Options {
    Options {
        batch_size: 100,
        first_line: 1,
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
    ColumnValues::Utf8(ByteBuffer { offsets, bytes })
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

fn names(columns: &[Column]) -> Vec<&str> {
    columns.iter().map(|c| c.name.as_str()).collect()
}

fn unflattened() -> Options {
    Options {
        batch_size: 10,
        first_line: 1,
        flatten: false,
    }
}

#[test]
fn without_flatten_objects_are_structs() {
    let input = b"{\"geo\":{\"city\":\"Oslo\",\"loc\":{\"lat\":59.9}},\"n\":1}\n\
        {\"geo\":null,\"n\":2}\n\
        {\"geo\":{\"tags\":[\"a\",\"b\"],\"city\":\"Rome\"}}\n";
    let whole = decode(input, input.len(), unflattened());
    let b = &whole.batches[0];
    assert_eq!(
        names(&b.columns),
        ["geo", "city", "loc", "lat", "tags", "item", "n"],
        "each struct is followed by its fields, depth first"
    );
    let [geo, city, loc, lat, tags, item, n] = &b.columns[..] else {
        panic!("{:?}", b.columns)
    };
    assert_eq!(geo.values, ColumnValues::Struct(3));
    assert_eq!(geo.validity, Some(vec![0b101]));
    assert_eq!(city.values, utf8(&["Oslo", "", "Rome"]));
    assert_eq!(city.validity, Some(vec![0b101]));
    assert_eq!(loc.values, ColumnValues::Struct(1));
    assert_eq!(
        loc.validity,
        Some(vec![0b001]),
        "absent from the third object"
    );
    assert_eq!(lat.values, ColumnValues::Float64(vec![59.9, 0.0, 0.0]));
    assert_eq!(tags.values, ColumnValues::List(vec![0, 0, 0, 2]));
    assert_eq!(tags.validity, Some(vec![0b100]));
    assert_eq!(item.values, utf8(&["a", "b"]));
    assert_eq!(n.values, ColumnValues::Int64(vec![1, 2, 0]));
    for size in 1..input.len() {
        assert_eq!(
            decode(input, size, unflattened()),
            whole,
            "chunks of {size}"
        );
    }
}

#[test]
fn without_flatten_irregular_objects_are_json_text() {
    let out = decode(
        b"{\"geo\":{\"city\":\"Oslo\"},\"e\":{}}\n{\"geo\":\"unknown\",\"e\":{}}\n",
        5,
        unflattened(),
    );
    let b = &out.batches[0];
    assert_eq!(names(&b.columns), ["geo", "e"]);
    assert_eq!(
        b.columns[0].values,
        utf8(&["{\"city\":\"Oslo\"}", "unknown"])
    );
    assert_eq!(
        b.columns[1].values,
        utf8(&["{}", "{}"]),
        "a struct needs a field"
    );
    assert!(out.diagnostics.is_empty());
}

#[test]
fn arrays_of_one_kind_are_lists() {
    let input = b"{\"v\":[1,2],\"s\":[\"x\"],\"f\":[1,0.5]}\n{\"v\":[],\"s\":null}\n\
        {\"v\":null,\"f\":[]}\n{}\n{\"v\":[3,null],\"s\":[\"y\",\"z\"]}\n";
    let out = decode(input, 7, options());
    assert!(out.diagnostics.is_empty());
    let b = &out.batches[0];
    assert_eq!(names(&b.columns), ["v", "item", "s", "item", "f", "item"]);
    assert_eq!(
        b.columns[0].values,
        ColumnValues::List(vec![0, 2, 2, 2, 2, 4])
    );
    assert_eq!(b.columns[0].validity, Some(vec![0b10011]));
    assert_eq!(b.columns[1].values, ColumnValues::Int64(vec![1, 2, 3, 0]));
    assert_eq!(b.columns[1].validity, Some(vec![0b0111]), "a null item");
    assert_eq!(
        b.columns[2].values,
        ColumnValues::List(vec![0, 1, 1, 1, 1, 3])
    );
    assert_eq!(b.columns[3].values, utf8(&["x", "y", "z"]));
    assert_eq!(
        b.columns[4].values,
        ColumnValues::List(vec![0, 2, 2, 2, 2, 2])
    );
    assert_eq!(b.columns[4].validity, Some(vec![0b00101]));
    assert_eq!(b.columns[5].values, ColumnValues::Float64(vec![1.0, 0.5]));
}

#[test]
fn irregular_arrays_are_json_text_without_a_diagnostic() {
    let out = decode(
        b"{\"t\":[1,\"x\"],\"m\":[[1]],\"o\":[{\"a\":1}],\"k\":[1]}\n{\"k\":\"one\"}\n",
        3,
        options(),
    );
    assert!(out.diagnostics.is_empty());
    let b = &out.batches[0];
    assert_eq!(names(&b.columns), ["t", "m", "o", "k"]);
    assert_eq!(b.columns[0].values, utf8(&["[1,\"x\"]", ""]));
    assert_eq!(b.columns[1].values, utf8(&["[[1]]", ""]));
    assert_eq!(b.columns[2].values, utf8(&["[{\"a\":1}]", ""]));
    assert_eq!(
        b.columns[3].values,
        utf8(&["[1]", "one"]),
        "a list here, a string there"
    );
}

#[test]
fn each_batch_names_and_types_its_own_columns() {
    let out = decode(
        b"{\"a\":1}\n{\"a\":2}\n{\"b\":\"x\",\"a\":\"y\"}\n",
        4,
        Options {
            batch_size: 2,
            first_line: 1,
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
        assert!(
            out.diagnostics
                .iter()
                .all(|d| d.effect == Effect::RowSkipped)
        );
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
