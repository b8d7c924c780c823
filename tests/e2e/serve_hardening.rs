//! `ferry serve` under the field report's load and bad input: no panic under 200 connections,
//! a queued job canceled at once, 4xx (never 500) with the JSON error shape for every bad
//! request — names, uploads, ids, oversized heads, malformed bytes — explicit overwrites,
//! an upload that trickles, and job records without the server's absolute paths.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::server::*;
use crate::support::*;

const ADMIN: &str = "ViewJobs,ManageIngestionJobs,ManageWorkflows,ManageKeys";

/// A server whose stderr is kept in a file, to read what it logged (a panic, say).
fn logged_server(env: &Env, extra: &[&str]) -> (Server, std::path::PathBuf) {
    let log = env.path("serve.log");
    let workflows = env.path("workflows");
    let mut args = vec![
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--workflows",
        workflows.to_str().unwrap(),
        "--grant-root",
        env.dir.path().to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let mut command = env.command(&args);
    command.stderr(Stdio::from(std::fs::File::create(&log).unwrap()));
    (Server::spawn_logged(command), log)
}

/// Sends raw bytes and returns the raw answer (the server closes after a parse error).
fn raw(url: &str, bytes: &[u8]) -> (u16, Value) {
    let addr = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(bytes).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status: u16 = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[test]
fn two_hundred_connections_and_no_panic() {
    let env = Env::new();
    for i in 0..3 {
        env.write(&format!("data/{i}.csv"), format!("id\n{i}\n"));
    }
    let admin = key(&env, "admin", ADMIN);
    let (server, log) = logged_server(&env, &["--max-concurrent-jobs", "2"]);
    let wf = simple_workflow("t", "../data", "parser-csv", "", "incremental = false");
    let (code, body) = call(
        "PUT",
        &format!("{}/v1/workflows/w", server.url),
        Some(&admin),
        Some(wf.into_bytes()),
    );
    assert_eq!(code, 201, "{body}");
    let (code, job) = call(
        "POST",
        &format!("{}/v1/workflows/w/jobs", server.url),
        Some(&admin),
        None,
    );
    assert_eq!(code, 201, "{job}");
    let id = job["id"].as_str().unwrap().to_owned();
    let url = server.url.clone();
    let statuses = runtime().block_on(async move {
        let client = reqwest::Client::new();
        let mut tasks = tokio::task::JoinSet::new();
        for c in 0..200 {
            let (client, url, id, admin) = (client.clone(), url.clone(), id.clone(), admin.clone());
            tasks.spawn(async move {
                let mut codes = Vec::new();
                for r in 0..10 {
                    let request = if (c + r) % 10 == 0 {
                        client.post(format!("{url}/v1/workflows/w/jobs"))
                    } else if (c + r) % 3 == 0 {
                        client.get(format!("{url}/v1/jobs?limit=5"))
                    } else {
                        client.get(format!("{url}/v1/jobs/{id}"))
                    };
                    let answer = request.bearer_auth(&admin).send().await;
                    codes.push(answer.map(|a| a.status().as_u16()).unwrap_or(0));
                }
                codes
            });
        }
        let mut all = Vec::new();
        while let Some(codes) = tasks.join_next().await {
            all.extend(codes.unwrap());
        }
        all
    });
    assert_eq!(statuses.len(), 2000);
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 201),
        "{:?}",
        statuses
            .iter()
            .filter(|s| **s != 200 && **s != 201)
            .take(10)
            .collect::<Vec<_>>()
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(!logged.contains("panicked"), "{logged}");
}

#[test]
fn a_queued_job_is_canceled_at_once() {
    let env = Env::new();
    for i in 0..5 {
        env.write(&format!("slow/{i}.csv"), format!("id\n{i}\n"));
    }
    let admin = key(&env, "admin", ADMIN);
    let server = Server::start(&env, &["--max-concurrent-jobs", "1"]);
    let wf = simple_workflow(
        "t",
        "../slow",
        "test-misbehave",
        "mode = \"slow\", ms = 2000",
        "incremental = false\nconcurrency = 1",
    );
    call(
        "PUT",
        &format!("{}/v1/workflows/w", server.url),
        Some(&admin),
        Some(wf.into_bytes()),
    );
    let trigger = format!("{}/v1/workflows/w/jobs", server.url);
    let (_, running) = call("POST", &trigger, Some(&admin), None);
    let (_, queued) = call("POST", &trigger, Some(&admin), None);
    let queued = queued["id"].as_str().unwrap().to_owned();
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let (code, body) = call(
        "PUT",
        &format!("{}/v1/jobs/{queued}", server.url),
        Some(&admin),
        Some(br#"{"desiredExecutionStatus":"canceled"}"#.to_vec()),
    );
    assert_eq!(code, 200, "{body}");
    loop {
        let (_, job) = call(
            "GET",
            &format!("{}/v1/jobs/{queued}", server.url),
            Some(&admin),
            None,
        );
        if job["executionStatus"] == "CANCELED" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "still {job} after a second"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The job ahead was left alone.
    let (_, ahead) = call(
        "GET",
        &format!("{}/v1/jobs/{}", server.url, running["id"].as_str().unwrap()),
        Some(&admin),
        None,
    );
    assert_eq!(ahead["executionStatus"], "RUNNING", "{ahead}");
}

#[test]
fn bad_names_and_uploads_get_400_and_leave_nothing() {
    let env = Env::new();
    let admin = key(&env, "admin", ADMIN);
    let server = Server::start(&env, &[]);
    let long = "w".repeat(300);
    let (code, body) = call(
        "PUT",
        &format!("{}/v1/workflows/{long}", server.url),
        Some(&admin),
        Some(b"x".to_vec()),
    );
    assert_eq!(code, 400, "{body}");
    assert_eq!(body["error"]["code"], "invalid_name", "{body}");
    let component = "c".repeat(300);
    for name in [
        "a%00b.csv".to_owned(),
        format!("in/{component}.csv"),
        "in/".to_owned(),
        "x//a.csv".to_owned(),
        "x/./a.csv".to_owned(),
        "../a.csv".to_owned(),
    ] {
        let (code, body) = call(
            "POST",
            &format!("{}/v1/uploads?name={name}", server.url),
            Some(&admin),
            Some(b"id\n1\n".to_vec()),
        );
        assert_eq!(code, 400, "{name}: {body}");
        assert!(body["error"]["message"].is_string(), "{body}");
    }
    // Overwrites are explicit.
    let upload = |name: &str, body: &[u8]| {
        call(
            "POST",
            &format!("{}/v1/uploads?name={name}", server.url),
            Some(&admin),
            Some(body.to_vec()),
        )
    };
    assert_eq!(upload("x/a.csv", b"first").0, 201);
    let (code, body) = upload("x/a.csv", b"second");
    assert_eq!(code, 409, "{body}");
    assert_eq!(
        std::fs::read(env.home().join("uploads/x/a.csv")).unwrap(),
        b"first"
    );
    assert_eq!(upload("x/a.csv&overwrite=true", b"second").0, 201);
    assert_eq!(
        std::fs::read(env.home().join("uploads/x/a.csv")).unwrap(),
        b"second"
    );
    // A file where a directory must be.
    let (code, body) = upload("x/a.csv/b.csv", b"z");
    assert_eq!(code, 409, "{body}");
    // Too large: 413, and no temporary file left anywhere.
    let big = vec![b'x'; 2 << 20];
    let config = env.write("small.toml", "max_upload = \"1MiB\"\n");
    drop(server);
    let server = Server::start(&env, &["--config", config.to_str().unwrap()]);
    let (code, body) = call(
        "POST",
        &format!("{}/v1/uploads?name=big.csv", server.url),
        Some(&admin),
        Some(big),
    );
    assert_eq!(code, 413, "{body}");
    assert!(!env.home().join("uploads/big.csv").exists());
    let leftovers: Vec<_> = walk(&env.home().join("uploads"))
        .into_iter()
        .chain(walk(&env.home().join("tmp")))
        .filter(|p| !p.ends_with("x/a.csv"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn every_error_is_json_and_authentication_comes_first() {
    let env = Env::new();
    let admin = key(&env, "admin", ADMIN);
    let server = Server::start(&env, &[]);
    // No key, malformed job id: 401, not a 404 that tells what exists.
    let (code, body) = call(
        "GET",
        &format!("{}/v1/jobs/not-a-uuid", server.url),
        None,
        None,
    );
    assert_eq!(code, 401, "{body}");
    let (code, body) = call(
        "GET",
        &format!("{}/v1/jobs/not-a-uuid", server.url),
        Some(&admin),
        None,
    );
    assert_eq!(code, 404, "{body}");
    let (code, body) = call(
        "DELETE",
        &format!("{}/v1/keys/nobody", server.url),
        Some(&admin),
        None,
    );
    assert_eq!(code, 404, "{body}");
    // Answers hyper gives before any handler, rewritten into the JSON error shape.
    let long_uri = format!("GET /v1/{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000));
    let (code, body) = raw(&server.url, long_uri.as_bytes());
    assert_eq!(code, 414, "{body}");
    assert_eq!(body["error"]["code"], "uri_too_long");
    let big_head = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "b".repeat(1 << 20)
    );
    let (code, body) = raw(&server.url, big_head.as_bytes());
    assert_eq!(code, 431, "{body}");
    assert_eq!(body["error"]["code"], "headers_too_large");
    let (code, body) = raw(&server.url, b"\x16\x03\x01 not http at all\r\n\r\n");
    assert_eq!(code, 400, "{body}");
    assert_eq!(body["error"]["code"], "malformed_request");
}

#[test]
fn an_upload_that_trickles_is_cut_off() {
    let env = Env::new();
    let admin = key(&env, "admin", ADMIN);
    let config = env.write("slow.toml", "body_timeout = \"1s\"\n");
    let server = Server::start(&env, &["--config", config.to_str().unwrap()]);
    let addr = server.url.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "POST /v1/uploads?name=slow.csv HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin}\r\nContent-Length: 100000\r\n\r\n"
    )
    .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    // One byte every 200 ms: 5 bytes a second, far below 1 KiB per second.
    let mut reader = stream.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        for _ in 0..100 {
            if stream.write_all(b"x").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let _ = reader.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(!env.home().join("uploads/slow.csv").exists());
    drop(writer);
}

#[test]
fn job_records_over_http_name_no_server_paths() {
    let env = Env::new();
    env.write("data/a.csv", "id\n1\n");
    let admin = key(&env, "admin", ADMIN);
    let server = Server::start(&env, &[]);
    let wf = simple_workflow("t", "../data", "parser-csv", "", "");
    call(
        "PUT",
        &format!("{}/v1/workflows/paths", server.url),
        Some(&admin),
        Some(wf.into_bytes()),
    );
    let (code, job) = call(
        "POST",
        &format!("{}/v1/workflows/paths/jobs", server.url),
        Some(&admin),
        None,
    );
    assert_eq!(code, 201, "{job}");
    let id = job["id"].as_str().unwrap();
    let (_, job) = call(
        "GET",
        &format!("{}/v1/jobs/{id}", server.url),
        Some(&admin),
        None,
    );
    assert_eq!(job["workflowPath"], "paths.toml", "{job}");
    assert_eq!(job["tablePath"], "tables/t", "{job}");
    let (_, page) = call(
        "GET",
        &format!("{}/v1/jobs", server.url),
        Some(&admin),
        None,
    );
    let scratch = env.dir.path().to_str().unwrap().to_owned();
    assert!(!page.to_string().contains(&scratch), "{page}");
}
