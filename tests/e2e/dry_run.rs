//! `--dry-run`: the real path on one file, nothing written.

use crate::support::*;

#[test]
fn dry_run_validates_one_file_and_writes_nothing() {
    let env = Env::new();
    let wf = repo().join("workflows/predictions.toml");
    let wf = wf.to_str().unwrap();
    let (code, result) = env.json(&["run", wf, "--dry-run", "--file", "2024-08-20.csv"]);
    assert_eq!(code, 0, "{result}");
    assert_eq!(result["validationResult"]["validationStatus"], "passed");
    assert_eq!(result["validationResult"]["filePath"], "2024-08-20.csv");
    // Nothing was persisted: the count says what a run would persist.
    assert_eq!(result["metrics"]["wouldPersist"], 50);
    assert!(result["metrics"].get("numRowsPersisted").is_none());
    let rows = result["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 20);
    assert_eq!(rows[0]["prediction_id"], "p-20-000");
    assert!(
        !env.home().join("tables/predictions").exists(),
        "a dry run writes no table"
    );
    let (_, jobs) = env.json(&["jobs", "list"]);
    assert!(
        jobs["items"].as_array().unwrap().is_empty(),
        "a dry run records no job"
    );

    // Without --file, the first object in listing order.
    let (_, first) = env.json(&["run", wf, "--dry-run"]);
    assert_eq!(first["validationResult"]["filePath"], "2024-08-19.csv");

    let missing = env.ferry(&["run", wf, "--dry-run", "--file", "nope.csv"]);
    assert_eq!(missing.status.code(), Some(66));
}

#[test]
fn dry_run_of_a_bad_file_reports_the_error_and_row() {
    let env = Env::new();
    env.write("in/q.csv", "id,n\n1,2\n3,\"4\n");
    let wf = env.write("wf.toml", simple_workflow("t", "in", "parser-csv", "", ""));
    let (code, result) = env.json(&["run", wf.to_str().unwrap(), "--dry-run"]);
    assert_eq!(code, 65, "{result}");
    assert_eq!(result["validationResult"]["validationStatus"], "failed");
    assert_eq!(
        result["validationResult"]["error"]["code"],
        "unterminated_quote"
    );
    assert_eq!(result["validationResult"]["error"]["row"], 2);
}
