//! Data correctness from the field report: the incremental ledger keyed by the source's
//! identity and the target table, reimports that replace an object's rows, a storage outage
//! that fails the job instead of passing as success, exit codes for partial failures, and
//! exclusive job ownership under concurrent starts.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::peers::{ACCESS_KEY, Peer, SECRET_KEY};
use crate::support::*;

fn ids(env: &Env, table: &str) -> Vec<String> {
    let mut ids = column_text(&env.table(table), "id");
    ids.sort();
    ids
}

#[test]
fn the_ledger_is_keyed_by_source_and_table_not_by_workflow_alone() {
    let env = Env::new();
    env.write("a/x.csv", "id\na1\na2\n");
    env.write("b/x.csv", "id\nb1\n");
    let wf = env.path("wf.toml");
    let write = |dir: &str, table: &str| {
        std::fs::write(&wf, simple_workflow(table, dir, "parser-csv", "", "")).unwrap();
    };
    write("a", "t");
    let (code, job) = env.json(&["run", wf.to_str().unwrap()]);
    assert_eq!(
        (code, job["files"]["passed"].as_u64()),
        (0, Some(1)),
        "{job}"
    );
    // Again: nothing new, and the health says why.
    let (code, job) = env.json(&["run", wf.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(job["executionStatus"], "NO_ROWS_INGESTED", "{job}");
    assert_eq!(job["alreadyImported"], 1, "{job}");
    let messages = job["health"]["messages"].to_string();
    assert!(
        messages.contains("1 objects already imported"),
        "{messages}"
    );
    // Same workflow, same key `x.csv`, another directory: imported, not skipped.
    write("b", "t");
    let (_, job) = env.json(&["run", wf.to_str().unwrap()]);
    assert_eq!(job["files"]["passed"], 1, "{job}");
    assert_eq!(ids(&env, "t"), ["a1", "a2", "b1"]);
    // Same source, another table: imported there too.
    write("b", "t2");
    let (_, job) = env.json(&["run", wf.to_str().unwrap()]);
    assert_eq!(job["files"]["passed"], 1, "{job}");
    assert_eq!(ids(&env, "t2"), ["b1"]);
}

#[test]
fn a_reimport_replaces_the_objects_rows_in_one_commit() {
    let env = Env::new();
    env.write("in/a.csv", "id\nold1\nold2\n");
    env.write("in/b.csv", "id\nb1\n");
    let wf = env.write(
        "wf.toml",
        simple_workflow("t", "in", "parser-csv", "", "on_change = \"reimport\""),
    );
    let (code, _) = env.json(&["run", wf.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(ids(&env, "t"), ["b1", "old1", "old2"]);
    // A new version of a.csv (another size and time, so another ETag).
    std::thread::sleep(Duration::from_millis(1100));
    env.write("in/a.csv", "id\nnew1\nnew2\nnew3\n");
    let (code, job) = env.json(&["run", wf.to_str().unwrap()]);
    assert_eq!(code, 0, "{job}");
    assert_eq!(job["files"]["passed"], 1, "{job}");
    assert_eq!(ids(&env, "t"), ["b1", "new1", "new2", "new3"]);
    // One commit removed the old rows and added the new ones.
    let log = env.home().join("tables/t/_delta_log");
    let mut commits: Vec<_> = std::fs::read_dir(&log)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    commits.sort();
    let last = std::fs::read_to_string(commits.last().unwrap()).unwrap();
    assert!(
        last.contains("\"remove\"") && last.contains("\"add\""),
        "{last}"
    );
    // An emptied object takes its rows with it.
    std::thread::sleep(Duration::from_millis(1100));
    env.write("in/a.csv", "id\n");
    let (code, _) = env.json(&["run", wf.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(ids(&env, "t"), ["b1"]);
}

#[test]
fn a_storage_outage_fails_the_job_and_the_exit_code_says_so() {
    let env = Env::new();
    let mut peer = Peer::moto();
    let upload = env.path("upload");
    for i in 0..20 {
        env.write(&format!("upload/part-{i:02}.csv"), format!("id\n{i}\n"));
    }
    peer.put_dir("down", &upload, "");
    let wf = env.write(
        "wf.toml",
        format!(
            r#"
[credentials.s3]
type = "aws"
region = "us-east-1"

[[steps]]
name = "import"
kind = "import"
source = "source-s3"
parser = "test-misbehave"
concurrency = 1
parser_settings = {{ mode = "slow", ms = 300 }}
source_settings = {{ bucket = "down", endpoint = "{url}", retries = 2 }}
grants = {{ credentials = [{{ name = "s3", hosts = ["{url}"] }}] }}

[[steps]]
name = "ingest"
kind = "ingest"
input = "import"
table = "t"
commit = {{ max_objects = 1 }}
"#,
            url = peer.url()
        ),
    );
    let child = env
        .command(&["run", wf.to_str().unwrap(), "--json"])
        .env("FERRY_SECRET_S3_ACCESS_KEY_ID", ACCESS_KEY)
        .env("FERRY_SECRET_S3_SECRET_ACCESS_KEY", SECRET_KEY)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_passed_files(&env, 1);
    peer.kill();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let job: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(job["executionStatus"], "FAILED", "{job}");
    assert_eq!(job["failure"]["code"], "source_unreachable", "{job}");
    assert!(
        job["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("5 objects in a row"),
        "{job}"
    );
    // It stopped rather than try every object.
    assert_eq!(job["files"]["failed"], 5, "{job}");
    assert!(job["files"]["skipped"].as_u64().unwrap() >= 1, "{job}");
}

#[test]
fn a_job_with_failed_files_exits_3() {
    let env = Env::new();
    env.write("in/a.csv", "id\n1\n");
    env.write("in/b.csv.gz", "not gzip at all");
    let wf = env.write("wf.toml", simple_workflow("t", "in", "parser-csv", "", ""));
    let out = env.ferry(&["run", wf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    // The code is printed once, after the message.
    let text = stdout(&out);
    let failed = text.lines().find(|l| l.contains("b.csv.gz")).unwrap();
    assert_eq!(failed.matches("[invalid_gzip]").count(), 1, "{failed}");
    // Run again once it is fixed: the failed object is retried and the run exits 0.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, b"id\n2\n").unwrap();
    env.write("in/b.csv.gz", gz.finish().unwrap());
    let out = env.ferry(&["run", wf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(ids(&env, "t"), ["1", "2"]);
}

#[test]
fn one_process_owns_a_job_and_first_runs_may_start_together() {
    // Two first runs on a fresh home, at once: both succeed, every row once.
    let env = Env::new();
    for d in ["a", "b"] {
        for i in 0..3 {
            env.write(&format!("{d}/{i}.csv"), format!("id\n{d}{i}\n"));
        }
    }
    let wf_a = env.write("a.toml", simple_workflow("t", "a", "parser-csv", "", ""));
    let wf_b = env.write("b.toml", simple_workflow("t", "b", "parser-csv", "", ""));
    let runs: Vec<_> = [&wf_a, &wf_b]
        .iter()
        .map(|wf| {
            env.command(&["run", wf.to_str().unwrap()])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for run in runs {
        let out = run.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_eq!(ids(&env, "t"), ["a0", "a1", "a2", "b0", "b1", "b2"]);

    // Two resumes of one job at once: one runs it, the other is told it is busy (75).
    let env = Env::new();
    for i in 0..6 {
        env.write(&format!("in/{i}.csv"), format!("id\n{i}\n"));
    }
    let wf = env.write(
        "wf.toml",
        simple_workflow(
            "t",
            "in",
            "test-misbehave",
            "mode = \"slow\", ms = 400",
            "concurrency = 1",
        ) + EACH_OBJECT_COMMITTED,
    );
    let mut first = env
        .command(&["run", wf.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let id = wait_for_passed_files(&env, 1);
    first.kill().unwrap();
    first.wait().unwrap();
    let resumes: Vec<_> = (0..2)
        .map(|_| {
            env.command(&["jobs", "resume", &id])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let codes: Vec<Option<i32>> = resumes
        .into_iter()
        .map(|r| r.wait_with_output().unwrap().status.code())
        .collect();
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(sorted, [Some(0), Some(75)], "{codes:?}");
    let (_, job) = env.json(&["jobs", "show", &id]);
    assert_eq!(job["executionStatus"], "SUCCESS", "{job}");
    assert_eq!(job["files"]["passed"], 6, "{job}");
    assert_eq!(row_count(&env.table("t")), 6);
}
