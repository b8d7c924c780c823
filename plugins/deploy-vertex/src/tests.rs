//! The whole call sequence of `apply`, `poll` and `delete`, natively, against a scripted
//! transport. The component itself runs against drongo, the shim and fake-gcs-server in the
//! end-to-end tests (`tests/e2e/deploy.rs`).

use ferry_guest::deploy::{Operation, Target};
use ferry_guest::testing::{self, Script};
use serde_json::{Value, json};

use crate::config::{self, Config};
use crate::driver::{self, Token};
use crate::plan::{Goal, State};

fn cfg() -> Config {
    config::for_tests(&[
        ("project", "p"),
        ("bucket", "models"),
        ("image", "img:1"),
        ("endpoint", "http://vertex.test"),
        ("gcs_endpoint", "http://gcs.test"),
    ])
    .unwrap()
}

const P: &str = "projects/p/locations/us-central1";

fn target(versions: &[(&str, u8)], state: &str) -> Target {
    let mut t = testing::target(versions);
    for v in &mut t.versions {
        v.files = testing::package("deploy-vertex", &v.version);
    }
    t.state = state.to_owned();
    t
}

fn state(op: &Operation) -> State {
    serde_json::from_str(&op.state).unwrap()
}

fn done(name: &str, response: Value) -> Value {
    json!({"name": format!("{P}/operations/{name}"), "done": true, "response": response})
}

fn running(name: &str) -> Value {
    json!({"name": format!("{P}/operations/{name}"), "done": false, "metadata": {}})
}

fn gcs_ok() -> Value {
    json!({"kind": "storage#object"})
}

#[test]
fn a_first_apply_of_done_operations_finishes_in_one_call() {
    let script = Script::new(vec![
        (
            "POST http://gcs.test/upload/storage/v1/b/models/o?uploadType=media&name=ferry%2Fchurn%2Fv1%2Fmanifest.json",
            200,
            gcs_ok(),
        ),
        (
            "name=ferry%2Fchurn%2Fv1%2Fmodel%2Fweights.json",
            200,
            gcs_ok(),
        ),
        (
            "POST http://vertex.test/v1/projects/p/locations/us-central1/models:upload",
            200,
            done("2", json!({"model": format!("{P}/models/1")})),
        ),
        (
            "POST http://vertex.test/v1/projects/p/locations/us-central1/endpoints?endpointId=churn",
            200,
            done("4", json!({"name": format!("{P}/endpoints/3")})),
        ),
        (
            "POST http://vertex.test/v1/projects/p/locations/us-central1/endpoints/3:deployModel",
            200,
            done("6", json!({"deployedModel": {"id": "5"}})),
        ),
    ]);
    let op = driver::start(&cfg(), &script, &target(&[("v1", 100)], ""), Goal::Apply).unwrap();
    script.finished();
    assert!(op.done, "{op:?}");
    assert_eq!(op.message, format!("serving v1 (100%) on {P}/endpoints/3"));
    let s = state(&op);
    assert_eq!(
        s.versions[0].objects,
        [
            "ferry/churn/v1/manifest.json",
            "ferry/churn/v1/model/weights.json"
        ]
    );
    assert_eq!(s.versions[0].deployed.as_deref(), Some("5"));
    assert_eq!(s.traffic, [("5".to_owned(), 100)].into());
    let upload = script.body_of("models:upload");
    assert_eq!(
        upload["model"]["artifactUri"],
        "gs://models/ferry/churn/v1/"
    );
    let deploy = script.body_of(":deployModel");
    assert_eq!(deploy["trafficSplit"], json!({"0": 100}));
    assert_eq!(deploy["deployedModel"]["model"], format!("{P}/models/1"));
}

#[test]
fn a_create_whose_first_answer_was_lost_takes_what_it_made() {
    // The retried models:upload and endpoints.create find their ids taken: the resources an
    // earlier attempt made are the ones, not a second copy.
    let exists = |what: &str| json!({"error": {"code": 409, "message": format!("{what} already exists"), "status": "ALREADY_EXISTS"}});
    let script = Script::new(vec![
        ("upload", 200, gcs_ok()),
        ("upload", 200, gcs_ok()),
        ("models:upload", 409, exists("model")),
        ("endpoints?endpointId=churn", 409, exists("endpoint")),
        (
            "endpoints/churn:deployModel",
            200,
            done("6", json!({"deployedModel": {"id": "5"}})),
        ),
    ]);
    let op = driver::start(&cfg(), &script, &target(&[("v1", 100)], ""), Goal::Apply).unwrap();
    script.finished();
    assert!(op.done, "{op:?}");
    let s = state(&op);
    assert_eq!(
        s.endpoint.as_deref(),
        Some(&*format!("{P}/endpoints/churn"))
    );
    assert_eq!(
        s.versions[0].model.as_deref(),
        Some(&*format!("{P}/models/churn--v1"))
    );
    assert_eq!(script.body_of("models:upload")["modelId"], "churn--v1");
}

#[test]
fn a_running_operation_is_polled_and_a_bare_done_is_read_back() {
    let before = State {
        endpoint: Some(format!("{P}/endpoints/3")),
        versions: vec![crate::plan::VersionState {
            version: "v1".into(),
            model: Some(format!("{P}/models/1")),
            deployed: Some("5".into()),
            ..Default::default()
        }],
        traffic: [("5".to_owned(), 100)].into(),
    };
    let before = serde_json::to_string(&before).unwrap();
    let want = [("v1", 20), ("v2", 80)];
    let script = Script::new(vec![
        ("upload", 200, gcs_ok()),
        ("upload", 200, gcs_ok()),
        ("models:upload", 200, running("8")),
    ]);
    let op = driver::start(&cfg(), &script, &target(&want, &before), Goal::Apply).unwrap();
    script.finished();
    assert!(!op.done);
    assert_eq!(
        op.message,
        format!("uploading the model of v2: waiting for operation {P}/operations/8")
    );
    assert!(matches!(op.token().unwrap(), Token::Waiting { .. }));
    // The uploaded objects are in the state already.
    assert_eq!(state(&op).version("v2").unwrap().objects.len(), 2);

    // Still running: same token.
    let script = Script::new(vec![(
        "GET http://vertex.test/v1/projects/p/locations/us-central1/operations/8",
        200,
        running("8"),
    )]);
    let again = driver::resume(&cfg(), &script, &target(&want, &op.state), &op).unwrap();
    assert_eq!((again.done, &again.token), (false, &op.token));

    // Done without a response (drongo): the model is found by name, then deployed; that
    // deploy runs too and, done bare as well, its id is read from the endpoint.
    let script = Script::new(vec![
        (
            "operations/8",
            200,
            json!({"name": format!("{P}/operations/8"), "done": true}),
        ),
        (
            "GET http://vertex.test/v1/projects/p/locations/us-central1/models?filter=display_name%3D%22churn-v2%22",
            200,
            json!({"models": [
                {"displayName": "churn-v1", "name": format!("{P}/models/1")},
                {"displayName": "churn-v2", "name": format!("{P}/models/7"), "createTime": "2026-11-26T09:20:31.258176Z"},
            ]}),
        ),
        ("endpoints/3:deployModel", 200, running("10")),
    ]);
    let op = driver::resume(&cfg(), &script, &target(&want, &op.state), &again).unwrap();
    script.finished();
    assert_eq!(
        state(&op).version("v2").unwrap().model.as_deref(),
        Some(&*format!("{P}/models/7"))
    );
    assert_eq!(
        script.body_of(":deployModel")["trafficSplit"],
        json!({"0": 80, "5": 20})
    );

    let script = Script::new(vec![
        (
            "operations/10",
            200,
            json!({"name": format!("{P}/operations/10"), "done": true}),
        ),
        (
            "GET http://vertex.test/v1/projects/p/locations/us-central1/endpoints/3",
            200,
            json!({
                "deployedModels": [{"id": "5", "model": format!("{P}/models/1")}, {"id": "9", "model": format!("{P}/models/7")}],
                "trafficSplit": {"0": 80, "5": 20},
            }),
        ),
    ]);
    let op = driver::resume(&cfg(), &script, &target(&want, &op.state), &op).unwrap();
    script.finished();
    assert!(op.done, "{op:?}");
    let s = state(&op);
    assert_eq!(s.version("v2").unwrap().deployed.as_deref(), Some("9"));
    assert_eq!(
        s.traffic,
        [("5".to_owned(), 20), ("9".to_owned(), 80)].into()
    );
}

#[test]
fn a_failed_operation_is_the_error_with_the_clouds_message() {
    let quota = "The following quota metrics exceed quota limits: aiplatform.googleapis.com/custom_model_serving_cpus_per_machine_type (RESOURCE_EXHAUSTED)";
    let state = State {
        endpoint: Some(format!("{P}/endpoints/3")),
        versions: vec![crate::plan::VersionState {
            version: "v1".into(),
            model: Some(format!("{P}/models/1")),
            ..Default::default()
        }],
        ..Default::default()
    };
    let state = serde_json::to_string(&state).unwrap();
    let t = target(&[("v1", 100)], &state);
    let script = Script::new(vec![(":deployModel", 200, running("6"))]);
    let op = driver::start(&cfg(), &script, &t, Goal::Apply).unwrap();
    let script = Script::new(vec![(
        "operations/6",
        200,
        json!({"name": "o/6", "done": true, "error": {"code": 8, "message": quota}}),
    )]);
    let err = driver::resume(&cfg(), &script, &t, &op).unwrap_err();
    assert_eq!(err.code, "RESOURCE_EXHAUSTED");
    assert_eq!(
        err.message,
        format!("deploying v1 failed (operation o/6): RESOURCE_EXHAUSTED: {quota}")
    );
}

#[test]
fn a_failure_after_progress_keeps_the_new_state_for_one_poll() {
    let script = Script::new(vec![
        ("upload", 200, gcs_ok()),
        ("upload", 200, gcs_ok()),
        (
            "models:upload",
            200,
            done("2", json!({"model": format!("{P}/models/1")})),
        ),
        (
            "POST http://vertex.test/v1/projects/p/locations/us-central1/endpoints",
            403,
            json!({"error": {"code": 403, "message": "Permission 'aiplatform.endpoints.create' denied", "status": "PERMISSION_DENIED"}}),
        ),
    ]);
    let t = target(&[("v1", 100)], "");
    let op = driver::start(&cfg(), &script, &t, Goal::Apply).unwrap();
    assert!(!op.done);
    assert_eq!(
        state(&op).version("v1").unwrap().model.as_deref(),
        Some(&*format!("{P}/models/1"))
    );
    let err = driver::resume(&cfg(), &Script::new(vec![]), &t, &op).unwrap_err();
    assert_eq!(err.code, "PERMISSION_DENIED");
    assert_eq!(
        err.message,
        "creating the endpoint (endpoints.create): Vertex AI answered 403 PERMISSION_DENIED: Permission 'aiplatform.endpoints.create' denied"
    );

    // Without progress, the error comes straight back.
    let script = Script::new(vec![(
        "upload",
        404,
        json!({"error": {"code": 404, "message": "The specified bucket does not exist.", "errors": [{"reason": "notFound"}]}}),
    )]);
    let err = driver::start(&cfg(), &script, &t, Goal::Apply).unwrap_err();
    assert_eq!(err.code, "notFound");
    assert_eq!(
        err.message,
        "uploading gs://models/ferry/churn/v1/manifest.json: GCS answered 404 notFound: The specified bucket does not exist."
    );
}

#[test]
fn delete_removes_all_and_tolerates_what_is_gone() {
    let s = State {
        endpoint: Some(format!("{P}/endpoints/3")),
        versions: vec![crate::plan::VersionState {
            version: "v1".into(),
            objects: vec!["ferry/churn/v1/manifest.json".into()],
            model: Some(format!("{P}/models/1")),
            deployed: Some("5".into()),
        }],
        traffic: [("5".to_owned(), 100)].into(),
    };
    let t = target(&[("v1", 100)], &serde_json::to_string(&s).unwrap());
    let not_found =
        json!({"error": {"code": 404, "message": "Resource not found", "status": "NOT_FOUND"}});
    let script = Script::new(vec![
        ("endpoints/3:undeployModel", 200, done("11", json!({}))),
        (
            "DELETE http://vertex.test/v1/projects/p/locations/us-central1/endpoints/3",
            200,
            running("12"),
        ),
    ]);
    let op = driver::start(&cfg(), &script, &t, Goal::Delete).unwrap();
    assert_eq!(
        script.body_of(":undeployModel"),
        json!({"deployedModelId": "5", "trafficSplit": {}})
    );
    let script = Script::new(vec![
        ("operations/12", 200, json!({"name": "o/12", "done": true})),
        (
            "DELETE http://vertex.test/v1/projects/p/locations/us-central1/models/1",
            404,
            not_found,
        ),
        (
            "DELETE http://gcs.test/storage/v1/b/models/o/ferry%2Fchurn%2Fv1%2Fmanifest.json",
            404,
            json!({}),
        ),
    ]);
    let op = driver::resume(&cfg(), &script, &t, &op).unwrap();
    script.finished();
    assert!(op.done);
    assert_eq!(op.state, "");
}

#[test]
fn an_endpoint_deleted_outside_ferry_is_made_again() {
    let s = State {
        endpoint: Some(format!("{P}/endpoints/3")),
        versions: vec![crate::plan::VersionState {
            version: "v1".into(),
            model: Some(format!("{P}/models/1")),
            ..Default::default()
        }],
        ..Default::default()
    };
    let t = target(&[("v1", 100)], &serde_json::to_string(&s).unwrap());
    let not_found =
        json!({"error": {"code": 404, "message": "Resource not found", "status": "NOT_FOUND"}});
    let script = Script::new(vec![
        ("endpoints/3:deployModel", 404, not_found.clone()),
        (
            "GET http://vertex.test/v1/projects/p/locations/us-central1/endpoints/3",
            404,
            not_found,
        ),
        (
            "POST http://vertex.test/v1/projects/p/locations/us-central1/endpoints?endpointId=churn",
            200,
            done("4", json!({"name": format!("{P}/endpoints/9")})),
        ),
        (
            "endpoints/9:deployModel",
            200,
            done("6", json!({"deployedModel": {"id": "5"}})),
        ),
    ]);
    let op = driver::start(&cfg(), &script, &t, Goal::Apply).unwrap();
    script.finished();
    assert!(op.done);
    assert_eq!(
        state(&op).endpoint.as_deref(),
        Some(&*format!("{P}/endpoints/9"))
    );
}

#[test]
fn describes_a_deployer_and_its_settings() {
    use ferry_guest::types::PluginKind;
    let d = <crate::VertexDeployer as crate::about::Guest>::describe();
    assert_eq!(
        (d.name.as_str(), d.kind),
        ("deploy-vertex", PluginKind::Deployer)
    );
    let settings: Vec<(&str, bool, Option<&str>)> = d
        .settings
        .iter()
        .map(|s| (s.name.as_str(), s.required, s.default.as_deref()))
        .collect();
    assert_eq!(
        settings,
        [
            ("project", true, None),
            ("location", false, Some("\"us-central1\"")),
            ("endpoint", false, None),
            (
                "gcs_endpoint",
                false,
                Some("\"https://storage.googleapis.com\"")
            ),
            ("bucket", true, None),
            ("prefix", false, Some("\"ferry\"")),
            ("image", true, None),
            ("machine_type", false, Some("\"n1-standard-2\"")),
            ("min_replicas", false, Some("1")),
            ("max_replicas", false, None),
            ("retries", false, Some("5")),
        ]
    );
}
