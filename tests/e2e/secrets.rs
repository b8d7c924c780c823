//! The secret store and project variables through both faces, against a real S3 peer that
//! checks signatures: credentials signed with stored secrets only (nothing in the
//! environment), `${day}` filled from a project variable and overridden per run or trigger,
//! and the secret's value absent from every file of the home, every listing and every error.

use std::io::Write;
use std::process::Stdio;

use serde_json::{Value, json};

use crate::peers::{ACCESS_KEY, Peer, SECRET_KEY};
use crate::server::*;
use crate::support::*;

/// Two days of objects in bucket `preds`: day 1 holds ids 1..=2, day 2 ids 3..=5.
fn two_days(env: &Env, peer: &Peer) {
    env.write("upload/2026-11-01/a.csv", "id,label\n1,x\n2,y\n");
    env.write("upload/2026-11-02/a.csv", "id,label\n3,x\n4,y\n");
    env.write("upload/2026-11-02/b.csv", "id,label\n5,z\n");
    peer.put_dir("preds", &env.path("upload"), "");
}

/// An S3 import of `${day}/`, signed with credential `s3`.
fn day_workflow(peer: &Peer, table: &str) -> String {
    format!(
        r#"
name = "{table}"

[credentials.s3]
type = "aws"
region = "us-east-1"

[[steps]]
name = "import"
kind = "import"
source = "source-s3"
parser = "parser-csv"
source_settings = {{ bucket = "preds", endpoint = "{url}" }}
prefix = "${{day}}/"
incremental = false
grants = {{ credentials = [{{ name = "s3", hosts = ["{url}"] }}] }}

[[steps]]
name = "ingest"
kind = "ingest"
input = "import"
table = "{table}"
mode = "replace"
"#,
        url = peer.url()
    )
}

/// `ferry secrets set CREDENTIAL FIELD` with `value` on stdin, no secret in the environment.
fn set_secret(env: &Env, credential: &str, field: &str, value: &str) -> std::process::Output {
    let mut child = env
        .command(&["secrets", "set", credential, field])
        .env_remove("FERRY_MASTER_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{value}").unwrap();
    child.wait_with_output().unwrap()
}

fn ids(env: &Env, table: &str) -> Vec<i64> {
    let mut ids: Vec<i64> = column_text(&env.table(table), "id")
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    ids.sort();
    ids
}

/// Every file under `dir` (the job store, its WAL, tables, the key file), as bytes.
fn files_holding(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p)
                .unwrap()
                .windows(needle.len())
                .any(|w| w == needle)
            {
                found.push(p.display().to_string());
            }
        }
    }
    found
}

#[test]
fn stored_secrets_sign_requests_and_variables_fill_workflows_from_the_cli() {
    let env = Env::new();
    let peer = Peer::s3s_fs();
    two_days(&env, &peer);
    let wf = env.write("days.toml", day_workflow(&peer, "days"));
    let wf = wf.to_str().unwrap();

    // Without the secrets, the check names where they may come from.
    let out = env.ferry(&["run", wf, "--var", "day=2026-11-01"]);
    assert_eq!(out.status.code(), Some(78), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("ferry secrets set s3 access_key_id"),
        "{}",
        stderr(&out)
    );

    for (field, value) in [
        ("access_key_id", ACCESS_KEY),
        ("secret_access_key", SECRET_KEY),
    ] {
        let out = set_secret(&env, "s3", field, value);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stdout(&out).trim(), format!("secret s3.{field} stored"));
    }
    let again = set_secret(&env, "s3", "secret_access_key", SECRET_KEY);
    assert!(stdout(&again).contains("replaced"), "{}", stdout(&again));
    let bad = set_secret(&env, "s3", "secret_key", "x");
    assert_eq!(bad.status.code(), Some(65));
    assert!(
        stderr(&bad).contains("secret_access_key"),
        "{}",
        stderr(&bad)
    );
    let bad = set_secret(&env, "../s3", "token", "x");
    assert_eq!(bad.status.code(), Some(65), "{}", stderr(&bad));

    let (code, listed) = env.json(&["secrets", "list"]);
    assert_eq!(code, 0);
    let names: Vec<String> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}.{}",
                e["credential"].as_str().unwrap(),
                e["field"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(names, ["s3.access_key_id", "s3.secret_access_key"]);
    assert!(!listed.to_string().contains(SECRET_KEY));

    // A project variable fills ${day}; a run's --var overrides it.
    let out = env.ferry(&["variables", "set", "day", "2026-11-02"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (code, job) = env.json(&["run", wf]);
    assert_eq!(code, 0, "{job}");
    assert_eq!(ids(&env, "days"), [3, 4, 5]);
    let (code, job) = env.json(&["run", wf, "--var", "day=2026-11-01"]);
    assert_eq!(code, 0, "{job}");
    assert_eq!(ids(&env, "days"), [1, 2]);
    let out = env.ferry(&["run", wf, "--var", "dya=2026-11-01"]);
    assert_eq!(out.status.code(), Some(78));
    assert!(stderr(&out).contains("`dya`"), "{}", stderr(&out));
    let out = env.ferry(&["variables", "set", "day", "x\"y"]);
    assert!(!out.status.success());

    // The value is nowhere in the home: not in the job store, its WAL, the job's snapshot,
    // the tables or the key file.
    let holding = files_holding(&env.home(), SECRET_KEY.as_bytes());
    assert!(holding.is_empty(), "the secret is in {holding:?}");
    let key = std::fs::read_to_string(env.home().join("master.key")).unwrap();
    assert_eq!(key.trim().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(env.home().join("master.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Under another master key the stored values do not open, and the error says so.
    let out = env
        .command(&["run", wf])
        .env("FERRY_MASTER_KEY", "00".repeat(32))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("another master key"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains(SECRET_KEY));
    // The environment comes first: a wrong key there is used (and the peer refuses it).
    let out = env
        .command(&["run", wf, "--json"])
        .env("FERRY_SECRET_S3_SECRET_ACCESS_KEY", "not-the-key")
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0), "{}", stdout(&out));

    let out = env.ferry(&["secrets", "delete", "s3", "secret_access_key"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.ferry(&["secrets", "delete", "s3", "secret_access_key"]);
    assert_eq!(out.status.code(), Some(66), "{}", stderr(&out));
    let out = env.ferry(&["run", wf]);
    assert_eq!(out.status.code(), Some(78));
    assert!(
        stderr(&out).contains("ferry secrets set s3 secret_access_key"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn secrets_and_variables_over_http() {
    let env = Env::new();
    let peer = Peer::s3s_fs();
    two_days(&env, &peer);
    let admin = key(
        &env,
        "admin",
        "ViewJobs,ManageIngestionJobs,ManageWorkflows,ManageSecrets",
    );
    let viewer = key(&env, "viewer", "ViewJobs,ManageWorkflows");
    let log = std::fs::File::create(env.path("serve.log")).unwrap();
    let mut command = env.command(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--workflows",
        env.path("workflows").to_str().unwrap(),
        "--grant-root",
        env.dir.path().to_str().unwrap(),
        "--log",
        "debug",
    ]);
    command.stderr(log);
    let server = Server::spawn_logged(command);
    let url = |path: &str| format!("{}{path}", server.url);
    let body = |v: Value| Some(serde_json::to_vec(&v).unwrap());

    let (code, put) = call(
        "PUT",
        &url("/v1/secrets/s3/access_key_id"),
        Some(&admin),
        body(json!({ "value": ACCESS_KEY })),
    );
    assert_eq!(code, 201, "{put}");
    assert_eq!((put["set"].as_bool(), put.get("value")), (Some(true), None));
    let (code, _) = call(
        "PUT",
        &url("/v1/secrets/s3/secret_access_key"),
        Some(&admin),
        body(json!({ "value": "first-wrong-value" })),
    );
    assert_eq!(code, 201);
    let (code, _) = call(
        "PUT",
        &url("/v1/secrets/s3/secret_access_key"),
        Some(&admin),
        body(json!({ "value": SECRET_KEY })),
    );
    assert_eq!(code, 200, "replacing answers 200");
    let (code, got) = call(
        "GET",
        &url("/v1/secrets/s3/secret_access_key"),
        Some(&admin),
        None,
    );
    assert_eq!((code, got["set"].as_bool()), (200, Some(true)), "{got}");
    let (code, got) = call(
        "GET",
        &url("/v1/secrets/s3/session_token"),
        Some(&admin),
        None,
    );
    assert_eq!((code, got["set"].as_bool()), (200, Some(false)), "{got}");
    let (code, listed) = call("GET", &url("/v1/secrets"), Some(&admin), None);
    assert_eq!(code, 200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 2, "{listed}");
    assert!(!listed.to_string().contains(SECRET_KEY));
    for (path, value, expected) in [
        ("/v1/secrets/s3/password", json!({ "value": "x" }), 400),
        ("/v1/secrets/s3/token", json!({ "value": "" }), 400),
        ("/v1/secrets/s3/token", json!({ "value": 7 }), 400),
        ("/v1/secrets/s3/token", json!({ "valeu": "x" }), 400),
    ] {
        let (code, err) = call("PUT", &url(path), Some(&admin), body(value));
        assert_eq!(code, expected, "{path}: {err}");
    }
    let (code, _) = call(
        "PUT",
        &url("/v1/secrets/s3/token"),
        Some(&viewer),
        body(json!({ "value": "x" })),
    );
    assert_eq!(code, 403, "ManageSecrets is needed");

    // Variables: the project's fills ${day}; a trigger's own overrides it.
    let (code, var) = call(
        "PUT",
        &url("/v1/variables/day"),
        Some(&viewer),
        body(json!({ "value": "2026-11-02" })),
    );
    assert_eq!(
        (code, var["value"].as_str()),
        (201, Some("2026-11-02")),
        "{var}"
    );
    let (code, err) = call(
        "PUT",
        &url("/v1/variables/day"),
        Some(&viewer),
        body(json!({ "value": "a\"b" })),
    );
    assert_eq!(code, 400, "{err}");
    let (code, _) = call(
        "PUT",
        &url("/v1/workflows/days"),
        Some(&admin),
        Some(day_workflow(&peer, "days").into_bytes()),
    );
    assert_eq!(code, 201);
    let trigger = |variables: Value| {
        let (code, job) = call(
            "POST",
            &url("/v1/workflows/days/jobs"),
            Some(&admin),
            body(json!({ "variables": variables })),
        );
        assert_eq!(code, 201, "{job}");
        let job = wait_job(&server, &admin, job["id"].as_str().unwrap(), terminal);
        assert_eq!(job["executionStatus"], "SUCCESS", "{job}");
    };
    trigger(json!({}));
    assert_eq!(ids(&env, "days"), [3, 4, 5]);
    trigger(json!({ "day": "2026-11-01" }));
    assert_eq!(ids(&env, "days"), [1, 2]);
    let (code, err) = call(
        "POST",
        &url("/v1/workflows/days/jobs"),
        Some(&admin),
        body(json!({ "variables": { "dya": "x" } })),
    );
    assert_eq!(
        (code, err["error"]["code"].as_str()),
        (400, Some("unknown_variable"))
    );
    let (code, gone) = call("DELETE", &url("/v1/variables/day"), Some(&viewer), None);
    assert_eq!((code, &gone["deleted"]), (200, &json!("day")));
    let (code, err) = call("POST", &url("/v1/workflows/days/jobs"), Some(&admin), None);
    assert_eq!(
        (code, err["error"]["code"].as_str()),
        (400, Some("missing_variable")),
        "{err}"
    );

    // Deleted, the secret no longer signs: the trigger is refused before a job is made.
    let (code, gone) = call(
        "DELETE",
        &url("/v1/secrets/s3/secret_access_key"),
        Some(&admin),
        None,
    );
    assert_eq!(code, 200, "{gone}");
    assert_eq!(gone["deleted"]["field"], "secret_access_key");
    let (code, _) = call(
        "DELETE",
        &url("/v1/secrets/s3/secret_access_key"),
        Some(&admin),
        None,
    );
    assert_eq!(code, 404);
    let (code, err) = call(
        "POST",
        &url("/v1/workflows/days/jobs"),
        Some(&admin),
        body(json!({ "variables": { "day": "2026-11-01" } })),
    );
    assert_eq!(code, 400, "{err}");
    assert!(err.to_string().contains("secret_access_key"), "{err}");

    drop(server);
    let log = std::fs::read_to_string(env.path("serve.log")).unwrap();
    assert!(
        log.contains("secret stored"),
        "the log shows the store was written"
    );
    assert!(!log.contains(SECRET_KEY) && !log.contains("first-wrong-value"));
    let holding = files_holding(&env.home(), SECRET_KEY.as_bytes());
    assert!(holding.is_empty(), "the secret is in {holding:?}");
}
