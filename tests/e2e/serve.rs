//! `ferry serve` through a real HTTP client against a real server process: triggers, polling,
//! paging, cancel, restart, the auth matrix over every documented route, uploads and the
//! storage-event webhook, 200 concurrent triggers, and the OpenAPI document checked by a real
//! validator.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::server::*;
use crate::support::*;

const ADMIN: &str = "ViewJobs,ManageIngestionJobs,ManageWorkflows,ManageKeys,ManageDeployments";

/// A workflow over `dir` (relative to the workflows directory), not incremental so every
/// trigger reads its files again.
fn csv_workflow(dir: &str, table: &str, parser: &str, parser_settings: &str) -> String {
    simple_workflow(table, dir, parser, parser_settings, "incremental = false")
}

fn csv_files(env: &Env, dir: &str, count: usize) {
    for i in 0..count {
        env.write(
            &format!("{dir}/part-{i:02}.csv"),
            format!("id,v\n{},a\n{},b\n", i * 10, i * 10 + 1),
        );
    }
}

fn passed_at_least(n: u64) -> impl Fn(&Value) -> bool {
    move |job| job["files"]["passed"].as_u64().unwrap_or(0) >= n
}

#[test]
fn trigger_poll_page_and_bad_requests() {
    let env = Env::new();
    csv_files(&env, "data", 3);
    let admin = key(&env, "admin", ADMIN);
    let server = Server::start(&env, &[]);
    let wf = csv_workflow("../data", "served", "parser-csv", "");
    let (code, body) = call(
        "PUT",
        &format!("{}/v1/workflows/served", server.url),
        Some(&admin),
        Some(wf.into_bytes()),
    );
    assert_eq!(code, 201, "{body}");

    let trigger = format!("{}/v1/workflows/served/jobs", server.url);
    let (code, job) = call("POST", &trigger, Some(&admin), None);
    assert_eq!(code, 201, "{job}");
    let id = job["id"].as_str().unwrap().to_owned();
    let done = wait_job(&server, &admin, &id, terminal);
    assert_eq!(done["executionStatus"], "SUCCESS", "{done}");
    assert_eq!(done["metrics"]["numRowsPersisted"], 6);
    assert_eq!(row_count(&env.table("served")), 6);
    // The CLI sees the same job store.
    let (_, listed) = env.json(&["jobs", "list"]);
    assert_eq!(listed["items"][0]["id"], id.as_str());

    let (code, metrics) = call(
        "GET",
        &format!("{}/v1/jobs/{id}/metrics", server.url),
        Some(&admin),
        None,
    );
    assert_eq!(
        (code, metrics["totals"]["numRowsPersisted"].as_u64()),
        (200, Some(6))
    );
    let (code, files) = call(
        "GET",
        &format!("{}/v1/jobs/{id}/files?status=passed&limit=2", server.url),
        Some(&admin),
        None,
    );
    assert_eq!(code, 200);
    assert_eq!(files["items"].as_array().unwrap().len(), 2);
    let next = files["nextCursor"].as_str().unwrap();
    let (_, rest) = call(
        "GET",
        &format!(
            "{}/v1/jobs/{id}/files?status=passed&limit=2&cursor={next}",
            server.url
        ),
        Some(&admin),
        None,
    );
    assert_eq!(rest["items"][0]["name"], "part-02.csv");
    assert!(rest.get("nextCursor").is_none());
    let (code, logs) = call(
        "GET",
        &format!("{}/v1/jobs/{id}/logs", server.url),
        Some(&admin),
        None,
    );
    assert_eq!(code, 200, "{logs}");

    // Six more jobs, then pages of two newest first, and filters.
    let mut ids = vec![id];
    for _ in 0..6 {
        let (code, job) = call("POST", &trigger, Some(&admin), Some(b"{}".to_vec()));
        assert_eq!(code, 201);
        ids.push(job["id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        wait_job(&server, &admin, id, terminal);
    }
    let mut seen = Vec::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let url = format!(
            "{}/v1/jobs?limit=2&status=SUCCESS&workflow=served{cursor}",
            server.url
        );
        let (code, page) = call("GET", &url, Some(&admin), None);
        assert_eq!(code, 200, "{page}");
        pages += 1;
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|j| j["id"].as_str().unwrap().to_owned()),
        );
        match page["nextCursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    ids.reverse();
    assert_eq!((pages, seen), (4, ids));
    let (_, none) = call(
        "GET",
        &format!("{}/v1/jobs?status=FAILED", server.url),
        Some(&admin),
        None,
    );
    assert!(none["items"].as_array().unwrap().is_empty());
    let (_, none) = call(
        "GET",
        &format!("{}/v1/jobs?since=2999-01-01T00:00:00Z", server.url),
        Some(&admin),
        None,
    );
    assert!(none["items"].as_array().unwrap().is_empty());

    // Bad input: clear errors with the right status.
    let (code, e) = call(
        "POST",
        &trigger,
        Some(&admin),
        Some(b"{\"dryRun\": tru}".to_vec()),
    );
    assert_eq!(code, 400);
    assert_eq!(e["error"]["code"], "malformed_json");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("column"),
        "{e}"
    );
    let (code, e) = call(
        "POST",
        &trigger,
        Some(&admin),
        Some(b"{\"dryrun\": true}".to_vec()),
    );
    assert_eq!(code, 400);
    assert!(
        e["error"]["message"].as_str().unwrap().contains("dryrun"),
        "{e}"
    );
    let (code, _) = call("POST", &trigger, Some(&admin), Some(vec![b' '; 2 << 20]));
    assert_eq!(code, 413);
    let (code, e) = call(
        "GET",
        &format!("{}/v1/jobs?status=DONE", server.url),
        Some(&admin),
        None,
    );
    assert_eq!(
        (code, e["error"]["code"].as_str()),
        (400, Some("invalid_parameter"))
    );
    let (code, _) = call(
        "GET",
        &format!("{}/v1/jobs/{}", server.url, uuid::Uuid::nil()),
        Some(&admin),
        None,
    );
    assert_eq!(code, 404);
    let (code, _) = call(
        "POST",
        &format!("{}/v1/workflows/missing/jobs", server.url),
        Some(&admin),
        None,
    );
    assert_eq!(code, 404);
    let (code, e) = call(
        "PUT",
        &format!("{}/v1/workflows/broken", server.url),
        Some(&admin),
        Some(b"[[steps]]\nkind = 1\n".to_vec()),
    );
    assert_eq!(
        (code, e["error"]["code"].as_str()),
        (400, Some("invalid_workflow")),
        "{e}"
    );

    // A dry run writes nothing and creates no job.
    let (code, dry) = call(
        "POST",
        &trigger,
        Some(&admin),
        Some(br#"{"dryRun": true, "fileName": "part-01.csv"}"#.to_vec()),
    );
    assert_eq!(code, 200, "{dry}");
    let (_, all) = call(
        "GET",
        &format!("{}/v1/jobs?limit=100", server.url),
        Some(&admin),
        None,
    );
    assert_eq!(all["items"].as_array().unwrap().len(), 7);
}

#[test]
fn every_documented_route_exists_and_enforces_its_permission() {
    let env = Env::new();
    csv_files(&env, "data", 1);
    let admin = key(&env, "admin", ADMIN);
    let server = Server::start(&env, &[]);
    call(
        "PUT",
        &format!("{}/v1/workflows/w", server.url),
        Some(&admin),
        Some(csv_workflow("../data", "w", "parser-csv", "").into_bytes()),
    );
    let (_, job) = call(
        "POST",
        &format!("{}/v1/workflows/w/jobs", server.url),
        Some(&admin),
        None,
    );
    let job_id = job["id"].as_str().unwrap().to_owned();
    wait_job(&server, &admin, &job_id, terminal);

    // The document is valid OpenAPI 3.1, by a real validator.
    let (code, doc) = call(
        "GET",
        &format!("{}/v1/openapi.json", server.url),
        None,
        None,
    );
    assert_eq!(code, 200);
    let spec = env.write("openapi.json", serde_json::to_vec(&doc).unwrap());
    let out = std::process::Command::new(repo().join(".venv/bin/openapi-spec-validator"))
        .arg(&spec)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));

    let keys: Vec<(String, String)> = [
        "ViewJobs",
        "ManageIngestionJobs",
        "ManageWorkflows",
        "ManageKeys",
        "ManageDeployments",
        "ManageSecrets",
        "ManageExports",
        "ManageImports",
    ]
    .iter()
    .map(|p| (p.to_string(), key(&env, &format!("only-{p}"), p)))
    .collect();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if method == "parameters" {
                continue;
            }
            let method = method.to_uppercase();
            // Changing routes work on a scratch name, so the others still find `w`.
            let name = if path.starts_with("/v1/keys") {
                "nobody"
            } else if method == "PUT" || method == "DELETE" {
                "scratch"
            } else {
                "w"
            };
            let concrete = path
                .replace("{id}", &job_id)
                .replace("{name}", name)
                .replace("{credential}", name)
                .replace("{field}", "token")
                .replace("{service}", "churn")
                .replace("{version}", "v9");
            let url = format!("{}{concrete}", server.url);
            let Some(permission) = op["x-ferry-permission"].as_str() else {
                let (code, _) = call(&method, &url, None, None);
                assert_eq!(code, 200, "{method} {path} is open");
                checked += 1;
                continue;
            };
            let (code, _) = call(&method, &url, None, None);
            assert_eq!(code, 401, "{method} {path} without a key");
            let (code, _) = call(&method, &url, Some("fry_nope_nope"), None);
            assert_eq!(code, 401, "{method} {path} with an unknown key");
            for (p, k) in &keys {
                let (code, body) = call(&method, &url, Some(k), None);
                if p == permission {
                    let missing_ok = code == 404
                        && ((name == "scratch" && method == "DELETE")
                            || path.contains("{version}")
                            || (path == "/v1/keys/{name}" && method == "DELETE")
                            || (path.starts_with("/v1/node/") && method == "DELETE")
                            // Deployer routes on ids that do not exist: the route answered.
                            || (["/v1/deployments/", "/v1/operations/", "/v1/infras/", "/v1/variables/", "/v1/exports/", "/v1/imports/"]
                                .iter()
                                .any(|p| path.starts_with(p))
                                && !body["error"]["message"]
                                    .as_str()
                                    .unwrap_or_default()
                                    .starts_with("no route")));
                    assert!(
                        ![401, 403, 404, 405].contains(&code) || missing_ok,
                        "{method} {path} with {p}: {code} {body}"
                    );
                } else {
                    assert_eq!(code, 403, "{method} {path} with {p}: {body}");
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 26, "{checked} routes checked");

    // Basic auth with the key as user name works too; a revoked key stops working.
    let view = &keys[0].1;
    let code = runtime().block_on(async {
        reqwest::Client::new()
            .get(format!("{}/v1/jobs", server.url))
            .basic_auth(view, None::<&str>)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(code, 200);
    assert!(
        env.ferry(&["keys", "revoke", "only-ViewJobs"])
            .status
            .success()
    );
    let (code, _) = call("GET", &format!("{}/v1/jobs", server.url), Some(view), None);
    assert_eq!(code, 401);
}

/// Ten objects behind a parser that takes 400 ms per object.
fn slow_workflow(env: &Env, server: &Server, admin: &str, name: &str) {
    csv_files(env, &format!("slow-{name}"), 10);
    // Each object in its own commit: the tests watch files pass one by one.
    let wf = csv_workflow(
        &format!("../slow-{name}"),
        name,
        "test-misbehave",
        "mode = \"slow\", ms = 400",
    ) + EACH_OBJECT_COMMITTED;
    let (code, body) = call(
        "PUT",
        &format!("{}/v1/workflows/{name}", server.url),
        Some(admin),
        Some(wf.into_bytes()),
    );
    assert_eq!(code, 201, "{body}");
}

#[test]
fn cancel_over_http_stops_a_running_job_and_keeps_committed_files() {
    let env = Env::new();
    let admin = key(&env, "admin", ADMIN);
    let server = Server::start(&env, &[]);
    slow_workflow(&env, &server, &admin, "slow");
    let (_, job) = call(
        "POST",
        &format!("{}/v1/workflows/slow/jobs", server.url),
        Some(&admin),
        None,
    );
    let id = job["id"].as_str().unwrap().to_owned();
    wait_job(&server, &admin, &id, passed_at_least(1));
    let asked = Instant::now();
    let (code, body) = call(
        "PUT",
        &format!("{}/v1/jobs/{id}", server.url),
        Some(&admin),
        Some(br#"{"desiredExecutionStatus": "canceled"}"#.to_vec()),
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["desiredExecutionStatus"], "CANCELED");
    let done = wait_job(&server, &admin, &id, terminal);
    assert!(
        asked.elapsed() < Duration::from_secs(3),
        "took {:?}",
        asked.elapsed()
    );
    assert_eq!(done["executionStatus"], "CANCELED", "{done}");
    let passed = done["files"]["passed"].as_u64().unwrap();
    assert!((1..10).contains(&passed), "{done}");
    assert_eq!(
        row_count(&env.table("slow")) as u64,
        passed,
        "one row per committed object"
    );
    let (code, body) = call(
        "PUT",
        &format!("{}/v1/jobs/{id}", server.url),
        Some(&admin),
        Some(br#"{"desiredExecutionStatus": "canceled"}"#.to_vec()),
    );
    assert_eq!(code, 409, "{body}");
}

#[test]
fn a_restarted_server_resumes_its_unfinished_job_exactly_once() {
    let env = Env::new();
    let admin = key(&env, "admin", ADMIN);
    let mut server = Server::start(&env, &[]);
    slow_workflow(&env, &server, &admin, "resumed");
    let (_, job) = call(
        "POST",
        &format!("{}/v1/workflows/resumed/jobs", server.url),
        Some(&admin),
        None,
    );
    let id = job["id"].as_str().unwrap().to_owned();
    wait_job(&server, &admin, &id, passed_at_least(2));
    server.kill();
    let server = Server::start(&env, &[]);
    let done = wait_job(&server, &admin, &id, terminal);
    assert_eq!(done["executionStatus"], "SUCCESS", "{done}");
    assert_eq!(done["files"]["passed"], 10);
    // Each object has one row (the slow parser's chunk count): ten, not more.
    assert_eq!(row_count(&env.table("resumed")), 10);
}

#[test]
fn two_hundred_concurrent_triggers_are_each_recorded_once() {
    let env = Env::new();
    // An empty directory: each job lists nothing and ends NO_ROWS_INGESTED, so the test is
    // about recording and running 200 jobs, not about ingesting.
    std::fs::create_dir_all(env.path("tiny")).unwrap();
    let admin = key(&env, "admin", ADMIN);
    let server = Server::start(&env, &["--max-concurrent-jobs", "4"]);
    call(
        "PUT",
        &format!("{}/v1/workflows/tiny", server.url),
        Some(&admin),
        Some(csv_workflow("../tiny", "tiny", "parser-csv", "").into_bytes()),
    );
    let url = format!("{}/v1/workflows/tiny/jobs", server.url);
    let ids: Vec<String> = runtime().block_on(async {
        let client = reqwest::Client::new();
        let requests = (0..200).map(|_| {
            let (client, url, admin) = (client.clone(), url.clone(), admin.clone());
            tokio::spawn(async move {
                let resp = client.post(url).bearer_auth(admin).send().await.unwrap();
                assert_eq!(resp.status().as_u16(), 201);
                let job: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
                job["id"].as_str().unwrap().to_owned()
            })
        });
        let mut ids = Vec::new();
        for r in requests.collect::<Vec<_>>() {
            ids.push(r.await.unwrap());
        }
        ids
    });
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 200);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let url = format!("{}/v1/jobs?limit=1000&status=NO_ROWS_INGESTED", server.url);
        let (_, page) = call("GET", &url, Some(&admin), None);
        if page["items"].as_array().unwrap().len() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "not all jobs finished: {page}");
        std::thread::sleep(Duration::from_millis(250));
    }
    let url = format!("{}/v1/jobs?limit=1000", server.url);
    let (_, all) = call("GET", &url, Some(&admin), None);
    let mut listed: Vec<String> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    assert_eq!(listed, unique);
}

#[test]
fn uploads_feed_a_workflow_and_a_storage_event_imports_exactly_its_objects() {
    let env = Env::new();
    let admin = key(&env, "admin", ADMIN);
    let server = Server::start(&env, &[]);
    for (name, body) in [("in/a.csv", "id\n1\n2\n"), ("in/b c.csv", "id\n3\n")] {
        let url = format!(
            "{}/v1/uploads?name={}",
            server.url,
            name.replace(' ', "%20")
        );
        let (code, body) = call("POST", &url, Some(&admin), Some(body.as_bytes().to_vec()));
        assert_eq!(code, 201, "{body}");
    }
    let (code, _) = call(
        "POST",
        &format!("{}/v1/uploads?name=../escape.csv", server.url),
        Some(&admin),
        Some(b"x".to_vec()),
    );
    assert_eq!(code, 400);
    // A browser-style multipart form: its file parts land under their names.
    let form = "--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nignored\r\n\
                --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d.csv\"\r\n\
                Content-Type: text/csv\r\n\r\nid\n4\n\r\n--XyZ--\r\n";
    let (code, body) = runtime().block_on(async {
        let resp = reqwest::Client::new()
            .post(format!("{}/v1/uploads?name=in", server.url))
            .bearer_auth(&admin)
            .header("content-type", "multipart/form-data; boundary=XyZ")
            .body(form)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.text().await.unwrap())
    });
    assert_eq!(code, 201, "{body}");
    assert_eq!(
        std::fs::read_to_string(env.home().join("uploads/in/d.csv")).unwrap(),
        "id\n4\n"
    );
    let wf = csv_workflow("../home/uploads/in", "uploaded", "parser-csv", "");
    let (code, body) = call(
        "PUT",
        &format!("{}/v1/workflows/uploaded", server.url),
        Some(&admin),
        Some(wf.into_bytes()),
    );
    assert_eq!(code, 201, "{body}");

    let event = json!({ "Records": [ { "eventName": "ObjectCreated:Put", "s3": { "bucket": { "name": "uploads" }, "object": { "key": "b+c.csv", "size": 5 } } } ] });
    let (code, job) = call(
        "POST",
        &format!("{}/v1/triggers/uploaded", server.url),
        Some(&admin),
        Some(serde_json::to_vec(&event).unwrap()),
    );
    assert_eq!(code, 201, "{job}");
    assert_eq!(job["objects"], json!(["b c.csv"]));
    let done = wait_job(&server, &admin, job["id"].as_str().unwrap(), terminal);
    assert_eq!(done["files"]["total"], 1, "{done}");
    assert_eq!(column_text(&env.table("uploaded"), "id"), vec!["3"]);
    let (code, _) = call(
        "POST",
        &format!("{}/v1/triggers/uploaded", server.url),
        Some(&admin),
        Some(b"{}".to_vec()),
    );
    assert_eq!(code, 400);
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let env = Env::new();
    let mut server = Server::start(&env, &[]);
    let (code, _) = call("GET", &format!("{}/readyz", server.url), None, None);
    assert_eq!(code, 200);
    let status = std::process::Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(exit) = server.child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(exit.code(), Some(0));
}

#[test]
fn packages_over_http_list_download_import_and_delete() {
    let env = Env::new();
    let wf = repo().join("workflows/churn-service.toml");
    let (code, job) = env.json(&["run", wf.to_str().unwrap()]);
    assert_eq!(code, 0, "{job}");
    let admin = key(&env, "admin", ADMIN);
    let server = Server::start(&env, &[]);
    let base = format!("{}/v1/services", server.url);
    let (code, services) = call("GET", &base, Some(&admin), None);
    assert_eq!(code, 200);
    assert_eq!(services["items"][0]["versions"], json!(["v1"]));
    let (_, manifest) = call(
        "GET",
        &format!("{base}/churn/packages/v1"),
        Some(&admin),
        None,
    );
    assert_eq!(manifest["service"], "churn");

    let zip = runtime().block_on(async {
        let resp = reqwest::Client::new()
            .get(format!("{base}/churn/packages/v1/download"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.headers()["content-type"], "application/zip");
        resp.bytes().await.unwrap().to_vec()
    });
    assert_eq!(
        zip,
        std::fs::read(env.home().join("packages/churn/v1.zip")).unwrap()
    );

    let (code, e) = call(
        "POST",
        &format!("{base}/churn/packages"),
        Some(&admin),
        Some(zip.clone()),
    );
    assert_eq!(
        (code, e["error"]["code"].as_str()),
        (409, Some("package_exists")),
        "{e}"
    );
    let (code, e) = call(
        "POST",
        &format!("{base}/other/packages"),
        Some(&admin),
        Some(zip.clone()),
    );
    assert_eq!(
        (code, e["error"]["code"].as_str()),
        (400, Some("wrong_service")),
        "{e}"
    );
    let mut broken = zip.clone();
    let n = broken.len();
    broken[n / 2] ^= 0xff;
    let (code, e) = call(
        "POST",
        &format!("{base}/churn/packages"),
        Some(&admin),
        Some(broken),
    );
    assert_eq!(
        (code, e["error"]["code"].as_str()),
        (400, Some("invalid_package")),
        "{e}"
    );

    let (code, _) = call(
        "DELETE",
        &format!("{base}/churn/packages/v1"),
        Some(&admin),
        None,
    );
    assert_eq!(code, 200);
    let (code, _) = call(
        "GET",
        &format!("{base}/churn/packages/v1"),
        Some(&admin),
        None,
    );
    assert_eq!(code, 404);
    let (code, imported) = call(
        "POST",
        &format!("{base}/churn/packages"),
        Some(&admin),
        Some(zip),
    );
    assert_eq!(code, 201, "{imported}");
    assert_eq!(imported["version"], "v1");
}

#[test]
fn an_api_node_serves_a_pushed_package_and_switches_versions_atomically() {
    // Build v1 and v2 of the churn service with the example workflow.
    let builder = Env::new();
    let wf = repo().join("workflows/churn-service.toml");
    for _ in 0..2 {
        let (code, job) = builder.json(&["run", wf.to_str().unwrap()]);
        assert_eq!(code, 0, "{job}");
    }
    let zip =
        |v: &str| std::fs::read(builder.home().join(format!("packages/churn/{v}.zip"))).unwrap();

    let node_env = Env::new();
    let admin = key(&node_env, "node-admin", "ManageDeployments");
    let mut node = Server::start(&node_env, &[]);
    let (code, e) = call(
        "PUT",
        &format!("{}/v1/node/services/other", node.url),
        Some(&admin),
        Some(zip("v1")),
    );
    assert_eq!(
        (code, e["error"]["code"].as_str()),
        (400, Some("wrong_service"))
    );
    let (code, body) = call(
        "PUT",
        &format!("{}/v1/node/services/churn", node.url),
        Some(&admin),
        Some(zip("v1")),
    );
    assert_eq!(code, 200, "{body}");

    let predict = format!("{}/public/api/v1/churn/score/predict", node.url);
    // A null feature is refused, naming the row (the field report: nothing is coerced).
    let nulled = json!({ "rows": [{ "tenure_months": null, "monthly_charges": 50.0 }] });
    let (code, e) = call(
        "POST",
        &predict,
        None,
        Some(serde_json::to_vec(&nulled).unwrap()),
    );
    assert_eq!(code, 400, "{e}");
    let rows = json!({ "rows": [
        { "tenure_months": 2, "monthly_charges": 110.0 },
        { "tenure_months": 70, "monthly_charges": 25.0 }
    ] });
    let (code, answer) = call(
        "POST",
        &predict,
        None,
        Some(serde_json::to_vec(&rows).unwrap()),
    );
    assert_eq!(code, 200, "{answer}");
    assert_eq!(answer["version"], "v1");
    let expected = 1.0 / (1.0 + (-(-1.5 - 0.06 * 2.0 + 0.035 * 110.0_f64)).exp());
    assert!(
        (answer["results"][0]["score"].as_f64().unwrap() - expected).abs() < 1e-9,
        "{answer}"
    );
    assert_eq!(answer["results"][0]["label"], "churn");
    assert_eq!(answer["results"][1]["label"], "stay");
    let (code, e) = call(
        "POST",
        &predict,
        None,
        Some(br#"{"rows": [{"tenure_months": "many"}]}"#.to_vec()),
    );
    assert_eq!(
        (code, e["error"]["code"].as_str()),
        (400, Some("invalid_input")),
        "{e}"
    );

    let lookup = format!("{}/public/api/v1/churn/customer/lookup", node.url);
    let (code, found) = call(
        "POST",
        &lookup,
        None,
        Some(br#"{"keys": ["C0002", "C9999"]}"#.to_vec()),
    );
    assert_eq!(code, 200, "{found}");
    assert_eq!(found["results"][0]["customer_id"], "C0002");
    assert_eq!(found["results"][0]["tenure_months"], 10);
    assert_eq!(found["results"][0]["contract"], "monthly");
    assert!(found["results"][1].is_null());

    // The deployment's own OpenAPI document, from the endpoint schemas, is valid.
    let (code, doc) = call(
        "GET",
        &format!("{}/public/api/v1/churn/openapi.json", node.url),
        None,
        None,
    );
    assert_eq!(code, 200);
    assert!(
        doc["paths"]["/public/api/v1/churn/score/predict"]["post"].is_object(),
        "{doc}"
    );
    let spec = node_env.write("churn-openapi.json", serde_json::to_vec(&doc).unwrap());
    let out = std::process::Command::new(repo().join(".venv/bin/openapi-spec-validator"))
        .arg(&spec)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));

    // v2 replaces v1 in one swap; a restarted node serves v2 again at once.
    let (code, _) = call(
        "PUT",
        &format!("{}/v1/node/services/churn", node.url),
        Some(&admin),
        Some(zip("v2")),
    );
    assert_eq!(code, 200);
    let (_, answer) = call(
        "POST",
        &predict,
        None,
        Some(serde_json::to_vec(&rows).unwrap()),
    );
    assert_eq!(answer["version"], "v2");
    node.kill();
    let node = Server::start(&node_env, &[]);
    let predict = format!("{}/public/api/v1/churn/score/predict", node.url);
    let (code, answer) = call(
        "POST",
        &predict,
        None,
        Some(serde_json::to_vec(&rows).unwrap()),
    );
    assert_eq!(
        (code, answer["version"].as_str()),
        (200, Some("v2")),
        "{answer}"
    );
    let (_, listed) = call(
        "GET",
        &format!("{}/v1/node/services", node.url),
        Some(&admin),
        None,
    );
    assert_eq!(listed["items"][0]["version"], "v2");

    let (code, _) = call(
        "DELETE",
        &format!("{}/v1/node/services/churn", node.url),
        Some(&admin),
        None,
    );
    assert_eq!(code, 200);
    let (code, _) = call(
        "POST",
        &predict,
        None,
        Some(serde_json::to_vec(&rows).unwrap()),
    );
    assert_eq!(code, 404);
}

#[test]
fn undeploying_a_service_whose_kept_package_could_not_be_loaded_removes_it_from_disk() {
    let node_env = Env::new();
    let admin = key(&node_env, "node-admin", "ManageDeployments");
    // Kept by an earlier process, unreadable now: the node starts without serving it.
    let kept = node_env.write("home/node/active/churn.zip", b"not a zip");
    let node = Server::start(&node_env, &[]);
    let (code, listed) = call(
        "GET",
        &format!("{}/v1/node/services", node.url),
        Some(&admin),
        None,
    );
    assert_eq!((code, &listed["items"]), (200, &json!([])));
    let (code, e) = call(
        "DELETE",
        &format!("{}/v1/node/services/churn", node.url),
        Some(&admin),
        None,
    );
    assert_eq!(
        (code, e["error"]["code"].as_str()),
        (404, Some("not_found")),
        "{e}"
    );
    assert!(
        !kept.exists(),
        "a 404 leaves nothing to serve after a restart"
    );
}
