//! Bad input of every kind gets a clear error naming file, row and field — and never costs
//! rows already in the table.

use crate::support::*;

#[test]
fn bad_rows_are_skipped_with_their_row_line_and_field() {
    let env = Env::new();
    let wf = repo().join("workflows/bad-rows.toml");
    let (code, job) = env.json(&["run", wf.to_str().unwrap()]);
    assert_eq!(code, 0, "{job}");
    assert_eq!(job["executionStatus"], "SUCCESS_WITH_WARNING", "{job}");
    assert_eq!(job["health"]["status"], "warn");
    // 9 data rows: b-001 and b-009 are clean, and b-008 (a quoted label spanning two lines) too.
    assert_eq!(job["metrics"]["numRowsProcessed"], 9, "{job}");
    assert_eq!(job["metrics"]["numRowsPersisted"], 4, "{job}");
    let exceptions = job["parseExceptions"].as_array().unwrap();
    let find = |code: &str| {
        exceptions
            .iter()
            .find(|e| e["code"] == code)
            .unwrap_or_else(|| panic!("no {code} in {exceptions:#?}"))
    };
    let ragged = find("ragged_row");
    assert_eq!(ragged["row"], 2);
    assert_eq!(ragged["file"], "2024-08-21.csv");
    let quote = find("bad_quote");
    assert_eq!(quote["row"], 3);
    let utf8 = find("invalid_utf8");
    assert_eq!(utf8["row"], 6);
    assert_eq!(utf8["column"], "predicted_label");
    let missing = find("missing_required");
    assert_eq!(missing["row"], 5);
    assert_eq!(missing["column"], "prediction_id");
    let ts = find("invalid_timestamp");
    assert_eq!(ts["row"], 7);
    // A non-numeric optional score is stored as null with a warning, not dropped.
    let warn = find("invalid_value");
    assert_eq!(warn["severity"], "warning");
    assert_eq!(warn["row"], 4);
    assert_eq!(job["metrics"]["numRowsProcessedWithWarning"], 1);

    let table = env.table("bad_rows");
    let mut ids = column_text(&table, "prediction_id");
    ids.sort();
    assert_eq!(ids, ["b-001", "b-004", "b-008", "b-009"]);
    let labels = column_text(&table, "prediction_label");
    assert!(labels.contains(&"multi\nline label".to_owned()));
}

#[test]
fn exceeding_max_parse_exceptions_fails_the_job_and_keeps_earlier_files() {
    let env = Env::new();
    env.write("in/a.csv", "id,n\n1,10\n2,20\n");
    env.write("in/b.csv", "id,n\n3,30\n4\n5\n6\n");
    let wf = simple_workflow("t", "in", "parser-csv", "", "")
        .replace("table = \"t\"", "table = \"t\"\nmax_parse_exceptions = 2");
    let wf = env.write("wf.toml", wf);
    let (code, job) = env.json(&["run", wf.to_str().unwrap()]);
    assert_eq!(code, 1, "{job}");
    assert_eq!(job["executionStatus"], "FAILED");
    assert_eq!(job["failure"]["code"], "max_parse_exceptions");
    assert!(
        job["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("max_parse_exceptions = 2")
    );
    // a.csv was committed before b.csv went over the limit; b.csv added nothing.
    assert_eq!(column_text(&env.table("t"), "id"), ["1", "2"]);
}

#[test]
fn a_failed_object_never_touches_rows_already_stored() {
    let env = Env::new();
    env.write("in/a.csv", "id,n\n1,10\n2,20\n");
    let wf = env.write("wf.toml", simple_workflow("t", "in", "parser-csv", "", ""));
    let wf = wf.to_str().unwrap();
    assert_eq!(env.json(&["run", wf]).0, 0);

    // Now a truncated .gz, an unterminated quote and an empty file next to a fresh good file.
    let mut gz = Vec::new();
    {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(&mut gz, flate2::Compression::default());
        enc.write_all(b"id,n\n7,70\n8,80\n").unwrap();
        enc.finish().unwrap();
    }
    std::fs::remove_file(env.path("in/a.csv")).unwrap();
    env.write("in/cut.csv.gz", &gz[..gz.len() - 6]);
    env.write("in/quote.csv", "id,n\n9,\"90\n");
    env.write("in/empty.csv", "");
    env.write("in/z.csv", "id,n\n3,30\n");
    let (code, job) = env.json(&["run", wf]);
    // Some objects failed: exit 3 (the job itself succeeded).
    assert_eq!(code, 3, "{job}");
    assert_eq!(job["executionStatus"], "SUCCESS_WITH_WARNING", "{job}");
    let (_, files) = env.json(&["jobs", "files", job["id"].as_str().unwrap()]);
    let files = files["items"].as_array().unwrap();
    let by_name = |n: &str| files.iter().find(|f| f["name"] == n).unwrap().clone();
    let cut = by_name("cut.csv.gz");
    assert_eq!(cut["status"], "failed");
    assert_eq!(cut["error"]["code"], "truncated_gzip");
    assert!(
        cut["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cut.csv.gz")
    );
    let quote = by_name("quote.csv");
    assert_eq!(quote["status"], "failed");
    assert_eq!(quote["error"]["code"], "unterminated_quote");
    assert!(
        quote["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 2"),
        "{quote}"
    );
    assert_eq!(by_name("empty.csv")["status"], "passed");
    assert_eq!(by_name("empty.csv")["metrics"]["numRowsPersisted"], 0);
    let mut ids = column_text(&env.table("t"), "id");
    ids.sort();
    assert_eq!(ids, ["1", "2", "3"]);
}

#[test]
fn validate_rejects_broken_workflows_with_positions_and_exit_78() {
    let env = Env::new();
    env.write("in/a.csv", "x\n1\n");
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "malformed",
            "name = \"x\"\n[[steps]\nkind = 1\n".into(),
            "malformed.toml:2:",
        ),
        (
            "unknown-plugin",
            simple_workflow("t", "in", "parser-cvs", "", ""),
            "unknown plugin `parser-cvs`, did you mean `parser-csv`?",
        ),
        (
            "unknown-step",
            simple_workflow("t", "in", "parser-csv", "", "")
                .replace("kind = \"ingest\"", "kind = \"ingets\""),
            "unknown step kind `ingets`, did you mean `ingest`?",
        ),
        (
            "missing-dir",
            simple_workflow("t", "nowhere", "parser-csv", "", ""),
            "granted directory `nowhere` does not exist",
        ),
        (
            "not-component",
            format!(
                "[plugins]\nmine = \"core.wat\"\n{}",
                simple_workflow("t", "in", "mine", "", "")
            ),
            "is a core WebAssembly module, not a component",
        ),
        (
            "other-version",
            format!(
                "[plugins]\nmine = \"v2.wat\"\n{}",
                simple_workflow("t", "in", "mine", "", "")
            ),
            "was built for ferry:plugin/parser@0.3.0",
        ),
    ];
    env.write("core.wat", "(module)");
    env.write(
        "v2.wat",
        r#"(component (instance $i) (export "ferry:plugin/parser@0.3.0" (instance $i)))"#,
    );
    for (name, text, expected) in cases {
        let path = env.write(&format!("{name}.toml"), text);
        let out = env.ferry(&["validate", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(78), "{name}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(expected),
            "{name}: expected `{expected}` in:\n{}",
            stderr(&out)
        );
        // Every problem names the file and a line.
        assert!(
            stderr(&out).contains(&format!("{name}.toml:")),
            "{name}: {}",
            stderr(&out)
        );
        // `run` refuses the same way, writing nothing.
        let run = env.ferry(&["run", path.to_str().unwrap()]);
        assert_eq!(run.status.code(), Some(78), "{name}");
    }
    let none = env.ferry(&["validate", env.path("absent.toml").to_str().unwrap()]);
    assert_eq!(none.status.code(), Some(66));
}

#[test]
fn a_failed_replace_job_leaves_the_table_as_it_was() {
    let env = Env::new();
    env.write("in/a.csv", "id,n\n1,10\n2,20\n");
    let wf = simple_workflow("t", "in", "parser-csv", "", "").replace(
        "table = \"t\"",
        "table = \"t\"\nmode = \"replace\"\nmax_parse_exceptions = 1",
    );
    let wf = env.write("wf.toml", wf);
    let wf = wf.to_str().unwrap();
    assert_eq!(env.json(&["run", wf]).0, 0);

    // a.csv is read and staged, then b.csv goes over the limit: nothing may be replaced.
    env.write("in/a.csv", "id,n\n3,30\n");
    env.write("in/b.csv", "id,n\n4\n5\n");
    let (code, job) = env.json(&["run", wf]);
    assert_eq!(code, 1, "{job}");
    assert_eq!(job["failure"]["code"], "max_parse_exceptions");
    assert_eq!(
        job["metrics"]["numRowsPersisted"], 0,
        "staged rows were never committed: {job}"
    );
    assert_eq!(job["files"]["skipped"], 1);
    let mut ids = column_text(&env.table("t"), "id");
    ids.sort();
    assert_eq!(ids, ["1", "2"], "the replace is all or nothing");
}
