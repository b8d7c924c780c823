//! SQL over tables, on DataFusion: `ferry tables query` and `POST /v1/query` answer what
//! DuckDB answers over the same table's Parquet files; statements that write are refused and
//! leave the table as it was; unknown tables and queries over their limits are clear errors.

use serde_json::{Value, json};

use crate::server::*;
use crate::support::*;

const GROUPED: &str = "SELECT prediction_label AS label, count(*) AS n, \
     round(avg(prediction_score), 6) AS mean_score, max(prediction_id) AS last_id \
     FROM predictions GROUP BY prediction_label ORDER BY label";

/// DuckDB's answer to `GROUPED` over the table's data files, as JSON rows.
fn duckdb(table: &std::path::Path) -> Value {
    let script = format!(
        "import duckdb, json\n\
         rows = duckdb.sql(\"\"\"SELECT prediction_label AS label, count(*) AS n, \
         round(avg(prediction_score), 6) AS mean_score, max(prediction_id) AS last_id \
         FROM read_parquet('{}/**/*.parquet') GROUP BY prediction_label ORDER BY label\"\"\").fetchall()\n\
         print(json.dumps([{{'label': r[0], 'n': r[1], 'mean_score': r[2], 'last_id': r[3]}} for r in rows]))\n",
        table.display()
    );
    let out = std::process::Command::new(repo().join(".venv/bin/python"))
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn queries_answer_as_duckdb_does_and_writes_or_limits_are_refused() {
    let env = Env::new();
    let wf = repo().join("workflows/predictions.toml");
    env.ok(&["run", wf.to_str().unwrap()]);
    let rows_before = row_count(&env.table("predictions"));
    assert!(rows_before > 2);

    let (code, answer) = env.json(&["tables", "query", GROUPED]);
    assert_eq!(code, 0, "{answer}");
    let expected = duckdb(&env.home().join("tables/predictions"));
    assert!(!expected.as_array().unwrap().is_empty());
    assert_eq!(answer["rows"], expected, "{answer}");
    assert_eq!(answer["rowCount"], expected.as_array().unwrap().len());
    assert_eq!(
        answer["columns"][1],
        json!({ "name": "n", "type": "Int64" })
    );
    let csv = stdout(&env.ok(&["tables", "query", "--csv", GROUPED]));
    assert!(csv.starts_with("label,n,mean_score,last_id\n"), "{csv}");
    assert_eq!(csv.lines().count(), expected.as_array().unwrap().len() + 1);

    let refused = |sql: &str, says: &str| {
        let out = env.ferry(&["tables", "query", sql]);
        assert_eq!(out.status.code(), Some(65), "{sql}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(err.contains(says), "{sql}: {err}");
    };
    for write in [
        "INSERT INTO predictions (prediction_id) VALUES ('x')",
        "DELETE FROM predictions",
        "DROP TABLE predictions",
        "CREATE TABLE copy AS SELECT * FROM predictions",
        "SET datafusion.execution.batch_size = 1",
    ] {
        refused(write, "only queries run here");
    }
    assert_eq!(row_count(&env.table("predictions")), rows_before);
    refused("SELECT * FROM predictons", "tables: predictions");
    refused("SELECT nope FROM predictions", "nope");
    let out = env.ferry(&[
        "tables",
        "query",
        "--max-rows",
        "2",
        "SELECT * FROM predictions",
    ]);
    assert_eq!(out.status.code(), Some(65));
    assert!(
        stderr(&out).contains("more than 2 rows"),
        "{}",
        stderr(&out)
    );
    let out = env.ferry(&[
        "tables",
        "query",
        "--timeout",
        "1s",
        "SELECT sum(value) FROM generate_series(1, 1000000000000)",
    ]);
    assert_eq!(out.status.code(), Some(65), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("stopped after 1s"),
        "{}",
        stderr(&out)
    );

    // Over HTTP, with a ViewJobs key: the same answer; a write is a 400.
    let server = Server::start(&env, &[]);
    let viewer = key(&env, "viewer", "ViewJobs");
    let post = |sql: &str| {
        call(
            "POST",
            &format!("{}/v1/query", server.url),
            Some(&viewer),
            Some(json!({ "sql": sql }).to_string().into_bytes()),
        )
    };
    let (code, body) = post(GROUPED);
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["rows"], expected);
    let (code, body) = post("DELETE FROM predictions");
    assert_eq!(code, 400, "{body}");
    assert_eq!(body["error"]["code"], "not_a_query", "{body}");
    let (code, body) = call(
        "POST",
        &format!("{}/v1/query", server.url),
        Some(&viewer),
        Some(
            json!({ "sql": "SELECT * FROM predictions", "maxRows": 1 })
                .to_string()
                .into_bytes(),
        ),
    );
    assert_eq!(code, 400, "{body}");
    assert_eq!(body["error"]["code"], "query_limit", "{body}");
    assert_eq!(row_count(&env.table("predictions")), rows_before);
}
