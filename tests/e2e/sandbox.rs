//! The sandbox holds: a plugin that loops, panics, eats memory or reaches for a path it was
//! not granted fails its file with a clear error; the host process carries on and says why.

use std::time::{Duration, Instant};

use crate::support::*;

fn misbehave(env: &Env, mode: &str, limits: &str) -> serde_json::Value {
    env.write("in/a.txt", "some bytes");
    let wf = simple_workflow(
        "t",
        "in",
        "test-misbehave",
        &format!("mode = \"{mode}\", path = \"/etc/hostname\""),
        limits,
    );
    let wf = env.write(&format!("{mode}.toml"), wf);
    let (code, job) = env.json(&["run", wf.to_str().unwrap()]);
    assert_eq!(code, 1, "{job}");
    assert_eq!(job["executionStatus"], "FAILED", "{job}");
    let (_, files) = env.json(&["jobs", "files", job["id"].as_str().unwrap()]);
    files["items"][0]["error"].clone()
}

#[test]
fn an_endless_loop_is_stopped_at_the_time_limit() {
    let env = Env::new();
    let started = Instant::now();
    let error = misbehave(&env, "loop", "limits = { timeout = \"1s\" }");
    assert_eq!(error["code"], "plugin_timeout", "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("test-misbehave"),
        "{error}"
    );
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("time limit of 1s"),
        "{error}"
    );
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn a_panic_is_reported_with_its_message() {
    let env = Env::new();
    let error = misbehave(&env, "trap", "");
    assert_eq!(error["code"], "plugin_trap", "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("panicked"),
        "{error}"
    );
}

#[test]
fn memory_exhaustion_hits_the_step_limit() {
    let env = Env::new();
    let error = misbehave(&env, "oom", "limits = { memory = \"16MiB\" }");
    assert_eq!(error["code"], "plugin_out_of_memory", "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("16MiB"),
        "{error}"
    );
}

#[test]
fn a_parser_cannot_open_files() {
    let env = Env::new();
    let error = misbehave(&env, "open", "");
    assert_eq!(error["code"], "open_failed", "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("/etc/hostname"),
        "{error}"
    );
}

#[test]
fn a_source_sees_only_its_granted_directory() {
    let env = Env::new();
    env.write("in/a.csv", "x\n1\n");
    env.write("secret/key.csv", "x\n2\n");
    // The plugin is pointed at a directory it was not granted.
    let wf = simple_workflow("t", "in", "parser-csv", "", "")
        .replace("root = \"/in\"", "root = \"/secret\"");
    let wf = env.write("wf.toml", wf);
    let (code, job) = env.json(&["run", wf.to_str().unwrap()]);
    assert_eq!(code, 1, "{job}");
    assert_eq!(job["failure"]["code"], "not_found", "{job}");
    assert!(
        job["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("/secret"),
        "{job}"
    );
    assert!(!env.home().join("tables/t/_delta_log").exists());
}
