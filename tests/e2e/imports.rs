//! Project imports through both faces, into fresh homes: an export of a whole project (two
//! package versions, a workflow with its own plugin, an infra, a deployment, a variable,
//! secrets) is imported by upload, by link (a Python HTTP server started here) and by export
//! id; the confirmation picks objects, settles conflicts and fills secrets; then the imported
//! workflow runs and ingests the same rows, and the imported deployment, enabled and updated
//! on two fresh API nodes, serves the same predictions. Bad zips and bad confirmations are
//! clear errors, and a processing that fails half-way leaves nothing behind.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::exports::{PASSPHRASE, S3_SECRET, TOKEN, open_export, project};
use crate::peers::{copy_dir, free_port};
use crate::server::*;
use crate::support::*;

/// Exports everything of `env` (secret `node-admin.token` with its value) to `<scratch>/name`.
fn export_all(env: &Env, name: &str) -> std::path::PathBuf {
    let pass = env.write("pass.txt", PASSPHRASE);
    let dir = env.path("workflows");
    let mut args = vec![
        "exports",
        "create",
        "--workflows-dir",
        dir.to_str().unwrap(),
        "--passphrase-file",
        pass.to_str().unwrap(),
        "--secret",
        "node-admin.token=include_value",
        "--secret",
        "s3.secret_access_key",
    ];
    for kind in [
        "--workflows",
        "--services",
        "--infras",
        "--deployments",
        "--plugins",
        "--variables",
    ] {
        args.extend([kind, "*"]);
    }
    let (code, export) = env.json(&args);
    assert_eq!(code, 0, "{export}");
    let zip = env.path(name);
    env.ok(&[
        "exports",
        "download",
        export["id"].as_str().unwrap(),
        "-o",
        zip.to_str().unwrap(),
    ]);
    zip
}

fn found<'a>(import: &'a Value, kind: &str, name: &str) -> &'a Value {
    import["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == kind && o["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in {import}"))
}

/// Runs ferry in `env` with `stdin` as its standard input; (exit code, JSON out, stderr).
fn with_stdin(env: &Env, args: &[&str], stdin: &str) -> (i32, Value, String) {
    let mut child = env
        .command(&[&["--json"], args].concat())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        stderr(&out),
    )
}

/// Two API nodes sharing one admin key; (their envs and servers, their addresses, the key).
fn two_nodes() -> (Vec<Env>, Vec<Server>, Vec<String>, String) {
    let envs = vec![Env::new(), Env::new()];
    let admin = key(&envs[0], "node-admin", "ManageDeployments");
    let (code, _, err) = with_stdin(
        &envs[1],
        &[
            "keys",
            "create",
            "node-admin",
            "--permission",
            "ManageDeployments",
            "--from-stdin",
        ],
        &format!("{admin}\n"),
    );
    assert_eq!(code, 0, "{err}");
    let addrs: Vec<String> = (0..2)
        .map(|_| format!("127.0.0.1:{}", free_port()))
        .collect();
    let servers = envs
        .iter()
        .zip(&addrs)
        .map(|(e, a)| Server::start_on(e, a, &[]))
        .collect();
    (envs, servers, addrs, admin)
}

#[test]
fn a_project_imported_by_upload_runs_the_same_rows_and_serves_the_same_predictions() {
    let a = project();
    let zip = export_all(&a, "project.zip");
    let a_wf = a.path("workflows");
    a.ok(&["run", a_wf.join("logs.toml").to_str().unwrap()]);
    let a_rows = row_count(&a.table("serving_logs"));
    assert!(a_rows > 0);

    // The new home runs its deployments on its own nodes: its infra `local-nodes` points at
    // them, so the export's is skipped; the nodes' admin key is given at confirmation.
    let b = Env::new();
    let b_wf = b.path("workflows");
    let (_nodes, _servers, addrs, admin) = two_nodes();
    let infras = std::fs::read_to_string(repo().join("workflows/infras.toml"))
        .unwrap()
        .replace("http://127.0.0.1:8081", &format!("http://{}", addrs[0]))
        .replace("http://127.0.0.1:8082", &format!("http://{}", addrs[1]));
    let infras = b.write("infras.toml", infras);
    b.ok(&["infras", "apply", infras.to_str().unwrap()]);

    let (code, import) = b.json(&[
        "imports",
        "create",
        zip.to_str().unwrap(),
        "--workflows-dir",
        b_wf.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{import}");
    assert_eq!(import["status"], "confirmation", "{import}");
    assert_eq!(import["source"], "file project.zip");
    let id = import["id"].as_str().unwrap().to_owned();
    // What the scan found, against this home.
    assert_eq!(found(&import, "workflow", "logs")["state"], "new");
    assert_eq!(found(&import, "plugin", "my-logfmt")["state"], "new");
    assert_eq!(found(&import, "infra", "local-nodes")["state"], "conflict");
    let churn = found(&import, "service", "churn");
    assert_eq!(
        churn["versions"],
        json!([{ "version": "v1", "state": "new" }, { "version": "v2", "state": "new" }])
    );
    let stray = found(&import, "workflow", "stray");
    assert_eq!(
        stray["missing"],
        json!([{ "kind": "plugin", "name": "far-logfmt", "inExport": false }]),
        "{stray}"
    );
    assert_eq!(
        found(&import, "secret", "s3.secret_access_key")["needsValue"],
        true
    );
    assert_eq!(
        found(&import, "secret", "node-admin.token")["valueIncluded"],
        true
    );
    assert!(!import.to_string().contains(TOKEN));

    let confirm = |extra: &[&str], stdin: &str| {
        let mut args = vec![
            "imports",
            "confirm",
            &id,
            "--workflows-dir",
            b_wf.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        with_stdin(&b, &args, stdin)
    };
    // Each unfinished choice is an error that leaves the import waiting, and nothing placed.
    let (code, _, err) = confirm(&[], "");
    assert_eq!(code, 65, "{err}");
    assert!(err.contains("infra `local-nodes` already exists"), "{err}");
    let (code, _, err) = confirm(&["--on-conflict", "infra:local-nodes=rename"], "");
    assert_eq!(code, 65, "{err}");
    assert!(
        err.contains("only workflows and deployments can be renamed"),
        "{err}"
    );
    let skip_infra = ["--on-conflict", "infra:local-nodes=skip"];
    let (code, _, err) = confirm(&skip_infra, "");
    assert_eq!(code, 65, "{err}");
    assert!(err.contains("passphrase"), "{err}");
    let pass = a.path("pass.txt");
    let with_pass = [
        &skip_infra[..],
        &["--passphrase-file", pass.to_str().unwrap()],
    ]
    .concat();
    let (code, _, err) = confirm(&with_pass, "");
    assert_eq!(code, 65, "{err}");
    assert!(
        err.contains("secret `s3.secret_access_key` has no value"),
        "{err}"
    );
    assert!(!b_wf.join("logs.toml").exists());
    let (_, still, _) = with_stdin(&b, &["imports", "show", &id], "");
    assert_eq!(still["status"], "confirmation", "{still}");

    // The nodes' key replaces the exported token; the S3 secret is filled from stdin.
    let admin_file = b.write("admin.txt", format!("{admin}\n"));
    let admin_arg = format!("node-admin.token=@{}", admin_file.display());
    let choices = [
        &with_pass[..],
        &[
            "--secret",
            "s3.secret_access_key=-",
            "--secret",
            &admin_arg,
            "--enable-deployments",
        ],
    ]
    .concat();
    let (code, done, err) = confirm(&choices, S3_SECRET);
    assert_eq!(code, 0, "{err}");
    assert_eq!(done["status"], "completed", "{done}");
    let outcome = |kind: &str, name: &str| -> Value {
        done["result"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["kind"] == kind && o["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {kind} {name} in {done}"))
    };
    assert_eq!(outcome("infra", "local-nodes")["action"], "skipped");
    assert_eq!(outcome("service", "churn")["versions"], json!(["v1", "v2"]));
    assert_eq!(outcome("deployment", "churn-local")["enabled"], true);
    assert!(!done.to_string().contains(S3_SECRET) && !done.to_string().contains(&admin));
    assert!(!b.home().join(format!("imports/{id}/journal.json")).exists());
    let (code, again, err) = confirm(&choices, S3_SECRET);
    assert_eq!(code, 75, "a second confirmation: {again} {err}");

    // What the home holds now.
    assert_eq!(
        std::fs::read(b_wf.join("plugins/my_logfmt.wasm")).unwrap(),
        std::fs::read(a_wf.join("plugins/my_logfmt.wasm")).unwrap()
    );
    for v in ["v1", "v2"] {
        let (from, to) = (a.path(&format!("a-{v}.zip")), b.path(&format!("b-{v}.zip")));
        a.ok(&[
            "packages",
            "download",
            "churn",
            v,
            "-o",
            from.to_str().unwrap(),
        ]);
        b.ok(&[
            "packages",
            "download",
            "churn",
            v,
            "-o",
            to.to_str().unwrap(),
        ]);
        assert_eq!(std::fs::read(from).unwrap(), std::fs::read(to).unwrap());
    }
    let (_, vars) = b.json(&["variables", "list"]);
    assert!(vars.to_string().contains("2026-12-01"), "{vars}");
    // The stored values are the ones given and exported: a re-export opened by pyrage says so.
    let again = export_all(&b, "again.zip");
    let opened = open_export(&again, Some(PASSPHRASE));
    assert_eq!(
        opened["secrets"]["node-admin.token"],
        admin.as_str(),
        "{opened}"
    );

    // The imported workflow, with its own plugin, ingests the same rows from the same data.
    copy_dir(&a_wf.join("data/logs"), &b_wf.join("data/logs"));
    b.ok(&["run", b_wf.join("logs.toml").to_str().unwrap()]);
    assert_eq!(row_count(&b.table("serving_logs")), a_rows);

    // The imported deployment, enabled, updated on the new nodes, serves v1 on both.
    b.ok(&["deployments", "update", "churn-local"]);
    for addr in &addrs {
        let (code, answer) = call(
            "POST",
            &format!("http://{addr}/public/api/v1/churn/score/predict"),
            None,
            Some(br#"{"rows": [{"tenure_months": 2, "monthly_charges": 110.0}]}"#.to_vec()),
        );
        assert_eq!(code, 200, "{addr}: {answer}");
        assert_eq!(answer["version"], "v1", "{answer}");
        let expected = 1.0 / (1.0 + (-(-1.5 - 0.06 * 2.0 + 0.035 * 110.0_f64)).exp());
        assert!((answer["results"][0]["score"].as_f64().unwrap() - expected).abs() < 1e-9);
    }
}

/// A Python HTTP server serving `dir` on a free port: (child, base URL).
fn http_server(dir: &Path) -> (Child, String) {
    let port = free_port();
    let child = Command::new(repo().join(".venv/bin/python"))
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .arg("--directory")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the HTTP server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, format!("http://127.0.0.1:{port}"))
}

fn wait_import(server: &Server, key: &str, id: &str, until: &[&str]) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, import) = call(
            "GET",
            &format!("{}/v1/imports/{id}", server.url),
            Some(key),
            None,
        );
        assert_eq!(code, 200, "{import}");
        if until.contains(&import["status"].as_str().unwrap_or("")) {
            return import;
        }
        assert!(Instant::now() < deadline, "import stuck: {import}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn imports_over_http_by_link_and_export_id_with_bad_links_and_confirmations_as_4xx() {
    let a = project();
    let zip = export_all(&a, "project.zip");
    let site = a.path("site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::copy(&zip, site.join("project.zip")).unwrap();
    std::fs::write(site.join("login.html"), "<html><body>sign in</body></html>").unwrap();
    let (mut http, base) = http_server(&site);
    // A peer that accepts and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}/x.zip", silent.local_addr().unwrap());

    let b = Env::new();
    let settings = b.write(
        "serve.toml",
        "import_hosts = [\"http://127.0.0.1:*\"]\nimport_timeout = \"2s\"\n",
    );
    let server = Server::start(&b, &["--config", settings.to_str().unwrap()]);
    let importer = key(&b, "importer", "ManageImports");
    let admin = key(&b, "admin", "ManageImports,ManageSecrets");
    let url = format!("{}/v1/imports", server.url);
    let post = |key: &str, body: Value| {
        runtime().block_on(async {
            let resp = reqwest::Client::new()
                .post(&url)
                .bearer_auth(key)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            let code = resp.status().as_u16();
            let bytes = resp.bytes().await.unwrap();
            (code, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
        })
    };

    // A host the settings do not allow is refused at once, and nothing is recorded.
    let (code, body) = post(
        &admin,
        json!({ "importLink": "https://exports.example.com/p.zip" }),
    );
    assert_eq!(code, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not allowed"),
        "{body}"
    );
    let (code, body) = post(&admin, json!({ "exportId": "nope" }));
    assert_eq!(code, 400, "{body}");
    // Links answering a page, a 404, or nothing end failed with why; the query never shows.
    for (link, says) in [
        (format!("{base}/login.html"), "HTML"),
        (format!("{base}/missing.zip?token=s3cr3t"), "404"),
        (silent_url.clone(), "no answer"),
    ] {
        let (code, created) = post(&admin, json!({ "importLink": link }));
        assert_eq!(code, 201, "{created}");
        let id = created["id"].as_str().unwrap();
        let failed = wait_import(&server, &admin, id, &["failed", "confirmation"]);
        assert_eq!(failed["status"], "failed", "{failed}");
        let message = failed["errorMessage"].as_str().unwrap();
        assert!(message.contains(says), "{link}: {message}");
        assert!(!failed.to_string().contains("s3cr3t"), "{failed}");
    }
    drop(silent);

    // By link: scanned, then confirmed over PATCH.
    let (code, created) = post(
        &admin,
        json!({ "importLink": format!("{base}/project.zip") }),
    );
    assert_eq!(code, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let scanned = wait_import(&server, &admin, &id, &["confirmation", "failed"]);
    assert_eq!(scanned["status"], "confirmation", "{scanned}");
    assert_eq!(scanned["size"], std::fs::metadata(&zip).unwrap().len());
    let patch = |key: &str, body: Value| {
        call(
            "PATCH",
            &format!("{url}/{id}"),
            Some(key),
            Some(body.to_string().into_bytes()),
        )
    };
    let only = json!([
        { "kind": "workflow", "name": "logs" },
        { "kind": "plugin", "name": "my-logfmt" },
        { "kind": "variable", "name": "day" },
        { "kind": "secret", "name": "s3.secret_access_key" },
        { "kind": "deployment", "name": "churn-local" },
    ]);
    let (code, body) = patch(
        &importer,
        json!({ "objects": only, "secrets": { "s3.secret_access_key": S3_SECRET } }),
    );
    assert_eq!(code, 403, "{body}");
    // The deployment needs churn v1 and infra local-nodes, which are not chosen nor here.
    let (code, body) = patch(
        &admin,
        json!({ "objects": only, "secrets": { "s3.secret_access_key": S3_SECRET } }),
    );
    assert_eq!(code, 400, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("deployment `churn-local` cannot be imported"),
        "{message}"
    );
    assert!(
        message.contains("package churn v1") && message.contains("infra local-nodes"),
        "{message}"
    );
    assert!(!body.to_string().contains(S3_SECRET));
    let only: Vec<Value> = only.as_array().unwrap()[..4].to_vec();
    let (code, done) = patch(
        &admin,
        json!({ "objects": only, "secrets": { "s3.secret_access_key": S3_SECRET } }),
    );
    assert_eq!(code, 200, "{done}");
    assert_eq!(done["status"], "completed", "{done}");
    assert!(server_workflows(&b).contains(&"logs".to_owned()));
    let (code, body) = patch(&admin, json!({}));
    assert_eq!(code, 409, "{body}");
    let (code, listed) = call(
        "GET",
        &format!("{url}?status=completed"),
        Some(&admin),
        None,
    );
    assert_eq!(code, 200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    let downloaded = runtime().block_on(async {
        reqwest::Client::new()
            .get(format!("{url}/{id}/download"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
    });
    assert_eq!(downloaded.to_vec(), std::fs::read(&zip).unwrap());

    // By export id, unattended: an export of this home imported back into it changes nothing
    // that is identical, and skips the secret it already holds.
    let exporter = key(&b, "exporter", "ManageExports");
    let (code, export) = call(
        "POST",
        &format!("{}/v1/exports", server.url),
        Some(&exporter),
        Some(
            json!({ "workflows": { "logs": {} }, "secrets": { "s3.secret_access_key": {} } })
                .to_string()
                .into_bytes(),
        ),
    );
    assert_eq!(code, 201, "{export}");
    let export_id = export["id"].as_str().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, e) = call(
            "GET",
            &format!("{}/v1/exports/{export_id}", server.url),
            Some(&exporter),
            None,
        );
        if e["status"] == "completed" {
            break;
        }
        assert!(Instant::now() < deadline && e["status"] != "failed", "{e}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (code, created) = post(
        &admin,
        json!({ "exportId": export_id, "skipConfirmation": true, "onConflict": "skip" }),
    );
    assert_eq!(code, 201, "{created}");
    let done = wait_import(
        &server,
        &admin,
        created["id"].as_str().unwrap(),
        &["completed", "failed"],
    );
    assert_eq!(done["status"], "completed", "{done}");
    let actions: Vec<(&str, &str)> = done["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["name"].as_str().unwrap(), o["action"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        [("logs", "unchanged"), ("s3.secret_access_key", "skipped")],
        "{done}"
    );
    let _ = http.kill();
    let _ = http.wait();
}

fn server_workflows(env: &Env) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(env.path("workflows"))
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "toml").then(|| p.file_stem()?.to_str().map(str::to_owned))?
        })
        .collect();
    names.sort();
    names
}

/// `zip` rewritten with `change` applied to its entries (name, bytes), manifest untouched.
fn rewrite(zip: &Path, out: &Path, change: impl Fn(&str, Vec<u8>) -> Option<(String, Vec<u8>)>) {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let mut writer = zip::ZipWriter::new(std::fs::File::create(out).unwrap());
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let name = entry.name().unwrap().into_owned();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
        if let Some((name, bytes)) = change(&name, bytes) {
            writer
                .start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            writer.write_all(&bytes).unwrap();
        }
    }
    writer.finish().unwrap();
}

#[test]
fn bad_zips_are_refused_and_a_processing_that_fails_half_way_leaves_nothing() {
    let a = project();
    let zip = export_all(&a, "project.zip");
    let b = Env::new();
    let b_wf = b.path("workflows");
    let create = |file: &Path| {
        let out = b.ferry(&[
            "imports",
            "create",
            file.to_str().unwrap(),
            "--workflows-dir",
            b_wf.to_str().unwrap(),
        ]);
        (out.status.code().unwrap_or(-1), stdout(&out), stderr(&out))
    };
    let package = a.path("v1.zip");
    a.ok(&[
        "packages",
        "download",
        "churn",
        "v1",
        "-o",
        package.to_str().unwrap(),
    ]);
    let tampered = b.path("tampered.zip");
    rewrite(&zip, &tampered, |name, mut bytes| {
        if name == "workflows/logs.toml" {
            bytes.extend_from_slice(b"\n# changed\n");
        }
        Some((name.to_owned(), bytes))
    });
    let slipped = b.path("slip.zip");
    rewrite(&zip, &slipped, |name, bytes| {
        Some((name.replace("workflows/logs.toml", "../logs.toml"), bytes))
    });
    let newer = b.path("newer.zip");
    rewrite(&zip, &newer, |name, bytes| {
        let bytes = if name == "ferry-export.json" {
            String::from_utf8(bytes)
                .unwrap()
                .replace("\"formatVersion\": 1", "\"formatVersion\": 9")
                .into_bytes()
        } else {
            bytes
        };
        Some((name.to_owned(), bytes))
    });
    let absolute = b.path("absolute.zip");
    rewrite(&zip, &absolute, |name, bytes| {
        Some((name.replace("variables.json", "/etc/variables.json"), bytes))
    });
    // Three entries of a few bytes whose central directory declares ~4 GiB each: refused
    // from the declarations, before anything is inflated.
    let bomb = b.path("bomb.zip");
    rewrite(&zip, &bomb, |name, bytes| Some((name.to_owned(), bytes)));
    {
        let mut bytes = std::fs::read(&bomb).unwrap();
        let mut writer = zip::ZipWriter::new_append(std::io::Cursor::new(&mut bytes)).unwrap();
        for i in 0..3 {
            writer
                .start_file(format!("pad/{i}"), zip::write::SimpleFileOptions::default())
                .unwrap();
            writer.write_all(b"pad").unwrap();
        }
        writer.finish().unwrap();
        // Each central directory header: signature, then the uncompressed size at +24.
        let mut at = 0;
        while let Some(i) = bytes[at..].windows(4).position(|w| w == b"PK\x01\x02") {
            let header = at + i;
            let name_len = u16::from_le_bytes([bytes[header + 28], bytes[header + 29]]) as usize;
            if bytes[header + 46..header + 46 + name_len].starts_with(b"pad/") {
                bytes[header + 24..header + 28].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
            }
            at = header + 4;
        }
        std::fs::write(&bomb, bytes).unwrap();
    }
    let html = b.write("page.zip", "<html>not a zip</html>");
    for (file, says) in [
        (
            &tampered,
            "`workflows/logs.toml` does not match its checksum",
        ),
        (&slipped, "zip slip"),
        (&newer, "format version 9"),
        (&absolute, "zip slip"),
        (&bomb, "larger than the limit"),
        (&package, "not a ferry export"),
        (&html, "not a zip archive"),
    ] {
        let (code, out, err) = create(file);
        assert_eq!(code, 1, "{file:?}: {out}{err}");
        assert!(out.contains(says), "{file:?}: {out}");
    }
    assert!(!b_wf.join("logs.toml").exists() && !b.path("logs.toml").exists());

    // A processing that fails after placing some files: `plugins` is a file here, so the
    // plugin cannot be written — everything placed before it is undone.
    b.write("workflows/plugins", "in the way");
    let (code, out, err) = create(&zip);
    assert_eq!(code, 0, "{out}{err}");
    let id = out.split_whitespace().nth(1).unwrap().to_owned();
    let pass = a.path("pass.txt");
    let out = b.command(&[
        "imports",
        "confirm",
        &id,
        "--workflows-dir",
        b_wf.to_str().unwrap(),
        "--passphrase-file",
        pass.to_str().unwrap(),
        "--secret",
        "s3.secret_access_key=-",
        "--only",
        "workflow:churn-service,workflow:logs,plugin:my-logfmt,service:churn,infra:local-nodes,variable:day,secret:s3.secret_access_key,secret:node-admin.token",
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .spawn()
    .and_then(|mut c| {
        c.stdin.take().unwrap().write_all(S3_SECRET.as_bytes())?;
        c.wait_with_output()
    })
    .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let shown = stdout(&out);
    assert!(
        shown.contains("failed") && shown.contains("plugins"),
        "{shown}"
    );
    assert_eq!(server_workflows(&b), Vec::<String>::new());
    assert!(!b_wf.join("churn.service.toml").exists());
    let (_, packages) = b.json(&["packages", "list"]);
    assert!(!packages.to_string().contains("churn"), "{packages}");
    for list in [
        ["infras", "list"],
        ["variables", "list"],
        ["secrets", "list"],
    ] {
        let (_, listed) = b.json(&list);
        for name in ["local-nodes", "2026-12-01", "s3"] {
            assert!(!listed.to_string().contains(name), "{list:?}: {listed}");
        }
    }
    assert!(!b.home().join(format!("imports/{id}/journal.json")).exists());
}
