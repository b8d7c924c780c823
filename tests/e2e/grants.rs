//! What `ferry validate` (and `ferry run`, `ferry infras apply`, `PUT /v1/workflows`) refuses
//! about grants before anything runs: two credentials for one host, an endpoint setting on a
//! host nothing grants, a declared credential nothing grants, and a deploy step's stored infra
//! whose secret is missing — each named, so the user knows what to change.

use std::path::Path;

use serde_json::Value;

use crate::server::{Server, call, key};
use crate::support::*;

/// `ferry validate FILE` with `env_vars` set: exit code and stderr.
fn validate(env: &Env, file: &Path, env_vars: &[(&str, &str)]) -> (Option<i32>, String) {
    let out = env
        .command(&["validate", file.to_str().unwrap()])
        .envs(env_vars.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code(),
        format!("{}{}", stdout(&out), stderr(&out)),
    )
}

fn assert_names(text: &str, needles: &[&str]) {
    for n in needles {
        assert!(text.contains(n), "`{n}` not in: {text}");
    }
}

/// An S3 import (nothing listens there: validate makes no request) with `grants`, and `extra`
/// appended to the file (credentials, infras).
fn s3_import(endpoint: &str, grants: &str, extra: &str) -> String {
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
source_settings = {{ bucket = "b", endpoint = "{endpoint}" }}
grants = {{ {grants} }}

[[steps]]
name = "ingest"
kind = "ingest"
input = "import"
table = "t"
{extra}"#
    )
}

const S3_KEYS: &[(&str, &str)] = &[
    ("FERRY_SECRET_S3_ACCESS_KEY_ID", "AKIAFERRYTEST"),
    ("FERRY_SECRET_S3_SECRET_ACCESS_KEY", "secret"),
    ("FERRY_SECRET_S3_SM_ACCESS_KEY_ID", "AKIAFERRYTEST"),
    ("FERRY_SECRET_S3_SM_SECRET_ACCESS_KEY", "secret"),
];

/// A SageMaker infra on `api` (SageMaker) and `s3`, with `credentials` as its grants.
fn sagemaker_infra(name: &str, api: &str, s3: &str, credentials: &str) -> String {
    format!(
        r#"
[infras.{name}]
type = "sagemaker"
credentials = [{credentials}]
[infras.{name}.settings]
endpoint = "{api}"
s3_endpoint = "{s3}"
bucket = "models"
image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn-serve:1"
role_arn = "arn:aws:iam::123456789012:role/ferry-sagemaker"
"#
    )
}

const SM_CREDENTIAL: &str = r#"
[credentials.s3-sm]
type = "aws"
region = "us-east-1"
service = "sagemaker"
"#;

#[test]
fn two_credentials_for_one_host_are_refused_naming_both_and_the_host() {
    let env = Env::new();
    let host = "http://127.0.0.1:5000";
    // In an import step.
    let wf = env.write(
        "import.toml",
        s3_import(
            host,
            &format!(
                r#"credentials = [{{ name = "s3", hosts = ["{host}"] }}, {{ name = "s3-sm", hosts = ["http://127.0.0.1:*"] }}]"#
            ),
            SM_CREDENTIAL,
        ),
    );
    let (code, out) = validate(&env, &wf, S3_KEYS);
    assert_eq!(code, Some(78), "{out}");
    assert_names(
        &out,
        &[
            "`s3`",
            "`s3-sm`",
            host,
            "http://127.0.0.1:*",
            "services = [",
        ],
    );

    // In an infra the workflow deploys to: S3 and SageMaker behind one port, one credential
    // each.
    let both = r#"{ name = "s3", hosts = ["http://127.0.0.1:5000"] }, { name = "s3-sm", hosts = ["http://127.0.0.1:5000"] }"#;
    let infra = sagemaker_infra("sm", host, host, both);
    let wf = deploying_to(
        &env,
        "sm",
        &format!(
            "[credentials.s3]\ntype = \"aws\"\nregion = \"us-east-1\"\n{SM_CREDENTIAL}{infra}"
        ),
    );
    let (code, out) = validate(&env, &wf, S3_KEYS);
    assert_eq!(code, Some(78), "{out}");
    assert_names(&out, &["infra `sm`", "`s3`", "`s3-sm`", host]);

    // And in an infra file: refused, nothing stored.
    let file = env.write(
        "infras.toml",
        format!("[credentials.s3]\ntype = \"aws\"\nregion = \"us-east-1\"\n{SM_CREDENTIAL}{infra}"),
    );
    let out = env.ferry(&["infras", "apply", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(65), "{}", stdout(&out));
    assert_names(&stderr(&out), &["infra `sm`", "`s3`", "`s3-sm`", host]);
    let (_, listed) = env.json(&["infras", "list"]);
    assert_eq!(listed["items"], Value::Array(vec![]), "{listed}");
}

#[test]
fn an_endpoint_setting_on_a_host_nothing_grants_is_refused_by_validate_and_run() {
    let env = Env::new();
    // The source is pointed at :9 but granted :1 only.
    let wf = env.write(
        "source.toml",
        s3_import(
            "http://127.0.0.1:9",
            r#"credentials = [{ name = "s3", hosts = ["http://127.0.0.1:1"] }]"#,
            "",
        ),
    );
    let (code, out) = validate(&env, &wf, S3_KEYS);
    assert_eq!(code, Some(78), "{out}");
    assert_names(
        &out,
        &["setting `endpoint`", "http://127.0.0.1:9", "not granted"],
    );
    let out = env
        .command(&["run", wf.to_str().unwrap()])
        .envs(S3_KEYS.iter().copied())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78), "{}", stderr(&out));
    let (_, jobs) = env.json(&["jobs", "list"]);
    assert_eq!(jobs["items"], Value::Array(vec![]), "no job: {jobs}");

    // An infra's model bucket on a host its grants lack: in a workflow, and in an infra file.
    let infra = sagemaker_infra(
        "sm",
        "http://127.0.0.1:5000",
        "http://127.0.0.1:5001",
        r#"{ name = "s3-sm", hosts = ["http://127.0.0.1:5000"] }"#,
    );
    let wf = deploying_to(&env, "sm", &format!("{SM_CREDENTIAL}{infra}"));
    let (code, out) = validate(&env, &wf, S3_KEYS);
    assert_eq!(code, Some(78), "{out}");
    assert_names(
        &out,
        &[
            "infra `sm`",
            "setting `s3_endpoint`",
            "http://127.0.0.1:5001",
        ],
    );
    let file = env.write("infras.toml", format!("{SM_CREDENTIAL}{infra}"));
    let out = env.ferry(&["infras", "apply", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(65), "{}", stdout(&out));
    assert_names(
        &stderr(&out),
        &["setting `s3_endpoint`", "http://127.0.0.1:5001"],
    );
}

#[test]
fn a_declared_credential_nothing_grants_is_refused_with_the_grant_it_likely_meant() {
    let env = Env::new();
    let host = r#"credentials = [{ name = "s3", hosts = ["http://127.0.0.1:9"] }]"#;
    // Left over: everything else is fine.
    let text = s3_import(
        "http://127.0.0.1:9",
        host,
        "\n[credentials.spare]\ntype = \"bearer\"\n",
    );
    let line = text
        .lines()
        .position(|l| l == "[credentials.spare]")
        .unwrap()
        + 1;
    let wf = env.write("spare.toml", &text);
    let (code, out) = validate(&env, &wf, S3_KEYS);
    assert_eq!(code, Some(78), "{out}");
    assert_names(
        &out,
        &[
            &format!("spare.toml:{line}:1"),
            "credential `spare` is declared but no step or infra grants it",
        ],
    );

    // A typo in the grant: both sides say so.
    let wf = env.write(
        "typo.toml",
        s3_import(
            "http://127.0.0.1:9",
            r#"credentials = [{ name = "s3s", hosts = ["http://127.0.0.1:9"] }]"#,
            "",
        ),
    );
    let (code, out) = validate(&env, &wf, S3_KEYS);
    assert_eq!(code, Some(78), "{out}");
    assert_names(
        &out,
        &[
            "credential `s3s` is not declared in [credentials], did you mean `s3`?",
            "credential `s3` is declared but no step or infra grants it (a grant names `s3s`: did you mean `s3`?)",
        ],
    );

    // In an infra file, too: nothing is stored.
    let file = env.write(
        "infras.toml",
        format!(
            "[credentials.spare]\ntype = \"bearer\"\n{SM_CREDENTIAL}{}",
            sagemaker_infra(
                "sm",
                "http://127.0.0.1:5000",
                "http://127.0.0.1:5000",
                r#"{ name = "s3-sm", hosts = ["http://127.0.0.1:5000"] }"#
            )
        ),
    );
    let out = env.ferry(&["infras", "apply", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(65), "{}", stdout(&out));
    assert_names(
        &stderr(&out),
        &["credential `spare` is declared but no step or infra grants it"],
    );
}

/// The example deploy workflow (copied with what it names) deploying to infra `infra`,
/// declared after it with `declarations`.
fn deploying_to(env: &Env, infra: &str, declarations: &str) -> std::path::PathBuf {
    let wf = copy_churn_deploy(&env.path(&format!("deploy-{infra}")));
    let text = std::fs::read_to_string(&wf)
        .unwrap()
        .replace("infra = \"local-nodes\"", &format!("infra = \"{infra}\""));
    std::fs::write(&wf, format!("{text}\n{declarations}")).unwrap();
    wf
}

/// `workflows/` as a server's workflows directory holds it: the deploy workflow with the
/// service file, model and data it names, relative paths as written.
fn copy_churn_deploy(into: &Path) -> std::path::PathBuf {
    let repo = repo().join("workflows");
    for dir in ["data/customers", "models/churn"] {
        crate::peers::copy_dir(&repo.join(dir), &into.join(dir));
    }
    for file in ["churn-deploy.toml", "churn.service.toml"] {
        std::fs::copy(repo.join(file), into.join(file)).unwrap();
    }
    into.join("churn-deploy.toml")
}

#[test]
fn a_deploy_to_a_stored_infra_whose_secret_is_missing_is_refused_before_anything_runs() {
    const ADMIN_VAR: &str = "FERRY_SECRET_NODE_ADMIN_TOKEN";
    let env = Env::new();
    let wf = copy_churn_deploy(&env.path("workflows"));
    // Stored without its secret (the secret is needed when the infra is used, not stored).
    let infras = repo().join("workflows/infras.toml");
    let out = env.ferry(&["infras", "apply", infras.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));

    let (code, out) = validate(&env, &wf, &[]);
    assert_eq!(code, Some(78), "{out}");
    assert_names(
        &out,
        &["churn-deploy.toml:", "infra `local-nodes`", ADMIN_VAR],
    );

    // `ferry run` refuses it too, before it ingests or packages anything.
    let out = env.ferry(&["run", wf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(78), "{}", stderr(&out));
    assert_names(&stderr(&out), &[ADMIN_VAR]);
    let (_, jobs) = env.json(&["jobs", "list"]);
    assert_eq!(jobs["items"], Value::Array(vec![]), "{jobs}");
    let (_, packages) = env.json(&["packages", "list"]);
    assert!(
        !packages.to_string().contains("\"v1\""),
        "no package built: {packages}"
    );

    // With the secret it is valid.
    let (code, out) = validate(&env, &wf, &[(ADMIN_VAR, "fry_x")]);
    assert_eq!(code, Some(0), "{out}");
    assert_names(&out, &["→ deploy on `local-nodes`"]);

    // Over HTTP, a server without the secret refuses to register it, and writes nothing.
    let admin = key(&env, "admin", "ManageWorkflows,ViewJobs");
    let server = Server::start(&env, &[]);
    std::fs::remove_file(&wf).unwrap();
    let url = format!("{}/v1/workflows/churn-deploy", server.url);
    let text = std::fs::read(repo().join("workflows/churn-deploy.toml")).unwrap();
    let (code, e) = call("PUT", &url, Some(&admin), Some(text));
    assert_eq!(
        (code, e["error"]["code"].as_str()),
        (400, Some("invalid_workflow")),
        "{e}"
    );
    assert_names(&e["error"]["message"].to_string(), &[ADMIN_VAR]);
    let (code, _) = call("GET", &url, Some(&admin), None);
    assert_eq!(code, 404);
}
