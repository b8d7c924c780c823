//! S3 and GCS sources against real peers: listing across pages and prefixes, ranges, SigV4
//! checked by a server that verifies it, refused hosts, incremental runs, `--watch`, and the
//! failures a network brings (a deleted object, a server that dies mid-job).

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::peers::{ACCESS_KEY, Peer, SECRET_KEY};
use crate::support::*;

/// Writes `count` small CSV objects under `root/<prefix>`: object `i` has rows `i*10 + 0..3`.
fn csv_objects(root: &Path, count: usize, name: impl Fn(usize) -> String) -> u64 {
    let mut rows = 0;
    for i in 0..count {
        let path = root.join(name(i));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut text = String::from("id,label\n");
        for k in 0..3 {
            text.push_str(&format!("{},obj{i}\n", i * 10 + k));
            rows += 1;
        }
        std::fs::write(path, text).unwrap();
    }
    rows
}

/// An S3 import workflow; `grants` is the step's grants table body.
fn s3_workflow(
    env: &Env,
    table: &str,
    settings: &str,
    import: &str,
    grants: &str,
    parser: &str,
) -> String {
    let text = format!(
        r#"
name = "{table}"

[credentials.s3]
type = "aws"
region = "us-east-1"

[[steps]]
name = "import"
kind = "import"
source = "source-s3"
parser = "{parser}"
source_settings = {{ {settings} }}
grants = {{ {grants} }}
{import}

[[steps]]
name = "ingest"
kind = "ingest"
input = "import"
table = "{table}"
"#
    );
    env.write(&format!("{table}.toml"), text)
        .to_str()
        .unwrap()
        .to_owned()
}

fn signed(peer: &Peer) -> String {
    format!(
        r#"credentials = [{{ name = "s3", hosts = ["{}"] }}]"#,
        peer.url()
    )
}

/// A `ferry` command with the S3 keys in the environment, as a user would export them.
fn keyed(env: &Env, args: &[&str], secret: &str) -> std::process::Command {
    let mut cmd = env.command(args);
    cmd.env("FERRY_SECRET_S3_ACCESS_KEY_ID", ACCESS_KEY)
        .env("FERRY_SECRET_S3_SECRET_ACCESS_KEY", secret);
    cmd
}

fn with_keys(env: &Env, args: &[&str], secret: &str) -> std::process::Output {
    keyed(env, args, secret).output().unwrap()
}

/// `ferry run --json` in the background, its JSON read from the piped stdout at the end.
fn spawn_run(env: &Env, wf: &str) -> std::process::Child {
    keyed(env, &["run", wf, "--json"], SECRET_KEY)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn json_of(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON ({e}); exit {:?}\nstdout: {}\nstderr: {}",
            out.status.code(),
            stdout(out),
            stderr(out)
        )
    })
}

fn ids(batches: &[arrow::array::RecordBatch]) -> Vec<i64> {
    let mut ids: Vec<i64> = column_text(batches, "id")
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    ids.sort();
    ids
}

#[test]
fn s3_pages_nested_prefixes_and_incremental_runs() {
    let env = Env::new();
    let peer = Peer::moto();
    let upload = env.path("upload");
    // 200 objects over four day-folders, plus objects outside the prefix.
    let rows = csv_objects(&upload, 200, |i| {
        format!("data/2026/11/{:02}/part-{i:03}.csv", i % 4 + 1)
    });
    csv_objects(&upload, 5, |i| format!("other/part-{i}.csv"));
    peer.put_dir("preds", &upload, "");

    let settings = format!(
        r#"bucket = "preds", endpoint = "{}", page_size = 64"#,
        peer.url()
    );
    let wf = s3_workflow(
        &env,
        "s3_pages",
        &settings,
        r#"prefix = "data/2026/""#,
        &signed(&peer),
        "parser-csv",
    );
    let out = with_keys(&env, &["run", &wf, "--json"], SECRET_KEY);
    let job = json_of(&out);
    assert_eq!(out.status.code(), Some(0), "{job}\n{}", stderr(&out));
    assert_eq!(job["files"]["total"], 200, "{job}");
    assert_eq!(job["files"]["passed"], 200, "{job}");
    let table = env.table("s3_pages");
    assert_eq!(row_count(&table) as u64, rows);
    let expected: Vec<i64> = (0..200)
        .flat_map(|i| (0..3).map(move |k| i * 10 + k))
        .collect();
    assert_eq!(ids(&table), expected);

    // A second run finds nothing new.
    let out = with_keys(&env, &["run", &wf, "--json"], SECRET_KEY);
    let second = json_of(&out);
    assert_eq!(out.status.code(), Some(0), "{second}");
    assert_eq!(second["files"]["total"], 0, "{second}");

    // One new object, and one changed object: only the new one is imported (on_change = skip).
    let more = env.path("more");
    csv_objects(&more, 1, |_| "data/2026/11/05/new.csv".into());
    std::fs::create_dir_all(more.join("data/2026/11/01")).unwrap();
    std::fs::write(
        more.join("data/2026/11/01/part-000.csv"),
        "id,label\n999,changed\n",
    )
    .unwrap();
    peer.put_dir("preds", &more, "");
    let out = with_keys(&env, &["run", &wf, "--json"], SECRET_KEY);
    let third = json_of(&out);
    assert_eq!(third["files"]["total"], 1, "{third}");
    let (_, files) = env.json(&["jobs", "files", third["id"].as_str().unwrap()]);
    assert_eq!(
        files["items"][0]["name"], "data/2026/11/05/new.csv",
        "{files}"
    );
    assert_eq!(row_count(&env.table("s3_pages")) as u64, rows + 3);

    // With on_change = "reimport", the changed object comes in again.
    let text = std::fs::read_to_string(&wf).unwrap().replace(
        r#"prefix = "data/2026/""#,
        "prefix = \"data/2026/\"\non_change = \"reimport\"",
    );
    std::fs::write(&wf, text).unwrap();
    let out = with_keys(&env, &["run", &wf, "--json"], SECRET_KEY);
    let fourth = json_of(&out);
    assert_eq!(fourth["files"]["total"], 1, "{fourth}");
    assert!(ids(&env.table("s3_pages")).contains(&999));
}

#[test]
fn s3s_fs_verifies_the_hosts_signature_and_a_50mb_object_is_read_in_ranges() {
    let env = Env::new();
    let peer = Peer::s3s_fs();
    let upload = env.path("upload");
    std::fs::create_dir_all(upload.join("big")).unwrap();
    let mut file =
        std::io::BufWriter::new(std::fs::File::create(upload.join("big/large.csv")).unwrap());
    writeln!(file, "id,label,score").unwrap();
    let mut n: i64 = 0;
    let mut size = 0usize;
    while size < 50 << 20 {
        let line = format!(
            "{n},label-{:08},{}.{:03}\n",
            n % 100_000_000,
            n % 977,
            n % 1000
        );
        size += line.len();
        file.write_all(line.as_bytes()).unwrap();
        n += 1;
    }
    drop(file);
    csv_objects(&upload, 1, |_| "big/small.csv".into());
    peer.put_dir("signed", &upload, "");

    let settings = format!(r#"bucket = "signed", endpoint = "{}""#, peer.url());
    let wf = s3_workflow(&env, "s3_big", &settings, "", &signed(&peer), "parser-csv");
    let out = with_keys(&env, &["run", &wf, "--json"], SECRET_KEY);
    let job = json_of(&out);
    assert_eq!(out.status.code(), Some(0), "{job}\n{}", stderr(&out));
    assert_eq!(job["files"]["passed"], 2, "{job}");
    assert_eq!(row_count(&env.table("s3_big")) as i64, n + 3);

    // A wrong secret: s3s-fs refuses the signature, and the user is told so — without the secret.
    let wrong = "wrong-secret-value-123";
    let env2 = Env::new();
    let wf = s3_workflow(
        &env2,
        "s3_wrong",
        &settings,
        "",
        &signed(&peer),
        "parser-csv",
    );
    let out = with_keys(&env2, &["run", &wf, "--json"], wrong);
    let job = json_of(&out);
    assert_eq!(out.status.code(), Some(1), "{job}");
    let message = job["failure"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("403") && message.contains("SignatureDoesNotMatch"),
        "{job}"
    );
    let shown = format!("{}{}{}", stdout(&out), stderr(&out), job);
    let (_, listed) = env2.json(&["jobs", "show", job["id"].as_str().unwrap()]);
    for text in [shown, listed.to_string()] {
        assert!(
            !text.contains(wrong) && !text.contains(SECRET_KEY),
            "{text}"
        );
    }

    // No secret at all: `ferry validate` says which one and where to put it.
    let out = env2.ferry(&["validate", &wf]);
    assert_eq!(out.status.code(), Some(78), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("FERRY_SECRET_S3_SECRET_ACCESS_KEY")
            || stderr(&out).contains("FERRY_SECRET_S3_ACCESS_KEY_ID"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_host_the_step_does_not_grant_is_refused_by_name() {
    let env = Env::new();
    // No `endpoint` setting: the plugin goes to the bucket's AWS host, which the step does not
    // grant (an `endpoint` setting outside the grants is refused before the run, by
    // `ferry validate`'s checks). The sandbox refuses the request before any connection.
    let wf = s3_workflow(
        &env,
        "s3_denied",
        r#"bucket = "closed", region = "us-east-1""#,
        "",
        r#"credentials = [{ name = "s3", hosts = ["http://127.0.0.1:1"] }]"#,
        "parser-csv",
    );
    let out = with_keys(&env, &["run", &wf, "--json"], SECRET_KEY);
    let job = json_of(&out);
    assert_eq!(out.status.code(), Some(1), "{job}");
    let message = job["failure"]["message"].as_str().unwrap();
    assert!(
        message.contains("https://closed.s3.us-east-1.amazonaws.com:443")
            && message.contains("step `import`")
            && job["failure"]["code"] == "host_denied",
        "{job}"
    );
}

#[test]
fn an_object_deleted_after_listing_fails_alone() {
    let env = Env::new();
    let peer = Peer::moto();
    let upload = env.path("upload");
    csv_objects(&upload, 8, |i| format!("part-{i}.csv"));
    peer.put_dir("gone", &upload, "");
    let settings = format!(r#"bucket = "gone", endpoint = "{}""#, peer.url());
    // One download at a time, behind a parser that takes 700 ms per object: the last object
    // is listed long before anything reads it (the delete goes through boto3, which takes
    // a second to start).
    let wf = s3_workflow(
        &env,
        "s3_gone",
        &settings,
        "concurrency = 1\nparser_settings = { mode = \"slow\", ms = 700 }",
        &signed(&peer),
        "test-misbehave",
    );
    commit_each_object(&wf);
    let child = spawn_run(&env, &wf);
    wait_for_passed_files(&env, 1);
    peer.delete("gone", "part-7.csv");
    let out = child.wait_with_output().unwrap();
    let job = json_of(&out);
    assert_eq!(job["files"]["passed"], 7, "{job}");
    assert_eq!(job["files"]["failed"], 1, "{job}");
    let (_, files) = env.json(&[
        "jobs",
        "files",
        job["id"].as_str().unwrap(),
        "--status",
        "failed",
    ]);
    let failed = &files["items"][0];
    assert_eq!(failed["name"], "part-7.csv");
    assert_eq!(failed["error"]["code"], "NoSuchKey", "{failed}");
    assert!(
        failed["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not exist"),
        "{failed}"
    );
}

#[test]
fn a_server_that_dies_mid_job_fails_the_remaining_files_after_retries() {
    let env = Env::new();
    let mut peer = Peer::moto();
    let upload = env.path("upload");
    csv_objects(&upload, 6, |i| format!("part-{i}.csv"));
    peer.put_dir("dying", &upload, "");
    let settings = format!(
        r#"bucket = "dying", endpoint = "{}", retries = 3"#,
        peer.url()
    );
    let wf = s3_workflow(
        &env,
        "s3_dying",
        &settings,
        "concurrency = 1\nparser_settings = { mode = \"slow\", ms = 300 }",
        &signed(&peer),
        "test-misbehave",
    );
    commit_each_object(&wf);
    let started = Instant::now();
    let child = spawn_run(&env, &wf);
    wait_for_passed_files(&env, 1);
    peer.kill();
    let out = child.wait_with_output().unwrap();
    let job = json_of(&out);
    let passed = job["files"]["passed"].as_u64().unwrap();
    assert!((1..6).contains(&passed), "{job}");
    assert_eq!(
        job["files"]["failed"].as_u64().unwrap(),
        6 - passed,
        "{job}"
    );
    let (_, files) = env.json(&[
        "jobs",
        "files",
        job["id"].as_str().unwrap(),
        "--status",
        "failed",
    ]);
    let first = &files["items"][0];
    assert_eq!(first["error"]["code"], "unreachable", "{files}");
    assert!(
        first["error"]["message"]
            .as_str()
            .unwrap()
            .contains("after 3 attempts"),
        "{first}"
    );
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn watch_starts_a_job_when_a_new_object_appears() {
    let env = Env::new();
    let peer = Peer::moto();
    let upload = env.path("upload");
    csv_objects(&upload, 2, |i| format!("in/part-{i}.csv"));
    peer.put_dir("watched", &upload, "");
    let settings = format!(r#"bucket = "watched", endpoint = "{}""#, peer.url());
    let wf = s3_workflow(
        &env,
        "s3_watch",
        &settings,
        r#"prefix = "in/""#,
        &signed(&peer),
        "parser-csv",
    );
    let mut child = keyed(&env, &["run", &wf, "--watch", "1s"], SECRET_KEY)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for_passed_files(&env, 2);

    let more = env.path("more");
    csv_objects(&more, 1, |_| "in/late.csv".into());
    peer.put_dir("watched", &more, "");
    let deadline = Instant::now() + Duration::from_secs(30);
    let newest = loop {
        assert!(
            Instant::now() < deadline,
            "--watch never imported the new object"
        );
        std::thread::sleep(Duration::from_millis(200));
        let (_, page) = env.json(&["jobs", "list"]);
        let items = page["items"].as_array().unwrap().clone();
        if items.len() == 2 && items[0]["files"]["passed"] == 1 {
            break items[0]["id"].as_str().unwrap().to_owned();
        }
    };
    let (_, files) = env.json(&["jobs", "files", &newest]);
    assert_eq!(files["items"][0]["name"], "in/late.csv");
    // Nothing new: no third job in the next polls.
    std::thread::sleep(Duration::from_millis(2500));
    let (_, page) = env.json(&["jobs", "list"]);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    unsafe_terminate(&mut child);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "--watch exits cleanly on SIGTERM");
    assert_eq!(row_count(&env.table("s3_watch")), 9);
}

/// SIGTERM, as a service manager stops a watcher.
fn unsafe_terminate(child: &mut std::process::Child) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn gcs_pages_ranges_and_incremental_runs() {
    let env = Env::new();
    let peer = Peer::gcs();
    let upload = env.path("upload");
    let rows = csv_objects(&upload, 120, |i| {
        format!("logs/2026/{:02}/part-{i:03}.csv", i % 3 + 1)
    });
    csv_objects(&upload, 3, |i| format!("elsewhere/part-{i}.csv"));
    // One object larger than a read chunk, so it is read in several ranges.
    let mut big = String::from("id,label\n");
    let mut n = 0;
    while big.len() < 9 << 20 {
        big.push_str(&format!("{},big-row-{n:012}\n", 100_000 + n));
        n += 1;
    }
    std::fs::write(upload.join("logs/big.csv"), &big).unwrap();
    peer.put_dir("events", &upload, "");

    let text = format!(
        r#"
name = "gcs_pages"

[[steps]]
name = "import"
kind = "import"
source = "source-gcs"
parser = "parser-csv"
prefix = "logs/"
source_settings = {{ bucket = "events", endpoint = "{url}", page_size = 50 }}
grants.hosts = ["{url}"]

[[steps]]
name = "ingest"
kind = "ingest"
input = "import"
table = "gcs_pages"
"#,
        url = peer.url()
    );
    let wf = env.write("gcs.toml", text);
    let wf = wf.to_str().unwrap();
    let (code, job) = env.json(&["run", wf]);
    assert_eq!(code, 0, "{job}");
    assert_eq!(job["files"]["passed"], 121, "{job}");
    let table = env.table("gcs_pages");
    assert_eq!(row_count(&table) as u64, rows + n as u64);
    let got = ids(&table);
    assert_eq!(got.first(), Some(&0));
    assert_eq!(got.last(), Some(&(100_000 + n as i64 - 1)));

    let (code, second) = env.json(&["run", wf]);
    assert_eq!(code, 0);
    assert_eq!(second["files"]["total"], 0, "{second}");
}

#[test]
fn the_example_remote_workflows_run_against_the_peers() {
    let env = Env::new();
    let s3 = Peer::moto();
    s3.put_dir(
        "ml-predictions",
        &repo().join("workflows/data/predictions"),
        "daily/",
    );
    let wf = std::fs::read_to_string(repo().join("workflows/s3-predictions.toml"))
        .unwrap()
        .replace("127.0.0.1:9000", &format!("127.0.0.1:{}", s3.port));
    let wf = env.write("s3-predictions.toml", wf);
    let out = with_keys(&env, &["run", wf.to_str().unwrap(), "--json"], SECRET_KEY);
    let job = json_of(&out);
    assert_eq!(out.status.code(), Some(0), "{job}\n{}", stderr(&out));
    assert_eq!(job["files"]["passed"], 2, "{job}");
    assert_eq!(row_count(&env.table("s3_predictions")), 100);

    let gcs = Peer::gcs();
    gcs.put_dir("ml-events", &repo().join("workflows/data/events"), "logs/");
    let wf = std::fs::read_to_string(repo().join("workflows/gcs-events.toml"))
        .unwrap()
        .replace("127.0.0.1:4443", &format!("127.0.0.1:{}", gcs.port));
    let wf = env.write("gcs-events.toml", wf);
    let (code, job) = env.json(&["run", wf.to_str().unwrap()]);
    assert_eq!(code, 0, "{job}");
    assert_eq!(job["files"]["passed"], 1, "{job}");
    assert!(row_count(&env.table("gcs_events")) > 0);
}

#[test]
fn canceling_a_job_stops_its_downloads() {
    let env = Env::new();
    let peer = Peer::moto();
    let upload = env.path("upload");
    std::fs::create_dir_all(&upload).unwrap();
    let mut text = String::from("id,label\n");
    while text.len() < 24 << 20 {
        text.push_str("1,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n");
    }
    std::fs::write(upload.join("big.csv"), &text).unwrap();
    peer.put_dir("cancel", &upload, "");
    let settings = format!(r#"bucket = "cancel", endpoint = "{}""#, peer.url());
    // 24 pushes of 1 MiB at 400 ms each: about ten seconds of work, canceled after one.
    let wf = s3_workflow(
        &env,
        "s3_cancel",
        &settings,
        "parser_settings = { mode = \"slow\", ms = 400 }",
        &signed(&peer),
        "test-misbehave",
    );
    let child = spawn_run(&env, &wf);
    let deadline = Instant::now() + Duration::from_secs(30);
    let id = loop {
        assert!(Instant::now() < deadline, "the job never started reading");
        std::thread::sleep(Duration::from_millis(100));
        let (_, page) = env.json(&["jobs", "list"]);
        if let Some(job) = page["items"].as_array().unwrap().first()
            && job["files"]["running"] == 1
        {
            break job["id"].as_str().unwrap().to_owned();
        }
    };
    std::thread::sleep(Duration::from_millis(800));
    let asked = Instant::now();
    let (code, _) = env.json(&["jobs", "cancel", &id]);
    assert_eq!(code, 0);
    let out = child.wait_with_output().unwrap();
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "took {:?}",
        asked.elapsed()
    );
    let job = json_of(&out);
    assert_eq!(job["executionStatus"], "CANCELED", "{job}");
    assert_eq!(job["files"]["passed"], 0, "{job}");
}
