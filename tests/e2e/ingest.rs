//! The example workflows, run for real, checked against their source files.

use std::collections::BTreeSet;
use std::io::Read;

use crate::support::*;

/// The CSV rows of the example predictions, as (id, score) pairs.
fn source_predictions() -> BTreeSet<(String, String)> {
    let mut rows = BTreeSet::new();
    for day in ["2024-08-19", "2024-08-20"] {
        let text =
            std::fs::read_to_string(repo().join(format!("workflows/data/predictions/{day}.csv")))
                .unwrap();
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split(',').collect();
            rows.insert((fields[0].to_owned(), fields[3].to_owned()));
        }
    }
    rows
}

#[test]
fn predictions_csv_lands_in_a_delta_table_with_mapped_types() {
    let env = Env::new();
    let wf = repo().join("workflows/predictions.toml");
    let wf = wf.to_str().unwrap();

    let out = env.ferry(&["validate", wf]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("valid workflow `predictions`"),
        "{}",
        stdout(&out)
    );

    let (code, job) = env.json(&["run", wf]);
    assert_eq!(code, 0, "{job}");
    assert_eq!(job["executionStatus"], "SUCCESS", "{job}");
    assert_eq!(job["health"]["status"], "ok");
    assert_eq!(job["metrics"]["numRowsProcessed"], 100);
    assert_eq!(job["metrics"]["numRowsPersisted"], 100);
    assert_eq!(job["files"]["passed"], 2);

    let table = env.table("predictions");
    assert_eq!(row_count(&table), 100);
    let schema = table[0].schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    for expected in [
        "prediction_id",
        "timestamp",
        "prediction_label",
        "prediction_score",
        "actual_label",
        "feature_age",
        "feature_state",
        "tag/env",
        "shap/age",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    assert!(
        !names.contains(&"prediction_ts"),
        "source names of roles are replaced: {names:?}"
    );
    assert_eq!(
        schema
            .field_with_name("prediction_score")
            .unwrap()
            .data_type()
            .to_string(),
        "Float64"
    );
    assert_eq!(
        schema
            .field_with_name("feature_income")
            .unwrap()
            .data_type()
            .to_string(),
        "Float64"
    );
    assert!(
        schema
            .field_with_name("timestamp")
            .unwrap()
            .data_type()
            .to_string()
            .starts_with("Timestamp(µs")
    );

    // Values match the source files exactly.
    let ids = column_text(&table, "prediction_id");
    let scores = column_text(&table, "prediction_score");
    let stored: BTreeSet<(String, String)> = ids.into_iter().zip(scores).collect();
    let expected: BTreeSet<(String, String)> = source_predictions()
        .into_iter()
        .map(|(id, s)| (id, s.parse::<f64>().unwrap().to_string()))
        .collect();
    assert_eq!(stored, expected);
    let states = column_text(&table, "feature_state");
    assert!(
        states.iter().any(|s| s == "North, Carolina"),
        "quoted field with a comma survives"
    );
    let first_ts = column_text(&table, "timestamp");
    assert!(
        first_ts.contains(&"2024-08-19T09:00:00Z".to_owned())
            || first_ts
                .iter()
                .any(|t| t.starts_with("2024-08-19T09:00:00")),
        "{:?}",
        &first_ts[..3]
    );

    // Running again imports nothing: both files were passed by the first job.
    let (code, second) = env.json(&["run", wf]);
    assert_eq!(code, 0, "{second}");
    assert_ne!(second["id"], job["id"]);
    assert_eq!(second["files"]["total"], 0, "{second}");
    assert_eq!(row_count(&env.table("predictions")), 100);
}

#[test]
fn gzipped_ndjson_is_decompressed_filtered_and_replaced() {
    let env = Env::new();
    let wf = repo().join("workflows/events.toml");
    let wf = wf.to_str().unwrap();

    let mut text = String::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(repo().join("workflows/data/events/kttm-2019-08-19.json.gz")).unwrap(),
    )
    .read_to_string(&mut text)
    .unwrap();
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let humans = events.iter().filter(|e| e["agent_type"] != "Robot").count();
    let robots = events.len() - humans;
    assert!(robots > 0 && humans > 0);

    for _ in 0..2 {
        let (code, job) = env.json(&["run", wf]);
        assert_eq!(code, 0, "{job}");
        assert_eq!(job["metrics"]["numRowsProcessed"], events.len());
        assert_eq!(job["metrics"]["numRowsSkippedByFilter"], robots);
        assert_eq!(job["metrics"]["numRowsPersisted"], humans);
        // mode = "replace": the second run replaces the first run's rows.
        let table = env.table("kttm_events");
        assert_eq!(row_count(&table), humans);
    }
    let table = env.table("kttm_events");
    let countries = column_text(&table, "geo.country");
    assert!(
        countries.iter().any(|c| c == "Japan"),
        "nested objects are flattened"
    );
    assert!(
        column_text(&table, "agent_type")
            .iter()
            .all(|a| a != "Robot")
    );
    assert_eq!(
        table[0]
            .schema()
            .field_with_name("session_length")
            .unwrap()
            .data_type()
            .to_string(),
        "Int64"
    );
}
