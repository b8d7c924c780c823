//! The field report's security items, each through a real `ferry serve` or the real binary:
//! names that would become paths outside the home, manifests that point outside their
//! package, hostile zips (declared-size bombs, symlinks, duplicate entries), grants outside
//! the server's roots, a gzip bomb, column names no reader accepts, and credentials in logs.

use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::peers::{ACCESS_KEY, Peer, SECRET_KEY};
use crate::server::*;
use crate::support::*;

/// A package zip written by hand: `manifest` gets the checksums of `files` filled in, so the
/// archive verifies and only what the manifest *says* is hostile.
pub fn crafted_package(mut manifest: Value, files: &[(&str, &[u8])]) -> Vec<u8> {
    let entries: serde_json::Map<String, Value> = files
        .iter()
        .map(|(path, bytes)| {
            (
                path.to_string(),
                json!({ "sha256": hex::encode(Sha256::digest(bytes)), "size": bytes.len() }),
            )
        })
        .collect();
    manifest["files"] = Value::Object(entries);
    let mut all: Vec<(String, Vec<u8>)> = vec![(
        "manifest.json".into(),
        serde_json::to_vec(&manifest).unwrap(),
    )];
    all.extend(files.iter().map(|(p, b)| (p.to_string(), b.to_vec())));
    raw_zip(&all)
}

fn raw_zip(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        zip.start_file(name.as_str(), options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}

fn manifest(service: &str, version: &str, endpoints: Value) -> Value {
    json!({
        "formatVersion": 1,
        "service": service,
        "version": version,
        "createdAt": "2026-12-01T00:00:00.000Z",
        "endpoints": endpoints,
        "files": {},
    })
}

fn node(env: &Env) -> (Server, String) {
    let key = key(env, "admin", "ManageDeployments,ManageWorkflows");
    (Server::start(env, &[]), key)
}

fn put_package(server: &Server, key: &str, url_service: &str, zip: Vec<u8>) -> (u16, Value) {
    call(
        "PUT",
        &format!("{}/v1/node/services/{url_service}", server.url),
        Some(key),
        Some(zip),
    )
}

#[test]
fn a_node_refuses_service_and_version_names_that_leave_its_home() {
    let env = Env::new();
    let (server, key) = node(&env);
    // What `"../../../victim"` would have overwritten: <scratch>/victim.zip, outside the home.
    let victim = env.write("victim.zip", "precious");
    for (url, service) in [
        ("%2Fsrv%2Fx", "/srv/x"),
        ("..%2F..%2F..%2Fvictim", "../../../victim"),
        ("x", ".hidden"),
    ] {
        let zip = crafted_package(manifest(service, "v1", json!([])), &[]);
        let (code, body) = put_package(&server, &key, url, zip);
        assert_eq!(code, 400, "{service}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("service id"),
            "{body}"
        );
    }
    assert!(!Path::new("/srv/x.zip").exists() && !Path::new("/srv/x").exists());
    for version in ["/srv/v", "..", "a/b/c"] {
        let zip = crafted_package(manifest("svc", version, json!([])), &[]);
        let (code, body) = put_package(&server, &key, "svc", zip);
        assert_eq!(code, 400, "{version}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("version"),
            "{body}"
        );
    }
    // DELETE names no file outside the home either.
    let (code, body) = call(
        "DELETE",
        &format!("{}/v1/node/services/..%2F..%2F..%2Fvictim", server.url),
        Some(&key),
        None,
    );
    assert_eq!(code, 400, "{body}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    // Nothing was unpacked anywhere.
    let node_dir = env.home().join("node");
    let unpacked: Vec<_> = std::fs::read_dir(&node_dir)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        unpacked.iter().all(|n| n == "active"),
        "left behind: {unpacked:?}"
    );
    // The registry applies the same rule: `ferry packages import` of the same zip fails.
    let zip = crafted_package(manifest("../../../victim", "v1", json!([])), &[]);
    let file = env.write("bad.zip", zip);
    let out = env.ferry(&["packages", "import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
}

#[test]
fn a_manifest_may_only_name_entries_of_its_own_zip() {
    let env = Env::new();
    let (server, key) = node(&env);
    let wasm = builtin_plugin("predictor-linear");
    let prediction = |predictor: &str, model_dir: &str| {
        json!([{ "type": "prediction", "name": "score", "predictor": predictor,
                  "model_dir": model_dir, "input": { "x": "float64" }, "output": { "y": "float64" } }])
    };
    for (predictor, model_dir) in [
        ("/etc/passwd", "endpoints/score/model"),
        ("../../outside.wasm", "endpoints/score/model"),
        ("plugins/p.wasm", "/etc"),
        ("plugins/p.wasm", "../../.."),
        ("plugins/missing.wasm", "endpoints/score/model"),
    ] {
        let zip = crafted_package(
            manifest("svc", "v1", prediction(predictor, model_dir)),
            &[("plugins/p.wasm", &wasm)],
        );
        let (code, body) = put_package(&server, &key, "svc", zip);
        assert_eq!(code, 400, "{predictor} {model_dir}: {body}");
        assert_eq!(body["error"]["code"], "invalid_package", "{body}");
    }
    let lookup = json!([{ "type": "lookup", "name": "rows", "table": "t", "key": "id",
                           "rows": "/etc/passwd", "columns": {} }]);
    let (code, body) = put_package(
        &server,
        &key,
        "svc",
        crafted_package(manifest("svc", "v1", lookup), &[]),
    );
    assert_eq!(code, 400, "{body}");
    // The same package naming its own entries is served.
    let zip = crafted_package(
        manifest(
            "svc",
            "v1",
            prediction("plugins/p.wasm", "endpoints/score/model"),
        ),
        &[("plugins/p.wasm", &wasm)],
    );
    let (code, body) = put_package(&server, &key, "svc", zip);
    assert_eq!(code, 200, "{body}");
}

/// A built-in plugin component, from where the build put it (beside the `ferry` binary's
/// target directory).
pub fn builtin_plugin(name: &str) -> Vec<u8> {
    let release = Path::new(env!("CARGO_BIN_EXE_ferry")).parent().unwrap();
    let path = release
        .parent()
        .unwrap()
        .join("wasm32-wasip2/release")
        .join(format!("{}.wasm", name.replace('-', "_")));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Renames an entry in a zip's bytes (local header and central directory alike), so two
/// entries end up with one name — what the zip writer itself refuses to make.
fn rename_entry(zip: &mut [u8], from: &str, to: &str) {
    assert_eq!(from.len(), to.len());
    let mut i = 0;
    while let Some(at) = find(&zip[i..], from.as_bytes()) {
        zip[i + at..i + at + to.len()].copy_from_slice(to.as_bytes());
        i += at + to.len();
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn hostile_zips_are_refused_before_they_cost_memory() {
    let env = Env::new();
    // Declares 600 MiB (more than the registry's 512 MiB) in about 600 KB.
    let zeros = vec![0u8; 600 << 20];
    let bomb = crafted_package(manifest("svc", "v1", json!([])), &[("big.bin", &zeros)]);
    drop(zeros);
    assert!(bomb.len() < 2 << 20, "{}", bomb.len());
    let file = env.write("bomb.zip", &bomb);
    let (out, peak) = run_measured(env.command(&["packages", "import", file.to_str().unwrap()]));
    assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("larger than the limit"),
        "{}",
        stderr(&out)
    );
    assert!(peak < 200 << 20, "peak RSS {} MiB", peak >> 20);

    // Two entries of one name.
    let mut twice = crafted_package(
        manifest("svc", "v1", json!([])),
        &[("a.bin", b"one"), ("b.bin", b"two")],
    );
    rename_entry(&mut twice, "b.bin", "a.bin");
    let file = env.write("twice.zip", &twice);
    let out = env.ferry(&["packages", "import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
    assert!(stderr(&out).contains("appears twice"), "{}", stderr(&out));

    // A symbolic link entry.
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default();
        let m = serde_json::to_vec(&manifest("svc", "v1", json!([]))).unwrap();
        zip.start_file("manifest.json", options).unwrap();
        zip.write_all(&m).unwrap();
        zip.add_symlink("model", "/etc", options).unwrap();
        zip.finish().unwrap();
    }
    let file = env.write("link.zip", out.into_inner());
    let out = env.ferry(&["packages", "import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
    assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
    assert!(
        env.home()
            .join("packages")
            .read_dir()
            .map_or(true, |mut d| d.next().is_none())
    );
}

/// Runs a command to its end, sampling its peak resident memory (VmHWM) as it goes.
pub fn run_measured(mut command: std::process::Command) -> (std::process::Output, u64) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let (mut o, mut e) = (Vec::new(), Vec::new());
        let t = std::thread::spawn(move || {
            err_pipe.read_to_end(&mut e).unwrap();
            e
        });
        out_pipe.read_to_end(&mut o).unwrap();
        (o, t.join().unwrap())
    });
    let mut peak = 0u64;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status_file)
            && let Some(line) = text.lines().find(|l| l.starts_with("VmHWM:"))
        {
            let kb: u64 = line
                .split_whitespace()
                .nth(1)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            peak = peak.max(kb << 10);
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let status = child.wait().unwrap();
    let (stdout, stderr) = reader.join().unwrap();
    (
        std::process::Output {
            status,
            stdout,
            stderr,
        },
        peak,
    )
}

#[test]
fn a_server_confines_grants_to_its_roots() {
    let env = Env::new();
    let admin = key(
        &env,
        "admin",
        "ViewJobs,ManageIngestionJobs,ManageWorkflows",
    );
    // Started as a user would: the default roots (the home's uploads/, the workflows dir).
    let workflows = env.path("workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    let server = Server::spawn(env.command(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--workflows",
        workflows.to_str().unwrap(),
    ]));
    std::os::unix::fs::symlink("/etc", workflows.join("etc-link")).unwrap();
    env.write("outside/a.csv", "id\n1\n");
    for grant in ["/etc", "../../../../../../etc", "etc-link", "../outside"] {
        let wf = simple_workflow("t", grant, "parser-csv", "", "");
        let (code, body) = call(
            "PUT",
            &format!("{}/v1/workflows/w", server.url),
            Some(&admin),
            Some(wf.into_bytes()),
        );
        assert_eq!(code, 400, "{grant}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("outside the directories"), "{message}");
    }
    // A workflow placed in the directory by hand is refused when triggered.
    env.write(
        "workflows/by-hand.toml",
        simple_workflow("t", "/etc", "parser-csv", "", ""),
    );
    let (code, body) = call(
        "POST",
        &format!("{}/v1/workflows/by-hand/jobs", server.url),
        Some(&admin),
        None,
    );
    assert_eq!(code, 400, "{body}");
    assert!(!env.home().join("tables/t").exists());
    // Inside the roots is fine: an upload, imported.
    let (code, body) = call(
        "POST",
        &format!("{}/v1/uploads?name=in/a.csv", server.url),
        Some(&admin),
        Some(b"id\n7\n".to_vec()),
    );
    assert_eq!(code, 201, "{body}");
    let wf = simple_workflow("t", "../home/uploads/in", "parser-csv", "", "");
    let (code, body) = call(
        "PUT",
        &format!("{}/v1/workflows/w", server.url),
        Some(&admin),
        Some(wf.into_bytes()),
    );
    assert_eq!(code, 201, "{body}");
    // The command line trusts its local user.
    let wf = env.write(
        "cli.toml",
        simple_workflow("c", "outside", "parser-csv", "", ""),
    );
    let out = env.ferry(&["run", wf.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_gzip_bomb_fails_its_file_in_bounded_memory() {
    let env = Env::new();
    // 2 GiB of zeros in about 2 MB.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let block = vec![0u8; 1 << 20];
    for _ in 0..2048 {
        gz.write_all(&block).unwrap();
    }
    env.write("in/bomb.csv.gz", gz.finish().unwrap());
    env.write("in/fine.csv", "id\n1\n2\n");
    let wf = env.write("wf.toml", simple_workflow("t", "in", "parser-csv", "", ""));
    let (out, peak) = run_measured(env.command(&["run", wf.to_str().unwrap(), "--json"]));
    let job: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(job["files"]["failed"], 1, "{job}");
    assert_eq!(job["files"]["passed"], 1, "{job}");
    let (_, files) = env.json(&[
        "jobs",
        "files",
        job["id"].as_str().unwrap(),
        "--status",
        "failed",
    ]);
    let error = &files["items"][0]["error"];
    assert_eq!(error["code"], "decompression_limit", "{files}");
    assert!(
        error["message"].as_str().unwrap().contains("bomb.csv.gz"),
        "{error}"
    );
    assert!(peak < 300 << 20, "peak RSS {} MiB", peak >> 20);
    // Nothing already stored is lost: the good file's rows are in.
    assert_eq!(row_count(&env.table("t")), 2);
    // The limits are settings.
    let wf = env.write(
        "wf2.toml",
        simple_workflow(
            "t2",
            "in",
            "parser-csv",
            "",
            "glob = \"fine.csv\"\ndecompression = { max_size = \"1KiB\" }",
        ),
    );
    let out = env.ferry(&["validate", wf.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn column_names_no_reader_accepts_are_renamed_with_a_warning() {
    let env = Env::new();
    env.write("in/a.csv", "id,a\u{0}b,monthly charges (usd)\n1,x,2.5\n");
    let wf = env.write("wf.toml", simple_workflow("t", "in", "parser-csv", "", ""));
    let (code, job) = env.json(&["run", wf.to_str().unwrap()]);
    assert_eq!(code, 0, "{job}");
    let batches = env.table("t");
    let schema = batches[0].schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["id", "a_b", "monthly_charges__usd_"]);
    let (_, shown) = env.json(&["jobs", "show", job["id"].as_str().unwrap()]);
    let warnings: Vec<&Value> = shown["parseExceptions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["code"] == "renamed_column")
        .collect();
    assert_eq!(warnings.len(), 2, "{shown}");
    assert_eq!(job["metrics"]["numRowsPersisted"], 1);
    // The table still opens for the next run (delta-rs refused a NUL in a name).
    env.write("in/b.csv", "id,a\u{0}b,monthly charges (usd)\n2,y,3.5\n");
    let (code, job) = env.json(&["run", wf.to_str().unwrap()]);
    assert_eq!(code, 0, "{job}");
    assert_eq!(row_count(&env.table("t")), 2);
}

#[test]
fn no_credential_reaches_the_log_even_at_trace_level() {
    let env = Env::new();
    let peer = Peer::moto();
    let upload = env.path("upload");
    env.write("upload/a.csv", "id\n1\n");
    peer.put_dir("logs", &upload, "");
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
parser = "parser-csv"
source_settings = {{ bucket = "logs", endpoint = "{url}" }}
grants = {{ credentials = [{{ name = "s3", hosts = ["{url}"] }}] }}

[[steps]]
name = "ingest"
kind = "ingest"
input = "import"
table = "t"
"#,
            url = peer.url()
        ),
    );
    let out = env
        .command(&["run", wf.to_str().unwrap(), "--log", "trace"])
        .env("FERRY_SECRET_S3_ACCESS_KEY_ID", ACCESS_KEY)
        .env("FERRY_SECRET_S3_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("FERRY_SECRET_S3_SESSION_TOKEN", "ferry-session-token-value")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let log = stderr(&out);
    assert!(
        log.len() > 10_000,
        "trace logging was on: {} bytes",
        log.len()
    );
    for secret in [ACCESS_KEY, SECRET_KEY, "ferry-session-token-value"] {
        assert!(!log.contains(secret), "`{secret}` is in the trace log");
    }
}
