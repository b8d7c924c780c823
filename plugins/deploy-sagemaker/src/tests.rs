//! The whole call sequence of `apply`, `poll`, `status` and `delete`, natively, against a
//! scripted transport. The component itself runs against moto behind the SageMaker shim in
//! the end-to-end tests (`tests/e2e/deploy_cloud.rs`).

use ferry_guest::deploy::{Operation, Target};
use ferry_guest::testing::{self, Script, Step, header};
use serde_json::{Value, json};

use crate::config::{self, Config};
use crate::driver;
use crate::exports::ferry::plugin::deployer::Health;
use crate::plan::{State, Token};

fn cfg() -> Config {
    config::for_tests(&[
        ("bucket", "models"),
        ("image", "img:1"),
        ("role_arn", "arn:aws:iam::1:role/sm"),
        ("endpoint", "http://sm.test"),
        ("s3_endpoint", "http://s3.test"),
    ])
    .unwrap()
}

/// A SageMaker operation and its answer.
fn sm(operation: &str, status: u16, answer: Value) -> Step {
    Step::json("POST http://sm.test/", status, &answer)
        .when("x-amz-target", &format!("SageMaker.{operation}"))
}

/// What SageMaker (and moto) answer for an endpoint that does not exist.
fn no_endpoint() -> Step {
    sm(
        "DescribeEndpoint",
        400,
        json!({"__type": "ValidationException", "Message": "Could not find endpoint \"arn:aws:sagemaker:us-east-1:123456789012:endpoint/churn\"."}),
    )
}

fn described(status: &str, config: &str, variants: &[(&str, f64)]) -> Step {
    let variants: Vec<Value> = variants
        .iter()
        .map(|(name, weight)| json!({"VariantName": name, "CurrentWeight": weight, "CurrentInstanceCount": 1}))
        .collect();
    sm(
        "DescribeEndpoint",
        200,
        json!({"EndpointName": "churn", "EndpointConfigName": config, "EndpointStatus": status, "ProductionVariants": variants}),
    )
}

fn put(version: &str) -> Step {
    Step::answer(
        &format!("PUT http://s3.test/models/ferry/churn/{version}/model.tar.gz"),
        200,
        "",
    )
}

fn ok(operation: &str) -> Step {
    sm(operation, 200, json!({}))
}

fn target(versions: &[(&str, u8)], state: &str) -> Target {
    let mut t = testing::target(versions);
    for v in &mut t.versions {
        v.files = testing::package("deploy-sagemaker", &v.version);
    }
    t.state = state.to_owned();
    t
}

fn state(op: &Operation) -> State {
    serde_json::from_str(&op.state).unwrap()
}

/// The body of the first call of `operation` the script was sent.
fn body_of(script: &Script, operation: &str) -> Value {
    let target = format!("SageMaker.{operation}");
    let sent = script.sent();
    let request = sent
        .iter()
        .find(|r| header(r, "x-amz-target") == Some(target.as_str()))
        .unwrap_or_else(|| panic!("no {operation} sent"));
    serde_json::from_slice(&request.body).unwrap()
}

/// What a first apply of `v1` sends, each answered as done.
fn first_apply() -> Script {
    Script::of([
        no_endpoint(),
        put("v1"),
        ok("CreateModel"),
        ok("CreateEndpointConfig"),
        ok("CreateEndpoint"),
    ])
}

/// The state after `v1` was applied and the endpoint came up on `churn--c1`.
fn serving_v1() -> String {
    let op = driver::apply(&cfg(), &first_apply(), &target(&[("v1", 100)], "")).unwrap();
    op.state
}

#[test]
fn a_first_apply_makes_the_model_config_and_endpoint_and_polls_until_in_service() {
    let script = first_apply();
    let t = target(&[("v1", 100)], "");
    let op = driver::apply(&cfg(), &script, &t).unwrap();
    script.finished();
    assert!(!op.done);
    assert_eq!(op.message, "creating endpoint `churn` (v1 100%)");
    assert_eq!(
        op.token::<Token>().unwrap(),
        Token::Serving {
            endpoint: "churn".into(),
            config: "churn--c1".into(),
            previous: None
        }
    );
    let s = state(&op);
    assert_eq!(s.endpoint.as_deref(), Some("churn"));
    assert_eq!(s.models[0].name, "churn--v1");
    assert_eq!(s.models[0].key, "ferry/churn/v1/model.tar.gz");
    assert_eq!(s.configs[0].name, "churn--c1");

    let archive = script.request("PUT http://s3.test");
    assert_eq!(&archive.body[..2], &[0x1f, 0x8b], "a gzip");
    assert_eq!(
        body_of(&script, "CreateModel"),
        json!({"ModelName": "churn--v1", "PrimaryContainer": {"Image": "img:1", "ModelDataUrl": "s3://models/ferry/churn/v1/model.tar.gz"}, "ExecutionRoleArn": "arn:aws:iam::1:role/sm"})
    );
    assert_eq!(
        body_of(&script, "CreateEndpointConfig")["ProductionVariants"],
        json!([{"VariantName": "v1", "ModelName": "churn--v1", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large", "InitialVariantWeight": 100.0}])
    );
    assert_eq!(
        body_of(&script, "CreateEndpoint"),
        json!({"EndpointName": "churn", "EndpointConfigName": "churn--c1"})
    );

    let script = Script::of([described("Creating", "churn--c1", &[])]);
    let again = driver::poll(&cfg(), &script, &t, op.clone()).unwrap();
    assert_eq!(
        (again.done, again.message.as_str(), &again.token),
        (
            false,
            "endpoint `churn` is Creating (on its way to config `churn--c1`)",
            &op.token
        )
    );

    let script = Script::of([described("InService", "churn--c1", &[("v1", 1.0)])]);
    let done = driver::poll(&cfg(), &script, &t, again).unwrap();
    script.finished();
    assert!(done.done);
    assert_eq!(done.message, "endpoint `churn` is InService with v1 100%");
    assert_eq!(state(&done), s);
}

#[test]
fn applying_the_same_target_again_waits_for_the_first() {
    let before = serving_v1();
    let script = Script::of([described("Creating", "churn--c1", &[])]);
    let op = driver::apply(&cfg(), &script, &target(&[("v1", 100)], &before)).unwrap();
    script.finished();
    assert!(!op.done);
    assert_eq!(
        op.message,
        "waiting for endpoint `churn` to serve config `churn--c1`"
    );
}

#[test]
fn a_new_split_is_a_new_config_and_an_update_and_the_old_config_is_retired() {
    let before = serving_v1();
    let want = [("v1", 70), ("v2", 30)];
    let script = Script::of([
        described("InService", "churn--c1", &[("v1", 1.0)]),
        // v1's model serves already: only v2's is made.
        put("v2"),
        ok("CreateModel"),
        ok("CreateEndpointConfig"),
        ok("UpdateEndpoint"),
    ]);
    let t = target(&want, &before);
    let op = driver::apply(&cfg(), &script, &t).unwrap();
    script.finished();
    assert_eq!(op.message, "updating endpoint `churn` to v1 70%, v2 30%");
    assert_eq!(
        body_of(&script, "UpdateEndpoint"),
        json!({"EndpointName": "churn", "EndpointConfigName": "churn--c2"})
    );
    let weights: Vec<Value> = body_of(&script, "CreateEndpointConfig")["ProductionVariants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["InitialVariantWeight"].clone())
        .collect();
    assert_eq!(weights, [json!(70.0), json!(30.0)]);

    // Rolled out: the old config goes, both models stay in use.
    let script = Script::of([
        described("InService", "churn--c2", &[("v1", 0.7), ("v2", 0.3)]),
        ok("DeleteEndpointConfig"),
    ]);
    let done = driver::poll(&cfg(), &script, &t, op.clone()).unwrap();
    script.finished();
    assert_eq!(
        done.message,
        "endpoint `churn` is InService with v1 70%, v2 30%"
    );
    assert_eq!(
        body_of(&script, "DeleteEndpointConfig"),
        json!({"EndpointConfigName": "churn--c1"})
    );
    let s = state(&done);
    assert_eq!(s.configs.len(), 1);
    assert_eq!(s.models.len(), 2);

    // Rolled back instead: the error says why, with SageMaker's reason.
    let script = Script::of([sm(
        "DescribeEndpoint",
        200,
        json!({"EndpointConfigName": "churn--c1", "EndpointStatus": "InService", "FailureReason": "The image 'img:1' does not exist."}),
    )]);
    let e = driver::poll(&cfg(), &script, &t, op).unwrap_err();
    assert_eq!(e.code, "rolled_back");
    assert_eq!(
        e.message,
        "endpoint `churn` rolled back to config `churn--c1` instead of serving `churn--c2`: The image 'img:1' does not exist."
    );
}

#[test]
fn a_failed_endpoint_is_deleted_and_made_again() {
    let before = serving_v1();
    let t = target(&[("v1", 100)], &before);
    let script = Script::of([
        described("Failed", "churn--c1", &[]),
        ok("CreateEndpointConfig"),
        ok("DeleteEndpoint"),
    ]);
    let op = driver::apply(&cfg(), &script, &t).unwrap();
    script.finished();
    assert_eq!(
        op.message,
        "endpoint `churn` is being deleted (it had failed); it is created again with v1 100% once it is gone"
    );
    let script = Script::of([described("Deleting", "churn--c1", &[])]);
    let op = driver::poll(&cfg(), &script, &t, op).unwrap();
    assert_eq!(
        op.message,
        "waiting for endpoint `churn` (Deleting) to be gone before creating it again"
    );
    let script = Script::of([no_endpoint(), ok("CreateEndpoint")]);
    let op = driver::poll(&cfg(), &script, &t, op).unwrap();
    script.finished();
    assert_eq!(op.message, "creating endpoint `churn` again");
    assert_eq!(
        body_of(&script, "CreateEndpoint")["EndpointConfigName"],
        "churn--c2"
    );
    assert!(matches!(
        op.token::<Token>().unwrap(),
        Token::Serving { previous: None, .. }
    ));
}

#[test]
fn disabling_keeps_the_models_and_delete_removes_them_with_their_data() {
    let before = serving_v1();
    let script = Script::of([
        described("InService", "churn--c1", &[("v1", 1.0)]),
        ok("DeleteEndpoint"),
        ok("DeleteEndpointConfig"),
    ]);
    let off = target(&[], &before);
    let op = driver::apply(&cfg(), &script, &off).unwrap();
    script.finished();
    assert_eq!(op.message, "deleting endpoint `churn`");
    let script = Script::of([no_endpoint()]);
    let op = driver::poll(&cfg(), &script, &off, op).unwrap();
    assert!(op.done);
    assert_eq!(
        op.message,
        "endpoint `churn` is gone; nothing serves the deployment"
    );
    let s = state(&op);
    assert_eq!((s.endpoint, s.configs.len(), s.models.len()), (None, 0, 1));

    // Deleting, with the model already gone: fine, as is its data.
    let script = Script::of([
        no_endpoint(),
        sm(
            "DeleteModel",
            400,
            json!({"__type": "ValidationException", "Message": "Could not find model \"arn:aws:sagemaker:us-east-1:1:model/churn--v1\"."}),
        ),
        Step::answer(
            "DELETE http://s3.test/models/ferry/churn/v1/model.tar.gz",
            404,
            "",
        ),
    ]);
    let gone = driver::delete(&cfg(), &script, &target(&[], &op.state)).unwrap();
    script.finished();
    assert!(gone.done);
    assert_eq!(gone.state, "");
    assert_eq!(
        gone.message,
        "endpoint `churn`, its configs, models and model data are deleted"
    );
}

#[test]
fn errors_carry_the_clouds_code_and_message_and_leftovers_are_taken() {
    let t = target(&[("v1", 100)], "");
    let script = Script::of([
        no_endpoint(),
        put("v1"),
        sm(
            "CreateModel",
            400,
            json!({"__type": "com.amazonaws.sagemaker#ResourceLimitExceeded", "message": "The account-level service limit 'maximum number of models' is 0"}),
        ),
    ]);
    let e = driver::apply(&cfg(), &script, &t).unwrap_err();
    assert_eq!(e.code, "ResourceLimitExceeded");
    assert_eq!(
        e.message,
        "SageMaker CreateModel answered 400 ResourceLimitExceeded: The account-level service limit 'maximum number of models' is 0"
    );

    // A model left by an apply that failed after making it is that model.
    let exists = json!({"__type": "ValidationException", "message": "Cannot create already existing model \"arn:aws:sagemaker:us-east-1:1:model/churn--v1\"."});
    let script = Script::of([
        no_endpoint(),
        put("v1"),
        sm("CreateModel", 400, exists),
        ok("CreateEndpointConfig"),
        ok("CreateEndpoint"),
    ]);
    let op = driver::apply(&cfg(), &script, &t).unwrap();
    script.finished();
    assert_eq!(state(&op).models[0].name, "churn--v1");
}

#[test]
fn status_reads_the_endpoint_and_its_variants() {
    let before = serving_v1();
    let t = target(&[("v1", 100)], &before);
    let script = Script::of([described("InService", "churn--c1", &[("v1", 1.0)])]);
    let seen = driver::status(&cfg(), &script, &t).unwrap();
    script.finished();
    assert_eq!(seen.health, Health::Healthy);
    assert_eq!(seen.serving, ["v1"]);
    assert_eq!(seen.urls, ["http://sm.test/endpoints/churn/invocations"]);
    let statuses: Vec<(&str, &str)> = seen
        .resources
        .iter()
        .map(|r| (r.kind.as_str(), r.status.as_str()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("sagemaker-endpoint", "InService"),
            ("sagemaker-variant", "100% of traffic on 1 instance(s)")
        ]
    );

    let script = Script::of([no_endpoint()]);
    let seen = driver::status(&cfg(), &script, &t).unwrap();
    assert_eq!(seen.health, Health::Unhealthy);
    assert_eq!(seen.messages, ["endpoint `churn` does not exist"]);
    assert!(seen.resources.is_empty());
}

#[test]
fn describes_a_deployer_and_its_settings() {
    use ferry_guest::types::PluginKind;
    let d = <crate::SageMaker as crate::about::Guest>::describe();
    assert_eq!(
        (d.name.as_str(), d.kind),
        ("deploy-sagemaker", PluginKind::Deployer)
    );
    let settings: Vec<(&str, bool, Option<&str>)> = d
        .settings
        .iter()
        .map(|s| (s.name.as_str(), s.required, s.default.as_deref()))
        .collect();
    assert_eq!(
        settings,
        [
            ("region", false, Some("\"us-east-1\"")),
            ("endpoint", false, None),
            ("s3_endpoint", false, None),
            ("bucket", true, None),
            ("prefix", false, Some("\"ferry\"")),
            ("image", true, None),
            ("role_arn", true, None),
            ("instance_type", false, Some("\"ml.m5.large\"")),
            ("instance_count", false, Some("1")),
            ("retries", false, Some("3")),
        ]
    );
}
