//! A served endpoint checks its input against the schema (400 naming row and field, nothing
//! coerced), and a service can require an API key or an OAuth2 token (Dataiku's auth
//! methods): 401 without, 403 with the wrong scope, 200 with the right one; the service's
//! OpenAPI document declares its security scheme.

use std::io::{Read, Write};
use std::net::TcpListener;

use serde_json::{Value, json};

use crate::server::*;
use crate::support::*;

/// A workflow that ingests customers and packages a churn service with `auth`.
fn service_workflow(env: &Env, auth: &str) -> std::path::PathBuf {
    let repo = repo();
    env.write(
        "data/customers.csv",
        "customer_id,tenure_months,monthly_charges\nC1,3,80.0\nC2,40,20.5\n",
    );
    std::fs::create_dir_all(env.path("models")).unwrap();
    std::fs::copy(
        repo.join("workflows/models/churn/model.json"),
        env.path("models/model.json"),
    )
    .unwrap();
    env.write(
        "wf.toml",
        format!(
            r#"
[service]
id = "churn"
{auth}

[[service.endpoints]]
name = "score"
type = "prediction"
predictor = "predictor-linear"
artifacts = ["models/model.json"]
input = {{ tenure_months = "int64", monthly_charges = "float64" }}
output = {{ score = "float64", label = "utf8" }}

[[steps]]
name = "import"
kind = "import"
source = "source-local"
parser = "parser-csv"
source_settings = {{ root = "/in" }}
grants.dirs = [{{ path = "data", mount = "/in" }}]

[[steps]]
name = "ingest"
kind = "ingest"
input = "import"
table = "customers"
mode = "replace"

[[steps]]
name = "package"
kind = "package"
input = "ingest"
"#
        ),
    )
}

/// Builds the package in `env`'s home and pushes it to a fresh node; returns the node, its
/// admin key and the predict URL.
fn deployed(env: &Env, node_env: &Env, auth: &str) -> (Server, String, String) {
    let wf = service_workflow(env, auth);
    let out = env.ferry(&["run", wf.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let zip = env.path("churn.zip");
    let out = env.ferry(&[
        "packages",
        "download",
        "churn",
        "v1",
        "-o",
        zip.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let admin = key(node_env, "admin", "ManageDeployments");
    let node = Server::start(node_env, &[]);
    let (code, body) = call(
        "PUT",
        &format!("{}/v1/node/services/churn", node.url),
        Some(&admin),
        Some(std::fs::read(&zip).unwrap()),
    );
    assert_eq!(code, 200, "{body}");
    let predict = format!("{}/public/api/v1/churn/score/predict", node.url);
    (node, admin, predict)
}

fn post(url: &str, token: Option<&str>, body: &str) -> (u16, Value) {
    call("POST", url, token, Some(body.as_bytes().to_vec()))
}

#[test]
fn predict_checks_its_input_against_the_schema() {
    let (env, node_env) = (Env::new(), Env::new());
    let (_node, _, predict) = deployed(&env, &node_env, "");
    let good = r#"{"rows": [{"tenure_months": 3, "monthly_charges": 80}]}"#;
    let (code, body) = post(&predict, None, good);
    assert_eq!(code, 200, "{body}");
    let score = body["results"][0]["score"].as_f64().unwrap();
    let expected = 1.0 / (1.0 + (-(-1.5 - 0.06 * 3.0 + 0.035 * 80.0_f64)).exp());
    assert!((score - expected).abs() < 1e-9, "{score} vs {expected}");
    for (request, names) in [
        (
            r#"{"rows": [{"tenure_months": 3}]}"#,
            "row 1: field `monthly_charges` is missing",
        ),
        (
            r#"{"rows": [{"tenure_months": null, "monthly_charges": 1}]}"#,
            "row 1: field `tenure_months` is null",
        ),
        (r#"{}"#, "row 1: field"),
        (r#"{"rows": []}"#, "no rows"),
        (
            r#"{"rows": [{"tenure_months": 1, "monthly_charges": 1}, {"tenure_months": 2.9, "monthly_charges": 1}]}"#,
            "row 2: field `tenure_months` must be an integer",
        ),
        (
            r#"{"rows": [{"tenure_months": "2", "monthly_charges": 1}]}"#,
            "row 1: field `tenure_months` must be an integer",
        ),
        (
            r#"{"rows": [{"tenure_months": 2, "monthly_charges": 1, "age": 3}]}"#,
            "row 1: unknown field `age`",
        ),
        (
            r#"{"rows": [{"tenure_months": 2, "monthly_charges": 1}], "extra": 1}"#,
            "unknown field `extra`",
        ),
        (r#"[1, 2]"#, "each row must be an object"),
    ] {
        let (code, body) = post(&predict, None, request);
        assert_eq!(code, 400, "{request}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(names), "{request}: {message}");
    }
}

#[test]
fn a_service_can_require_an_api_key() {
    let (env, node_env) = (Env::new(), Env::new());
    let (node, _, predict) = deployed(&env, &node_env, r#"auth = "api_keys""#);
    let row = r#"{"rows": [{"tenure_months": 3, "monthly_charges": 80}]}"#;
    let (code, body) = post(&predict, None, row);
    assert_eq!(code, 401, "{body}");
    // Keys are made on the node, scoped to the service.
    let scoped = stdout(&node_env.ferry(&[
        "keys",
        "create",
        "app",
        "--permission",
        "UseServices",
        "--service",
        "churn",
    ]))
    .trim()
    .to_owned();
    let other = stdout(&node_env.ferry(&[
        "keys",
        "create",
        "other",
        "--permission",
        "UseServices",
        "--service",
        "fraud",
    ]))
    .trim()
    .to_owned();
    let viewer = key(&node_env, "viewer", "ViewJobs");
    assert_eq!(post(&predict, Some(&other), row).0, 403);
    assert_eq!(post(&predict, Some(&viewer), row).0, 403);
    assert_eq!(post(&predict, Some("fry_000000000000_nope"), row).0, 401);
    let (code, body) = post(&predict, Some(&scoped), row);
    assert_eq!(code, 200, "{body}");
    let (_, doc) = call(
        "GET",
        &format!("{}/public/api/v1/churn/openapi.json", node.url),
        None,
        None,
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["serviceAuth"]["scheme"], "bearer",
        "{doc}"
    );
    assert_eq!(doc["security"][0]["serviceAuth"], json!([]), "{doc}");
}

/// Serves one JSON document on a free port, for as long as the test runs.
fn serve_json(body: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[test]
fn a_service_can_require_an_oauth2_token() {
    let testdata = repo().join("runtime/src/credentials/testdata");
    let private = std::fs::read(testdata.join("throwaway-rsa.pem")).unwrap();
    let signing = jsonwebtoken::EncodingKey::from_rsa_pem(&private).unwrap();
    // The issuer's JWKS: the throwaway key's public half.
    let mut jwk =
        jsonwebtoken::jwk::Jwk::from_encoding_key(&signing, jsonwebtoken::Algorithm::RS256)
            .unwrap();
    jwk.common.key_id = Some("k1".into());
    let jwks = json!({ "keys": [jwk] });
    let jwks_uri = serve_json(jwks.to_string());
    let (env, node_env) = (Env::new(), Env::new());
    let auth = format!(
        "auth = \"oauth2\"\n[service.oauth2]\nissuer = \"https://issuer.example\"\naudience = \"churn-api\"\njwks_uri = \"{jwks_uri}\"\nscopes = [\"predict\"]\n"
    );
    let (node, _, predict) = deployed(&env, &node_env, &auth);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let token = |claims: Value| {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some("k1".into());
        jsonwebtoken::encode(&header, &claims, &signing).unwrap()
    };
    let claims = |aud: &str, scope: &str, exp: u64| json!({ "iss": "https://issuer.example", "aud": aud, "scope": scope, "exp": exp, "sub": "svc" });
    let row = r#"{"rows": [{"tenure_months": 3, "monthly_charges": 80}]}"#;
    assert_eq!(post(&predict, None, row).0, 401);
    assert_eq!(post(&predict, Some("not-a-jwt"), row).0, 401);
    assert_eq!(
        post(
            &predict,
            Some(&token(claims("other-api", "predict", now + 600))),
            row
        )
        .0,
        401
    );
    assert_eq!(
        post(
            &predict,
            Some(&token(claims("churn-api", "predict", now - 600))),
            row
        )
        .0,
        401
    );
    assert_eq!(
        post(
            &predict,
            Some(&token(claims("churn-api", "read", now + 600))),
            row
        )
        .0,
        403
    );
    let (code, body) = post(
        &predict,
        Some(&token(claims("churn-api", "read predict", now + 600))),
        row,
    );
    assert_eq!(code, 200, "{body}");
    let (_, doc) = call(
        "GET",
        &format!("{}/public/api/v1/churn/openapi.json", node.url),
        None,
        None,
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["serviceAuth"]["bearerFormat"], "JWT",
        "{doc}"
    );
    // A package asking for OAuth2 without its settings does not build.
    let env = Env::new();
    let wf = service_workflow(&env, "auth = \"oauth2\"");
    let out = env.ferry(&["validate", wf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(78), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("[service.oauth2]"),
        "{}",
        stderr(&out)
    );
}
