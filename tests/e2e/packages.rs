//! Service packages: a workflow's package step builds a versioned zip with a checksummed
//! manifest; the registry lists, shows, downloads and imports them, refusing tampered, unsafe
//! or oversized zips; the packaged predictor component runs on its packaged model.

use std::io::{Read, Write};
use std::sync::Arc;

use arrow::array::{Array, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use ferry::host::{
    CallLimits, CancelToken, DirAccess, InstanceOptions, PluginHost, PluginKind, Sandbox,
};

use crate::support::*;

fn run_example(env: &Env) -> serde_json::Value {
    let wf = repo().join("workflows/churn-service.toml");
    let (code, job) = env.json(&["run", wf.to_str().unwrap()]);
    assert_eq!(code, 0, "{job}");
    job
}

#[test]
fn the_package_step_builds_versioned_verified_packages() {
    let env = Env::new();
    let job = run_example(&env);
    assert_eq!(job["executionStatus"], "SUCCESS", "{job}");
    assert_eq!(
        job["packages"],
        serde_json::json!([{ "service": "churn", "version": "v1" }])
    );
    let second = run_example(&env);
    assert_eq!(second["packages"][0]["version"], "v2");

    let (code, list) = env.json(&["packages", "list"]);
    assert_eq!(code, 0);
    let versions: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["v1", "v2"]);
    assert_eq!(
        list["items"][0]["endpoints"],
        serde_json::json!(["score", "customer"])
    );

    let out = env.ferry(&["packages", "show", "churn", "v1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let manifest: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(manifest["sourceJob"], job["id"]);
    let files = manifest["files"].as_object().unwrap();
    for path in [
        "plugins/predictor-linear.wasm",
        "endpoints/score/model/model.json",
        "endpoints/customer/rows.parquet",
    ] {
        assert_eq!(files[path]["sha256"].as_str().unwrap().len(), 64, "{path}");
    }
    assert_eq!(manifest["endpoints"][1]["key"], "customer_id");

    // Download, then import elsewhere; the same version twice is refused (immutable).
    let zip = env.path("churn-v1.zip");
    download(&env, "v1", &zip);
    let other = Env::new();
    let out = other.ferry(&["packages", "import", zip.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let again = other.ferry(&["packages", "import", zip.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("immutable"), "{}", stderr(&again));

    // A tampered copy: the model changed, the manifest not.
    let tampered = rewrite(&zip, |name, bytes| {
        if name == "endpoints/score/model/model.json" {
            String::from_utf8(bytes)
                .unwrap()
                .replace("-1.5", "9.9")
                .into_bytes()
        } else {
            bytes
        }
    });
    let third = Env::new();
    let out = third.ferry(&["packages", "import", tampered.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("endpoints/score/model/model.json")
            && stderr(&out).contains("checksum"),
        "{}",
        stderr(&out)
    );

    // A zip-slip entry is refused before anything is written.
    let slip = rewrite(&zip, |_, b| b);
    append_entry(&slip, "../../evil.sh", b"echo owned");
    let out = third.ferry(&["packages", "import", slip.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(65));
    assert!(stderr(&out).contains("zip slip"), "{}", stderr(&out));
    let (_, list) = third.json(&["packages", "list"]);
    assert!(list["items"].as_array().unwrap().is_empty());

    assert!(
        env.ferry(&["packages", "delete", "churn", "v1"])
            .status
            .success()
    );
    let out = env.ferry(&["packages", "show", "churn", "v1"]);
    assert_eq!(out.status.code(), Some(66));
}

#[test]
fn a_package_step_without_a_usable_endpoint_fails_the_job_but_keeps_the_rows() {
    let env = Env::new();
    let service = std::fs::read_to_string(repo().join("workflows/churn.service.toml"))
        .unwrap()
        .replace("key = \"customer_id\"", "key = \"no_such_column\"")
        .replace(
            "\"models/churn/model.json\"",
            &format!("{:?}", repo().join("workflows/models/churn/model.json")),
        );
    env.write("churn.service.toml", service);
    let text = std::fs::read_to_string(repo().join("workflows/churn-service.toml"))
        .unwrap()
        .replace(
            "path = \"data/customers\"",
            &format!("path = {:?}", repo().join("workflows/data/customers")),
        );
    let wf = env.write("churn.toml", text);
    let (code, job) = env.json(&["run", wf.to_str().unwrap()]);
    assert_eq!(code, 1, "{job}");
    assert_eq!(job["failure"]["code"], "package_failed");
    assert!(
        job["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("no_such_column"),
        "{job}"
    );
    assert_eq!(row_count(&env.table("customers")), 40);
}

#[test]
fn the_packaged_predictor_scores_rows_with_its_packaged_model() {
    let env = Env::new();
    run_example(&env);
    let zip = env.path("p.zip");
    download(&env, "v1", &zip);
    // Unpack the component and model as a deployment would.
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
    let unpacked = env.path("unpacked");
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let path = unpacked.join(entry.name().unwrap().to_string());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let host = PluginHost::new(env.path("cache")).unwrap();
        let plugin = host
            .load(
                "predictor-linear",
                &unpacked.join("plugins/predictor-linear.wasm"),
                PluginKind::Predictor,
            )
            .unwrap();
        let options = InstanceOptions {
            step: "score".into(),
            sandbox: Sandbox {
                dirs: vec![DirAccess {
                    host: unpacked.join("endpoints/score/model"),
                    mount: "/model".into(),
                    write: false,
                }],
                ..Sandbox::default()
            },
            limits: CallLimits::default(),
            cancel: CancelToken::default(),
        };
        let mut predictor = host.predictor(&plugin, &options).await.unwrap();
        let input = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("tenure_months", DataType::Int64, true),
                Field::new("monthly_charges", DataType::Float64, true),
            ])),
            vec![
                Arc::new(Int64Array::from(vec![Some(2), Some(70), None])),
                Arc::new(Float64Array::from(vec![110.0, 25.0, 50.0])),
            ],
        )
        .unwrap();
        let out = predictor.predict(&input).await.unwrap();
        let score = out
            .column_by_name("score")
            .unwrap()
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap();
        let expected = 1.0 / (1.0 + (-(-1.5 - 0.06 * 2.0 + 0.035 * 110.0_f64)).exp());
        assert!((score.value(0) - expected).abs() < 1e-9);
        assert!(score.is_null(2), "a null feature gives a null score");
        let label = out
            .column_by_name("label")
            .unwrap()
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!((label.value(0), label.value(1)), ("churn", "stay"));
        // The same component is refused as the wrong kind of plugin.
        let err = host
            .load(
                "predictor-linear",
                &unpacked.join("plugins/predictor-linear.wasm"),
                PluginKind::Parser,
            )
            .err()
            .unwrap();
        assert!(err.to_string().contains("ferry:plugin/parser"), "{err}");
    });
}

fn download(env: &Env, version: &str, to: &std::path::Path) {
    let out = env.ferry(&[
        "packages",
        "download",
        "churn",
        version,
        "-o",
        to.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Copies a zip, passing each entry through `edit`.
pub fn rewrite(
    zip: &std::path::Path,
    edit: impl Fn(&str, Vec<u8>) -> Vec<u8>,
) -> std::path::PathBuf {
    let out = zip.with_extension(format!("{}.zip", uuid::Uuid::new_v4().simple()));
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let mut writer = zip::ZipWriter::new(std::fs::File::create(&out).unwrap());
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let name = entry.name().unwrap().to_string();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        writer
            .start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(&edit(&name, bytes)).unwrap();
    }
    writer.finish().unwrap();
    out
}

fn append_entry(zip: &std::path::Path, name: &str, bytes: &[u8]) {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(zip)
        .unwrap();
    let mut writer = zip::ZipWriter::new_append(file).unwrap();
    writer
        .start_file(name, zip::write::SimpleFileOptions::default())
        .unwrap();
    writer.write_all(bytes).unwrap();
    writer.finish().unwrap();
}
