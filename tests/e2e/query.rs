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

/// The example KTTM rollup workflow with its SQL endpoint's `query`, `parameters` and limit
/// replaced, reading the example's events where they are.
fn kttm_service(env: &Env, name: &str, query: &str, parameters: &str, extra: &str) -> String {
    let example = std::fs::read_to_string(repo().join("workflows/kttm-rollup.toml")).unwrap();
    let (steps, _) = example.split_once("[service]").unwrap();
    let text = format!(
        "{}[service]\nid = \"kttm\"\n\n[[service.endpoints]]\nname = \"q\"\ntype = \"sql\"\n\
         tables = [\"kttm_rollup\"]\nquery = {query:?}\nparameters = {parameters}\n{extra}\n",
        steps.replace(
            "path = \"data/events\"",
            &format!("path = {:?}", repo().join("workflows/data/events")),
        )
    );
    env.write(name, text).to_str().unwrap().to_owned()
}

/// DuckDB's answer to the packaged query of `endpoint`, over the table snapshot in the
/// package zip, with DuckDB's own named parameters (`$since`) bound to `parameters`.
fn duckdb_over_snapshot(zip: &std::path::Path, endpoint: &str, parameters: &Value) -> Value {
    let script = r#"
import duckdb, json, sys, tempfile, zipfile, datetime, decimal
zip_path, endpoint, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
with zipfile.ZipFile(zip_path) as z:
    manifest = json.loads(z.read("manifest.json"))
    [e] = [e for e in manifest["endpoints"] if e["name"] == endpoint]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    tmp = tempfile.mkdtemp()
    for table, path in e["tables"].items():
        z.extract(path, tmp)
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{tmp}/{path}')")
for name, ty in e["parameters"].items():
    if ty == "timestamp":
        params[name] = datetime.datetime.fromisoformat(params[name].replace("Z", "+00:00"))
cur = con.execute(e["query"], params)
cols = [d[0] for d in cur.description]
def plain(v):
    return int(v) if isinstance(v, decimal.Decimal) else v
print(json.dumps([{c: plain(v) for c, v in zip(cols, r) if v is not None} for r in cur.fetchall()]))
"#;
    let out = std::process::Command::new(repo().join(".venv/bin/python"))
        .args(["-c", script])
        .arg(zip)
        .arg(endpoint)
        .arg(parameters.to_string())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_sql_endpoint_answers_what_duckdb_answers_on_the_packaged_snapshot() {
    // The example: the KTTM rollup ingested and packaged with its SQL endpoint.
    let builder = Env::new();
    let wf = repo().join("workflows/kttm-rollup.toml");
    let (code, job) = builder.json(&["run", wf.to_str().unwrap()]);
    assert_eq!(code, 0, "{job}");
    let zip = builder.home().join("packages/kttm/v1.zip");

    let node_env = Env::new();
    let admin = key(&node_env, "node-admin", "ManageDeployments");
    let node = Server::start(&node_env, &[]);
    let (code, body) = call(
        "PUT",
        &format!("{}/v1/node/services/kttm", node.url),
        Some(&admin),
        Some(std::fs::read(&zip).unwrap()),
    );
    assert_eq!(code, 200, "{body}");
    let url = format!("{}/public/api/v1/kttm/city-activity/query", node.url);
    let ask = |parameters: &Value| {
        call(
            "POST",
            &url,
            None,
            Some(serde_json::to_vec(&json!({ "parameters": parameters })).unwrap()),
        )
    };
    for parameters in [
        json!({ "since": "2019-08-19T00:00:00Z", "top": 5 }),
        json!({ "since": "2019-08-19T16:30:00+02:00", "top": 1000 }),
        json!({ "since": "2030-01-01T00:00:00Z", "top": 5 }),
    ] {
        let (code, answer) = ask(&parameters);
        assert_eq!(code, 200, "{answer}");
        let expected = duckdb_over_snapshot(&zip, "city-activity", &parameters);
        assert_eq!(answer["rows"], expected, "{parameters}");
        assert_eq!(answer["rowCount"], expected.as_array().unwrap().len());
        assert_eq!(answer["version"], "v1");
    }
    // The seed day has three cities (and events without one); `$top` cuts the ranking.
    let (_, all) = ask(&json!({ "since": "2019-08-19T00:00:00Z", "top": 1000 }));
    assert_eq!(all["rowCount"], 3, "{all}");
    let (_, two) = ask(&json!({ "since": "2019-08-19T00:00:00Z", "top": 2 }));
    let cities: Vec<&str> = two["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["city"].as_str().unwrap())
        .collect();
    assert_eq!(cities, ["Rio", "Tokyo"], "{two}");

    // Parameters are exactly the declared ones, of their types; a value is never SQL.
    for (parameters, says) in [
        (
            json!({ "since": "2019-08-19T00:00:00Z" }),
            "`top` is missing",
        ),
        (json!({ "since": "yesterday", "top": 5 }), "RFC3339"),
        (
            json!({ "since": "2019-08-19T00:00:00Z", "top": "5; DROP TABLE kttm_rollup" }),
            "an integer",
        ),
        (
            json!({ "since": "2019-08-19T00:00:00Z", "top": 5, "city": "x" }),
            "unknown parameter `city`",
        ),
    ] {
        let (code, e) = ask(&parameters);
        assert_eq!(
            (code, e["error"]["code"].as_str()),
            (400, Some("invalid_input")),
            "{e}"
        );
        assert!(
            e["error"]["message"].as_str().unwrap().contains(says),
            "{e}"
        );
    }
    let (code, e) = call("POST", &url, None, Some(b"{\"rows\": []}".to_vec()));
    assert_eq!(
        (code, e["error"]["code"].as_str()),
        (400, Some("malformed_json")),
        "{e}"
    );
    let (code, _) = call(
        "POST",
        &format!("{}/public/api/v1/kttm/nope/query", node.url),
        None,
        Some(b"{}".to_vec()),
    );
    assert_eq!(code, 404);

    // The service's OpenAPI document describes the parameters and the answer's columns.
    let (code, doc) = call(
        "GET",
        &format!("{}/public/api/v1/kttm/openapi.json", node.url),
        None,
        None,
    );
    assert_eq!(code, 200);
    let op = &doc["paths"]["/public/api/v1/kttm/city-activity/query"]["post"];
    let params =
        &op["requestBody"]["content"]["application/json"]["schema"]["properties"]["parameters"];
    assert_eq!(params["required"], json!(["since", "top"]), "{doc}");
    assert_eq!(params["properties"]["top"]["type"], "integer");
    let answer = &op["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["rows"]
        ["items"]["properties"];
    assert_eq!(answer["events"]["type"], "integer", "{doc}");
    let spec = node_env.write("kttm-openapi.json", serde_json::to_vec(&doc).unwrap());
    let out = std::process::Command::new(repo().join(".venv/bin/openapi-spec-validator"))
        .arg(&spec)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stdout(&out));
}

#[test]
fn sql_endpoints_that_cannot_run_are_refused_before_they_are_served() {
    let env = Env::new();
    // What the file shows: `ferry validate` refuses it without any table.
    for (query, parameters, extra, says) in [
        ("DELETE FROM kttm_rollup", "{}", "", "only a query"),
        ("SELECT 1; SELECT 2", "{}", "", "one statement"),
        (
            "SELECT city FROM kttm_rollup WHERE city = $city",
            "{ city = \"date\" }",
            "",
            "parameter `city` is a date",
        ),
        (
            "SELECT city FROM kttm_rollup",
            "{}",
            "max_rows = 0",
            "max_rows = 0",
        ),
    ] {
        let wf = kttm_service(&env, "bad.toml", query, parameters, extra);
        let out = env.ferry(&["validate", &wf]);
        assert_eq!(out.status.code(), Some(78), "{query}: {}", stdout(&out));
        assert!(stderr(&out).contains(says), "{query}: {}", stderr(&out));
    }
    // What the tables show: the package step plans the query over the snapshots and fails
    // the job (the rows stay committed), naming the endpoint and what is wrong.
    for (query, parameters, says) in [
        (
            "SELECT city FROM kttm_rollup WHERE city = $city",
            "{}",
            "`$city`, which `parameters` does not declare",
        ),
        (
            "SELECT city FROM kttm_rollup",
            "{ top = \"int64\" }",
            "does not use `$top`",
        ),
        ("SELECT town FROM kttm_rollup", "{}", "town"),
        ("SELECT city FROM predictions", "{}", "predictions"),
    ] {
        let wf = kttm_service(&env, "late.toml", query, parameters, "");
        let (code, job) = env.json(&["run", &wf]);
        assert_eq!(code, 1, "{job}");
        assert_eq!(job["failure"]["code"], "package_failed", "{job}");
        let message = job["failure"]["message"].as_str().unwrap();
        assert!(
            message.contains("endpoint `q`") && message.contains(says),
            "{message}"
        );
    }
    assert!(
        !env.home().join("packages/kttm").exists()
            || std::fs::read_dir(env.home().join("packages/kttm"))
                .unwrap()
                .next()
                .is_none()
    );
    assert!(row_count(&env.table("kttm_rollup")) > 0);

    // An answer over the endpoint's row limit is stopped, not cut short.
    let wf = kttm_service(
        &env,
        "limited.toml",
        "SELECT city, SUM(\"__count\") AS events FROM kttm_rollup GROUP BY city LIMIT $top",
        "{ top = \"int64\" }",
        "max_rows = 2",
    );
    let (code, job) = env.json(&["run", &wf]);
    assert_eq!(code, 0, "{job}");
    let admin = key(&env, "node-admin", "ManageDeployments");
    let node = Server::start(&env, &[]);
    let zip = std::fs::read(env.home().join("packages/kttm/v1.zip")).unwrap();
    let (code, body) = call(
        "PUT",
        &format!("{}/v1/node/services/kttm", node.url),
        Some(&admin),
        Some(zip),
    );
    assert_eq!(code, 200, "{body}");
    let url = format!("{}/public/api/v1/kttm/q/query", node.url);
    let (code, answer) = call(
        "POST",
        &url,
        None,
        Some(br#"{"parameters": {"top": 2}}"#.to_vec()),
    );
    assert_eq!(
        (code, answer["rowCount"].as_u64()),
        (200, Some(2)),
        "{answer}"
    );
    let (code, e) = call(
        "POST",
        &url,
        None,
        Some(br#"{"parameters": {"top": 3}}"#.to_vec()),
    );
    assert_eq!(
        (code, e["error"]["code"].as_str()),
        (400, Some("query_limit")),
        "{e}"
    );
}
