//! Project exports through both faces: a home with workflows (one with a plugin of its own),
//! two package versions, an infra, a deployment, a variable and two secrets is exported by
//! selection; the zip is opened by Python's `zipfile`, its manifest's SHA-256s checked by
//! `hashlib`, and `secrets.age` decrypted by `pyrage` (age) with the passphrase only — while no
//! secret value appears in plain text anywhere in the zip. Over HTTP, secret values need
//! ManageSecrets too, and bad selections are 4xx.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::hostile_input::builtin_plugin;
use crate::peers::copy_dir;
use crate::server::*;
use crate::support::*;

pub(crate) const TOKEN: &str = "node-admin-token-7f3c9a";
pub(crate) const S3_SECRET: &str = "s3-secret-key-b81d44";
pub(crate) const PASSPHRASE: &str = "correct horse battery staple";

/// What `tests/exports/open_export.py` sees in the zip at `zip`.
pub(crate) fn open_export(zip: &Path, passphrase: Option<&str>) -> Value {
    let mut command = Command::new(repo().join(".venv/bin/python"));
    command
        .arg(repo().join("tests/exports/open_export.py"))
        .arg(zip);
    if let Some(p) = passphrase {
        command.env("EXPORT_PASSPHRASE", p);
    }
    command.env("EXPORT_NEEDLES", [TOKEN, S3_SECRET, PASSPHRASE].join(","));
    let out = command.output().unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

pub(crate) fn set_secret(env: &Env, credential: &str, field: &str, value: &str) {
    let mut child = env
        .command(&["secrets", "set", credential, field])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(value.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
}

/// A home whose workflows directory (`<scratch>/workflows`, what the test server registers)
/// holds the churn example (run twice: churn v1 and v2), `logs` with plugin `my-logfmt` beside
/// it, and `stray`, whose plugin lives outside the directory; infra `local-nodes`, deployment
/// `churn-local` of v1, variable `day`, secrets `node-admin.token` and `s3.secret_access_key`.
pub(crate) fn project() -> Env {
    let env = Env::new();
    let dir = env.path("workflows");
    for file in ["churn-service.toml", "churn.service.toml"] {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(repo().join("workflows").join(file), dir.join(file)).unwrap();
    }
    copy_dir(&repo().join("workflows/models"), &dir.join("models"));
    copy_dir(
        &repo().join("workflows/data/customers"),
        &dir.join("data/customers"),
    );
    let wf = dir.join("churn-service.toml");
    for _ in 0..2 {
        let (code, job) = env.json(&["run", wf.to_str().unwrap()]);
        assert_eq!(code, 0, "{job}");
    }
    env.write(
        "workflows/plugins/my_logfmt.wasm",
        builtin_plugin("parser-logfmt"),
    );
    copy_dir(&repo().join("workflows/data/logs"), &dir.join("data/logs"));
    let logs = format!(
        "[plugins]\nmy-logfmt = \"plugins/my_logfmt.wasm\"\n\n{}",
        std::fs::read_to_string(repo().join("workflows/logfmt.toml"))
            .unwrap()
            .replace("parser = \"parser-logfmt\"", "parser = \"my-logfmt\"")
    );
    env.write("workflows/logs.toml", logs);
    env.write("elsewhere/p.wasm", builtin_plugin("parser-logfmt"));
    env.write(
        "workflows/stray.toml",
        std::fs::read_to_string(env.path("workflows/logs.toml"))
            .unwrap()
            .replace("my-logfmt", "far-logfmt")
            .replace("plugins/my_logfmt.wasm", "../elsewhere/p.wasm"),
    );
    env.ok(&[
        "validate",
        env.path("workflows/logs.toml").to_str().unwrap(),
    ]);

    env.ok(&[
        "infras",
        "apply",
        repo().join("workflows/infras.toml").to_str().unwrap(),
    ]);
    env.ok(&[
        "deployments",
        "create",
        "churn-local",
        "--service",
        "churn",
        "--infra",
        "local-nodes",
        "--version",
        "v1",
    ]);
    env.ok(&["variables", "set", "day", "2026-12-01"]);
    set_secret(&env, "node-admin", "token", TOKEN);
    set_secret(&env, "s3", "secret_access_key", S3_SECRET);
    env
}

/// No secret value (nor the passphrase) in the zip's bytes, nor in any entry decompressed.
fn assert_no_plain_secret(zip: &Path, opened: &Value) {
    let bytes = std::fs::read(zip).unwrap();
    for value in [TOKEN, S3_SECRET, PASSPHRASE] {
        assert!(
            !bytes.windows(value.len()).any(|w| w == value.as_bytes()),
            "{value} in the zip"
        );
    }
    assert_eq!(
        opened["found"],
        json!([]),
        "entries with a secret in plain text"
    );
}

fn object<'a>(manifest: &'a Value, kind: &str, name: &str) -> &'a Value {
    manifest["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == kind && o["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in {manifest}"))
}

#[test]
fn an_export_by_selection_opens_with_independent_tools_and_values_only_with_the_passphrase() {
    let env = project();
    let dir = env.path("workflows");
    let pass = env.write("pass.txt", format!("{PASSPHRASE}\n"));
    let (code, export) = env.json(&[
        "exports",
        "create",
        "--workflows-dir",
        dir.to_str().unwrap(),
        "--workflows",
        "churn-service,logs",
        "--services",
        "churn=v2",
        "--infras",
        "local-nodes",
        "--deployments",
        "churn-local",
        "--plugins",
        "my-logfmt",
        "--variables",
        "day",
        "--secret",
        "node-admin.token=include_value",
        "--secret",
        "s3.secret_access_key",
        "--passphrase-file",
        pass.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{export}");
    assert_eq!(export["status"], "completed", "{export}");
    let id = export["id"].as_str().unwrap().to_owned();

    let zip = env.path("export.zip");
    env.ok(&["exports", "download", &id, "-o", zip.to_str().unwrap()]);
    assert_eq!(
        std::fs::metadata(&zip).unwrap().len(),
        export["size"].as_u64().unwrap()
    );
    let opened = open_export(&zip, Some(PASSPHRASE));
    let manifest = &opened["manifest"];
    assert_eq!(manifest["format"], "ferry-export");
    assert_eq!(manifest["formatVersion"], 1);
    assert_eq!(manifest["exportId"], id.as_str());
    assert_eq!(opened["mismatched"], json!([]), "{opened}");
    assert_eq!(opened["unlisted"], json!([]), "{opened}");
    let entries: Vec<&str> = opened["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    // The manifest comes last: a zip cut short has none, and is not an export.
    assert_eq!(entries.last(), Some(&"ferry-export.json"));
    let mut sorted = entries.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "deployments/churn-local.json",
            "ferry-export.json",
            "infras/local-nodes.json",
            "packages/churn/v2.zip",
            "secrets.age",
            "variables.json",
            "workflows/churn-service.toml",
            "workflows/churn.service.toml",
            "workflows/logs.toml",
            "workflows/plugins/my_logfmt.wasm",
        ]
    );
    // Only what was named: not `stray`, not churn v1, not the data the workflows read.
    assert!(
        !entries
            .iter()
            .any(|e| e.contains("stray") || e.contains("v1.zip"))
    );

    // The plugin is the very component; the package the very zip the registry holds.
    let inside = |name: &str| {
        let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
        let mut entry = archive.by_name(name).unwrap();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
        bytes
    };
    assert_eq!(
        inside("workflows/plugins/my_logfmt.wasm"),
        builtin_plugin("parser-logfmt")
    );
    let v2 = env.path("v2.zip");
    env.ok(&[
        "packages",
        "download",
        "churn",
        "v2",
        "-o",
        v2.to_str().unwrap(),
    ]);
    assert_eq!(inside("packages/churn/v2.zip"), std::fs::read(&v2).unwrap());

    // Dependencies say what travels and what does not: the deployment serves v1, not exported.
    let deployment = object(manifest, "deployment", "churn-local");
    let deps = deployment["dependsOn"].as_array().unwrap();
    assert!(
        deps.contains(
            &json!({ "kind": "service", "name": "churn", "version": "v1", "inExport": false })
        ),
        "{deployment}"
    );
    assert!(
        deps.contains(&json!({ "kind": "infra", "name": "local-nodes", "inExport": true })),
        "{deployment}"
    );
    let logs = object(manifest, "workflow", "logs");
    assert_eq!(
        logs["dependsOn"],
        json!([{ "kind": "plugin", "name": "my-logfmt", "inExport": true }])
    );
    assert_eq!(
        object(manifest, "service", "churn")["versions"],
        json!(["v2"])
    );
    assert_eq!(
        object(manifest, "secret", "node-admin.token")["valueIncluded"],
        true
    );
    assert_eq!(
        object(manifest, "secret", "s3.secret_access_key")["valueIncluded"],
        false
    );

    // The infra as stored: its credential's name and hosts, never a value.
    let infra: Value = serde_json::from_slice(&inside("infras/local-nodes.json")).unwrap();
    assert_eq!(infra["name"], "local-nodes");
    assert!(infra.to_string().contains("node-admin"), "{infra}");
    assert_eq!(opened["variables"]["day"], "2026-12-01", "{opened}");

    // age opens secrets.age with the passphrase: the value asked for, and only it.
    assert_eq!(
        opened["secrets"],
        json!({ "node-admin.token": TOKEN }),
        "{opened}"
    );
    assert_no_plain_secret(&zip, &opened);
    let wrong = open_export(&zip, Some("not the passphrase"));
    assert!(wrong["secrets"].is_null(), "{wrong}");
    assert!(
        wrong["secretsError"].as_str().unwrap().contains("Decrypt"),
        "{wrong}"
    );

    // Listing and showing.
    let (code, list) = env.json(&["exports", "list", "--status", "completed"]);
    assert_eq!(code, 0);
    assert_eq!(list["items"][0]["id"], id.as_str());
    let out = env.ok(&["exports", "show", &id]);
    assert!(
        stdout(&out).contains("needs (not in export): service churn v1"),
        "{}",
        stdout(&out)
    );

    // Refused, before anything is recorded: an unknown name (the available ones are listed),
    // a value without a passphrase or with a weak one, and the workflow whose plugin lives
    // outside the directory. The last does not stop an export that leaves it out.
    let create = |args: &[&str], passphrase: Option<&str>| {
        let mut all = vec![
            "exports",
            "create",
            "--workflows-dir",
            dir.to_str().unwrap(),
        ];
        all.extend_from_slice(args);
        let mut command = env.command(&all);
        command.env_remove("FERRY_EXPORT_PASSPHRASE");
        if let Some(p) = passphrase {
            command.env("FERRY_EXPORT_PASSPHRASE", p);
        }
        command.output().unwrap()
    };
    let out = create(&["--workflows", "churn"], None);
    assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("`churn`") && stderr(&out).contains("churn-service"),
        "{}",
        stderr(&out)
    );
    let out = create(&["--secret", "s3.secret_access_key=include_value"], None);
    assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
    assert!(stderr(&out).contains("passphrase"), "{}", stderr(&out));
    let out = create(
        &["--secret", "s3.secret_access_key=include_value"],
        Some("short"),
    );
    assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
    assert!(stderr(&out).contains("8"), "{}", stderr(&out));
    let out = create(&["--plugins", "far-logfmt"], None);
    assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("../elsewhere/p.wasm") && stderr(&out).contains("inside"),
        "{}",
        stderr(&out)
    );
    let (_, list) = env.json(&["exports", "list"]);
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    let (code, vars_only) = env.json(&[
        "exports",
        "create",
        "--workflows-dir",
        dir.to_str().unwrap(),
        "--variables",
        "*",
    ]);
    assert_eq!(code, 0, "{vars_only}");
    assert_eq!(vars_only["objects"].as_array().unwrap().len(), 1);
    // The workflow travels; its plugin, outside the directory, is marked as not with it.
    let (code, stray) = env.json(&[
        "exports",
        "create",
        "--workflows-dir",
        dir.to_str().unwrap(),
        "--workflows",
        "stray",
    ]);
    assert_eq!(code, 0, "{stray}");
    assert_eq!(
        stray["objects"][0]["dependsOn"],
        json!([{ "kind": "plugin", "name": "far-logfmt", "inExport": false }])
    );

    // Deleted: the record and the zip.
    env.ok(&["exports", "delete", &id]);
    let out = env.ferry(&["exports", "show", &id]);
    assert_eq!(out.status.code(), Some(66));
    assert!(!env.home().join(format!("exports/{id}.zip")).exists());
}

/// Polls export `id` until it is completed or failed.
fn wait_export(server: &Server, key: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, export) = call(
            "GET",
            &format!("{}/v1/exports/{id}", server.url),
            Some(key),
            None,
        );
        assert_eq!(code, 200, "{export}");
        if matches!(export["status"].as_str(), Some("completed" | "failed")) {
            return export;
        }
        assert!(Instant::now() < deadline, "export stuck: {export}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn exports_over_http_need_manage_secrets_for_values_and_answer_4xx_for_bad_selections() {
    let env = project();
    let server = Server::start(&env, &[]);
    let exports_only = key(&env, "exporter", "ManageExports");
    let with_secrets = key(&env, "admin", "ManageExports,ManageSecrets");
    let url = format!("{}/v1/exports", server.url);
    let post =
        |key: &str, body: Value| call("POST", &url, Some(key), Some(body.to_string().into_bytes()));

    let values = json!({
        "services": { "churn": { "versions": ["v1"] } },
        "secrets": { "s3.secret_access_key": { "includeValue": true } },
        "passphrase": PASSPHRASE,
    });
    let (code, body) = post(&exports_only, values.clone());
    assert_eq!(code, 403, "{body}");
    assert!(!body.to_string().contains(PASSPHRASE));

    for (bad, says) in [
        (json!({ "workflows": { "nope": {} } }), "nope"),
        (
            json!({ "services": { "churn": { "versions": ["v7"] } } }),
            "v7",
        ),
        (
            json!({ "secrets": { "s3.secret_access_key": { "includeValue": true } }, "passphrase": "short" }),
            "8",
        ),
        (json!({ "tables": {} }), "tables"),
    ] {
        let (code, body) = post(&with_secrets, bad.clone());
        assert_eq!(code, 400, "{bad}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{bad}: {message}");
        assert!(!message.contains("short"), "{message}");
    }
    let (code, body) = call(
        "POST",
        &url,
        Some(&with_secrets),
        Some(b"{\"passphrase\": ".to_vec()),
    );
    assert_eq!(code, 400, "{body}");

    let (code, created) = post(&with_secrets, values);
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["status"], "pending");
    let id = created["id"].as_str().unwrap().to_owned();
    let done = wait_export(&server, &with_secrets, &id);
    assert_eq!(done["status"], "completed", "{done}");
    assert!(!done.to_string().contains(PASSPHRASE) && !done.to_string().contains(S3_SECRET));

    let bytes = runtime().block_on(async {
        let resp = reqwest::Client::new()
            .get(format!("{url}/{id}/download"))
            .bearer_auth(&exports_only)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        assert_eq!(resp.headers()["content-type"], "application/zip");
        resp.bytes().await.unwrap()
    });
    assert_eq!(bytes.len() as u64, done["size"].as_u64().unwrap());
    let zip = env.write("http-export.zip", &bytes);
    let opened = open_export(&zip, Some(PASSPHRASE));
    assert_eq!(opened["mismatched"], json!([]), "{opened}");
    assert_eq!(
        opened["secrets"],
        json!({ "s3.secret_access_key": S3_SECRET })
    );
    assert_no_plain_secret(&zip, &opened);
    let entries = opened["entries"].to_string();
    assert!(entries.contains("packages/churn/v1.zip") && !entries.contains("v2.zip"));

    // Everything (no body): every object, no values, so no secrets.age.
    let (code, all) = call("POST", &url, Some(&exports_only), None);
    assert_eq!(code, 201, "{all}");
    let all = wait_export(&server, &exports_only, all["id"].as_str().unwrap());
    assert_eq!(all["status"], "completed", "{all}");
    let kinds: Vec<String> = all["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            format!(
                "{} {}",
                o["kind"].as_str().unwrap(),
                o["name"].as_str().unwrap()
            )
        })
        .collect();
    for wanted in [
        "workflow churn-service",
        "workflow logs",
        "workflow stray",
        "plugin my-logfmt",
        "service churn",
        "infra local-nodes",
        "deployment churn-local",
        "variable day",
        "secret node-admin.token",
    ] {
        assert!(
            kinds.iter().any(|k| k == wanted),
            "{wanted} not in {kinds:?}"
        );
    }

    let (code, list) = call(
        "GET",
        &format!("{url}?status=completed"),
        Some(&exports_only),
        None,
    );
    assert_eq!(code, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");
    let (code, body) = call(
        "GET",
        &format!("{url}?status=lost"),
        Some(&exports_only),
        None,
    );
    assert_eq!(code, 400, "{body}");

    let (code, body) = call("DELETE", &format!("{url}/{id}"), Some(&exports_only), None);
    assert_eq!(code, 200, "{body}");
    let (code, _) = call(
        "GET",
        &format!("{url}/{id}/download"),
        Some(&exports_only),
        None,
    );
    assert_eq!(code, 404);
    assert!(!env.home().join(format!("exports/{id}.zip")).exists());
    let (code, _) = call(
        "GET",
        &format!("{url}/{id}"),
        Some(&key(&env, "viewer", "ViewJobs")),
        None,
    );
    assert_eq!(code, 403);
}
