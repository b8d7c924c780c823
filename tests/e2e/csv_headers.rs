//! CSV headers as other tools write them: R's `write.csv` (an empty name for the row names),
//! repeated names, and very wide files. Empty and repeated names get generated ones, reported
//! as warnings on row 0 (the header) that skip no row: the job's status follows its rows, so a
//! file whose only problem is its header ends SUCCESS, with the renamings in its
//! parseExceptions.

use arrow::array::RecordBatch;

use crate::support::*;

fn column_names(batches: &[RecordBatch]) -> Vec<String> {
    let schema = batches.first().expect("the table has rows").schema();
    schema.fields().iter().map(|f| f.name().clone()).collect()
}

#[test]
fn an_r_style_header_gets_generated_names_and_warnings() {
    let env = Env::new();
    // As `write.csv(data.frame(x = c(1.5, 2.5), x = c("a", "b"), check.names = FALSE))`
    // writes it: every name and string quoted, the row names first under `""`, CRLF on Windows.
    env.write(
        "in/r.csv",
        "\"\",\"x\",\"x\"\r\n\"1\",1.5,\"a\"\r\n\"2\",2.5,\"b\"\r\n",
    );
    let wf = env.write("wf.toml", simple_workflow("t", "in", "parser-csv", "", ""));
    let (code, job) = env.json(&["run", wf.to_str().unwrap()]);
    assert_eq!(code, 0, "{job}");
    assert_eq!(job["executionStatus"], "SUCCESS", "{job}");
    assert_eq!(job["metrics"]["numRowsProcessed"], 2, "{job}");
    assert_eq!(job["metrics"]["numRowsPersisted"], 2, "{job}");
    assert_eq!(job["metrics"]["numRowsSkippedByError"], 0, "{job}");

    let table = env.table("t");
    assert_eq!(column_names(&table), ["column_1", "x", "x_2"]);
    assert_eq!(column_text(&table, "column_1"), ["1", "2"]);
    assert_eq!(column_text(&table, "x"), ["1.5", "2.5"]);
    assert_eq!(column_text(&table, "x_2"), ["a", "b"]);

    let id = job["id"].as_str().unwrap();
    let (code, shown) = env.json(&["jobs", "show", id]);
    assert_eq!(code, 0, "{shown}");
    let exceptions = shown["parseExceptions"].as_array().unwrap();
    let seen: Vec<(&str, u64, u64, &str, &str, &str)> = exceptions
        .iter()
        .map(|e| {
            (
                e["file"].as_str().unwrap(),
                e["row"].as_u64().unwrap(),
                e["line"].as_u64().unwrap(),
                e["column"].as_str().unwrap(),
                e["code"].as_str().unwrap(),
                e["severity"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("r.csv", 0, 1, "column_1", "renamed_column", "warning"),
            ("r.csv", 0, 1, "x_2", "renamed_column", "warning"),
        ],
        "{shown}"
    );
    assert_eq!(
        exceptions[1]["message"],
        "header name 3 repeats `x`; the column is named `x_2`"
    );
}

#[test]
fn a_file_of_forty_thousand_columns_is_ingested_whole() {
    let env = Env::new();
    let width = 40_000;
    let mut header: Vec<String> = (0..width).map(|i| format!("f{i}")).collect();
    header[0] = String::new();
    header[width - 1] = "f1".into();
    let mut csv = header.join(",");
    csv.push('\n');
    for r in 0..3 {
        let row: Vec<String> = (0..width).map(|i| (r * width + i).to_string()).collect();
        csv.push_str(&row.join(","));
        csv.push('\n');
    }
    env.write("in/wide.csv", csv);
    let wf = env.write(
        "wf.toml",
        simple_workflow("wide", "in", "parser-csv", "", ""),
    );
    let (code, job) = env.json(&["run", wf.to_str().unwrap()]);
    assert_eq!(code, 0, "{job}");
    assert_eq!(job["executionStatus"], "SUCCESS", "{job}");
    assert_eq!(job["metrics"]["numRowsPersisted"], 3, "{job}");

    let table = env.table("wide");
    assert_eq!(row_count(&table), 3);
    let names = column_names(&table);
    assert_eq!(names.len(), width);
    assert_eq!(names[0], "column_1");
    assert_eq!(names[1], "f1");
    assert_eq!(names[width / 2], format!("f{}", width / 2));
    assert_eq!(names[width - 1], "f1_2");
    assert_eq!(column_text(&table, "column_1"), ["0", "40000", "80000"]);
    assert_eq!(column_text(&table, "f20000"), ["20000", "60000", "100000"]);
    assert_eq!(column_text(&table, "f1_2"), ["39999", "79999", "119999"]);
    let exceptions = job["parseExceptions"].as_array().unwrap();
    let renamed: Vec<&str> = exceptions
        .iter()
        .map(|e| e["column"].as_str().unwrap())
        .collect();
    assert_eq!(renamed, ["column_1", "f1_2"], "{exceptions:?}");
}
