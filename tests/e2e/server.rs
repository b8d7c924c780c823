//! A real `ferry serve` process for tests, and a blocking HTTP client to call it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;

/// A running `ferry serve` on a free port, killed when dropped.
pub struct Server {
    pub child: Child,
    pub url: String,
    /// Kept open: a server writing to a closed pipe would fail.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Server {
    pub fn start(env: &Env, extra: &[&str]) -> Server {
        Server::start_on(env, "127.0.0.1:0", extra)
    }

    /// On a given address (to restart a node where its infra expects it).
    pub fn start_on(env: &Env, listen: &str, extra: &[&str]) -> Server {
        let workflows = env.path("workflows");
        // Test workflows grant directories anywhere in the scratch dir; the confinement to
        // the default roots is tested on its own.
        let scratch = env.dir.path().to_owned();
        let mut args = vec![
            "serve",
            "--listen",
            listen,
            "--workflows",
            workflows.to_str().unwrap(),
            "--grant-root",
            scratch.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        Server::spawn(env.command(&args))
    }

    /// Runs a prepared `ferry serve` command and waits for the address it prints.
    pub fn spawn(mut command: std::process::Command) -> Server {
        command.stderr(Stdio::null());
        Server::spawn_logged(command)
    }

    /// As [`Server::spawn`], with stderr wherever `command` already sends it.
    pub fn spawn_logged(mut command: std::process::Command) -> Server {
        let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("ferry serve listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        Server {
            child,
            url,
            _stdout: stdout,
        }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// One request: (status, JSON body or Null).
pub fn call(method: &str, url: &str, key: Option<&str>, body: Option<Vec<u8>>) -> (u16, Value) {
    runtime().block_on(async {
        let client = reqwest::Client::new();
        let mut req = client.request(method.parse().unwrap(), url);
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        if let Some(body) = body {
            req = req.body(body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    })
}

pub fn key(env: &Env, name: &str, permissions: &str) -> String {
    let out = env.ferry(&["keys", "create", name, "--permission", permissions]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).trim().to_owned()
}

/// Polls job `id` until `done` holds for it, and returns it.
pub fn wait_job(server: &Server, key: &str, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, job) = call(
            "GET",
            &format!("{}/v1/jobs/{id}", server.url),
            Some(key),
            None,
        );
        assert_eq!(code, 200, "{job}");
        if done(&job) {
            return job;
        }
        assert!(Instant::now() < deadline, "job stuck: {job}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether the job has stopped: anything but CREATED or RUNNING.
pub fn terminal(job: &Value) -> bool {
    !matches!(job["executionStatus"].as_str(), Some("CREATED" | "RUNNING"))
}
