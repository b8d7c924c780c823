//! The command line as the field report found it: `--json` on every command with camelCase
//! keys, a quiet exit when the reader of stdout goes away, aligned listings, positions that
//! point at the bad value, non-UTF-8 files called what they are, and an examples directory
//! whose every file validates and serves.

use std::process::Stdio;

use serde_json::Value;

use crate::server::*;
use crate::support::*;

/// The example secrets the README says to export, dummy values (nothing is contacted).
fn with_example_secrets(mut cmd: std::process::Command) -> std::process::Command {
    cmd.env("FERRY_SECRET_S3_ACCESS_KEY_ID", "AKIAEXAMPLE")
        .env("FERRY_SECRET_S3_SECRET_ACCESS_KEY", "example-secret")
        .env("FERRY_SECRET_NODE_ADMIN_TOKEN", "fry_000000000000_example")
        .env("FERRY_SECRET_AWS_ACCESS_KEY_ID", "test")
        .env("FERRY_SECRET_AWS_SECRET_ACCESS_KEY", "test")
        .env("FERRY_SECRET_GCP_ACCESS_TOKEN", "emulator");
    cmd
}

#[test]
fn every_command_takes_json_and_infras_read_in_camel_case() {
    let env = Env::new();
    let repo = repo();
    let out = env.ferry(&[
        "run",
        repo.join("workflows/churn-service.toml").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.ferry(&[
        "infras",
        "apply",
        repo.join("workflows/infras.toml").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (code, infra) = env.json(&["infras", "show", "local-nodes"]);
    assert_eq!(code, 0);
    let spec = &infra["spec"];
    assert!(spec.get("declaredCredentials").is_some(), "{infra}");
    assert!(spec.get("declared_credentials").is_none(), "{infra}");
    assert!(infra.get("createdAt").is_some(), "{infra}");
    let (code, created) = env.json(&[
        "deployments",
        "create",
        "churn-local",
        "--service",
        "churn",
        "--infra",
        "local-nodes",
        "--version",
        "v1",
        "--disabled",
    ]);
    assert_eq!(code, 0, "{created}");
    assert_eq!(created["id"], "churn-local");
    for args in [
        vec!["deployments", "show", "churn-local"],
        vec!["deployments", "operations", "churn-local"],
        vec!["deployments", "list"],
        vec!["packages", "show", "churn", "v1"],
        vec!["packages", "list"],
        vec!["infras", "list"],
        vec!["keys", "list"],
        vec!["jobs", "list"],
    ] {
        let (code, value) = env.json(&args);
        assert_eq!(code, 0, "{args:?}: {value}");
        assert!(
            !value.to_string().contains("\"created_at\""),
            "{args:?}: {value}"
        );
    }
    let (code, value) = env.json(&[
        "validate",
        repo.join("workflows/predictions.toml").to_str().unwrap(),
    ]);
    assert_eq!((code, &value["valid"]), (0, &Value::Bool(true)), "{value}");
}

#[test]
fn a_closed_stdout_ends_ferry_quietly() {
    let env = Env::new();
    env.write("in/a.csv", "id\n1\n");
    let wf = env.write("wf.toml", simple_workflow("t", "in", "parser-csv", "", ""));
    assert!(env.ferry(&["run", wf.to_str().unwrap()]).status.success());
    // `ferry jobs list | head -0`: the reader is gone before ferry writes.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = env
        .command(&["jobs", "list"])
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(out.status.code(), Some(101), "{err}");
}

#[test]
fn listings_line_up() {
    let env = Env::new();
    env.write("in/a.csv", "id\n1\n");
    let wf = env.write("wf.toml", simple_workflow("t", "in", "parser-csv", "", ""));
    for _ in 0..2 {
        env.ferry(&["run", wf.to_str().unwrap()]);
    }
    let out = stdout(&env.ferry(&["jobs", "list"]));
    let lines: Vec<&str> = out.lines().collect();
    let header = lines[0];
    for column in ["HEALTH", "CREATED", "WORKFLOW"] {
        let at = header.find(column).unwrap();
        for row in &lines[1..3] {
            assert_ne!(row.as_bytes()[at], b' ', "{column} misaligned:\n{out}");
            assert_eq!(row.as_bytes()[at - 1], b' ', "{column} misaligned:\n{out}");
        }
    }
}

#[test]
fn problems_point_at_the_value_and_name_the_encoding() {
    let env = Env::new();
    env.write("in/a.csv", "id\n1\n");
    let text = simple_workflow("t", "in", "parser-csv", "", "glob = 5");
    let line = text.lines().position(|l| l == "glob = 5").unwrap() + 1;
    let wf = env.write("wf.toml", &text);
    let out = env.ferry(&["validate", wf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(78));
    assert!(
        stderr(&out).contains(&format!("wf.toml:{line}:8:")),
        "expected line {line} column 8: {}",
        stderr(&out)
    );
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(b"# caf\xe9 in Latin-1\n");
    let wf = env.write("latin1.toml", bytes);
    for args in [vec!["validate"], vec!["run"]] {
        let mut all = args.clone();
        all.push(wf.to_str().unwrap());
        let out = env.ferry(&all);
        assert_eq!(out.status.code(), Some(78), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("not UTF-8"), "{}", stderr(&out));
    }
}

#[test]
fn every_example_validates_and_the_examples_directory_serves() {
    let env = Env::new();
    let repo = repo();
    let examples = repo.join("workflows");
    // As the README orders it: the infras first, then anything.
    let out = env.ferry(&[
        "infras",
        "apply",
        examples.join("infras.toml").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut files: Vec<_> = std::fs::read_dir(&examples)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 8);
    for file in &files {
        let out = with_example_secrets(env.command(&["validate", file.to_str().unwrap()]))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}: {}", file.display(), stderr(&out));
    }
    let admin = key(&env, "admin", "ViewJobs");
    let server = Server::spawn(with_example_secrets(env.command(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--workflows",
        examples.to_str().unwrap(),
    ])));
    let (code, listing) = call(
        "GET",
        &format!("{}/v1/workflows", server.url),
        Some(&admin),
        None,
    );
    assert_eq!(code, 200, "{listing}");
    let items = listing["items"].as_array().unwrap();
    let names: Vec<&str> = items.iter().map(|w| w["name"].as_str().unwrap()).collect();
    assert!(
        !names.contains(&"infras") && !names.contains(&"churn.service"),
        "{names:?}"
    );
    assert!(
        names.contains(&"events") && names.contains(&"logfmt"),
        "{names:?}"
    );
    for item in items {
        assert_eq!(item["valid"], true, "{item}");
    }
}

/// `ferry tables list|show` and `GET /v1/tables[/{name}]` say what a table is from its log.
#[test]
fn tables_are_listed_and_shown_on_both_faces() {
    let env = Env::new();
    let wf = repo().join("workflows/logfmt.toml");
    let (code, job) = env.json(&["run", wf.to_str().unwrap()]);
    assert_eq!(code, 0, "{job}");
    let (code, list) = env.json(&["tables", "list"]);
    assert_eq!(code, 0, "{list}");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    let t = &items[0];
    assert_eq!(t["name"], "serving_logs");
    assert_eq!(t["version"], 0);
    assert_eq!(t["rows"], 30, "from the files' statistics");
    assert!(
        t["files"].as_u64().unwrap() >= 1 && t["bytes"].as_u64().unwrap() > 0,
        "{t}"
    );
    assert_eq!(t["lastCommit"]["jobId"], job["id"], "{t}");

    let (code, shown) = env.json(&["tables", "show", "serving_logs"]);
    assert_eq!(code, 0, "{shown}");
    let latency = shown["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "latency_ms")
        .unwrap_or_else(|| panic!("{shown}"));
    assert_eq!(latency["type"], "Int64");
    let out = env.ferry(&["tables", "show", "nope"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no table `nope`"), "{}", stderr(&out));

    let viewer = key(&env, "viewer", "ViewJobs");
    let server = Server::start(&env, &[]);
    let (code, body) = call(
        "GET",
        &format!("{}/v1/tables/serving_logs", server.url),
        Some(&viewer),
        None,
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["rows"], 30);
    assert_eq!(body["lastCommit"]["jobId"], job["id"]);
    let (code, body) = call(
        "GET",
        &format!("{}/v1/tables", server.url),
        Some(&viewer),
        None,
    );
    assert_eq!(
        (code, body["items"].as_array().map(Vec::len)),
        (200, Some(1)),
        "{body}"
    );
    let (code, body) = call(
        "GET",
        &format!("{}/v1/tables/nope", server.url),
        Some(&viewer),
        None,
    );
    assert_eq!(code, 404, "{body}");
    let (code, _) = call(
        "GET",
        &format!("{}/v1/tables/serving_logs", server.url),
        None,
        None,
    );
    assert_eq!(code, 401);
}
