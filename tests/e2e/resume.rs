//! A job killed mid-way resumes at its first file not passed, and no row is stored twice.

use std::time::{Duration, Instant};

use crate::support::*;

#[test]
fn a_killed_job_resumes_without_losing_or_duplicating_rows() {
    let env = Env::new();
    // Eight objects of distinct sizes; the slow parser turns each into one row holding its size.
    let sizes: Vec<usize> = (1..=8).map(|i| i * 11).collect();
    for (i, size) in sizes.iter().enumerate() {
        env.write(&format!("in/{i:02}.bin"), vec![b'x'; *size]);
    }
    let wf = simple_workflow("t", "in", "test-misbehave", "mode = \"slow\", ms = 400", "");
    let wf = env.write("wf.toml", wf);
    let mut child = env
        .command(&["run", wf.to_str().unwrap(), "--json"])
        .spawn()
        .unwrap();

    // Wait until some files are committed, then kill -9 in the middle of the job.
    let deadline = Instant::now() + Duration::from_secs(60);
    let id = loop {
        assert!(Instant::now() < deadline, "job never got going");
        std::thread::sleep(Duration::from_millis(100));
        let (_, page) = env.json(&["jobs", "list"]);
        if let Some(job) = page["items"].as_array().unwrap().first()
            && job["files"]["passed"].as_u64().unwrap() >= 2
        {
            break job["id"].as_str().unwrap().to_owned();
        }
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let (_, job) = env.json(&["jobs", "show", &id]);
    assert_eq!(
        job["executionStatus"], "RUNNING",
        "a killed job is left resumable"
    );
    let committed = row_count(&env.table("t"));
    assert!(
        (2..8).contains(&committed),
        "killed mid-way, {committed} rows in"
    );

    let (code, job) = env.json(&["jobs", "resume", &id]);
    assert_eq!(code, 0, "{job}");
    assert_eq!(job["executionStatus"], "SUCCESS", "{job}");
    assert_eq!(job["files"]["passed"], 8);
    assert_eq!(job["metrics"]["numRowsPersisted"], 8);
    let mut stored: Vec<usize> = column_text(&env.table("t"), "n")
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
    stored.sort();
    assert_eq!(stored, sizes, "every object exactly once");

    // Terminal now: resuming again is refused.
    let again = env.ferry(&["jobs", "resume", &id]);
    assert!(!again.status.success());
}
