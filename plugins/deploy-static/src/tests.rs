//! `apply`, `status` and `delete`, natively, against a scripted transport: which nodes are
//! asked what, and what their answers (or their silence) make of the operation. The component
//! itself runs against real `ferry serve` nodes in the end-to-end tests (`tests/e2e/deploy.rs`).

use ferry_guest::deploy::{Operation, Target};
use ferry_guest::testing::{self, Script, Step, header};
use serde_json::json;

use crate::config::{self, Config};
use crate::driver;
use crate::exports::ferry::plugin::deployer::Health;
use crate::plan::State;

fn cfg(nodes: &[&str]) -> Config {
    config::for_tests(&[("nodes", &serde_json::to_string(nodes).unwrap())]).unwrap()
}

const A: &str = "http://a.test:8080";
const B: &str = "http://b.test:8080";
const C: &str = "http://c.test:8080";

/// A target serving `version` (or disabled) with a package archive on disk, remembering
/// `nodes` from earlier calls.
fn target(version: Option<&str>, nodes: &[&str]) -> Target {
    let mut t = testing::target(&version.map(|v| (v, 100)).into_iter().collect::<Vec<_>>());
    for v in &mut t.versions {
        let path = testing::scratch("deploy-static", &format!("{}.zip", v.version));
        std::fs::write(&path, format!("zip of {}", v.version)).unwrap();
        v.archive = path.to_string_lossy().into_owned();
    }
    if !nodes.is_empty() {
        let state = State {
            nodes: nodes.iter().map(|n| n.to_string()).collect(),
        };
        t.state = serde_json::to_string(&state).unwrap();
    }
    t
}

fn remembered(op: &Operation) -> Vec<String> {
    serde_json::from_str::<State>(&op.state).unwrap().nodes
}

fn deployed() -> serde_json::Value {
    json!({"service": "churn", "version": "v1"})
}

#[test]
fn apply_pushes_the_package_to_every_node() {
    let script = Script::new(vec![
        (
            "PUT http://a.test:8080/v1/node/services/churn",
            200,
            deployed(),
        ),
        (
            "PUT http://b.test:8080/v1/node/services/churn",
            200,
            deployed(),
        ),
    ]);
    let op = driver::apply(&cfg(&[A, B]), &script, &target(Some("v1"), &[])).unwrap();
    script.finished();
    assert!(op.done);
    assert_eq!(op.message, "v1 serving on 2 of 2 nodes");
    assert_eq!(remembered(&op), [A, B]);
    let put = script.request("a.test");
    assert_eq!(put.body, b"zip of v1");
    assert_eq!(header(&put, "content-type"), Some("application/zip"));
}

#[test]
fn a_node_that_is_down_degrades_the_apply_unless_no_node_took_it() {
    let down = |node: &str| Step::fails(node, "unreachable", "connection refused");
    let script = Script::of([
        Step::json(A, 200, &deployed()),
        down("PUT http://b.test:8080"),
    ]);
    let op = driver::apply(&cfg(&[A, B]), &script, &target(Some("v1"), &[])).unwrap();
    assert_eq!(
        op.message,
        "v1 serving on 1 of 2 nodes; http://b.test:8080 unreachable: connection refused"
    );
    // The node that is down is remembered: it serves the version once back.
    assert_eq!(remembered(&op), [A, B]);

    let script = Script::of([down(A), down(B)]);
    let e = driver::apply(&cfg(&[A, B]), &script, &target(Some("v1"), &[])).unwrap_err();
    assert_eq!(e.code, "unreachable");
    assert!(
        e.message
            .starts_with("no node took the package: v1 serving on 0 of 2 nodes;"),
        "{}",
        e.message
    );
}

#[test]
fn a_nodes_own_error_fails_the_apply() {
    let script = Script::new(vec![(
        A,
        401,
        json!({"error": {"code": "unauthorized", "message": "no valid node admin key"}}),
    )]);
    let e = driver::apply(&cfg(&[A, B]), &script, &target(Some("v1"), &[])).unwrap_err();
    script.finished();
    assert_eq!(e.code, "unauthorized");
    assert_eq!(
        e.message,
        "node http://a.test:8080 answered 401: no valid node admin key"
    );
}

#[test]
fn a_removed_node_is_told_to_drop_the_service_and_forgotten_once_it_did() {
    let script = Script::of([
        Step::json("PUT http://a.test:8080", 200, &deployed()),
        Step::json(
            "DELETE http://b.test:8080/v1/node/services/churn",
            200,
            &json!({"undeployed": "churn"}),
        ),
        Step::fails("DELETE http://c.test:8080", "unreachable", "timed out"),
    ]);
    let op = driver::apply(&cfg(&[A]), &script, &target(Some("v2"), &[A, B, C])).unwrap();
    script.finished();
    assert_eq!(
        op.message,
        "v2 serving on 1 of 1 nodes; service dropped from removed node http://b.test:8080; removed node http://c.test:8080 still to drop the service (unreachable: timed out); the next update tries again"
    );
    assert_eq!(remembered(&op), [A, C]);
}

#[test]
fn disabling_drops_the_service_where_it_is() {
    let script = Script::of([
        Step::json(
            "DELETE http://a.test:8080",
            200,
            &json!({"undeployed": "churn"}),
        ),
        // Not there: nothing to drop.
        Step::json(
            "DELETE http://b.test:8080",
            404,
            &json!({"error": {"code": "not_found", "message": "no service churn"}}),
        ),
    ]);
    let op = driver::apply(&cfg(&[A, B]), &script, &target(None, &[A, B])).unwrap();
    script.finished();
    assert_eq!(op.message, "service removed on 2 of 2 nodes");
}

#[test]
fn delete_needs_every_configured_node_but_not_a_removed_one() {
    let script = Script::of([
        Step::json("DELETE http://a.test:8080", 200, &json!({})),
        Step::fails("DELETE http://b.test:8080", "unreachable", "refused"),
    ]);
    let e = driver::delete(&cfg(&[A, B]), &script, &target(Some("v1"), &[A, B])).unwrap_err();
    assert_eq!(e.code, "unreachable");
    assert_eq!(
        e.message,
        "service not removed on 1 of 2 nodes; http://b.test:8080 unreachable: refused; delete again once the node is back (or remove it from the infra's nodes)"
    );

    let script = Script::of([
        Step::json("DELETE http://a.test:8080", 200, &json!({})),
        Step::fails(
            "DELETE http://c.test:8080",
            "host_denied",
            "DELETE http://c.test:8080/v1/node/services/churn: the host refused the request",
        ),
    ]);
    let op = driver::delete(&cfg(&[A]), &script, &target(Some("v1"), &[A, C])).unwrap();
    script.finished();
    assert!(op.done);
    assert_eq!(op.state, "", "nothing is left to remember");
    assert!(
        op.message
            .starts_with("service removed on 1 of 2 nodes; http://c.test:8080 unreachable: DELETE"),
        "{}",
        op.message
    );
}

#[test]
fn status_asks_every_node_what_it_serves() {
    let serves = |versions: &[&str]| json!({"items": versions.iter().map(|v| json!({"service": "churn", "version": v})).collect::<Vec<_>>()});
    let script = Script::of([
        Step::json(
            "GET http://a.test:8080/v1/node/services",
            200,
            &serves(&["v2"]),
        ),
        Step::fails("GET http://b.test:8080", "unreachable", "refused"),
        Step::json(
            "GET http://c.test:8080/v1/node/services",
            200,
            &serves(&["v1"]),
        ),
    ]);
    let seen = driver::status(&cfg(&[A, B]), &script, &target(Some("v2"), &[A, B, C])).unwrap();
    script.finished();
    assert_eq!(seen.health, Health::Degraded);
    assert_eq!(seen.serving, ["v2", "v1"]);
    assert_eq!(
        seen.urls,
        [
            "http://a.test:8080/public/api/v1/churn/",
            "http://b.test:8080/public/api/v1/churn/"
        ]
    );
    let statuses: Vec<&str> = seen.resources.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(statuses, ["serving v2", "unreachable", "removing"]);
}

#[test]
fn describes_a_deployer_and_its_settings() {
    use ferry_guest::types::PluginKind;
    let d = <crate::StaticDeployer as crate::about::Guest>::describe();
    assert_eq!(
        (d.name.as_str(), d.kind),
        ("deploy-static", PluginKind::Deployer)
    );
    let settings: Vec<(&str, bool, Option<&str>)> = d
        .settings
        .iter()
        .map(|s| (s.name.as_str(), s.required, s.default.as_deref()))
        .collect();
    assert_eq!(
        settings,
        [("nodes", true, None), ("retries", false, Some("2"))]
    );
}
