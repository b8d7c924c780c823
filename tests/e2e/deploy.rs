//! Deployments end to end: one workflow file ingests, packages and deploys to two real API
//! nodes (`ferry serve` processes); versions are switched from the CLI and over HTTP; a node
//! that dies makes the deployment DEGRADED and HEALTHY again when it is back; deletion is
//! refused while something is in use, and removes the service from the nodes. A node taken out
//! of the infra's `nodes` drops the service at the next update — at the one after, if it was
//! down — and never makes the deployment DEGRADED.

use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::peers::free_port;
use crate::server::*;
use crate::support::*;

const ADMIN_VAR: &str = "FERRY_SECRET_NODE_ADMIN_TOKEN";

/// The deploying side: a state dir, and the secrets its infras' credentials need.
pub struct Controller {
    pub env: Env,
    pub secrets: Vec<(String, String)>,
}

impl Controller {
    pub fn new(secrets: &[(&str, &str)]) -> Controller {
        Controller {
            env: Env::new(),
            secrets: secrets
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    pub fn ferry(&self, args: &[&str]) -> Output {
        self.env
            .command(args)
            .envs(self.secrets.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap()
    }

    /// Runs ferry and insists it succeeds.
    pub fn ok(&self, args: &[&str]) -> Output {
        let out = self.ferry(args);
        assert!(
            out.status.success(),
            "ferry {args:?}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        out
    }

    /// Stores the infras of `text`.
    pub fn infras(&self, text: &str) {
        let file = self.env.write("infras.toml", text);
        self.ok(&["infras", "apply", file.to_str().unwrap()]);
    }

    pub fn deployment(&self, id: &str, detail: bool) -> Value {
        let mut args = vec!["deployments", "show", id];
        if detail {
            args.push("--detail");
        }
        let out = self.ferry(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

/// Two API nodes on fixed ports (so one can be restarted where the infra expects it), sharing
/// one admin key, and a controller with infra `local-nodes` pointing at them.
fn two_nodes() -> (Controller, Vec<Env>, Vec<String>) {
    let nodes = vec![Env::new(), Env::new()];
    let admin = key(&nodes[0], "node-admin", "ManageDeployments");
    let mut import = nodes[1]
        .command(&[
            "keys",
            "create",
            "node-admin",
            "--permission",
            "ManageDeployments",
            "--from-stdin",
        ])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    writeln!(import.stdin.take().unwrap(), "{admin}").unwrap();
    assert!(import.wait().unwrap().success());
    let addrs: Vec<String> = (0..2)
        .map(|_| format!("127.0.0.1:{}", free_port()))
        .collect();
    let urls: Vec<String> = addrs.iter().map(|a| format!("\"http://{a}\"")).collect();
    let infras = std::fs::read_to_string(repo().join("workflows/infras.toml"))
        .unwrap()
        .replace("\"http://127.0.0.1:8081\"", &urls[0])
        .replace("\"http://127.0.0.1:8082\"", &urls[1]);
    let controller = Controller::new(&[(ADMIN_VAR, &admin)]);
    controller.infras(&infras);
    (controller, nodes, addrs)
}

fn admin(c: &Controller) -> &str {
    &c.secrets[0].1
}

fn predict(node: &str, version: &str) {
    let (code, answer) = call(
        "POST",
        &format!("http://{node}/public/api/v1/churn/score/predict"),
        None,
        Some(br#"{"rows": [{"tenure_months": 2, "monthly_charges": 110.0}]}"#.to_vec()),
    );
    assert_eq!(code, 200, "{node}: {answer}");
    assert_eq!(answer["version"], version, "{node}: {answer}");
    let expected = 1.0 / (1.0 + (-(-1.5 - 0.06 * 2.0 + 0.035 * 110.0_f64)).exp());
    assert!((answer["results"][0]["score"].as_f64().unwrap() - expected).abs() < 1e-9);
}

fn run_workflow(c: &Controller) -> Value {
    let wf = repo().join("workflows/churn-deploy.toml");
    let out = c.ferry(&["run", wf.to_str().unwrap(), "--json"]);
    let job: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}{}", stdout(&out), stderr(&out)));
    assert!(out.status.success(), "{job}");
    job
}

#[test]
fn a_workflow_deploys_to_two_api_nodes_which_switch_degrade_recover_and_are_cleaned_up() {
    let (c, node_envs, addrs) = two_nodes();
    let mut nodes: Vec<Server> = node_envs
        .iter()
        .zip(&addrs)
        .map(|(e, a)| Server::start_on(e, a, &[]))
        .collect();

    // Ingest → package v1 → deploy, from one workflow file.
    let job = run_workflow(&c);
    let messages = job["health"]["messages"].to_string();
    assert!(
        messages.contains("deployed churn v1 as `churn-local` on `local-nodes` (HEALTHY)"),
        "{job}"
    );
    assert_eq!(job["deployments"][0]["deployment"], "churn-local", "{job}");
    let ops: Value =
        serde_json::from_slice(&c.ok(&["deployments", "operations", "churn-local"]).stdout)
            .unwrap();
    assert_eq!(ops["items"][0]["id"], job["deployments"][0]["operation"]);
    assert_eq!(ops["items"][0]["status"], "DONE");
    for node in &addrs {
        predict(node, "v1");
    }
    let (code, found) = call(
        "POST",
        &format!("http://{}/public/api/v1/churn/customer/lookup", addrs[1]),
        None,
        Some(br#"{"keys": ["C0002"]}"#.to_vec()),
    );
    assert_eq!(
        (code, &found["results"][0]["tenure_months"]),
        (200, &json!(10))
    );
    let d = c.deployment("churn-local", false);
    assert_eq!(d["observed"]["health"], "HEALTHY", "{d}");
    assert_eq!(
        d["desired"]["versions"],
        json!([{ "version": "v1", "percent": 100 }])
    );
    assert_eq!(d["observed"]["urls"].as_array().unwrap().len(), 2);

    // Refused: a second deployment of the service on the same nodes, an id clouds cannot
    // use, and changing the type of an infra deployments live on.
    let create = |id: &str| {
        c.ferry(&[
            "deployments",
            "create",
            id,
            "--service",
            "churn",
            "--infra",
            "local-nodes",
            "--version",
            "v1",
        ])
    };
    let out = create("churn-again");
    assert_eq!(out.status.code(), Some(75));
    assert!(
        stderr(&out).contains("`churn-local` already serves churn"),
        "{}",
        stderr(&out)
    );
    let out = create("Churn_Again");
    assert_eq!(out.status.code(), Some(65));
    assert!(stderr(&out).contains("lowercase"), "{}", stderr(&out));
    let retyped = c
        .env
        .write("retyped.toml", "[infras.local-nodes]\ntype = \"vertex\"\n");
    let out = c.ferry(&["infras", "apply", retyped.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(75));
    assert!(
        stderr(&out).contains("before changing its type"),
        "{}",
        stderr(&out)
    );

    // A second run builds and deploys v2; v1 is gone from the nodes, files included.
    run_workflow(&c);
    for node in &addrs {
        predict(node, "v2");
    }
    let (_, listed) = call(
        "GET",
        &format!("http://{}/v1/node/services", addrs[0]),
        Some(admin(&c)),
        None,
    );
    assert_eq!(
        listed["items"],
        json!([{ "service": "churn", "version": "v2", "endpoints": ["score", "customer"] }])
    );
    let unpacked: Vec<String> = std::fs::read_dir(node_envs[0].home().join("node/churn"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        unpacked.len() == 1 && unpacked[0].starts_with("v2-"),
        "{unpacked:?}"
    );

    // A tampered package pushed to a node is refused, and the node keeps serving what it had.
    let tampered = crate::packages::rewrite(
        &c.env.home().join("packages/churn/v1.zip"),
        |name, bytes| {
            if name.ends_with("model.json") {
                br#"{"kind": "linear", "intercept": 1e9, "weights": {}}"#.to_vec()
            } else {
                bytes
            }
        },
    );
    let (code, e) = call(
        "PUT",
        &format!("http://{}/v1/node/services/churn", addrs[0]),
        Some(admin(&c)),
        Some(std::fs::read(&tampered).unwrap()),
    );
    assert_eq!(
        (code, e["error"]["code"].as_str()),
        (400, Some("invalid_package")),
        "{e}"
    );
    assert!(e.to_string().contains("checksum"), "{e}");
    predict(&addrs[0], "v2");

    // Packages in use cannot be deleted; others can.
    let out = c.ferry(&["packages", "delete", "churn", "v2"]);
    assert_eq!(out.status.code(), Some(75));
    assert!(
        stderr(&out).contains("used by deployment churn-local"),
        "{}",
        stderr(&out)
    );

    // Switch back to v1 over HTTP: desired state, then an update operation to wait on.
    let controller_key = key(&c.env, "deployer", "ManageDeployments");
    // The controller serves the API, with the nodes' admin key in its environment.
    let workflows = c.env.path("workflows");
    let mut serve = c.env.command(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--workflows",
        workflows.to_str().unwrap(),
    ]);
    serve.env(ADMIN_VAR, admin(&c));
    let server = Server::spawn(serve);
    let api = format!("{}/v1/deployments/churn-local", server.url);
    let (code, d) = call(
        "PUT",
        &api,
        Some(&controller_key),
        Some(br#"{"version": "v1"}"#.to_vec()),
    );
    assert_eq!(
        (code, &d["desired"]["versions"][0]["version"]),
        (200, &json!("v1")),
        "{d}"
    );
    let (code, op) = call(
        "POST",
        &format!("{api}/update"),
        Some(&controller_key),
        None,
    );
    assert_eq!(
        (code, op["status"].as_str()),
        (202, Some("RUNNING")),
        "{op}"
    );
    let op = wait_operation(&server.url, &controller_key, op["id"].as_str().unwrap());
    assert_eq!(op["status"], "DONE", "{op}");
    for node in &addrs {
        predict(node, "v1");
    }
    // Over HTTP an infra's settings may change, not which hosts get the server's secrets.
    let infra_url = format!("{}/v1/infras/local-nodes", server.url);
    let (code, infra) = call("GET", &infra_url, Some(&controller_key), None);
    assert_eq!(code, 200, "{infra}");
    assert!(
        !infra.to_string().contains(admin(&c)),
        "no secret in an infra"
    );
    let mut spec = infra["spec"].clone();
    spec["stage"] = json!("prod");
    let body = |v: &Value| Some(serde_json::to_vec(v).unwrap());
    let (code, changed) = call("PUT", &infra_url, Some(&controller_key), body(&spec));
    assert_eq!(
        (code, &changed["stage"]),
        (200, &json!("prod")),
        "{changed}"
    );
    spec["credentials"][0]["hosts"] = json!(["http://127.0.0.1:1"]);
    let (code, e) = call("PUT", &infra_url, Some(&controller_key), body(&spec));
    assert_eq!(
        (code, e["error"]["code"].as_str()),
        (403, Some("credential_grants")),
        "{e}"
    );
    assert!(!e.to_string().contains(admin(&c)));
    let (code, e) = call("POST", &format!("{api}/update"), None, None);
    assert_eq!(
        (code, e["error"]["code"].as_str()),
        (401, Some("unauthorized")),
        "{e}"
    );

    // Static nodes serve one version at a time: a split is refused by the deployer, with why.
    let out = c.ferry(&[
        "deployments",
        "set-version",
        "churn-local",
        "v1=50",
        "v2=50",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = c.ferry(&["deployments", "update", "churn-local"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("one version at a time"),
        "{}",
        stderr(&out)
    );
    let out = c.ferry(&["deployments", "set-version", "churn-local", "v2"]);
    assert!(out.status.success());
    let out = c.ferry(&["deployments", "update", "churn-local"]);
    assert!(out.status.success(), "{}", stderr(&out));
    predict(&addrs[0], "v2");
    let out = c.ferry(&["packages", "delete", "churn", "v1"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // A node goes down: DEGRADED, not failed; back up (serving its kept package): HEALTHY.
    nodes[1].kill();
    let d = c.deployment("churn-local", true);
    assert_eq!(d["observed"]["health"], "DEGRADED", "{d}");
    let down: Vec<&Value> = d["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "unreachable")
        .collect();
    assert_eq!(down.len(), 1, "{d}");
    assert_eq!(down[0]["name"], format!("http://{}", addrs[1]));
    let out = c.ferry(&["infras", "delete", "local-nodes"]);
    assert_eq!(out.status.code(), Some(75));
    assert!(
        stderr(&out).contains("live deployments (churn-local)"),
        "{}",
        stderr(&out)
    );
    nodes[1] = Server::start_on(&node_envs[1], &addrs[1], &[]);
    let d = c.deployment("churn-local", true);
    assert_eq!(d["observed"]["health"], "HEALTHY", "{d}");
    assert_eq!(d["observed"]["versions"], json!(["v2"]));

    // Deleting: refused while enabled, then removes the service from every node.
    let out = c.ferry(&["deployments", "delete", "churn-local"]);
    assert_eq!(out.status.code(), Some(75));
    assert!(stderr(&out).contains("is enabled"), "{}", stderr(&out));
    // A configured node that is down cannot be cleaned: the delete fails, the deployment stays.
    nodes[1].kill();
    let out = c.ferry(&["deployments", "delete", "churn-local", "--disable-first"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("delete again once the node is back"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        c.deployment("churn-local", false)["desired"]["enabled"],
        false
    );
    nodes[1] = Server::start_on(&node_envs[1], &addrs[1], &[]);
    let out = c.ferry(&["deployments", "delete", "churn-local"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for node in &addrs {
        let (code, _) = call(
            "POST",
            &format!("http://{node}/public/api/v1/churn/score/predict"),
            None,
            Some(br#"{"rows": []}"#.to_vec()),
        );
        assert_eq!(code, 404);
    }
    assert!(!node_envs[1].home().join("node/active/churn.zip").exists());
    let out = c.ferry(&["deployments", "show", "churn-local"]);
    assert_eq!(out.status.code(), Some(66));
    let out = c.ferry(&["infras", "delete", "local-nodes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = c.ferry(&["packages", "delete", "churn", "v2"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// `workflows/infras.toml` with `listed` as the infra's nodes and `granted` as the hosts its
/// admin key is added for (`host:port` each).
fn local_nodes(listed: &[&String], granted: &[&String]) -> String {
    let urls = |addrs: &[&String]| {
        addrs
            .iter()
            .map(|a| format!("\"http://{a}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    std::fs::read_to_string(repo().join("workflows/infras.toml"))
        .unwrap()
        .lines()
        .map(|line| {
            if line.starts_with("settings = ") {
                format!("settings = {{ nodes = [{}] }}", urls(listed))
            } else if line.starts_with("credentials = ") {
                format!(
                    "credentials = [{{ name = \"node-admin\", hosts = [{}] }}]",
                    urls(granted)
                )
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `ferry deployments update churn-local`, which must succeed; its output.
fn update(c: &Controller) -> String {
    stdout(&c.ok(&["deployments", "update", "churn-local"]))
}

/// The node at `addr` has nothing of the churn service: no endpoint, nothing listed, no kept
/// package to serve again after a restart.
fn clear_of_churn(c: &Controller, addr: &str, env: &Env) {
    let (code, e) = call(
        "POST",
        &format!("http://{addr}/public/api/v1/churn/score/predict"),
        None,
        Some(br#"{"rows": [{"tenure_months": 2, "monthly_charges": 110.0}]}"#.to_vec()),
    );
    assert_eq!(code, 404, "{addr}: {e}");
    let (code, listed) = call(
        "GET",
        &format!("http://{addr}/v1/node/services"),
        Some(admin(c)),
        None,
    );
    assert_eq!((code, &listed["items"]), (200, &json!([])), "{addr}");
    assert!(!env.home().join("node/active/churn.zip").exists());
}

/// The names of the resources `deployments show --detail` lists, with their status.
fn resources(d: &Value) -> Vec<(String, String)> {
    d["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_owned(),
                r["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_node_taken_out_of_the_infra_drops_the_service_even_when_it_was_down_at_the_update() {
    let (c, node_envs, addrs) = two_nodes();
    let (a, b) = (&addrs[0], &addrs[1]);
    let (url_a, url_b) = (format!("http://{a}"), format!("http://{b}"));
    let mut nodes: Vec<Server> = node_envs
        .iter()
        .zip(&addrs)
        .map(|(e, addr)| Server::start_on(e, addr, &[]))
        .collect();
    run_workflow(&c);
    predict(b, "v1");

    // Node b leaves the infra's nodes (the admin key is still granted for it): the update
    // drops the service there and the deployment is HEALTHY on a alone.
    c.infras(&local_nodes(&[a], &[a, b]));
    let out = update(&c);
    assert!(
        out.contains(&format!("service dropped from removed node {url_b}")),
        "{out}"
    );
    assert!(out.contains("health HEALTHY"), "{out}");
    clear_of_churn(&c, b, &node_envs[1]);
    predict(a, "v1");
    let d = c.deployment("churn-local", true);
    assert_eq!(d["observed"]["health"], "HEALTHY", "{d}");
    assert_eq!(resources(&d), [(url_a.clone(), "serving v1".to_owned())]);
    assert_eq!(
        d["observed"]["urls"],
        json!([format!("{url_a}/public/api/v1/churn/")])
    );

    // Back in the infra, b serves again; then it leaves while it is down.
    c.infras(&local_nodes(&[a, b], &[a, b]));
    update(&c);
    predict(b, "v1");
    nodes[1].kill();
    c.infras(&local_nodes(&[a], &[a, b]));
    let out = update(&c);
    assert!(
        out.contains(&format!(
            "removed node {url_b} still to drop the service (unreachable"
        )),
        "{out}"
    );
    assert!(out.contains("health HEALTHY"), "{out}");
    predict(a, "v1");
    let d = c.deployment("churn-local", true);
    assert_eq!(d["observed"]["health"], "HEALTHY", "{d}");
    assert_eq!(
        resources(&d),
        [
            (url_a.clone(), "serving v1".to_owned()),
            (url_b.clone(), "removing".to_owned())
        ],
        "{d}"
    );

    // Back up, b serves its kept package — shown as removing, not counted — until the next
    // update drops it there.
    nodes[1] = Server::start_on(&node_envs[1], b, &[]);
    predict(b, "v1");
    let d = c.deployment("churn-local", true);
    assert_eq!(d["observed"]["health"], "HEALTHY", "{d}");
    assert_eq!(d["resources"][1]["status"], "removing", "{d}");
    assert_eq!(d["resources"][1]["versions"], json!(["v1"]), "{d}");
    let out = update(&c);
    assert!(
        out.contains(&format!("service dropped from removed node {url_b}")),
        "{out}"
    );
    clear_of_churn(&c, b, &node_envs[1]);
    predict(a, "v1");
    let d = c.deployment("churn-local", true);
    assert_eq!(resources(&d), [(url_a.clone(), "serving v1".to_owned())]);

    // Deleting the deployment still reaches a removed node it remembers.
    c.infras(&local_nodes(&[a, b], &[a, b]));
    update(&c);
    nodes[1].kill();
    c.infras(&local_nodes(&[a], &[a, b]));
    update(&c);
    nodes[1] = Server::start_on(&node_envs[1], b, &[]);
    predict(b, "v1");
    c.ok(&["deployments", "delete", "churn-local", "--disable-first"]);
    clear_of_churn(&c, a, &node_envs[0]);
    clear_of_churn(&c, b, &node_envs[1]);
}

/// Polls operation `id` until it is no longer RUNNING.
fn wait_operation(url: &str, key: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, op) = call("GET", &format!("{url}/v1/operations/{id}"), Some(key), None);
        assert_eq!(code, 200, "{op}");
        if op["status"] != "RUNNING" {
            return op;
        }
        assert!(Instant::now() < deadline, "operation stuck: {op}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn validate_checks_a_deploy_steps_infra_and_its_secrets() {
    let env = Env::new();
    let workflows = repo().join("workflows");
    let text = std::fs::read_to_string(workflows.join("churn-deploy.toml"))
        .unwrap()
        .replace(
            "\"churn.service.toml\"",
            &format!("{:?}", workflows.join("churn.service.toml")),
        )
        .replace(
            "path = \"data/customers\"",
            &format!("path = {:?}", workflows.join("data/customers")),
        );
    let inline = r#"
[credentials.edge-admin]
type = "bearer"

[infras.edge]
type = "static"
settings = { nodes = ["http://127.0.0.1:9"] }
credentials = [{ name = "edge-admin", hosts = ["http://127.0.0.1:9"] }]
"#;
    // Declared in the file, its secret missing: named, with where to put it.
    let wf = env.write(
        "edge.toml",
        format!(
            "{}{inline}",
            text.replace("infra = \"local-nodes\"", "infra = \"edge\"")
        ),
    );
    let out = env.ferry(&["validate", wf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(78), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("FERRY_SECRET_EDGE_ADMIN_TOKEN"),
        "{}",
        stderr(&out)
    );
    let out = env
        .command(&["validate", wf.to_str().unwrap()])
        .env("FERRY_SECRET_EDGE_ADMIN_TOKEN", "fry_x")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("→ deploy on `edge`"),
        "{}",
        stdout(&out)
    );
    // Neither declared nor stored.
    let wf = env.write(
        "nowhere.toml",
        text.replace("infra = \"local-nodes\"", "infra = \"nowhere\""),
    );
    let out = env.ferry(&["validate", wf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(78));
    assert!(
        stderr(&out).contains("infra `nowhere` is neither declared in this file"),
        "{}",
        stderr(&out)
    );
}
