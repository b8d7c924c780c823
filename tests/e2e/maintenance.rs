//! Table hygiene on both faces: small objects committed one by one, compacted into one file
//! (read back in place by the `deltalake` Python package), vacuumed down to the files the
//! table names; refused where it would be unsafe or unauthorised.

use std::path::Path;

use crate::server::{Server, call, key};
use crate::support::*;

fn parquet_files(table: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(table)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".parquet"))
        .collect();
    names.sort();
    names
}

/// The table's ids and data files as delta-rs's Python reader sees them.
fn read_with_deltalake(table: &Path) -> (Vec<i64>, usize) {
    let out = deltalake(
        "t = DeltaTable(sys.argv[1])\n\
         ids = sorted(t.to_pyarrow_table().column('id').to_pylist())\n\
         print(json.dumps([ids, len(t.file_uris())]))",
        table,
        &[],
    );
    serde_json::from_str(&out).unwrap()
}

#[test]
fn small_files_are_compacted_and_vacuumed_on_both_faces() {
    let env = Env::new();
    for i in 0..40 {
        env.write(&format!("in/{i:02}.csv"), format!("id,v\n{i},x\n"));
    }
    let wf = simple_workflow("t", "in", "parser-csv", "", "") + EACH_OBJECT_COMMITTED;
    let wf = env.write("wf.toml", wf);
    let (code, job) = env.json(&["run", wf.to_str().unwrap()]);
    assert_eq!(code, 0, "{job}");
    let table = env.home().join("tables/t");
    let (_, shown) = env.json(&["tables", "show", "t"]);
    assert_eq!(
        (shown["files"].as_u64(), shown["version"].as_u64()),
        (Some(40), Some(39))
    );
    // What an object that failed after staging leaves behind: a file no commit names.
    let first = parquet_files(&table).remove(0);
    std::fs::copy(
        table.join(&first),
        table.join("part-00000-orphan-c000.snappy.parquet"),
    )
    .unwrap();

    let (code, report) = env.json(&["tables", "compact", "t"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["filesRemoved"], 40, "{report}");
    assert_eq!(report["filesAdded"], 1, "{report}");
    assert_eq!(report["rows"], 40, "{report}");
    assert_eq!(report["version"], 40, "{report}");
    let (ids, files) = read_with_deltalake(&table);
    assert_eq!((ids, files), ((0..40).collect(), 1));
    // The old files stay for readers of older versions until a vacuum.
    assert_eq!(parquet_files(&table).len(), 42);

    // The table's week of retention: everything is younger, nothing goes.
    let (code, kept) = env.json(&["tables", "vacuum", "t"]);
    assert_eq!(code, 0, "{kept}");
    assert_eq!(kept["filesDeleted"].as_array().unwrap().len(), 0, "{kept}");
    let (_, dry) = env.json(&["tables", "vacuum", "t", "--retain", "0s", "--dry-run"]);
    assert_eq!(dry["filesDeleted"].as_array().unwrap().len(), 41, "{dry}");
    assert_eq!(parquet_files(&table).len(), 42, "a dry run deletes nothing");
    let (code, done) = env.json(&["tables", "vacuum", "t", "--retain", "0s"]);
    assert_eq!(code, 0, "{done}");
    let deleted = done["filesDeleted"].as_array().unwrap();
    assert_eq!(deleted.len(), 41, "{done}");
    assert!(
        deleted
            .iter()
            .any(|f| f.as_str().unwrap().contains("orphan")),
        "{done}"
    );
    assert!(!table.join("part-00000-orphan-c000.snappy.parquet").exists());
    let left = parquet_files(&table);
    assert_eq!(left.len(), 1);
    let (ids, files) = read_with_deltalake(&table);
    assert_eq!((ids.len(), files), (40, 1));

    // Over HTTP, with the permission that manages ingestion.
    for i in 40..45 {
        env.write(&format!("in/{i:02}.csv"), format!("id,v\n{i},x\n"));
    }
    let (code, _) = env.json(&["run", wf.to_str().unwrap()]);
    assert_eq!(code, 0);
    let manager = key(&env, "ops", "ManageIngestionJobs");
    let viewer = key(&env, "viewer", "ViewJobs");
    let server = Server::start(&env, &[]);
    let url = |path: &str| format!("{}{path}", server.url);
    let (code, _) = call("POST", &url("/v1/tables/t/compact"), Some(&viewer), None);
    assert_eq!(code, 403);
    let (code, body) = call("POST", &url("/v1/tables/t/compact"), Some(&manager), None);
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        (body["filesRemoved"].as_u64(), body["filesAdded"].as_u64()),
        (Some(6), Some(1))
    );
    let (code, body) = call(
        "POST",
        &url("/v1/tables/t/vacuum"),
        Some(&manager),
        Some(br#"{"retain": "0s", "dryRun": false}"#.to_vec()),
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["filesDeleted"].as_array().unwrap().len(), 6, "{body}");
    let (ids, files) = read_with_deltalake(&table);
    assert_eq!((ids, files), ((0..45).collect(), 1));

    let (code, body) = call(
        "POST",
        &url("/v1/tables/nope/compact"),
        Some(&manager),
        None,
    );
    assert_eq!(code, 404, "{body}");
    let (code, body) = call(
        "POST",
        &url("/v1/tables/t/vacuum"),
        Some(&manager),
        Some(br#"{"retain": "soon"}"#.to_vec()),
    );
    assert_eq!(code, 400, "{body}");
    let out = env.ferry(&["tables", "compact", "nope"]);
    assert_eq!(out.status.code(), Some(66), "{}", stderr(&out));
}

#[test]
fn vacuum_waits_for_a_job_writing_to_the_table() {
    let env = Env::new();
    for i in 0..6 {
        env.write(&format!("in/{i}.bin"), vec![b'x'; 10 + i]);
    }
    let wf = simple_workflow("t", "in", "test-misbehave", "mode = \"slow\", ms = 700", "")
        + EACH_OBJECT_COMMITTED;
    let wf = env.write("wf.toml", wf);
    let mut child = env
        .command(&["run", wf.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for_passed_files(&env, 1);
    let out = env.ferry(&["tables", "vacuum", "t", "--retain", "0s"]);
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is being written by job"),
        "{}",
        stderr(&out)
    );
    // Compaction may run meanwhile: the job's later commits and the compaction both land.
    let (code, report) = env.json(&["tables", "compact", "t"]);
    assert_eq!(code, 0, "{report}");
    assert!(child.wait().unwrap().success());
    let out = deltalake(
        "print(DeltaTable(sys.argv[1]).to_pyarrow_table().num_rows)",
        &env.home().join("tables/t"),
        &[],
    );
    let rows: usize = out.trim().parse().unwrap();
    assert_eq!(rows, 6, "every object's row once, compaction or not");
    let (code, _) = env.json(&["tables", "vacuum", "t", "--retain", "0s"]);
    assert_eq!(code, 0, "free once the job ended");
}
