use std::path::Path;

use super::*;

fn parse(text: &str) -> Result<Workflow, WorkflowError> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    let path = dir.path().join("wf.toml");
    Workflow::parse(&path, text)
}

fn problems(text: &str) -> Vec<String> {
    match parse(text) {
        Ok(_) => panic!("expected problems"),
        Err(e) => e
            .problems()
            .iter()
            .map(|p| format!("{}:{}: {}", p.location.line, p.location.column, p.message))
            .collect(),
    }
}

const GOOD: &str = r#"
name = "preds"

[[steps]]
name = "import"
kind = "import"
source = "source-local"
parser = "parser-csv"
glob = "*.csv"
grants.dirs = [{ path = "data", mount = "/data" }]
limits = { memory = "64MiB", timeout = "5s" }

[[steps]]
name = "check"
kind = "validate"
input = "import"
schema = { prediction_id = "id", prediction_score = "score", feature_prefix = "feature_" }

[[steps]]
name = "ingest"
kind = "ingest"
input = "check"
table = "preds"
max_parse_exceptions = 5
"#;

#[test]
fn a_complete_workflow_loads_with_typed_steps() {
    let wf = parse(GOOD).unwrap();
    assert_eq!(wf.name, "preds");
    assert_eq!(wf.import.glob.as_deref(), Some("*.csv"));
    assert_eq!(wf.import.limits.memory.unwrap().0, 64 << 20);
    assert_eq!(
        wf.validate
            .as_ref()
            .unwrap()
            .schema
            .prediction_id
            .as_deref(),
        Some("id")
    );
    assert_eq!(wf.ingest.max_parse_exceptions, Some(5));
    assert_eq!(wf.ingest.mode, IngestMode::Append);
    let loc = wf.location("ingest", "table");
    assert_eq!(loc.line, 23);
}

#[test]
fn malformed_toml_points_at_line_and_column() {
    let found = problems("name = \"x\"\n[[steps]\nkind = 1\n");
    assert_eq!(found.len(), 1);
    assert!(found[0].starts_with("2:"), "{found:?}");
}

#[test]
fn unknown_keys_get_a_suggestion_and_a_position() {
    let text = GOOD.replace("table = \"preds\"", "tabel = \"preds\"");
    let found = problems(&text);
    assert!(
        found
            .iter()
            .any(|p| p == "23:1: unknown key `tabel`, did you mean `table`?"),
        "{found:?}"
    );
}

#[test]
fn unknown_step_kind_is_named_with_the_closest_kind() {
    let text = GOOD.replace("kind = \"ingest\"", "kind = \"injest\"");
    let found = problems(&text);
    assert!(
        found
            .iter()
            .any(|p| p.contains("unknown step kind `injest`, did you mean `ingest`?")),
        "{found:?}"
    );
}

#[test]
fn wiring_errors_are_reported_together() {
    let text = GOOD.replace("input = \"check\"", "input = \"chek\"");
    let found = problems(&text);
    assert!(
        found
            .iter()
            .any(|p| p.contains("input `chek` is not an earlier step, did you mean `check`?")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.contains("nothing takes step `check` as its input")),
        "{found:?}"
    );
}

#[test]
fn grants_must_name_existing_directories_at_absolute_mounts() {
    let text = GOOD.replace(
        "{ path = \"data\", mount = \"/data\" }",
        "{ path = \"nope\", mount = \"data\" }",
    );
    let found = problems(&text);
    assert!(
        found.iter().any(|p| p.contains("must be an absolute path")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.contains("granted directory `nope` does not exist")),
        "{found:?}"
    );
}

#[test]
fn validate_step_needs_an_id_and_a_prediction() {
    let text = GOOD.replace("prediction_score = \"score\", ", "");
    let found = problems(&text);
    assert!(
        found
            .iter()
            .any(|p| p.contains("needs `prediction_label` or `prediction_score`")),
        "{found:?}"
    );
}

#[test]
fn bad_units_and_formats_are_errors() {
    let text = GOOD.replace("timeout = \"5s\"", "timeout = \"5 fortnights\"");
    assert!(problems(&text).iter().any(|p| p.contains("fortnights")));
    let text = GOOD.replace(
        "prediction_id = \"id\"",
        "prediction_id = \"id\", timestamp = { column = \"ts\", format = \"epoch\" }",
    );
    assert!(
        problems(&text)
            .iter()
            .any(|p| p.contains("unknown timestamp format `epoch`"))
    );
}

#[test]
fn settings_reach_plugins_as_text_and_json() {
    let table: toml::Table =
        toml::from_str("delimiter = \";\"\nheader = true\ninput_schema = { score = \"float64\" }")
            .unwrap();
    let settings = plugin_settings(&table).unwrap();
    assert_eq!(settings["delimiter"], ";");
    assert_eq!(settings["header"], "true");
    assert_eq!(settings["input_schema"], r#"{"score":"float64"}"#);
    let _ = Path::new("unused");
}

#[test]
fn a_package_step_needs_a_service_and_follows_the_ingest() {
    let package = "\n[[steps]]\nname = \"pack\"\nkind = \"package\"\ninput = \"ingest\"\n";
    let p = problems(&format!("{GOOD}{package}"));
    assert!(p.iter().any(|p| p.contains("needs a [service]")), "{p:?}");

    let service = "\n[service]\nid = \"svc\"\n[[service.endpoints]]\nname = \"rows\"\ntype = \"lookup\"\ntable = \"t\"\nkey = \"id\"\n[[service.endpoints]]\nname = \"rows\"\ntype = \"prediction\"\npredictor = \"p\"\nartifacts = [\"missing.json\"]\n";
    let p = problems(&format!("{GOOD}{service}{package}"));
    assert!(p.iter().any(|p| p.contains("must be unique")), "{p:?}");
    assert!(p.iter().any(|p| p.contains("missing.json")), "{p:?}");

    let wrong_input = package.replace("input = \"ingest\"", "input = \"import\"");
    let ok_service = "\n[service]\nid = \"svc\"\n[[service.endpoints]]\nname = \"rows\"\ntype = \"lookup\"\ntable = \"t\"\nkey = \"id\"\n";
    let p = problems(&format!("{GOOD}{ok_service}{wrong_input}"));
    assert!(
        p.iter().any(|p| p.contains("cannot take its input")),
        "{p:?}"
    );

    let wf = parse(&format!("{GOOD}{ok_service}{package}")).unwrap();
    assert_eq!(wf.package.unwrap().name, "pack");
    assert_eq!(wf.service.unwrap().id, "svc");
}

#[test]
fn an_infra_carries_the_declarations_of_its_credentials() {
    let doc: toml::Table = toml::from_str(
        r#"
[credentials.nodes]
type = "bearer"
[credentials.unused]
type = "bearer"
[infras.edge]
type = "static"
settings = { nodes = ["http://10.0.0.5:8080"] }
credentials = [{ name = "nodes", hosts = ["http://10.0.0.5:8080"] }]
"#,
    )
    .unwrap();
    let raw = doc["infras"]["edge"].as_table().unwrap();
    let (spec, stored) = InfraSpec::decode(
        "edge",
        raw,
        doc.get("credentials").and_then(|c| c.as_table()),
    )
    .unwrap();
    assert_eq!((spec.kind, spec.stage.as_str()), (InfraKind::Static, "dev"));
    assert_eq!(
        spec.declared_credentials.keys().collect::<Vec<_>>(),
        ["nodes"]
    );
    // The stored table stands on its own.
    let (again, _) = InfraSpec::decode("edge", &stored, None).unwrap();
    assert!(matches!(
        again.declared_credentials["nodes"],
        CredentialSpec::Bearer {}
    ));
    // A secret written into the declaration is refused, never stored.
    let mut leaky = doc
        .get("credentials")
        .and_then(|c| c.as_table())
        .unwrap()
        .clone();
    leaky["nodes"]
        .as_table_mut()
        .unwrap()
        .insert("token".into(), "fry_secret".into());
    let e = InfraSpec::decode("edge", raw, Some(&leaky)).unwrap_err();
    assert!(e.contains("token") && !e.contains("fry_secret"), "{e}");
    let e = InfraSpec::decode("edge", raw, None).unwrap_err();
    assert!(e.contains("credential `nodes` is not declared"), "{e}");
    let mut typo = raw.clone();
    typo.insert("setings".into(), toml::Value::Table(Default::default()));
    let e = InfraSpec::decode(
        "edge",
        &typo,
        doc.get("credentials").and_then(|c| c.as_table()),
    )
    .unwrap_err();
    assert!(e.contains("setings"), "{e}");
}

#[test]
fn commit_bounds_default_parse_and_must_be_positive() {
    let wf = parse(GOOD).unwrap();
    assert_eq!(wf.ingest.commit, CommitPolicy::default());
    assert_eq!(wf.ingest.commit.max_objects, 1000);
    let text =
        format!("{GOOD}commit = {{ max_objects = 10, max_bytes = \"1MiB\", max_wait = \"2s\" }}\n");
    let wf = parse(&text).unwrap();
    let commit = wf.ingest.commit;
    assert_eq!((commit.max_objects, commit.max_bytes.0), (10, 1 << 20));
    assert_eq!(commit.max_wait.0, std::time::Duration::from_secs(2));
    assert_eq!(
        commit.max_rows, 1_000_000,
        "unnamed bounds keep their defaults"
    );

    let found = problems(&format!("{GOOD}commit = {{ max_objects = 0 }}\n"));
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("25:") && p.contains("at least 1")),
        "{found:?}"
    );
    let found = problems(&format!("{GOOD}commit = {{ max_files = 3 }}\n"));
    assert!(found.iter().any(|p| p.contains("max_files")), "{found:?}");
}
