//! Deployments to the clouds' own APIs, against real peers: SageMaker and S3 (moto, behind the
//! shim that adds UpdateEndpoint and Creating→InService) and Vertex AI (drongo, behind the shim
//! whose operations take polls) with GCS (fake-gcs-server). Each covers create, status, a
//! traffic split, a switch, the clouds' failures surfaced with their own messages, a time
//! limit, disable and delete — checking what is on the peers, not only what ferry says.

use serde_json::{Value, json};

use crate::deploy::Controller;
use crate::peers::{ACCESS_KEY, Peer, SECRET_KEY};
use crate::server::call;
use crate::support::*;

/// Builds churn v1 and v2 into the controller's package registry.
fn two_versions(c: &Controller) {
    let wf = repo().join("workflows/churn-service.toml");
    for _ in 0..2 {
        c.ok(&["run", wf.to_str().unwrap()]);
    }
}

/// A bucket on an object-store peer (created by putting one object in it).
fn bucket(peer: &Peer, name: &str) {
    let seed = tempfile::tempdir().unwrap();
    std::fs::write(seed.path().join("README"), "models for ferry deployments").unwrap();
    peer.put_dir(name, seed.path(), "");
}

fn failed_with(c: &Controller, id: &str, needles: &[&str]) {
    let out = c.ferry(&["deployments", "update", id]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{}{err}", stdout(&out));
    for n in needles {
        assert!(err.contains(n), "`{n}` not in: {err}");
    }
}

/// A SageMaker call straight to the peer (moto routes by the credential scope; it checks no
/// signature).
fn sagemaker(url: &str, op: &str, body: Value) -> (u16, Value) {
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20260101/us-east-1/sagemaker/aws4_request, SignedHeaders=host, Signature=00"
    );
    crate::server::runtime().block_on(async {
        let resp = reqwest::Client::new()
            .post(format!("{url}/"))
            .header("x-amz-target", format!("SageMaker.{op}"))
            .header("content-type", "application/x-amz-json-1.1")
            .header("authorization", auth)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    })
}

/// An S3 object's bytes on moto (path-style), or None when it is not there.
fn s3_object(moto: &Peer, bucket: &str, key: &str) -> Option<Vec<u8>> {
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00"
    );
    crate::server::runtime().block_on(async {
        let resp = reqwest::Client::new()
            .get(format!("{}/{bucket}/{key}", moto.url()))
            .header("authorization", auth)
            .send()
            .await
            .unwrap();
        resp.status()
            .is_success()
            .then_some(resp.bytes().await.unwrap().to_vec())
    })
}

#[test]
fn sagemaker_deployments_roll_out_split_switch_roll_back_fail_and_clean_up() {
    let moto = Peer::moto();
    let shim = Peer::shim(
        "sagemaker_shim.py",
        "--moto",
        &moto,
        &["--creating-polls", "2", "--failing-image", "missing"],
    );
    let stuck = Peer::shim(
        "sagemaker_shim.py",
        "--moto",
        &moto,
        &["--creating-polls", "100000"],
    );
    bucket(&moto, "models");
    let c = Controller::new(&[
        ("FERRY_SECRET_AWS_S3_ACCESS_KEY_ID", ACCESS_KEY),
        ("FERRY_SECRET_AWS_S3_SECRET_ACCESS_KEY", SECRET_KEY),
        ("FERRY_SECRET_AWS_SM_ACCESS_KEY_ID", ACCESS_KEY),
        ("FERRY_SECRET_AWS_SM_SECRET_ACCESS_KEY", SECRET_KEY),
    ]);
    two_versions(&c);
    let infra = |name: &str, api: &Peer, image: &str, instance: &str, timeout: &str| {
        format!(
            r#"
[infras.{name}]
type = "sagemaker"
stage = "dev"
poll_interval = "100ms"
timeout = "{timeout}"
credentials = [{{ name = "aws-s3", hosts = ["{s3}"] }}, {{ name = "aws-sm", hosts = ["{sm}"] }}]
[infras.{name}.settings]
endpoint = "{sm}"
s3_endpoint = "{s3}"
bucket = "models"
image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/{image}:1"
role_arn = "arn:aws:iam::123456789012:role/ferry-sagemaker"
instance_type = "{instance}"
"#,
            s3 = moto.url(),
            sm = api.url()
        )
    };
    let credentials = r#"
[credentials.aws-s3]
type = "aws"
region = "us-east-1"
service = "s3"
[credentials.aws-sm]
type = "aws"
region = "us-east-1"
service = "sagemaker"
"#;
    let file = |image: &str| {
        format!(
            "{credentials}{}{}{}",
            infra("sm", &shim, image, "ml.t2.medium", "60s"),
            infra("sm-g5", &shim, "churn-serve", "ml.g5.xlarge", "60s"),
            infra("sm-stuck", &stuck, "churn-serve", "ml.t2.medium", "2s"),
        )
    };
    c.infras(&file("churn-serve"));

    // v1: model.tar.gz on S3, model, config, endpoint InService after the shim's Creating polls.
    c.ok(&[
        "deployments",
        "create",
        "churn-sm",
        "--service",
        "churn",
        "--infra",
        "sm",
        "--version",
        "v1",
    ]);
    c.ok(&["deployments", "update", "churn-sm"]);
    let tarball =
        s3_object(&moto, "models", "ferry/churn-sm/v1/model.tar.gz").expect("model data on S3");
    assert_eq!(&tarball[..2], &[0x1f, 0x8b], "gzip");
    let (code, model) = sagemaker(
        &moto.url(),
        "DescribeModel",
        json!({ "ModelName": "churn-sm--v1" }),
    );
    assert_eq!(code, 200, "{model}");
    assert_eq!(
        model["PrimaryContainer"]["ModelDataUrl"],
        "s3://models/ferry/churn-sm/v1/model.tar.gz"
    );
    let d = c.deployment("churn-sm", true);
    assert_eq!(d["observed"]["health"], "HEALTHY", "{d}");
    assert_eq!(d["observed"]["versions"], json!(["v1"]));
    // The service URL follows the custom endpoint, not runtime.sagemaker.*.amazonaws.com.
    assert_eq!(
        d["observed"]["urls"],
        json!([format!("{}/endpoints/churn-sm/invocations", shim.url())]),
        "{d}"
    );

    // A split: one config with two weighted variants, rolled out with UpdateEndpoint.
    c.ok(&["deployments", "set-version", "churn-sm", "v1=70", "v2=30"]);
    c.ok(&["deployments", "update", "churn-sm"]);
    let (_, endpoint) = sagemaker(
        &shim.url(),
        "DescribeEndpoint",
        json!({ "EndpointName": "churn-sm" }),
    );
    let weights: Vec<(String, f64)> = endpoint["ProductionVariants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["VariantName"].as_str().unwrap().to_owned(),
                v["CurrentWeight"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        weights,
        [("v1".to_owned(), 70.0), ("v2".to_owned(), 30.0)],
        "{endpoint}"
    );
    assert_eq!(
        c.deployment("churn-sm", true)["observed"]["health"],
        "HEALTHY"
    );

    // Switch to v2: v1's model, config and S3 object are cleaned up.
    c.ok(&["deployments", "set-version", "churn-sm", "v2"]);
    c.ok(&["deployments", "update", "churn-sm"]);
    let (code, gone) = sagemaker(
        &moto.url(),
        "DescribeModel",
        json!({ "ModelName": "churn-sm--v1" }),
    );
    assert_eq!(code, 400, "{gone}");
    assert!(s3_object(&moto, "models", "ferry/churn-sm/v1/model.tar.gz").is_none());
    assert_eq!(
        c.deployment("churn-sm", true)["observed"]["versions"],
        json!(["v2"])
    );

    // An image that cannot be pulled: the update is rolled back by SageMaker, and said so with
    // SageMaker's reason; v2 keeps serving.
    c.infras(&file("missing-image"));
    c.ok(&["deployments", "set-version", "churn-sm", "v1"]);
    failed_with(
        &c,
        "churn-sm",
        &[
            "rolled_back",
            "does not exist or the role lacks permission to pull it",
        ],
    );
    let d = c.deployment("churn-sm", true);
    assert_eq!(
        (d["observed"]["health"].as_str(), &d["observed"]["versions"]),
        (Some("DEGRADED"), &json!(["v2"])),
        "{d}"
    );
    c.infras(&file("churn-serve"));
    c.ok(&["deployments", "update", "churn-sm"]);
    assert_eq!(
        c.deployment("churn-sm", true)["observed"]["health"],
        "HEALTHY"
    );

    // An instance type SageMaker refuses: its ValidationException, word for word.
    c.ok(&[
        "deployments",
        "create",
        "churn-g5",
        "--service",
        "churn",
        "--infra",
        "sm-g5",
        "--version",
        "v1",
    ]);
    failed_with(
        &c,
        "churn-g5",
        &[
            "ValidationException",
            "ml.g5.xlarge",
            "failed to satisfy constraint",
        ],
    );

    // An endpoint that never leaves Creating. A killed `update` leaves its operation RUNNING;
    // the next one ends it as interrupted, runs, and is stopped by the infra's time limit.
    c.ok(&[
        "deployments",
        "create",
        "churn-stuck",
        "--service",
        "churn",
        "--infra",
        "sm-stuck",
        "--version",
        "v1",
    ]);
    let mut killed = c
        .env
        .command(&["deployments", "update", "churn-stuck"])
        .envs(c.secrets.iter().map(|(k, v)| (k, v)))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let ops = |c: &Controller| -> Value {
        serde_json::from_slice(&c.ok(&["deployments", "operations", "churn-stuck"]).stdout).unwrap()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while ops(&c)["items"][0]["message"]
        .as_str()
        .is_none_or(|m| !m.contains("Creating"))
    {
        assert!(std::time::Instant::now() < deadline, "{}", ops(&c));
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    killed.kill().unwrap();
    killed.wait().unwrap();
    assert_eq!(ops(&c)["items"][0]["status"], "RUNNING");
    failed_with(&c, "churn-stuck", &["did not finish within 2s", "Creating"]);
    let ops = ops(&c);
    let ended: Vec<(&str, &str)> = ops["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["status"].as_str().unwrap(),
                o["errorCode"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        ended,
        [("FAILED", "timeout"), ("FAILED", "interrupted")],
        "{ops}"
    );

    // Disable, then delete: nothing of churn-sm is left on the peer.
    c.ok(&["deployments", "disable", "churn-sm"]);
    c.ok(&["deployments", "update", "churn-sm"]);
    assert_eq!(
        c.deployment("churn-sm", true)["observed"]["health"],
        "DISABLED"
    );
    let (code, _) = sagemaker(
        &moto.url(),
        "DescribeEndpoint",
        json!({ "EndpointName": "churn-sm" }),
    );
    assert_eq!(code, 400, "the endpoint is gone when disabled");
    c.ok(&["deployments", "delete", "churn-sm"]);
    let (_, models) = sagemaker(&moto.url(), "ListModels", json!({}));
    let names: Vec<&str> = models["Models"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["ModelName"].as_str())
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with("churn-sm-")),
        "{names:?}"
    );
    assert!(s3_object(&moto, "models", "ferry/churn-sm/v2/model.tar.gz").is_none());
}

#[test]
fn vertex_deployments_upload_deploy_split_switch_fail_with_the_clouds_message_and_clean_up() {
    let gcs = Peer::gcs();
    bucket(&gcs, "models");
    let drongo = Peer::drongo();
    let shim = Peer::shim(
        "vertex_shim.py",
        "--drongo",
        &drongo,
        &[
            "--pending-polls",
            "2",
            "--exhausted-machine-type",
            "a2-megagpu-16g",
        ],
    );
    let stuck = Peer::shim(
        "vertex_shim.py",
        "--drongo",
        &drongo,
        &["--pending-polls", "100000"],
    );
    let c = Controller::new(&[("FERRY_SECRET_GCP_ACCESS_TOKEN", "ya29.test-token")]);
    two_versions(&c);
    let infra = |name: &str, api: &Peer, machine: &str, timeout: &str| {
        format!(
            r#"
[infras.{name}]
type = "vertex"
stage = "dev"
poll_interval = "100ms"
timeout = "{timeout}"
credentials = [{{ name = "gcp", hosts = ["{api}", "{gcs}"] }}]
[infras.{name}.settings]
project = "ferry-test"
location = "us-central1"
endpoint = "{api}"
gcs_endpoint = "{gcs}"
bucket = "models"
image = "us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-0:latest"
machine_type = "{machine}"
"#,
            api = api.url(),
            gcs = gcs.url()
        )
    };
    c.infras(&format!(
        "[credentials.gcp]\ntype = \"gcp\"\n{}{}{}",
        infra("vertex", &shim, "n1-standard-2", "60s"),
        infra("vertex-gpu", &shim, "a2-megagpu-16g", "60s"),
        infra("vertex-stuck", &stuck, "n1-standard-2", "2s"),
    ));
    let base = format!(
        "{}/v1/projects/ferry-test/locations/us-central1",
        drongo.url()
    );
    let endpoints = || {
        let (code, body) = call("GET", &format!("{base}/endpoints"), None, None);
        assert_eq!(code, 200, "{body}");
        body["endpoints"].as_array().cloned().unwrap_or_default()
    };
    let objects = |prefix: &str| -> Vec<String> {
        let (_, body) = call(
            "GET",
            &format!("{}/storage/v1/b/models/o?prefix={prefix}", gcs.url()),
            None,
            None,
        );
        body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o["name"].as_str().map(str::to_owned))
            .collect()
    };

    // v1: artifacts on GCS, models:upload, an endpoint, deployModel — every operation polled.
    c.ok(&[
        "deployments",
        "create",
        "churn-vertex",
        "--service",
        "churn",
        "--infra",
        "vertex",
        "--version",
        "v1",
    ]);
    c.ok(&["deployments", "update", "churn-vertex"]);
    let uploaded = objects("ferry/churn-vertex/v1/");
    assert!(
        uploaded.contains(&"ferry/churn-vertex/v1/manifest.json".to_owned()),
        "{uploaded:?}"
    );
    assert!(
        uploaded.iter().any(|o| o.ends_with("model/model.json")),
        "{uploaded:?}"
    );
    let eps = endpoints();
    assert_eq!(eps.len(), 1, "{eps:?}");
    assert_eq!(eps[0]["deployedModels"].as_array().unwrap().len(), 1);
    let d = c.deployment("churn-vertex", true);
    assert_eq!(d["observed"]["health"], "HEALTHY", "{d}");
    let url = d["observed"]["urls"][0].as_str().unwrap();
    assert!(
        url.starts_with(&format!(
            "{}/v1/projects/ferry-test/locations/us-central1/endpoints/",
            shim.url()
        )) && url.ends_with(":predict"),
        "{d}"
    );

    // A split deploys v2 next to v1; a switch then undeploys v1.
    c.ok(&[
        "deployments",
        "set-version",
        "churn-vertex",
        "v1=30",
        "v2=70",
    ]);
    c.ok(&["deployments", "update", "churn-vertex"]);
    assert_eq!(
        endpoints()[0]["deployedModels"].as_array().unwrap().len(),
        2
    );
    let d = c.deployment("churn-vertex", true);
    assert_eq!(
        (d["observed"]["health"].as_str(), &d["observed"]["versions"]),
        (Some("HEALTHY"), &json!(["v1", "v2"])),
        "{d}"
    );
    c.ok(&["deployments", "set-version", "churn-vertex", "v2"]);
    c.ok(&["deployments", "update", "churn-vertex"]);
    let deployed = endpoints()[0]["deployedModels"].as_array().unwrap().clone();
    assert_eq!(deployed.len(), 1);
    assert_eq!(deployed[0]["displayName"], "churn-vertex-v2");
    assert_eq!(
        c.deployment("churn-vertex", true)["observed"]["versions"],
        json!(["v2"])
    );

    // Quota: the deploy operation ends with Vertex AI's error, which ferry shows as it is.
    c.ok(&[
        "deployments",
        "create",
        "churn-gpu",
        "--service",
        "churn",
        "--infra",
        "vertex-gpu",
        "--version",
        "v1",
    ]);
    failed_with(
        &c,
        "churn-gpu",
        &["RESOURCE_EXHAUSTED", "exceed quota limits"],
    );
    assert_eq!(
        c.deployment("churn-gpu", true)["observed"]["health"],
        "UNHEALTHY"
    );

    // Operations that never finish: the infra's time limit.
    c.ok(&[
        "deployments",
        "create",
        "churn-stuck",
        "--service",
        "churn",
        "--infra",
        "vertex-stuck",
        "--version",
        "v1",
    ]);
    failed_with(&c, "churn-stuck", &["did not finish within 2s"]);

    // Disable undeploys; delete removes endpoint, models and artifacts.
    c.ok(&["deployments", "disable", "churn-vertex"]);
    c.ok(&["deployments", "update", "churn-vertex"]);
    assert_eq!(
        c.deployment("churn-vertex", true)["observed"]["health"],
        "DISABLED"
    );
    c.ok(&["deployments", "delete", "churn-vertex"]);
    let left: Vec<Value> = endpoints()
        .into_iter()
        .filter(|e| e["displayName"] == "churn-vertex")
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let (_, models) = call("GET", &format!("{base}/models"), None, None);
    let names: Vec<&str> = models["models"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["displayName"].as_str())
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with("churn-vertex-")),
        "{names:?}"
    );
    assert!(objects("ferry/churn-vertex/").is_empty());
}

/// The README's SageMaker walk-through on this machine: `workflows/infras-sagemaker.toml` as
/// committed (its port moved to the test's peer), S3 and SageMaker answering on one port (moto
/// behind the shim, as `scripts/peers start sagemaker` runs them), one `aws` credential for
/// that host signing each request for its own service. Two credentials for the one host, the
/// way that signed SageMaker's calls as S3's, are refused.
#[test]
fn s3_and_sagemaker_on_one_port_deploy_with_one_aws_credential_from_the_example_infra() {
    let moto = Peer::moto();
    let peer = Peer::shim(
        "sagemaker_shim.py",
        "--moto",
        &moto,
        &["--creating-polls", "1"],
    );
    bucket(&moto, "ferry-models");
    let c = Controller::new(&[
        ("FERRY_SECRET_AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("FERRY_SECRET_AWS_SECRET_ACCESS_KEY", SECRET_KEY),
    ]);
    let example = std::fs::read_to_string(repo().join("workflows/infras-sagemaker.toml"))
        .unwrap()
        .replace("http://127.0.0.1:5000", &peer.url());

    let grant = format!(
        r#"credentials = [{{ name = "aws", hosts = ["{}"] }}]"#,
        peer.url()
    );
    assert!(example.contains(&grant), "the example's grant moved");
    let two_grants = format!(
        r#"credentials = [{{ name = "aws-s3", hosts = ["{0}"] }}, {{ name = "aws-sm", hosts = ["{0}"] }}]"#,
        peer.url()
    );
    let infra = &example[example.find("[infras.").unwrap()..];
    let two = format!(
        r#"
[credentials.aws-s3]
type = "aws"
region = "us-east-1"
service = "s3"
[credentials.aws-sm]
type = "aws"
region = "us-east-1"
service = "sagemaker"
{}"#,
        infra.replace(&grant, &two_grants)
    );
    let file = c.env.write("two.toml", &two);
    let out = c.ferry(&["infras", "apply", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(65), "{}", stdout(&out));
    for needle in ["`aws-s3`", "`aws-sm`", &peer.url(), "services = ["] {
        assert!(stderr(&out).contains(needle), "{needle}: {}", stderr(&out));
    }

    c.infras(&example);
    two_versions(&c);
    c.ok(&[
        "deployments",
        "create",
        "churn-sm",
        "--service",
        "churn",
        "--infra",
        "sagemaker-local",
        "--version",
        "v1",
    ]);
    c.ok(&["deployments", "update", "churn-sm"]);
    let tarball = s3_object(&moto, "ferry-models", "ferry/churn-sm/v1/model.tar.gz")
        .expect("model data on S3, signed as S3");
    assert_eq!(&tarball[..2], &[0x1f, 0x8b], "gzip");
    let (code, model) = sagemaker(
        &moto.url(),
        "DescribeModel",
        json!({ "ModelName": "churn-sm--v1" }),
    );
    assert_eq!(
        code, 200,
        "a SageMaker model, made by calls signed as SageMaker: {model}"
    );
    let d = c.deployment("churn-sm", true);
    assert_eq!(
        (d["observed"]["health"].as_str(), &d["observed"]["urls"]),
        (
            Some("HEALTHY"),
            &json!([format!("{}/endpoints/churn-sm/invocations", peer.url())])
        ),
        "{d}"
    );
    c.ok(&["deployments", "set-version", "churn-sm", "v2"]);
    c.ok(&["deployments", "update", "churn-sm"]);
    let d = c.deployment("churn-sm", true);
    assert_eq!(
        (d["observed"]["health"].as_str(), &d["observed"]["versions"]),
        (Some("HEALTHY"), &json!(["v2"])),
        "{d}"
    );
}

/// The README's Vertex AI walk-through on this machine: `workflows/infras-vertex.toml` as
/// committed (ports moved to the test's peers), against plain drongo and fake-gcs-server.
#[test]
fn the_vertex_example_infra_deploys_to_drongo_and_fake_gcs_with_urls_on_the_endpoint() {
    let gcs = Peer::gcs();
    bucket(&gcs, "ferry-models");
    let drongo = Peer::drongo();
    let c = Controller::new(&[("FERRY_SECRET_GCP_ACCESS_TOKEN", "emulator")]);
    let example = std::fs::read_to_string(repo().join("workflows/infras-vertex.toml"))
        .unwrap()
        .replace("http://127.0.0.1:8090", &drongo.url())
        .replace("http://127.0.0.1:4443", &gcs.url());
    c.infras(&example);
    two_versions(&c);
    c.ok(&[
        "deployments",
        "create",
        "churn-vx",
        "--service",
        "churn",
        "--infra",
        "vertex-local",
        "--version",
        "v1",
    ]);
    c.ok(&["deployments", "update", "churn-vx"]);
    c.ok(&["deployments", "set-version", "churn-vx", "v2"]);
    c.ok(&["deployments", "update", "churn-vx"]);
    let d = c.deployment("churn-vx", true);
    assert_eq!(
        (d["observed"]["health"].as_str(), &d["observed"]["versions"]),
        (Some("HEALTHY"), &json!(["v2"])),
        "{d}"
    );
    let url = d["observed"]["urls"][0].as_str().unwrap();
    assert!(
        url.starts_with(&format!(
            "{}/v1/projects/ferry-demo/locations/us-central1/endpoints/",
            drongo.url()
        )) && url.ends_with(":predict"),
        "{d}"
    );
    let (_, listed) = call(
        "GET",
        &format!(
            "{}/storage/v1/b/ferry-models/o?prefix=ferry/churn-vx/v2/",
            gcs.url()
        ),
        None,
        None,
    );
    assert!(
        listed
            .to_string()
            .contains("ferry/churn-vx/v2/manifest.json"),
        "{listed}"
    );
}
