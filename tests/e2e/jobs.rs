//! Job records through the CLI: listing with paging and filters, files, JSON keys.

use crate::support::*;

fn csv_workflow(env: &Env, table: &str, files: &[(&str, &str)]) -> String {
    for (name, content) in files {
        env.write(&format!("in-{table}/{name}"), content);
    }
    // Not incremental: every run reads the files again, so the runs' outcomes repeat.
    let wf = simple_workflow(
        table,
        &format!("in-{table}"),
        "parser-csv",
        "",
        "incremental = false",
    );
    env.write(&format!("{table}.toml"), wf)
        .to_str()
        .unwrap()
        .to_owned()
}

#[test]
fn jobs_list_pages_newest_first_and_filters_by_status_and_time() {
    let env = Env::new();
    let good = csv_workflow(&env, "good", &[("a.csv", "x,y\n1,2\n3,4\n")]);
    let empty = csv_workflow(&env, "empty", &[("a.csv", "")]);
    let mut ids = Vec::new();
    for wf in [&good, &empty, &good, &empty, &good] {
        let (_, job) = env.json(&["run", wf]);
        ids.push(job["id"].as_str().unwrap().to_owned());
    }
    ids.reverse();

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut args = vec!["jobs", "list", "--limit", "2"];
        if let Some(c) = &cursor {
            args.extend(["--cursor", c.as_str()]);
        }
        let (code, page) = env.json(&args);
        assert_eq!(code, 0);
        pages += 1;
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|j| j["id"].as_str().unwrap().to_owned()),
        );
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ids);

    let (_, page) = env.json(&["jobs", "list", "--status", "NO_ROWS_INGESTED"]);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let (_, page) = env.json(&[
        "jobs",
        "list",
        "--status",
        "success",
        "--status",
        "no_rows_ingested",
    ]);
    assert_eq!(page["items"].as_array().unwrap().len(), 5);
    let (_, page) = env.json(&["jobs", "list", "--since", "2999-01-01T00:00:00Z"]);
    assert!(page["items"].as_array().unwrap().is_empty());
    let (_, page) = env.json(&["jobs", "list", "--until", "2999-01-01T00:00:00+02:00"]);
    assert_eq!(page["items"].as_array().unwrap().len(), 5);

    let bad = env.ferry(&["jobs", "list", "--since", "yesterday"]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("RFC3339"), "{}", stderr(&bad));
}

#[test]
fn job_show_and_files_report_per_file_status_and_counts() {
    let env = Env::new();
    let wf = csv_workflow(
        &env,
        "mixed",
        &[("a.csv", "id,n\n1,10\n2,20\n"), ("b.csv", "id,n\n3,30\n")],
    );
    let (code, job) = env.json(&["run", &wf]);
    assert_eq!(code, 0);
    let id = job["id"].as_str().unwrap();
    assert_eq!(job["executionStatus"], "SUCCESS");
    assert_eq!(job["desiredExecutionStatus"], "RUNNING");
    for key in ["createdAt", "updatedAt", "startedAt", "finishedAt"] {
        assert!(
            job[key].as_str().unwrap().ends_with('Z'),
            "{key}: {}",
            job[key]
        );
    }

    let (code, shown) = env.json(&["jobs", "show", id]);
    assert_eq!(code, 0);
    assert_eq!(shown["metrics"]["numRowsPersisted"], 3);

    let (_, files) = env.json(&["jobs", "files", id]);
    let files = files["items"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["name"], "a.csv");
    assert_eq!(files[0]["status"], "passed");
    assert_eq!(files[0]["metrics"]["numRowsPersisted"], 2);
    assert_eq!(files[1]["metrics"]["numRowsPersisted"], 1);
    let (_, failed) = env.json(&["jobs", "files", id, "--status", "failed"]);
    assert!(failed["items"].as_array().unwrap().is_empty());

    let human = env.ferry(&["jobs", "show", id]);
    assert!(stdout(&human).contains("SUCCESS"), "{}", stdout(&human));

    let missing = env.ferry(&["jobs", "show", "00000000-0000-0000-0000-000000000000"]);
    assert_eq!(missing.status.code(), Some(66));

    // Canceling a finished job is refused: terminal states never change.
    let cancel = env.ferry(&["jobs", "cancel", id]);
    assert!(!cancel.status.success());
    assert!(stderr(&cancel).contains("final"), "{}", stderr(&cancel));
}

#[test]
fn canceling_a_running_job_stops_it_and_keeps_committed_files() {
    let env = Env::new();
    for i in 0..6 {
        env.write(&format!("in/{i:02}.bin"), vec![b'x'; 10 + i]);
    }
    // Each object takes a second in the parser: long enough to cancel mid-job.
    let wf = simple_workflow(
        "t",
        "in",
        "test-misbehave",
        "mode = \"slow\", ms = 1000",
        "",
    );
    let wf = env.write("wf.toml", wf + EACH_OBJECT_COMMITTED);
    let child = env
        .command(&["run", wf.to_str().unwrap(), "--json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();

    let id = wait_for_passed_files(&env, 1);
    let (code, asked) = env.json(&["jobs", "cancel", &id]);
    assert_eq!(code, 0, "{asked}");
    assert_eq!(asked["desiredExecutionStatus"], "CANCELED");

    // The runner observes the desired status, interrupts the plugin and ends the job.
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let job: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(job["executionStatus"], "CANCELED", "{job}");
    let passed = job["files"]["passed"].as_u64().unwrap();
    assert!((1..6).contains(&passed), "{job}");
    assert_eq!(job["files"]["skipped"].as_u64().unwrap(), 6 - passed);
    assert_eq!(
        row_count(&env.table("t")) as u64,
        passed,
        "committed files stay committed"
    );
}
